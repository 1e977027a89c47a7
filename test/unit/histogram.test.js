'use strict';
const assert = require('assert');
const { LatencyHistogram, bucketIndex, BUCKET_UPPER_MS, FINITE_BUCKETS, BUCKET_COUNT } = require('../../dist/lib/histogram');

/** The bucket of `ms`, as [lower, upper] in ms. */
function bucketOf(ms) {
  const i = bucketIndex(ms);
  return [i === 0 ? 0 : BUCKET_UPPER_MS[i - 1], i < FINITE_BUCKETS ? BUCKET_UPPER_MS[i] : Infinity];
}

describe('LatencyHistogram', function () {
  it('puts each duration in the bucket whose bounds hold it, from 1 µs to minutes', function () {
    for (const ms of [0.0005, 0.001, 0.0011, 0.003, 0.05, 1, 5, 5.2, 50, 500, 60000, 600000]) {
      const [lower, upper] = bucketOf(ms);
      assert.ok(ms <= upper * (1 + 1e-9) && ms > lower * (1 - 1e-9), `${ms} ms in (${lower}, ${upper}]`);
    }
    assert.strictEqual(bucketIndex(-3), 0);
    assert.strictEqual(bucketIndex(NaN), 0);
    assert.strictEqual(bucketIndex(3600e3), FINITE_BUCKETS, 'an hour lands in the last bucket');
    assert.ok(BUCKET_UPPER_MS[FINITE_BUCKETS - 1] > 10 * 60e3, 'the last finite bound is past 10 minutes');
    for (let i = 1; i < FINITE_BUCKETS; i++) assert.ok(Math.abs(BUCKET_UPPER_MS[i] / BUCKET_UPPER_MS[i - 1] - Math.SQRT2) < 1e-9);
  });

  it('puts a bound in its own bucket and anything just above it in the next, at every bound', function () {
    for (let i = 0; i < FINITE_BUCKETS; i++) {
      const bound = BUCKET_UPPER_MS[i];
      assert.strictEqual(bucketIndex(bound), i, `bound ${i}`);
      assert.strictEqual(bucketIndex(bound * (1 + 1e-12)), i + 1, `just above bound ${i}`);
      if (i > 0) assert.strictEqual(bucketIndex(bound * (1 - 1e-12)), i, `just below bound ${i}`);
    }
  });

  it('gives exact percentiles for a constant duration and clamps to the values seen', function () {
    const h = new LatencyHistogram();
    for (let i = 0; i < 100; i++) h.record(5.2);
    const s = h.summary();
    assert.deepStrictEqual(s, { count: 100, sum: 520, p50: 5.2, p90: 5.2, p99: 5.2, max: 5.2 });
  });

  it('interpolates percentiles within a bucket: errors stay under one bucket width', function () {
    const h = new LatencyHistogram();
    const values = [];
    // 10,000 durations spread log-uniformly from 10 µs to 1 s.
    for (let i = 0; i < 10000; i++) values.push(0.01 * 10 ** (5 * (i / 9999)));
    for (let i = values.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [values[i], values[j]] = [values[j], values[i]];
    }
    for (const v of values) h.record(v);
    const sorted = values.slice().sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.99]) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1];
      const estimate = h.quantile(q);
      assert.ok(estimate / exact < Math.SQRT2 && exact / estimate < Math.SQRT2, `q${q}: ${estimate} vs ${exact}`);
    }
    assert.strictEqual(h.quantile(1), h.max);
    assert.strictEqual(h.count, 10000);
  });

  it('merges and resets', function () {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    a.record(1);
    a.record(2);
    b.record(100);
    b.record(0.01);
    a.merge(b);
    assert.strictEqual(a.count, 4);
    assert.strictEqual(a.max, 100);
    assert.strictEqual(a.min, 0.01);
    assert.ok(Math.abs(a.sum - 103.01) < 1e-9);
    assert.strictEqual(a.counts.reduce((x, y) => x + y, 0), 4);
    a.reset();
    assert.deepStrictEqual(a.summary(), { count: 0, sum: 0, p50: 0, p90: 0, p99: 0, max: 0 });
    assert.strictEqual(a.counts.length, BUCKET_COUNT);
    assert.ok(a.counts.every((c) => c === 0));
  });

  it('a duration past the last bound still counts, and its percentile is the max seen', function () {
    const h = new LatencyHistogram();
    h.record(3600e3);
    assert.strictEqual(h.quantile(0.5), 3600e3);
    assert.strictEqual(h.counts[FINITE_BUCKETS], 1);
  });
});
