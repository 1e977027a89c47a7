/**
 * The requests waiting for an outcome, and their deadlines.
 *
 * Thousands of requests in flight must not mean thousands of timers. Most
 * requests get the same timeout, so insertion order is deadline order: the
 * table keeps them in that order, and ONE timer is armed for the oldest
 * deadline. A request whose deadline comes before one added earlier (a
 * shorter per-request timeout) is also listed apart, and the timer is armed
 * for the earliest of both. Answering a request does not touch the timer; when it
 * fires it expires whatever is due and re-arms for the new oldest entry. A
 * sequential caller therefore costs one timer per `requestTimeout` period, not
 * one per request.
 *
 * Ids of expired requests are remembered for a while, so a late response can
 * be told apart from a response nobody asked for.
 */

import { rethrowLater } from './context';
import type { IPCError } from './errors';
import type { Link } from './link';
import type { PartStream } from './part-stream';

/**
 * Outcome callback of one request: `err` is an IPCError (an aborted request
 * gives the standard AbortError instead, and a messageTransform whatever it
 * returned), `data` the answer's data, typed `T` when the caller says
 * (`unknown` otherwise). Declared as a method so that a callback annotated
 * `(err: Error | null, ...)` is accepted too.
 */
export type ResponseCallback<T = unknown> = { outcome(err: IPCError | null, data?: T): void }['outcome'];

/** One request waiting for its outcome. */
export class PendingRequest {
  /** Wire id ("rq0", "rq1", ...). */
  readonly id: string;
  /** Position among everything this client sent (requests and notifies); used by flush(). */
  readonly seq: number;
  readonly uri: string;
  /** Date.now() value after which the request times out. */
  readonly deadline: number;
  /** Set for callback-style sends. */
  callback: ResponseCallback | null = null;
  /** Set for promise-style sends. */
  resolve: ((data: unknown) => void) | null = null;
  reject: ((err: unknown) => void) | null = null;
  /** The request line (without its timeoutMs), kept until the outcome: it may have to be written again (shutting_down). */
  line: string | null = null;
  /** The same line without its closing `}\n`, to add timeoutMs without copying the line (wire.ts). */
  openLine: string | null = null;
  /** The request's own timeout in ms (0: none); sent as timeoutMs. */
  timeoutMs = 0;
  /** True once the line has been handed to a connection: a disconnect then fails it. */
  written = false;
  /** The connection it was written to (a Link), while written. */
  link: Link | null = null;
  /** For client.stream(): where the parts go (a PartStream). */
  stream: PartStream<unknown> | null = null;
  /** The caller's AbortSignal and the listener added to it. */
  signal: AbortSignal | null = null;
  onAbort: (() => void) | null = null;
  /** Times it was written again after a shutting_down answer. */
  resends = 0;
  /** True once the outcome has been delivered. */
  done = false;
  /** Where the PendingTable keeps it (internal). */
  position = -1;

  constructor(id: string, seq: number, uri: string, deadline: number) {
    this.id = id;
    this.seq = seq;
    this.uri = uri;
    this.deadline = deadline;
  }

  /**
   * Hands the one outcome to whoever waits: the stream, the callback (one
   * that throws is rethrown on the next tick, never into the client), or the promise.
   */
  deliver(err: unknown, data: unknown): void {
    const stream = this.stream;
    if (stream !== null) {
      if (err) stream.fail(err);
      else stream.end(data);
      return;
    }
    const callback = this.callback;
    if (callback !== null) {
      try {
        if (err) callback(err as IPCError);
        else callback(null, data);
      } catch (thrown) {
        rethrowLater(thrown);
      }
    } else if (err) {
      this.reject!(err);
    } else {
      this.resolve!(data);
    }
  }
}

/** setTimeout's longest delay; longer ones would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** First size of the id ring (a power of two); it doubles while more than half full. */
const FIRST_RING_SIZE = 64;

/** The order list is compacted once this many of its leading slots are spent. */
const COMPACT_AFTER = 1024;

/**
 * The number an id ends with ("rq17" -> 17), or -1. Client ids are a prefix
 * and a counter, so this number picks a ring slot without hashing the string.
 */
function trailingNumber(id: string): number {
  let i = id.length;
  let n = 0;
  let scale = 1;
  // At most 15 digits: beyond that the sum could lose precision (the ring only needs the low bits anyway).
  while (i > 0 && scale < 1e15) {
    const digit = id.charCodeAt(i - 1) - 48;
    if (digit < 0 || digit > 9) break;
    n += digit * scale;
    scale *= 10;
    i--;
  }
  return scale === 1 ? -1 : n;
}

/**
 * Why not one Map from id to request: a Map used as a queue (set the newest,
 * delete the oldest) keeps allocating new hash tables, and each retired table
 * links to its successor. Once one table has been promoted to V8's old
 * generation, that chain keeps every later table (and every request in them)
 * alive through minor GCs until the next full GC: a busy client promoted about
 * 250 bytes per request and spent a fifth of its time in GC. Here the
 * requests sit in two plain arrays whose slots are cleared when a request
 * leaves: `order` (insertion order, which is deadline order) and `ring`
 * (indexed by the number the id ends with). Ids that do not fit the ring (no
 * trailing number, or the slot is taken) go to a small Map instead.
 */
