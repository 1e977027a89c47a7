/**
 * One request on its way from the line that carried it to its single answer.
 * The connection creates it, the pipeline takes it through its gates, and the
 * connection sends its answer. The handler sees `call.request`; what the
 * server needs to know about the request's progress lives here.
 */
import type { Connection } from './connection';
import type { IPCRequest } from './types';

export class Call {
  /** When the line was read (ms since epoch). */
  readonly receivedAt: number;
  /** When it reached middleware and its handler (later than receivedAt if it waited for auth). */
  startedAt: number;
  /** When it was answered (0 until then). */
  settledAt = 0;
  /** The name of the handler that ran it (null until routed; "(unmatched)" for uris no handler matches). */
  handlerName: string | null = null;
  /** True once answered: anything later is ignored. */
  settled = false;

  /**
   * `readAt` is receivedAt on the performance.now() clock (for µs latencies);
   * `lineBytes` the size of the request's line as received.
   */
  constructor(readonly request: IPCRequest, readonly connection: Connection, receivedAt: number, readonly readAt: number, readonly lineBytes: number) {
    this.receivedAt = receivedAt;
    this.startedAt = receivedAt;
  }
}
