/**
 * The uri-to-subject mapping of the NATS transport, shared by the server, the
 * Node client and forwarding:
 *
 *   /app/users/get  ->  <prefix>.app.users.get
 *
 * Each `/`-separated segment of the uri becomes one subject token, so NATS
 * subject permissions can allow or deny uris by prefix (`ipc.app.>`).
 * Characters a token may not hold (`.`, `*`, `>`, whitespace, control
 * characters, non-ASCII) and `%` itself are written `%XX` (the UTF-8 bytes,
 * upper-case hex); an empty segment (`/a//b`, a trailing `/`) is the token
 * `%`. The mapping is one-to-one, so the server checks that a request's
 * subject is the one its uri maps to (a caller allowed only on `ipc.public.>`
 * cannot name another uri in the payload). Uris must start with `/`.
 */

/** Where a caller asks for one of its running requests to be cancelled (no uri maps here: `%` is always followed by hex or stands alone). */
export function cancelSubject(prefix: string): string {
  return prefix + '.%cancel';
}

/** The wildcard a server subscribes to for every uri under `prefix`. */
export function allUrisSubject(prefix: string): string {
  return prefix + '.>';
}

/** Characters kept as they are in a token. */
const PLAIN = /^[A-Za-z0-9_\-~!$&'()+,;=:@#[\]^`{|}"<?\\/]*$/;

function encodeSegment(segment: string): string {
  if (segment === '') return '%';
  if (PLAIN.test(segment)) return segment;
  let out = '';
  for (const ch of segment) {
    if (PLAIN.test(ch)) {
      out += ch;
      continue;
    }
    for (const byte of Buffer.from(ch, 'utf8')) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Throws a TypeError when `uri` cannot be carried over NATS (it must start with `/`). */
export function subjectForUri(prefix: string, uri: string): string {
  if (typeof uri !== 'string' || uri[0] !== '/') {
    throw new TypeError(`A uri sent over NATS must start with "/" (got ${JSON.stringify(uri)})`);
  }
  const segments = uri.slice(1).split('/');
  let subject = prefix;
  for (const segment of segments) subject += '.' + encodeSegment(segment);
  return subject;
}

/** Checks a subject prefix from the configuration (one or more plain tokens). */
export function checkPrefix(prefix: unknown): string | null {
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$/.test(prefix)) {
    return 'must be one or more subject tokens of letters, digits, "_" or "-", separated by "." (like "ipc" or "acme.ipc")';
  }
  return null;
}

/** The uri a subject under `prefix` stands for (the inverse of subjectForUri), or null when it is not one. */
export function uriForSubject(prefix: string, subject: string): string | null {
  if (!subject.startsWith(prefix + '.')) return null;
  const tokens = subject.slice(prefix.length + 1).split('.');
  let uri = '';
  for (const token of tokens) {
    if (token === '%') {
      uri += '/';
      continue;
    }
    if (token === '' || !/^(?:[^%]|%[0-9A-F]{2})*$/.test(token)) return null;
    try {
      uri += '/' + decodeURIComponent(token);
    } catch {
      return null;
    }
  }
  return uri;
}
