/**
 * Per-endpoint figures: requests, errors, bytes and a latency histogram for
 * each handler, keyed by the handler's registered name (never by the uri,
 * which the client chooses), for the current stats interval, the last one
 * and the totals since startup.
 *
 * Requests are recorded into the current interval only; cycling the interval
 * folds it into the totals, and reading the totals adds the current interval
 * on the fly. Memory is bounded: at most `maxEndpoints` names are tracked,
 * any further name is counted under "(other)".
 */
import { LatencyHistogram } from './histogram';
import type { EndpointFigures, EndpointReport } from './stats-report';

/** The name uris that match no handler are counted under. */
export const UNMATCHED = '(unmatched)';
/** The name used once `maxEndpoints` names are tracked. */
export const OVERFLOW = '(other)';
export const DEFAULT_MAX_ENDPOINTS = 1000;
/**
 * Distinct error codes counted per endpoint (handlers choose codes, so a
 * handler that puts ids in them must not grow the metrics); further codes
 * count under "(other)".
 */
export const MAX_ERROR_CODES = 32;



/** One endpoint's counts over one period. */
export class EndpointCounters {
  requests = 0;
  errors = 0;
  bytesIn = 0;
  bytesOut = 0;
  readonly latency = new LatencyHistogram();

  merge(other: EndpointCounters): void {
    this.requests += other.requests;
    this.errors += other.errors;
    this.bytesIn += other.bytesIn;
    this.bytesOut += other.bytesOut;
    this.latency.merge(other.latency);
  }

  reset(): void {
    this.requests = 0;
    this.errors = 0;
    this.bytesIn = 0;
    this.bytesOut = 0;
    this.latency.reset();
  }

  toJSON(): EndpointFigures {
    return { requests: this.requests, errors: this.errors, bytesIn: this.bytesIn, bytesOut: this.bytesOut, latencyMs: this.latency.summary() };
  }
}

/** One endpoint: what the server records into, and its past periods. */
export class EndpointStat {
  /** The current interval (requests are recorded here). */
  interval = new EndpointCounters();
  /** The last completed interval. */
  last = new EndpointCounters();
  /** Every completed interval folded together (the current one is not in it yet). */
  readonly completed = new EndpointCounters();

  /** Error answers since startup by code (at most MAX_ERROR_CODES codes, then "(other)"). */
  readonly errorCodes = new Map<string, number>();

  constructor(readonly name: string) {}

  /** Records one answered request. `ms` is its duration; `code` an error answer's code. */
  record(ms: number, error: boolean, bytesIn: number, bytesOut: number, code: string | null = null): void {
    const interval = this.interval;
    interval.requests++;
    if (error) {
      interval.errors++;
      this.countErrorCode(code ?? 'unknown');
    }
    interval.bytesIn += bytesIn;
    interval.bytesOut += bytesOut;
    interval.latency.record(ms);
  }

  private countErrorCode(code: string): void {
    const known = this.errorCodes.get(code);
    if (known !== undefined) this.errorCodes.set(code, known + 1);
    else if (this.errorCodes.size < MAX_ERROR_CODES) this.errorCodes.set(code, 1);
    else this.errorCodes.set(OVERFLOW, (this.errorCodes.get(OVERFLOW) ?? 0) + 1);
  }

  /** Totals since startup, the current interval included (a new object). */
  totals(): EndpointCounters {
    const totals = new EndpointCounters();
    totals.merge(this.completed);
    totals.merge(this.interval);
    return totals;
  }

  cycle(): void {
    this.completed.merge(this.interval);
    // Reuse the older buffers rather than allocating new ones each interval.
    const recycled = this.last;
    this.last = this.interval;
    recycled.reset();
    this.interval = recycled;
  }
}

export class EndpointStats {
  private readonly byName = new Map<string, EndpointStat>();
  /** The last name looked up and its figures: consecutive requests mostly go to the same handler. */
  private lastName: string | null = null;
  private lastStat: EndpointStat | null = null;

  constructor(readonly maxEndpoints = DEFAULT_MAX_ENDPOINTS) {}

  /** The figures for a handler name (created on first use; "(other)" once the cap is reached). */
  get(name: string): EndpointStat {
    if (name === this.lastName) return this.lastStat!;
    let stat = this.byName.get(name);
    if (!stat) stat = this.add(name);
    this.lastName = name;
    this.lastStat = stat;
    return stat;
  }

  private add(name: string): EndpointStat {
    let stat: EndpointStat | undefined;
    if (this.byName.size >= this.maxEndpoints) {
      stat = this.byName.get(OVERFLOW);
      if (stat) return stat;
      name = OVERFLOW;
    }
    stat = new EndpointStat(name);
    this.byName.set(name, stat);
    return stat;
  }

  get size(): number {
    return this.byName.size;
  }

  values(): IterableIterator<EndpointStat> {
    return this.byName.values();
  }

  /** Ends the current interval of every endpoint. */
  cycle(): void {
    for (const stat of this.byName.values()) stat.cycle();
  }

  toJSON(): Record<string, EndpointReport> {
    const report: Record<string, EndpointReport> = {};
    for (const [name, stat] of this.byName) {
      report[name] = { totals: stat.totals().toJSON(), interval: stat.interval.toJSON(), last: stat.last.toJSON() };
    }
    return report;
  }
}
