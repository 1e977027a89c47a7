/**
 * What the client's parts share: its options, its target, its counters, and
 * how it logs and emits events. index.ts (the public API) builds one;
 * session.ts (the connection) and calls.ts (the requests) use it.
 */

import type { IPCError } from './errors';
import type { ResolvedOptions } from './options';
import type { Target } from './target';

/** The client's counters (getStats() adds bytes, what is in flight and queued, and the state). */
export interface ClientCounters {
  requestsSent: number;
  notifiesSent: number;
  responses: number;
  errors: number;
  timeouts: number;
  lateResponses: number;
  unknownResponses: number;
  pushes: number;
  parts: number;
  cancelled: number;
  resent: number;
  connects: number;
  disconnects: number;
  connectFailures: number;
}

export function newCounters(): ClientCounters {
  return {
    requestsSent: 0,
    notifiesSent: 0,
    responses: 0,
    errors: 0,
    timeouts: 0,
    lateResponses: 0,
    unknownResponses: 0,
    pushes: 0,
    parts: 0,
    cancelled: 0,
    resent: 0,
    connects: 0,
    disconnects: 0,
    connectFailures: 0,
  };
}

export type ConnectionState = 'disconnected' | 'connecting' | 'authenticating' | 'connected';

export interface ClientContext {
  /** The client's options, read at the moment of use (the public field may be replaced). */
  readonly options: ResolvedOptions;
  readonly target: Target;
  /** The target as shown in messages. */
  readonly targetName: string;
  readonly counters: ClientCounters;
  logError(code: string, message: string, data: unknown): void;
  logDebug(level: number, message: string, data: unknown): void;
  /** Emits an event; a listener that throws is rethrown on the next tick, never into the client. */
  emit(event: string, arg?: unknown): void;
  /** Emits `error`, only when someone listens (an unhandled error event would crash the program). */
  emitError(err: IPCError): void;
}

/** Throws `err` on the next tick: a user's callback that throws must not disturb the client. */
export function rethrowLater(err: unknown): void {
  process.nextTick(() => {
    throw err;
  });
}
