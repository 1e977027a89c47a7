/**
 * A latency histogram with fixed log-scale buckets: recording is a bucket
 * index and a few additions (no allocation, no logarithm), and any two histograms can be
 * merged bucket by bucket because they all share the same bounds.
 *
 * Bucket i counts durations in (BOUND[i-1], BOUND[i]] where BOUND[i] is
 * 2^(i/2) µs: from 1 µs to 2^29.5 µs (about 12.6 minutes), each bucket 41%
 * wider than the one before; the last bucket holds everything longer.
 * Percentiles are interpolated within their bucket, between the bucket's
 * bounds narrowed to the smallest and largest values seen.
 */
import type { LatencySummary } from './stats-report';

export type { LatencySummary };

/** Buckets with a finite upper bound. */
export const FINITE_BUCKETS = 60;
/** Every bucket, the last one (everything slower than the last bound) included. */
export const BUCKET_COUNT = FINITE_BUCKETS + 1;

/** Upper bound of each finite bucket, in ms. */
export const BUCKET_UPPER_MS: readonly number[] = Array.from({ length: FINITE_BUCKETS }, (_, i) => 2 ** (i / 2) / 1000);

/** Durations (µs) from this on are past every finite bucket. */
const LAST_BOUND_MICROS = 2 ** ((FINITE_BUCKETS - 1) / 2);

/**
 * The bucket a duration (ms) falls in: the first whose bound is not below it.
 * The power of two at or below the duration (from Math.clz32, one
 * instruction) leaves three candidates, compared against the bounds: no
 * logarithm per request.
 */
export function bucketIndex(ms: number): number {
  if (!(ms > 0.001)) return 0; // also NaN and negatives: a clock cannot run backwards by much
  const micros = ms * 1000;
  if (micros > LAST_BOUND_MICROS) return FINITE_BUCKETS;
  // 2^power <= micros < 2^(power+1), so bucket 2*power is the first that can hold it.
  const power = 31 - Math.clz32(micros);
  let index = 2 * power;
  while (BUCKET_UPPER_MS[index] < ms) index++;
  return index;
}


export class LatencyHistogram {
  readonly counts = new Float64Array(BUCKET_COUNT);
  count = 0;
  /** In ms. */
  sum = 0;
  min = Infinity;
  max = 0;

  /** Records one duration in ms. */
  record(ms: number): void {
    this.counts[bucketIndex(ms)]++;
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  /** Adds another histogram's figures to this one. */
  merge(other: LatencyHistogram): void {
    if (other.count === 0) return;
    const counts = this.counts;
    const theirs = other.counts;
    for (let i = 0; i < BUCKET_COUNT; i++) counts[i] += theirs[i];
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  reset(): void {
    if (this.count === 0) return;
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = 0;
  }

  /** The duration (ms) below which a fraction `q` (0..1) of the recorded durations fall; 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.min(1, Math.max(0, q)) * this.count;
    const counts = this.counts;
    let below = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      const inBucket = counts[i];
      if (inBucket === 0 || below + inBucket < rank) {
        below += inBucket;
        continue;
      }
      const lower = Math.max(i === 0 ? 0 : BUCKET_UPPER_MS[i - 1], this.min);
      const upper = Math.min(i < FINITE_BUCKETS ? BUCKET_UPPER_MS[i] : this.max, this.max);
      if (upper <= lower) return upper;
      return lower + ((upper - lower) * (rank - below)) / inBucket;
    }
    return this.max;
  }

  /** Count, sum, p50/p90/p99 and max, in ms rounded to the µs. */
  summary(): LatencySummary {
    return {
      count: this.count,
      sum: roundMicro(this.sum),
      p50: roundMicro(this.quantile(0.5)),
      p90: roundMicro(this.quantile(0.9)),
      p99: roundMicro(this.quantile(0.99)),
      max: roundMicro(this.max),
    };
  }
}

function roundMicro(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