export class PendingTable {
  /** Requests in insertion order; null where one has left. `order[i]` has position `base + i`. */
  private order: (PendingRequest | null)[] = [];
  private base = 0;
  /** Index in `order` of the first slot that may still hold a request. */
  private head = 0;
  private ring: (PendingRequest | null)[] = new Array<PendingRequest | null>(FIRST_RING_SIZE).fill(null);
  private ringMask = FIRST_RING_SIZE - 1;
  private ringCount = 0;
  /** Requests whose id has no ring slot. */
  private readonly others = new Map<string, PendingRequest>();
  private count = 0;
  /** Ids of timed-out requests -> Date.now() after which they are forgotten (insertion order = that order). */
  private readonly expired = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  /** The deadline the timer is armed for (Infinity when it is not). */
  private armedFor = Infinity;
  /** The latest deadline added since the table was last empty: a smaller one is out of order. */
  private latestDeadline = -Infinity;
  /** Requests added out of deadline order (may include some that have left; dropped when the timer runs). */
  private early: PendingRequest[] = [];
  private readonly onExpire: (expired: PendingRequest[]) => void;
  private readonly rememberMs: () => number;

  /**
   * `onExpire` gets the requests whose deadline passed (already removed);
   * `rememberMs` says how long their ids are remembered.
   */
  constructor(onExpire: (expired: PendingRequest[]) => void, rememberMs: () => number) {
    this.onExpire = onExpire;
    this.rememberMs = rememberMs;
    this.onTimer = this.onTimer.bind(this);
  }

  /** Requests waiting for an outcome. */
  get size(): number {
    return this.count;
  }

