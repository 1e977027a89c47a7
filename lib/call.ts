/**
 * One request on its way from the line that carried it to its single answer.
 * The connection creates it, the pipeline takes it through its gates, and the
 * connection sends its answer. The handler sees `call.request`, which also
 * carries the call's signal, deadline and stream writer (see RequestPrototype).
 */
import { performance } from 'perf_hooks';
import type { AnswerStream } from './answer-stream';
import type { Connection } from './connection';
import type { IPCRequest } from './types';

const CALL = Symbol('pixl-ipc.call');

/** An abort reason: an Error whose `code` says why (AbortCode). */
export interface AbortReason extends Error {
  code: string;
}

function abortReason(code: string, message: string): AbortReason {
  const err = new Error(message) as AbortReason;
  err.name = 'AbortError';
  err.code = code;
  return err;
}

/**
 * What every request object inherits: the call's signal, deadline and stream
 * writer, computed only when a handler asks, so requests that never look cost
 * nothing beyond the prototype switch.
 */
const RequestPrototype = Object.create(Object.prototype, {
  signal: {
    get(this: { [CALL]: Call }): AbortSignal {
      return this[CALL].signal;
    },
    configurable: true,
  },
  deadline: {
    get(this: { [CALL]: Call }): number | null {
      const deadline = this[CALL].deadline;
      return deadline === 0 ? null : deadline;
    },
    configurable: true,
  },
  timeLeft: {
    value: function timeLeft(this: { [CALL]: Call }): number {
      const deadline = this[CALL].deadline;
      return deadline === 0 ? Infinity : Math.max(0, deadline - Date.now());
    },
    configurable: true,
    writable: true,
  },
  openStream: {
    value: function openStream(this: { [CALL]: Call }): AnswerStream {
      return this[CALL].openStream();
    },
    configurable: true,
    writable: true,
  },
});

/**
 * Every name a handler reads from its request object that the wire must not
 * set: the members above, `connection` (set by the server), and what a plain
 * object inherits (`hasOwnProperty`, `toString`, `__proto__`...). Read from
 * the objects themselves, so a member added later is covered without a list to keep.
 */
export const RESERVED_REQUEST_FIELDS: readonly string[] = Object.freeze([
  ...Object.getOwnPropertyNames(RequestPrototype),
  'connection',
  ...Object.getOwnPropertyNames(Object.prototype),
]);

/**
 * True when a freshly parsed request carries one of those names as its own
 * field. Generated once from the list as one expression of named reads
 * (`r.signal !== undefined || r.toString !== Object.prototype.toString ...`):
 * a loop of Object.hasOwn over varying names cost ~300 ns a request, this ~1.
 */
const carriesReservedField = ((): (request: object) => boolean => {
  const plain: Record<string, unknown> = {};
  const expected = RESERVED_REQUEST_FIELDS.map((name) => plain[name]);
  const test = RESERVED_REQUEST_FIELDS.map((name, i) => `r[${JSON.stringify(name)}] !== expected[${i}]`).join(' || ');
  return new Function('expected', `return function carriesReservedField(r) { return ${test}; }`)(expected);
})();

/** Drops whatever the request line carried under a reserved name: the handler sees the server's, never the client's. */
function dropReservedFields(request: Record<string, unknown>): void {
  for (const name of RESERVED_REQUEST_FIELDS) {
    if (Object.hasOwn(request, name)) delete request[name];
  }
}

/**
 * A parsed line's protocol fields (see protocol.ts ParsedRequest). A field
 * added here goes into protocolFieldCount() and WireRequest too: they name
 * each one rather than loop over a list (a loop's keyed reads cost more than
 * the copy saves).
 */
interface WireFields {
  ipcReqID?: unknown;
  uri: unknown;
  noReply?: unknown;
  data?: unknown;
  pid?: unknown;
  userAgent?: unknown;
  timeoutMs?: unknown;
  stream?: unknown;
}

/** How many of the protocol fields a parsed line carries (uri always: parsing checked it). */
function protocolFieldCount(parsed: WireFields): number {
  let count = 1;
  if (parsed.ipcReqID !== undefined) count++;
  if (parsed.noReply !== undefined) count++;
  if (parsed.data !== undefined) count++;
  if (parsed.pid !== undefined) count++;
  if (parsed.userAgent !== undefined) count++;
  if (parsed.timeoutMs !== undefined) count++;
  if (parsed.stream !== undefined) count++;
  return count;
}

/** True when the parsed line has no field beyond the protocol's (every line our clients and 1.x clients send). */
function carriesOnlyProtocolFields(parsed: WireFields): boolean {
  let count = 0;
  for (const _ in parsed) count++;
  return count === protocolFieldCount(parsed);
}

/**
 * The request object of a line that carries only protocol fields, built
 * directly on RequestPrototype: a copy of a handful of fields costs a fifth
 * of switching the parsed object's prototype (Object.setPrototypeOf makes
 * V8 migrate the object to a new shape: ~100 ns a request). ipcReqID and
 * noReply are always set, normalized; other fields only when present, so the
 * object has no keys the line did not.
 */
const WireRequest = function WireRequest(this: Record<string | symbol, unknown>, parsed: WireFields, connection: Connection, call: Call) {
  this.ipcReqID = parsed.ipcReqID ?? null;
  this.uri = parsed.uri;
  if (parsed.data !== undefined) this.data = parsed.data;
  this.noReply = parsed.noReply === true;
  if (parsed.pid !== undefined) this.pid = parsed.pid;
  if (parsed.userAgent !== undefined) this.userAgent = parsed.userAgent;
  if (parsed.timeoutMs !== undefined) this.timeoutMs = parsed.timeoutMs;
  if (parsed.stream !== undefined) this.stream = parsed.stream;
  this.connection = connection;
  this[CALL] = call;
} as unknown as new (parsed: WireFields, connection: Connection, call: Call) => IPCRequest;
WireRequest.prototype = RequestPrototype;

