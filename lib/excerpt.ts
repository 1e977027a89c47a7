/**
 * Bounded excerpts of client-supplied text (uris, ids, bad lines) for logs and
 * error messages: a client must not be able to grow the log by sending long
 * strings.
 */

/** The most characters of one client-supplied value that reach a log line. */
export const EXCERPT_MAX = 200;

/** The most characters of a value a client claims about itself (userAgent) that a connection keeps. */
export const CLAIMED_FIELD_MAX = 256;

/**
 * The first `max` characters of `text`, as a string of their own. A plain
 * slice of a long string is a view that keeps the whole original alive
 * (V8's sliced strings): a kept 30 MiB userAgent cut to 256 characters would
 * still hold 30 MiB. Joining it to another string and slicing that copies it.
 */
export function copyOfStart(text: string, max: number): string {
  if (text.length <= max) return text;
  return (' ' + text.slice(0, max)).slice(1);
}

/** `text` cut to `max` characters, saying how much was left out. */
export function excerpt(text: unknown, max = EXCERPT_MAX): string {
  const value = typeof text === 'string' ? text : String(text);
  if (value.length <= max) return value;
  return copyOfStart(value, max) + `... (${value.length - max} more characters)`;
}
