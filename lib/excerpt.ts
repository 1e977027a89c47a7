/**
 * Bounded excerpts of client-supplied text (uris, ids, bad lines) for logs and
 * error messages: a client must not be able to grow the log by sending long
 * strings.
 */

/** The most characters of one client-supplied value that reach a log line. */
export const EXCERPT_MAX = 200;

/** `text` cut to `max` characters, saying how much was left out. */
export function excerpt(text: unknown, max = EXCERPT_MAX): string {
  const value = typeof text === 'string' ? text : String(text);
  if (value.length <= max) return value;
  return value.slice(0, max) + `... (${value.length - max} more characters)`;
}
