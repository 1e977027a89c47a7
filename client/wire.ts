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