  /**
   * Adds a request; a deadline of Infinity means no timeout. Its id must not
   * be waiting already.
   */
  add(entry: PendingRequest): void {
    entry.position = this.base + this.order.length;
    this.order.push(entry);
    this.count++;
    const number = trailingNumber(entry.id);
    if (number >= 0) {
      if (this.ringCount * 2 >= this.ring.length) this.growRing();
      const slot = number & this.ringMask;
      if (this.ring[slot] === null) {
        this.ring[slot] = entry;
        this.ringCount++;
      } else {
        this.others.set(entry.id, entry);
      }
    } else {
      this.others.set(entry.id, entry);
    }
    if (entry.deadline >= this.latestDeadline) {
      this.latestDeadline = entry.deadline;
      // Usually the armed timer fires before this deadline already (it may be
      // armed for a request that has left, with a longer timeout).
      if (entry.deadline >= this.armedFor) return;
    } else {
      this.early.push(entry);
    }
    if (entry.deadline < this.armedFor) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.arm(entry.deadline);
    }
  }

  /** Removes and returns the request with this id, if it is waiting. */
  take(id: string): PendingRequest | undefined {
    const number = trailingNumber(id);
    if (number >= 0) {
      const slot = number & this.ringMask;
      const entry = this.ring[slot];
      if (entry !== null && entry.id === id) {
        this.ring[slot] = null;
        this.ringCount--;
        this.leaveOrder(entry);
        return entry;
      }
    }
    if (this.others.size === 0) return undefined;
    const entry = this.others.get(id);
    if (entry !== undefined) {
      this.others.delete(id);
      this.leaveOrder(entry);
    }
    return entry;
  }

  /** The waiting request with this id, left in place (a streamed part), or undefined. */
  peek(id: string): PendingRequest | undefined {
    const number = trailingNumber(id);
    if (number >= 0) {
      const entry = this.ring[number & this.ringMask];
      if (entry !== null && entry.id === id) return entry;
    }
    return this.others.size === 0 ? undefined : this.others.get(id);
  }

  /** True when this id belonged to a request that timed out or was cancelled lately (not forgotten by asking). */
  isRemembered(id: string): boolean {
    const forgetAt = this.expired.get(id);
    return forgetAt !== undefined && forgetAt > Date.now();
  }

  /** Calls fn for every waiting request, oldest first (fn must not add or remove). */
  forEach(fn: (entry: PendingRequest) => void): void {
    const order = this.order;
    for (let i = this.head; i < order.length; i++) {
      const entry = order[i];
      if (entry !== null) fn(entry);
    }
  }

  /** Removes the request if it is still waiting (for example one that could not be written). */
  remove(entry: PendingRequest): void {
    if (this.isWaiting(entry)) this.take(entry.id);
  }

  /** True while the request is in the table. */
  isWaiting(entry: PendingRequest): boolean {
    const index = entry.position - this.base;
    return index >= this.head && index < this.order.length && this.order[index] === entry;
  }

  /** Remembers the id of a request that left without its answer (cancelled), so the answer is dropped quietly. */
  rememberAbandoned(id: string): void {
    this.expired.set(id, Date.now() + this.rememberMs());
  }

  /** True (once) when this id belonged to a request that timed out less than `rememberMs` ago. */
  takeExpired(id: string): boolean {
    const forgetAt = this.expired.get(id);
    if (forgetAt === undefined) return false;
    this.expired.delete(id);
    return forgetAt > Date.now();
  }

  /** The `seq` of the oldest waiting request, or Infinity. */
  oldestSeq(): number {
    const first = this.first();
    return first === null ? Infinity : first.seq;
  }

  /** Removes and returns every waiting request that `predicate` accepts, oldest first. */
  removeWhere(predicate: (entry: PendingRequest) => boolean): PendingRequest[] {
    const chosen: PendingRequest[] = [];
    const order = this.order;
    for (let i = this.head; i < order.length; i++) {
      const entry = order[i];
      if (entry !== null && predicate(entry)) chosen.push(entry);
    }
    for (const entry of chosen) this.take(entry.id);
    return chosen;
  }

  /** Stops the timer and forgets remembered ids (requests still waiting are left to the caller). */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
    this.expired.clear();
  }

  /** The oldest waiting request, skipping (and dropping) spent slots at the front. */
  private first(): PendingRequest | null {
    const order = this.order;
    while (this.head < order.length) {
      const entry = order[this.head];
      if (entry !== null) return entry;
      this.head++;
    }
    return null;
  }

  /** Clears the request's slot in `order`, and keeps `order` from growing without bound. */
  private leaveOrder(entry: PendingRequest): void {
    this.count--;
    const order = this.order;
    const index = entry.position - this.base;
    order[index] = null;
    if (index === this.head) {
      let head = index + 1;
      while (head < order.length && order[head] === null) head++;
      this.head = head;
    }
    if (this.head === order.length) {
      // Nothing waits: start over (keeps the array's storage).
      this.base += order.length;
      order.length = 0;
      this.head = 0;
      this.latestDeadline = -Infinity;
      if (this.early.length) this.early = [];
    } else if (this.head >= COMPACT_AFTER && this.head * 2 >= order.length) {
      this.compact();
    } else if (order.length >= COMPACT_AFTER && order.length > 4 * this.count + COMPACT_AFTER) {
      // A few slow requests hold the front while many newer ones have left.
      this.compact();
    }
  }

  /** Rewrites `order` with the waiting requests only. */
  private compact(): void {
    const live: (PendingRequest | null)[] = [];
    const base = this.base + this.order.length;
    for (let i = this.head; i < this.order.length; i++) {
      const entry = this.order[i];
      if (entry !== null) {
        entry.position = base + live.length;
        live.push(entry);
      }
    }
    this.order = live;
    this.base = base;
    this.head = 0;
  }

  /** Doubles the ring and places every waiting request with a numbered id again (some may move out of `others`). */
  private growRing(): void {
    const size = this.ring.length * 2;
    this.ring = new Array<PendingRequest | null>(size).fill(null);
    this.ringMask = size - 1;
    this.ringCount = 0;
    this.others.clear();
    for (let i = this.head; i < this.order.length; i++) {
      const entry = this.order[i];
      if (entry === null) continue;
      const number = trailingNumber(entry.id);
      const slot = number & this.ringMask;
      if (number >= 0 && this.ring[slot] === null) {
        this.ring[slot] = entry;
        this.ringCount++;
      } else {
        this.others.set(entry.id, entry);
      }
    }
  }

  private arm(deadline: number): void {
    if (deadline === Infinity) return; // a request without a timeout (requestTimeout 0)
    this.armedFor = deadline;
    this.timer = setTimeout(this.onTimer, Math.min(MAX_TIMER_MS, Math.max(1, deadline - Date.now())));
    // Deadlines alone never keep a process alive; an open socket or a reconnect timer does.
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = null;
    this.armedFor = Infinity;
    const now = Date.now();
    this.forgetExpired(now);
    let due: PendingRequest[] | null = null;
    const forgetAt = now + this.rememberMs();
    // In-order requests: stop at the first one not due (every later in-order one is due later still).
    let next = Infinity;
    for (let entry = this.first(); entry !== null; entry = this.first()) {
      if (entry.deadline > now) {
        next = entry.deadline;
        break;
      }
      this.take(entry.id);
      this.expired.set(entry.id, forgetAt);
      (due ??= []).push(entry);
    }
    if (this.early.length) {
      const early = this.early;
      const keep: PendingRequest[] = [];
      for (const entry of early) {
        if (!this.isWaiting(entry)) continue;
        if (entry.deadline > now) {
          keep.push(entry);
          if (entry.deadline < next) next = entry.deadline;
          continue;
        }
        this.take(entry.id);
        this.expired.set(entry.id, forgetAt);
        (due ??= []).push(entry);
      }
      if (this.early === early) this.early = keep;
      if (due) due.sort(byDeadline);
    }
    if (this.timer === null) this.arm(next);
    if (due) this.onExpire(due);
  }

  private forgetExpired(now: number): void {
    for (const [id, forgetAt] of this.expired) {
      if (forgetAt > now) break;
      this.expired.delete(id);
    }
  }
}

function byDeadline(a: PendingRequest, b: PendingRequest): number {
  return a.deadline - b.deadline;
}
