/**
 * Where the client connects: a Unix socket path (the usual case, as in the
 * original client), `unix:///path`, `tcp://host:port` or `tls://host:port`.
 */

export type Target =
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'tls'; host: string; port: number };

/** Parses a target string; throws a TypeError naming the problem when it cannot be used. */
export function parseTarget(target: string): Target {
  if (typeof target !== 'string' || target === '') {
    throw new TypeError('IPCClient needs a target: a Unix socket path, tcp://host:port or tls://host:port');
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(target);
  if (!scheme) return { kind: 'unix', path: target };
  const name = scheme[1].toLowerCase();
  const rest = target.slice(scheme[0].length);
  if (name === 'unix') {
    if (!rest) throw new TypeError('unix:// target has no path: ' + target);
    return { kind: 'unix', path: rest };
  }
  if (name !== 'tcp' && name !== 'tls') {
    throw new TypeError('Unsupported target scheme "' + name + '://" (use a socket path, tcp:// or tls://): ' + target);
  }
  const { host, port } = parseHostPort(rest, target);
  return { kind: name, host, port };
}

/** `host:port`, `[v6addr]:port`; a trailing slash is tolerated. */
function parseHostPort(text: string, whole: string): { host: string; port: number } {
  const trimmed = text.replace(/\/$/, '');
  const match = /^(?:\[([^\]]+)\]|([^:/[\]]+)):(\d{1,5})$/.exec(trimmed);
  if (!match) throw new TypeError('Target must look like tcp://host:port or tls://host:port: ' + whole);
  const port = Number(match[3]);
  if (port < 1 || port > 65535) throw new TypeError('Target port out of range: ' + whole);
  return { host: match[1] ?? match[2], port };
}

/** A short description for log lines and error messages. */
export function describeTarget(target: Target): string {
  if (target.kind === 'unix') return target.path;
  const host = target.host.includes(':') ? '[' + target.host + ']' : target.host;
  return target.kind + '://' + host + ':' + target.port;
}
