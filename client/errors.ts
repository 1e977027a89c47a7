/**
 * Errors the Node client hands to callbacks, promise rejections and events.
 *
 * The original client passed bare strings such as `'request_timeout'`, and its
 * users wrote `if (err == 'request_timeout')`. An IPCError is a real Error with
 * a stack and a message, and it converts to its code wherever JavaScript asks
 * for a primitive, so that loose comparison (and `'failed: ' + err`) still
 * behaves as it did.
 */

import { ServerErrorCode } from '../lib/protocol';

/** Codes produced by the client itself (never sent by a server). */
export const ClientErrorCode = {
  /** No answer within `requestTimeout`. */
  requestTimeout: 'request_timeout',
  /** A send was made with no open connection (and no attempt under way or offline queue to hold it). */
  noOpenStream: 'no_open_stream',
  /** The connection dropped while the request was in flight. */
  connectionClosed: 'connection_closed',
  /** `close()` was called while the request was in flight or waiting. */
  clientClosed: 'client_closed',
  /** The socket could not be opened (missing path, refused, TLS failure...). */
  connectFailed: 'connect_failed',
  /** Opening the socket (and authenticating) took longer than `connectTimeout`. */
  connectTimeout: 'connect_timeout',
  /** The offline queue (`offlineQueue`) is full. */
  queueFull: 'queue_full',
  /** A line from the server could not be understood. */
  badResponse: 'bad_response',
  /** The server's uid (read from the kernel) is not `expectServerUid`: nothing was sent to it. */
  serverIdentity: 'server_identity',
} as const;

/**
 * Every code a client user may see: the client's own codes plus the codes a
 * server puts in error responses (`access`, `message_too_large`, `handler_error`...).
 */
export const ErrorCode = { ...ServerErrorCode, ...ClientErrorCode } as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Extra facts an IPCError may carry. */
export interface IPCErrorDetails {
  /** The uri of the request that failed, when the error belongs to one request. */
  uri?: string;
  /** The request id, when the error belongs to one request. */
  ipcReqID?: string;
  /** The `data` of a response that `codeToErr` turned into this error. */
  data?: unknown;
  /** The underlying error (for example the socket's ENOENT). */
  cause?: unknown;
}

/** An Error with a stable `code` string; `err == err.code` is true. */
export class IPCError extends Error {
  /** A stable, machine-readable code (see ErrorCode); servers and handlers may add their own. */
  readonly code: string;
  /** The uri of the request that failed (only on per-request errors). */
  declare uri?: string;
  /** The id of the request that failed (only on per-request errors). */
  declare ipcReqID?: string;
  /** With codeToErr: the response data that carried the code. */
  declare data?: unknown;

  constructor(code: string, message: string, details?: IPCErrorDetails) {
    super(message, details && details.cause !== undefined ? { cause: details.cause } : undefined);
    this.code = code;
    if (details) {
      if (details.uri !== undefined) this.uri = details.uri;
      if (details.ipcReqID !== undefined) this.ipcReqID = details.ipcReqID;
      if (details.data !== undefined) this.data = details.data;
    }
  }

  /**
   * Converts to the code for string and default hints, which is what makes
   * `err == 'request_timeout'` and `'' + err` behave like the original's bare
   * strings. `err.message` and `err.stack` stay as usual.
   */
  [Symbol.toPrimitive](hint: string): string | number {
    return hint === 'number' ? NaN : this.code;
  }
}

Object.defineProperty(IPCError.prototype, 'name', { value: 'IPCError', writable: true, configurable: true });

/**
 * The standard error for an aborted operation (`err.name === 'AbortError'`,
 * as fetch and timers/promises reject), with the signal's reason as its cause.
 */
export function abortError(signal: AbortSignal, what: string): Error {
  // DOMException is a Node global (since 17) that @types/node 20 does not declare.
  const DOMExceptionClass = (globalThis as unknown as { DOMException: new (message: string, options: { name: string; cause: unknown }) => Error }).DOMException;
  return new DOMExceptionClass(what + ' was aborted', { name: 'AbortError', cause: signal.reason });
}
