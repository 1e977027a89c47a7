'use strict';
// client/retry.ts: the default reconnect delays, and how a strategy's answer is read.
const assert = require('assert');
const { cappedDoubling, retryDelay } = require('../../dist/client/retry');

describe('client retry strategy', function () {
  it('doubles from the base up to the cap (top of the jitter range)', function () {
    const top = cappedDoubling(100, 1000, () => 1);
    assert.deepStrictEqual([1, 2, 3, 4, 5, 6, 50].map(top), [100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('draws each delay from the upper half of its nominal value', function () {
    const bottom = cappedDoubling(100, 1000, () => 0);
    assert.deepStrictEqual([1, 2, 3, 4, 5].map(bottom), [50, 100, 200, 400, 500]);
    const real = cappedDoubling(100, 1000);
    for (let attempt = 1; attempt < 8; attempt++) {
      const nominal = Math.min(1000, 100 * 2 ** (attempt - 1));
      for (let i = 0; i < 50; i++) {
        const d = real(attempt);
        assert.ok(d >= nominal / 2 && d <= nominal, `attempt ${attempt}: ${d}`);
      }
    }
  });

  it('a hundred clients do not all pick the same delay', function () {
    const delays = new Set();
    for (let i = 0; i < 100; i++) delays.add(Math.round(cappedDoubling(1000, 30000)(1)));
    assert.ok(delays.size > 50, `${delays.size} distinct delays`);
  });

  it('a cap below the base is the base; no cap means the base', function () {
    assert.strictEqual(cappedDoubling(100, 10, () => 1)(5), 100);
    assert.strictEqual(cappedDoubling(100, 0, () => 1)(5), 100);
  });

  it('huge attempt numbers stay finite', function () {
    assert.strictEqual(cappedDoubling(1, 2 ** 40, () => 1)(10000), 2 ** 30);
  });

  it('retryDelay: null, undefined, NaN and non-numbers stop; negatives mean at once', function () {
    assert.strictEqual(retryDelay(() => 25, 1), 25);
    assert.strictEqual(retryDelay(() => -5, 1), 0);
    for (const stop of [null, undefined, NaN, Infinity, '10', false]) assert.strictEqual(retryDelay(() => stop, 1), null, String(stop));
    const seen = [];
    retryDelay((attempt) => { seen.push(attempt); return 1; }, 7);
    assert.deepStrictEqual(seen, [7]);
  });
});
