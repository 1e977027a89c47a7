/**
 * The shapes the client's public API uses (exported as IPCClient.* types).
 */

import type { IPCError } from './errors';

/** What the client needs from a logger (pixl-logger has both). */
export interface LoggerLike {
  debug(level: number, msg: string, data?: unknown): void;
  error(code: string, msg: string, data?: unknown): void;
}

/** Counters returned by getStats() and written by logStats(). */
export interface ClientStats {
  /** Requests written to a connection. */
  requestsSent: number;
  /** notify() messages written to a connection. */
  notifiesSent: number;
  /** Responses matched to a waiting request. */
  responses: number;
  /** Requests that ended in an error other than a timeout (error responses, disconnects, no connection...). */
  errors: number;
  /** Requests that ended with `request_timeout`. */
  timeouts: number;
  /** Responses that arrived after their request timed out (dropped quietly). */
  lateResponses: number;
  /** Responses whose id matched nothing (logged as errors). */
  unknownResponses: number;
  /** Messages without an ipcReqID (pushes, connection-level error lines), emitted as `data`. */
  pushes: number;
  /** Parts of streamed answers received. */
  parts: number;
  /** Requests the caller cancelled (AbortSignal, or leaving a stream early). */
  cancelled: number;
  /** Requests written again on a new connection after the old one answered shutting_down. */
  resent: number;
  /** Bytes read from and written to connections, over the client's lifetime. */
  bytesIn: number;
  bytesOut: number;
  /** Requests waiting for an outcome right now (same as requestCount). */
  inFlight: number;
  /** Sends and notifies held until a connection opens. */
  queued: number;
  /** Successful connects, lost connections, failed connect attempts. */
  connects: number;
  disconnects: number;
  connectFailures: number;
  /** Whether a connection is open and ready now. */
  connected: boolean;
}

export type ConnectCallbackType = (err: IPCError | null) => void;

/** Per-request options for send() and stream(). */
export interface RequestOptions {
  /** ms before the request fails with `request_timeout` (0: none); default the requestTimeout option. Sent to the server as `timeoutMs`. */
  timeout?: number;
  /** Aborting it rejects the request with an AbortError at once and cancels it on the server. */
  signal?: AbortSignal;
}

/** Options for stream(). */
export interface StreamOptions extends RequestOptions {
  /** Parts buffered before the client stops reading the connection; default the streamHighWaterMark option. */
  highWaterMark?: number;
}
