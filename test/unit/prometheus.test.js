'use strict';
const assert = require('assert');
const { MetricsWriter, escapeLabelValue } = require('../../dist/lib/prometheus');
const { LatencyHistogram } = require('../../dist/lib/histogram');

describe('MetricsWriter', function () {
  it('writes cumulative histogram buckets in seconds with _sum and _count', function () {
    const h = new LatencyHistogram();
    h.record(0.0015); // 1.5 µs
    h.record(0.05); // 50 µs
    h.record(5); // 5 ms
    h.record(3600e3); // an hour: past the last bound
    const text = new MetricsWriter().histogram('x_seconds', 'help', [[{ endpoint: 'a"b' }, h]]).toString();
    const lines = text.trim().split('\n');
    assert.strictEqual(lines[0], '# HELP x_seconds help');
    assert.strictEqual(lines[1], '# TYPE x_seconds histogram');
    const buckets = lines.filter((l) => l.startsWith('x_seconds_bucket'));
    const parsed = buckets.map((l) => {
      const m = /le="([^"]+)"\} (\d+)$/.exec(l);
      return [m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])];
    });
    for (let i = 1; i < parsed.length; i++) {
      assert.ok(parsed[i][0] > parsed[i - 1][0], 'bounds increase');
      assert.ok(parsed[i][1] >= parsed[i - 1][1], 'counts are cumulative');
    }
    const at = (le) => parsed.find(([bound]) => bound === le)[1];
    assert.strictEqual(at(1e-6), 0);
    assert.strictEqual(at(2e-6), 1);
    assert.strictEqual(at(0.000064), 2);
    assert.strictEqual(at(0.008192), 3);
    assert.strictEqual(at(Infinity), 4);
    assert.ok(buckets[0].includes('endpoint="a\\"b"'), 'label value escaped');
    assert.ok(lines.includes('x_seconds_count{endpoint="a\\"b"} 4'));
    const sum = Number(lines.find((l) => l.startsWith('x_seconds_sum')).split(' ')[1]);
    assert.ok(Math.abs(sum - 3600.0050515) < 1e-6, String(sum));
  });

  it('writes counters and gauges, and leaves out families without samples', function () {
    const text = new MetricsWriter()
      .counter('a_total', 'A', [[{ transport: 'unix' }, 3], [{ transport: 'tcp' }, 0]])
      .gauge('b', 'B', [[undefined, 1.5]])
      .counter('c_total', 'C', [])
      .toString();
    assert.strictEqual(text, '# HELP a_total A\n# TYPE a_total counter\na_total{transport="unix"} 3\na_total{transport="tcp"} 0\n# HELP b B\n# TYPE b gauge\nb 1.5\n');
  });

  it('escapes backslash, quote and newline in label values', function () {
    assert.strictEqual(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  });
});
