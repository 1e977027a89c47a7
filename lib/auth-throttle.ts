/**
 * Slows down credential guessing. Failures are counted per peer (the uid on
 * a Unix socket, the address on TCP/TLS). After a few failures in a row,
 * that peer's credential checks take turns: each waits until the previous
 * one's slot has passed, and the slot doubles with every further failure, up
 * to a cap. Parallel connections do not help: the turns are per peer, not
 * per connection. A success, or a quiet period, forgives the peer.
 */

export interface ThrottleOptions {
  /** Failures in a row that cost nothing (typos); 0 turns throttling off. */
  freeFailures: number;
  /** The first delay after the free failures, in ms; it doubles per failure. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A peer with no failure for this long starts afresh. */
  forgetAfterMs: number;
}

export const defaultThrottleOptions: ThrottleOptions = {
  freeFailures: 5,
  baseDelayMs: 100,
  maxDelayMs: 5000,
  forgetAfterMs: 60_000,
};

interface PeerRecord {
  failures: number;
  /** Checks reserved and not resolved yet: counted as failures when spacing the next, so parallel guesses gain nothing. */
  pending: number;
  lastFailure: number;
  /** When the next check for this peer may run (ms since epoch). */
  nextSlot: number;
  /** True once this burst has been logged. */
  logged: boolean;
}

/** How many records to keep at most; the oldest are forgotten first. */
const MAX_PEERS = 10_000;

export class AuthThrottle {
  private readonly peers = new Map<string, PeerRecord>();
  private options: ThrottleOptions;

  constructor(options: Partial<ThrottleOptions> = {}) {
    this.options = { ...defaultThrottleOptions, ...options };
  }

  configure(options: Partial<ThrottleOptions>): void {
    this.options = { ...this.options, ...options };
    this.peers.clear();
  }

  get enabled(): boolean {
    return this.options.freeFailures > 0;
  }

  /**
   * How long the next credential check for `key` must wait (0 when it may
   * run now), and reserves that turn. Every reservation is resolved later
   * with failed(), succeeded() or released().
   */
  reserve(key: string, now = Date.now()): number {
    if (!this.enabled) return 0;
    const record = this.record(key, now);
    record.pending++;
    const assumed = record.failures + record.pending - 1;
    if (assumed < this.options.freeFailures) return 0;
    const start = Math.max(now, record.nextSlot);
    record.nextSlot = start + this.delayFor(assumed + 1);
    return start - now;
  }

  /** A reserved check did not happen (its connection went away). */
  released(key: string): void {
    const record = this.peers.get(key);
    if (record && record.pending > 0) record.pending--;
  }

  /**
   * Records a failure. Returns true the first time a burst crosses into
   * throttling (so it is logged once per burst).
   */
  failed(key: string, now = Date.now()): boolean {
    if (!this.enabled) return false;
    const record = this.record(key, now);
    if (record.pending > 0) record.pending--;
    record.failures++;
    record.lastFailure = now;
    if (record.failures >= this.options.freeFailures && !record.logged) {
      record.logged = true;
      return true;
    }
    return false;
  }

  succeeded(key: string): void {
    this.peers.delete(key);
  }

  /** Failures in a row recorded for `key` (0 when forgiven). */
  failures(key: string, now = Date.now()): number {
    return this.current(key, now)?.failures ?? 0;
  }

  /** The slot length after `failures` failures in a row. */
  delayFor(failures: number): number {
    const over = failures - this.options.freeFailures;
    if (over < 0) return 0;
    return Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.min(over, 30));
  }

  private record(key: string, now: number): PeerRecord {
    let record = this.current(key, now);
    if (!record) {
      if (this.peers.size >= MAX_PEERS) this.peers.delete(this.peers.keys().next().value as string);
      record = { failures: 0, pending: 0, lastFailure: now, nextSlot: now, logged: false };
      this.peers.set(key, record);
    }
    return record;
  }

  private current(key: string, now: number): PeerRecord | undefined {
    const record = this.peers.get(key);
    if (record && record.pending === 0 && now - record.lastFailure > this.options.forgetAfterMs && record.nextSlot <= now) {
      this.peers.delete(key);
      return undefined;
    }
    return record;
  }
}