/**
 * The handler's request object for a parsed line: a WireRequest, or, for a
 * line with fields of its own (a custom client's), the parsed object itself,
 * without any field under a reserved name, switched to RequestPrototype.
 */
function requestFor(parsed: IPCRequest, connection: Connection, call: Call): IPCRequest {
  if (carriesOnlyProtocolFields(parsed as unknown as WireFields)) return new WireRequest(parsed as unknown as WireFields, connection, call);
  if (carriesReservedField(parsed)) dropReservedFields(parsed as unknown as Record<string, unknown>);
  if (parsed.ipcReqID === undefined) parsed.ipcReqID = null;
  parsed.noReply = parsed.noReply === true;
  parsed.connection = connection;
  (parsed as unknown as { [CALL]: Call })[CALL] = call;
  Object.setPrototypeOf(parsed, RequestPrototype);
  return parsed;
}

/** Opens the writer of a streamed answer (set by the pipeline, which owns how answers go out). */
export type StreamOpener = (call: Call) => AnswerStream;

export class Call {
  /** The caller's `timeoutMs` (at most MAX_TIMEOUT_MS); 0 when it sent none. */
  timeoutMs = 0;
  /** receivedAt, once worked out; 0 until then. */
  private wallClockReadAt = 0;
  /** The deadline, once worked out or set by the deadline queue; 0 until then. */
  private deadlineAt = 0;
  /** The name of the handler that ran it (null until routed; "(unmatched)" for uris no handler matches). */
  handlerName: string | null = null;
  /** True once answered: anything later is ignored. */
  settled = false;
  /** True once its handler has answered (callback, return value, promise, stream or failure): the dispatcher ignores any second answer. */
  handlerAnswered = false;

  /** The timeout (ms) whose deadline queue holds this call (see deadline-queue.ts). */
  timeoutKey = 0;
  /** Why the call was aborted (cancelled, deadline, disconnect, shutdown), or null while it runs normally. */
  abortedBy: AbortReason | null = null;
  /** Heap charged to its connection's budgets for it (its parsed line, collected parts): released when it is answered. */
  held = 0;
  /** The writer of a streamed answer, once the handler has opened one. */
  stream: AnswerStream | null = null;
  /** The caller accepts a streamed answer (`stream: true`). */
  readonly wantsStream: boolean;

  private controller: AbortController | null = null;
  private onAbort: (() => void) | null = null;

  /** Set by the pipeline when the call enters it: how a streamed answer is opened. */
  streamOpener: StreamOpener | null = null;

  /** Its neighbours among its connection's running calls (an intrusive list: no Set entry per request). */
  previousRunning: Call | null = null;
  nextRunning: Call | null = null;
  /** Its neighbours among the running calls with the same id, once its connection indexes them (see running-calls.ts). */
  olderSameId: Call | null = null;
  newerSameId: Call | null = null;
  /** On the oldest of them: the newest, where the next one is appended. */
  newestSameId: Call | null = null;

  /**
   * `readAt` is when the line was read, on the performance.now() clock (for µs latencies);
   * `lineBytes` the size of the request's line as received. The request is
   * made from the parsed line (see requestFor): fields under reserved names never reach it.
   */
  readonly request: IPCRequest;

  constructor(parsed: IPCRequest, readonly connection: Connection, readonly readAt: number, readonly lineBytes: number) {
    this.wantsStream = parsed.stream === true;
    this.request = requestFor(parsed, connection, this);
  }

  /**
   * When the line was read (ms since epoch), worked out from readAt when first
   * asked: a call answered while it is dispatched (most) never reads the wall clock.
   */
  get receivedAt(): number {
    if (this.wallClockReadAt === 0) this.wallClockReadAt = Math.round(Date.now() - (performance.now() - this.readAt));
    return this.wallClockReadAt;
  }

  /** When the caller stops waiting (ms since epoch), from its `timeoutMs`; 0 for none. */
  get deadline(): number {
    if (this.deadlineAt === 0 && this.timeoutMs !== 0) this.deadlineAt = this.receivedAt + this.timeoutMs;
    return this.deadlineAt;
  }

  set deadline(at: number) {
    this.deadlineAt = at;
  }

  /** Aborted when the caller cancels, the deadline passes, the caller disconnects, or the server stops. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortedBy) this.controller.abort(this.abortedBy);
    }
    return this.controller.signal;
  }

  /**
   * Aborts the running handler's signal (once; later reasons are ignored).
   * Returns false when the call was already answered or aborted.
   */
  abort(code: string, message: string): boolean {
    if (this.settled || this.abortedBy) return false;
    this.abortedBy = abortReason(code, message);
    if (this.controller) this.controller.abort(this.abortedBy);
    if (this.onAbort) {
      const run = this.onAbort;
      this.onAbort = null;
      run();
    }
    return true;
  }

  /** Runs `fn` when the call is aborted (one listener: the stream pump uses it to stop its iterator). */
  whenAborted(fn: () => void): void {
    if (this.abortedBy) fn();
    else this.onAbort = fn;
  }

  /** Marks the call answered. */
  finish(): void {
    this.settled = true;
    this.onAbort = null;
  }

  openStream(): AnswerStream {
    if (!this.stream) {
      if (!this.streamOpener) throw new Error('openStream: this request cannot stream');
      this.stream = this.streamOpener(this);
    }
    return this.stream;
  }
}
