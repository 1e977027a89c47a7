/**
 * The client's additions to request lines, and its control messages
 * (PROTOCOL.md: deadlines, streamed answers, cancellation, goaway).
 */

import { URI, requestLine } from '../lib/protocol';

/** Control message: cancel a request in flight (sent with noReply). */
export const CANCEL_URI = URI.cancel;
/** Push from a server that is going away: send nothing more on this connection. */
export const GOAWAY_URI = '/ipcserver/goaway';

/** Adds `"stream":true` to an open request line (requestLineOpen). */
export function withStreamFlag(open: string): string {
  return open + ',"stream":true';
}

/** Closes an open request line, adding the caller's deadline, in ms from when the server reads the line. */
export function closeWithTimeout(open: string, timeoutMs: number): string {
  return open + ',"timeoutMs":' + timeoutMs + '}\n';
}

/** The cancel control message for request `id`. */
export function cancelLine(id: string, userAgent: string): string {
  return requestLine(CANCEL_URI, { ipcReqID: id }, undefined, process.pid, userAgent, true);
}

/**
 * Bytes of a request line as the server counts it (without its line feed),
 * from its open part and the timeout it will carry; 0 when it is surely
 * within `limit` (a UTF-16 unit is at most 3 bytes), so most lines are never measured.
 */
export function requestLineBytes(open: string, timeoutMs: number, limit: number): number {
  const close = timeoutMs > 0 ? ',"timeoutMs":'.length + String(timeoutMs).length + 1 : 1;
  if ((open.length + close) * 3 <= limit) return 0;
  return Buffer.byteLength(open) + close;
}

/**
 * The server's line limit when an answer says it (`message_too_large` with a
 * numeric `limit` field, or "... limit of N bytes" in its message), else null.
 */
export function lineLimitFrom(message: { limit?: unknown; message?: unknown }): number | null {
  if (typeof message.limit === 'number' && message.limit > 0) return message.limit;
  const said = typeof message.message === 'string' ? /limit of (\d+) bytes/.exec(message.message) : null;
  return said ? Number(said[1]) : null;
}

/** The longest request line the server accepts, as far as the client knows. */
export class RequestLineLimit {
  /** The server's max_message_size, once a message_too_large answer said it. */
  #server: number | null = null;

  learn(message: { limit?: unknown; message?: unknown }): void {
    const limit = lineLimitFrom(message);
    if (limit !== null) this.#server = limit;
  }

  /** Why a request line is too long to send (null when it is not): `own` is the client's maxMessageSize. */
  check(open: string, timeoutMs: number, own: number): string | null {
    const fromServer = this.#server !== null && this.#server < own;
    const limit = fromServer ? this.#server! : own;
    const bytes = requestLineBytes(open, timeoutMs, limit);
    if (bytes <= limit) return null;
    const whose = fromServer ? "the server's limit (max_message_size, learned from its message_too_large answer)" : 'maxMessageSize';
    return 'its line is ' + bytes + ' bytes, over ' + whose + ' of ' + limit + ' bytes';
  }
}
