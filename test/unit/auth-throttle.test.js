'use strict';
const assert = require('assert');
const { AuthThrottle } = require('../../dist/lib/auth-throttle');

describe('AuthThrottle', function () {
  it('lets the first failures through, then spaces checks with a doubling slot up to the cap', function () {
    const t = new AuthThrottle({ freeFailures: 3, baseDelayMs: 100, maxDelayMs: 800, forgetAfterMs: 60000 });
    const now = 1000000;
    assert.strictEqual(t.reserve('uid:1', now), 0);
    assert.strictEqual(t.failed('uid:1', now), false);
    assert.strictEqual(t.failed('uid:1', now), false);
    assert.strictEqual(t.failed('uid:1', now), true, 'the burst is reported once, when it starts');
    assert.strictEqual(t.failed('uid:1', now), false);
    // 4 failures: slot 200 ms. Two checks at once: the second waits for the first's slot.
    assert.strictEqual(t.reserve('uid:1', now), 0);
    assert.strictEqual(t.reserve('uid:1', now), 200);
    assert.strictEqual(t.reserve('uid:1', now), 400);
    for (let i = 0; i < 10; i++) t.failed('uid:1', now);
    assert.strictEqual(t.delayFor(t.failures('uid:1', now)), 800);
    // Other peers are not affected.
    assert.strictEqual(t.reserve('uid:2', now), 0);
  });

  it('forgets a peer after a success or a quiet period', function () {
    const t = new AuthThrottle({ freeFailures: 1, baseDelayMs: 100, maxDelayMs: 800, forgetAfterMs: 1000 });
    t.failed('a', 0);
    t.failed('a', 0);
    assert.ok(t.reserve('a', 0) >= 0);
    assert.ok(t.reserve('a', 0) > 0);
    t.succeeded('a');
    assert.strictEqual(t.reserve('a', 0), 0);
    t.failed('b', 0);
    t.failed('b', 0);
    assert.strictEqual(t.failures('b', 500), 2);
    assert.strictEqual(t.failures('b', 5000), 0);
  });
});

describe('AuthThrottle off', function () {
  it('never delays or reports when freeFailures is 0', function () {
    const t = new AuthThrottle({ freeFailures: 0 });
    for (let i = 0; i < 100; i++) assert.strictEqual(t.failed('a', 0), false);
    assert.strictEqual(t.reserve('a', 0), 0);
  });
});
