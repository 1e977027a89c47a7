/**
 * The requests waiting for an outcome, and their deadlines.
 *
 * Thousands of requests in flight must not mean thousands of timers. Every
 * request gets the same timeout, so insertion order is deadline order: a Map
 * (which iterates in insertion order) keeps them, and ONE timer is armed for
 * the oldest deadline. Answering a request does not touch the timer; when it
 * fires it expires whatever is due and re-arms for the new oldest entry. A
 * sequential caller therefore costs one timer per `requestTimeout` period, not
 * one per request.
 *
 * Ids of expired requests are remembered for a while, so a late response can
 * be told apart from a response nobody asked for.
 */

/** Outcome callback of one request. */
export type ResponseCallback = (err: any, data?: any) => void;

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
  resolve: ((data: any) => void) | null = null;
  reject: ((err: unknown) => void) | null = null;
  /** The request line, kept only while it waits for a connection (offline queue or connect under way). */
  line: string | null = null;
  /** True once the line has been handed to a connection: a disconnect then fails it. */
  written = false;
  /** True once the outcome has been delivered. */
  done = false;

  constructor(id: string, seq: number, uri: string, deadline: number) {
    this.id = id;
    this.seq = seq;
    this.uri = uri;
    this.deadline = deadline;
  }
}

/** setTimeout's longest delay; longer ones would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class PendingTable {
  private readonly entries = new Map<string, PendingRequest>();
  /** Ids of timed-out requests -> Date.now() after which they are forgotten (insertion order = that order). */
  private readonly expired = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
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
    return this.entries.size;
  }

  /**
   * Adds a request. Its deadline must not be earlier than those added before
   * it (true while requestTimeout is unchanged); Infinity means no timeout.
   */
  add(entry: PendingRequest): void {
    this.entries.set(entry.id, entry);
    // An armed timer fires no later than this deadline, since deadlines only grow.
    if (this.timer === null) this.arm(entry.deadline);
  }

  /** Removes and returns the request with this id, if it is waiting. */
  take(id: string): PendingRequest | undefined {
    const entry = this.entries.get(id);
    if (entry !== undefined) this.entries.delete(id);
    return entry;
  }

  /** Removes the request if it is still waiting (for example one that could not be written). */
  remove(entry: PendingRequest): void {
    if (this.entries.get(entry.id) === entry) this.entries.delete(entry.id);
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
    for (const entry of this.entries.values()) return entry.seq;
    return Infinity;
  }

  /** Removes and returns every waiting request that `predicate` accepts. */
  removeWhere(predicate: (entry: PendingRequest) => boolean): PendingRequest[] {
    const removed: PendingRequest[] = [];
    for (const [id, entry] of this.entries) {
      if (predicate(entry)) {
        this.entries.delete(id);
        removed.push(entry);
      }
    }
    return removed;
  }

  /** Stops the timer and forgets remembered ids (requests still waiting are left to the caller). */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.expired.clear();
  }

  private arm(deadline: number): void {
    if (deadline === Infinity) return; // a request without a timeout (requestTimeout 0)
    this.timer = setTimeout(this.onTimer, Math.min(MAX_TIMER_MS, Math.max(1, deadline - Date.now())));
    // Deadlines alone never keep a process alive; an open socket or a reconnect timer does.
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = null;
    const now = Date.now();
    this.forgetExpired(now);
    let due: PendingRequest[] | null = null;
    const forgetAt = now + this.rememberMs();
    for (const [id, entry] of this.entries) {
      if (entry.deadline > now) {
        this.arm(entry.deadline);
        break;
      }
      this.entries.delete(id);
      this.expired.set(id, forgetAt);
      (due ??= []).push(entry);
    }
    if (due) this.onExpire(due);
  }

  private forgetExpired(now: number): void {
    for (const [id, forgetAt] of this.expired) {
      if (forgetAt > now) break;
      this.expired.delete(id);
    }
  }
}
