/**
 * Public types of the server side.
 */
import type { RequestId } from './protocol';
import type { AnswerStream } from './answer-stream';
import type { Connection } from './connection';
import type { PeerIdentity } from './peer-cred';

/** What a handler receives. */
export interface IPCRequest {
  uri: string;
  data: any;
  /** The client's id for this request (null when it sent none). */
  ipcReqID: RequestId | null;
  pid?: number;
  userAgent?: string;
  /** True for a fire-and-forget request: whatever the handler answers is not sent. */
  noReply?: boolean;
  /** The connection it came on: use it to push messages to this client later. */
  connection: Connection;
  /** The caller's deadline as it sent it (ms from when the line was read), if any. */
  timeoutMs?: number;
  /** True when the caller accepts a streamed answer (see openStream()). */
  stream?: boolean;
  /**
   * Aborted when the caller cancels, its deadline passes, it disconnects, or
   * the server stops; `signal.reason.code` says which (`cancelled`,
   * `deadline_exceeded`, `disconnected`, `shutting_down`).
   */
  readonly signal: AbortSignal;
  /** When the caller stops waiting (ms since epoch, server clock), or null without a deadline. */
  readonly deadline: number | null;
  /** Milliseconds left before the deadline (Infinity without one; 0 once passed). */
  timeLeft(): number;
  /**
   * Answers with a stream of parts: `await stream.write(part)` waits while the
   * client is behind; `stream.end(data)` sends the final answer,
   * `stream.error(err)` an error. A handler may instead return an async
   * iterable (an `async function*`): each value is a part, its return value the final answer.
   */
  openStream(): AnswerStream;
  [field: string]: unknown;
}

/** Sends the handler's result as the response's `data`. */
export type HandlerCallback = (result?: unknown) => void;

/** A URI handler: call the callback, or return a promise of the result (or both, once). */
export type Handler = (request: IPCRequest, callback: HandlerCallback) => unknown;

/**
 * Middleware: `next()` passes the request on, `next(null, data)` answers it,
 * `next(err)` rejects it with `err.code` and `err.message`.
 */
export type Middleware = (request: IPCRequest, next: (err?: unknown, data?: unknown) => void) => unknown;

export interface AuthInfo {
  connection: Connection;
  transport: Transport;
  /** The kernel's identity of the client process (Unix sockets on Linux), else null. Unlike a request's `pid`, the client cannot choose it. */
  peer: PeerIdentity | null;
}

/**
 * What a client sent as its `auth` option: any JSON value (a token string,
 * `{ token }`, `{ user, password }`, or a shape of the application's own).
 */
export type AuthCredentials = any;

/** Decides whether credentials are good: only `true` (or a promise of it) accepts. */
export type AuthHandler = (credentials: AuthCredentials, info: AuthInfo) => boolean | Promise<boolean>;

/** How a request reached the server: a listener's socket, or NATS (see docs/nats.md). */
export type Transport = 'unix' | 'tcp' | 'tls' | 'nats';

/** Why a connection ended, as given to the `disconnect` event. */
export type DisconnectReason =
  | 'client'
  | 'server'
  | 'shutdown'
  | 'error'
  | 'idle_timeout'
  | 'auth_timeout'
  | 'access'
  | 'message_too_large'
  | 'line_timeout'
  | 'overloaded';

/** An error with a code, as handlers and middleware throw to choose what the client sees. */
export interface CodedError extends Error {
  code?: string;
}
