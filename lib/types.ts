/**
 * Public types of the server side: what handlers, middleware, the auth hook
 * and the events receive. Handlers see connections through IPCConnection, a
 * narrow interface; the class behind it (connection.ts) is internal.
 */
import type { RequestId } from './protocol';
import type { PeerIdentity } from './peer-cred';

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

/** One connection's counts since it was accepted. */
export interface ConnectionCounters {
  requests: number;
  /** Answer lines sent, errors included. */
  responses: number;
  /** Error answers and refused lines. */
  errors: number;
  pushes: number;
  /** Answers not sent because the connection had closed. */
  droppedResponses: number;
  bytesIn: number;
  bytesOut: number;
}

/** A connection as JSON: what `toJSON()` gives, and the stats uri lists. */
export interface ConnectionInfo {
  id: number;
  transport: Transport;
  peer: PeerIdentity | null;
  pid: number | null;
  userAgent: string | null;
  /** Ms since epoch. */
  connectedAt: number;
  /** Ms since epoch. */
  lastActivity: number;
  authenticated: boolean;
  inFlight: number;
  queuedOutputBytes: number;
  counters: ConnectionCounters;
}

/**
 * A client connection, as handlers (`request.connection`), the events, the
 * auth hook and `getConnections()` give it out.
 */
export interface IPCConnection {
  /** Unique among this server's connections. */
  readonly id: number;
  readonly transport: Transport;
  /** When it was accepted (ms since epoch). */
  readonly connectedAt: number;
  /** The client's process id, as the client last reported it (it chooses it: see `peer`). */
  readonly pid: number | null;
  /**
   * Who is on the other end, as the kernel recorded it at connect (Unix
   * sockets on Linux): pid, uid, gid and their names. Null for TCP/TLS and
   * where the kernel cannot tell.
   */
  readonly peer: Readonly<PeerIdentity> | null;
  /** The client's user agent, as it last reported it. */
  readonly userAgent: string | null;
  /** Whether it may make requests (always, when the server has no authentication). */
  readonly authenticated: boolean;
  /** True once the client presented credentials that were accepted (false when authentication is off). */
  readonly credentialsAccepted: boolean;
  /** The TCP/TLS peer address (null on a Unix socket). */
  readonly remoteAddress: string | null;
  /** Requests received and not answered yet. */
  readonly inFlight: number;
  /** Last time the client sent anything (ms since epoch). */
  readonly lastActivity: number;
  /** False once it is closed or closing. */
  readonly isOpen: boolean;
  /** Output queued for this client and not yet taken by the kernel, in bytes. */
  readonly queuedOutput: number;
  /** Free for the application's own per-connection state. */
  readonly state: Record<string, unknown>;
  /** The last socket error, if any (a vanished client shows up as EPIPE or ECONNRESET). */
  readonly lastError: Error | null;
  /** Its counts since it was accepted. */
  readonly counters: Readonly<ConnectionCounters>;
  /**
   * Sends a message to this client outside any request (a server push).
   * Returns false when the connection is closed or closing, or the client is
   * more than `max_output_buffer` behind.
   */
  push(uri: string, data?: unknown): boolean;
  /** Ends the connection gracefully (the client reads end-of-file once its answers are out). */
  close(reason?: DisconnectReason): void;
  toJSON(): ConnectionInfo;
}

/** A streamed answer, from `request.openStream()`. */
export interface AnswerStream {
  /** True once the final answer is out (ended, failed, cancelled, timed out, or the client left). */
  readonly ended: boolean;
  /**
   * Sends one part. Resolves when the writer may send the next one (the
   * client is keeping up); rejects with the abort reason once the call is
   * over, so a write loop stops.
   */
  write(part: unknown): Promise<void>;
  /** Ends the stream with the final answer's data. */
  end(data?: unknown): void;
  /** Ends the stream with an error answer (its `code` and `message`). */
  error(err: unknown): void;
}

/** The per-connection limits in force (`ipc.limits`), from the config. */
export interface ConnectionLimits {
  maxMessageSize: number;
  /** The longest line before the connection has authenticated (when authentication is on). */
  maxMessageSizeBeforeAuth: number;
  maxInFlight: number;
  /** Bytes of request lines its running requests may hold before its reading pauses. */
  maxInFlightBytes: number;
  maxOutputBuffer: number;
}

/** What a handler receives; `Data` is the type of `request.data` (unknown unless the handler says). */
export interface IPCRequest<Data = unknown> {
  uri: string;
  data: Data;
  /** The client's id for this request (null when it sent none). */
  ipcReqID: RequestId | null;
  pid?: number;
  userAgent?: string;
  /** True for a fire-and-forget request: whatever the handler answers is not sent. */
  noReply?: boolean;
  /** The connection it came on: use it to push messages to this client later. */
  connection: IPCConnection;
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
  /** Fields middleware adds (`request.started = ...`). */
  [field: string]: unknown;
}

/** Sends the handler's result as the response's `data`. */
export type HandlerCallback<Result = unknown> = (result?: Result) => void;

/**
 * A URI handler for requests whose data is `Data`, answering `Result`: call
 * the callback, or return the result or a promise of it (or an async iterable
 * of parts, for a streamed answer).
 *
 *   const hello: IPCServer.Handler<{ name: string }, { hello: string }> =
 *     async (request) => ({ hello: request.data.name });
 */
export type Handler<Data = unknown, Result = unknown> = (
  request: IPCRequest<Data>,
  callback: HandlerCallback<Result>,
) => Result | PromiseLike<Result> | AsyncIterable<unknown> | void | PromiseLike<void>;

/**
 * Middleware: `next()` passes the request on, `next(null, data)` answers it,
 * `next(err)` rejects it with `err.code` and `err.message`.
 */
export type Middleware = (request: IPCRequest, next: (err?: unknown, data?: unknown) => void) => unknown;

/** What the auth hook learns about the connection besides the credentials. */
export interface AuthInfo {
  connection: IPCConnection;
  transport: Transport;
  /** The kernel's identity of the client process (Unix sockets on Linux), else null. Unlike a request's `pid`, the client cannot choose it. */
  peer: PeerIdentity | null;
}

/**
 * What a client sent as its `auth` option: any JSON value (a token string,
 * `{ token }`, `{ user, password }`, or a shape of the application's own).
 */
export type AuthCredentials = unknown;

/** Decides whether credentials are good: only `true` (or a promise of it) accepts. */
export type AuthHandler = (credentials: AuthCredentials, info: AuthInfo) => boolean | PromiseLike<boolean>;
