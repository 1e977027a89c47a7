/**
 * The Prometheus text exposition format (version 0.0.4), written by hand.
 *
 * Why not prom-client: its registry is global to the process (two servers in
 * one process, or the application's own metrics, would collide), its default
 * buckets start at 5 ms when an IPC round trip takes tens of µs, and its
 * histograms would record every request a second time next to the per-endpoint
 * histograms getStats() needs anyway. The format itself is a few lines of text
 * per sample; writing it from our own counters costs nothing on the request path.
 */
import { FINITE_BUCKETS, LatencyHistogram } from './histogram';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Record<string, string>;

/** A label value as the format wants it: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c));
}

function formatLabels(labels: Labels | undefined, extra?: string): string {
  const parts: string[] = [];
  if (labels) for (const key of Object.keys(labels)) parts.push(`${key}="${escapeLabelValue(labels[key])}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/**
 * Histogram bounds exposed, in seconds: every other bucket bound (powers of
 * two, 1 µs to ~9 min). Cumulative counts at these bounds are exact, since each
 * is also a bound of the recording histogram; halving the series count keeps
 * a scrape small.
 */
const EXPOSED_BUCKETS: readonly { index: number; le: string }[] = Array.from(
  { length: FINITE_BUCKETS / 2 },
  (_, k) => ({ index: 2 * k, le: formatValue(2 ** k / 1e6) }),
);

/** Collects metric families and renders them; one family's samples stay together, as the format requires. */
export class MetricsWriter {
  private readonly lines: string[] = [];

  private header(name: string, type: string, help: string): void {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
  }

  /** A counter family; `name` ends in `_total`. */
  counter(name: string, help: string, samples: Array<[Labels | undefined, number]>): this {
    return this.family(name, 'counter', help, samples);
  }

  gauge(name: string, help: string, samples: Array<[Labels | undefined, number]>): this {
    return this.family(name, 'gauge', help, samples);
  }

  /** A histogram family in seconds from latency histograms recorded in ms. */
  histogram(name: string, help: string, samples: Array<[Labels | undefined, LatencyHistogram]>): this {
    if (samples.length === 0) return this;
    this.header(name, 'histogram', help);
    for (const [labels, histogram] of samples) {
      const counts = histogram.counts;
      let cumulative = 0;
      let next = 0;
      for (const { index, le } of EXPOSED_BUCKETS) {
        while (next <= index) cumulative += counts[next++];
        this.lines.push(`${name}_bucket${formatLabels(labels, `le="${le}"`)} ${cumulative}`);
      }
      this.lines.push(`${name}_bucket${formatLabels(labels, 'le="+Inf"')} ${histogram.count}`);
      this.lines.push(`${name}_sum${formatLabels(labels)} ${formatValue(histogram.sum / 1000)}`);
      this.lines.push(`${name}_count${formatLabels(labels)} ${histogram.count}`);
    }
    return this;
  }

  private family(name: string, type: string, help: string, samples: Array<[Labels | undefined, number]>): this {
    if (samples.length === 0) return this;
    this.header(name, type, help);
    for (const [labels, value] of samples) this.lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    return this;
  }

  toString(): string {
    return this.lines.join('\n') + '\n';
  }
}

