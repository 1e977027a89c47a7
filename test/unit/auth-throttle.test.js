'use strict';
const assert = require('assert');
const { AuthThrottle } = require('../../dist/lib/auth-throttle');

/** One check, start to end: reserve its turn, then fail it; returns the wait it was given. */
function failOnce(t, key, now) {
  const wait = t.reserve(key, now);
  t.failed(key, now + wait);
  return wait;
}

describe('AuthThrottle', function () {
  it('lets the first failures through, then spaces checks with a doubling slot up to the cap', function () {
    const t = new AuthThrottle({ freeFailures: 3, baseDelayMs: 100, maxDelayMs: 800, forgetAfterMs: 60000 });
    const now = 1000000;
    assert.strictEqual(failOnce(t, 'uid:1', now), 0);
    assert.strictEqual(failOnce(t, 'uid:1', now), 0);
    assert.strictEqual(t.reserve('uid:1', now), 0);
    assert.strictEqual(t.failed('uid:1', now), true, 'the burst is reported once, when it starts');
    // The first throttled check runs now but holds its slot (200 ms) from the next.
    assert.strictEqual(failOnce(t, 'uid:1', now), 0);
    assert.strictEqual(t.failures('uid:1', now), 4);
    // Three checks at once: each is spaced as if the ones before it will fail too (slots of 400, 800, 800 capped).
    assert.strictEqual(t.reserve('uid:1', now), 200);
    assert.strictEqual(t.reserve('uid:1', now), 600);
    assert.strictEqual(t.reserve('uid:1', now), 1400);
    for (let i = 0; i < 3; i++) assert.strictEqual(t.failed('uid:1', now), false);
    assert.strictEqual(t.delayFor(t.failures('uid:1', now)), 800);
    // Other peers are not affected.
    assert.strictEqual(t.reserve('uid:2', now), 0);
  });

  it('parallel guesses gain nothing: the turns are per peer', function () {
    const t = new AuthThrottle({ freeFailures: 2, baseDelayMs: 100, maxDelayMs: 100000, forgetAfterMs: 60000 });
    const waits = [];
    for (let i = 0; i < 8; i++) waits.push(t.reserve('a', 0));
    assert.deepStrictEqual(waits, [0, 0, 0, 200, 600, 1400, 3000, 6200]);
    // A reservation whose connection went away still spent its turn, but no longer counts as a failure to come.
    for (let i = 0; i < 8; i++) t.released('a');
    assert.strictEqual(t.failures('a', 0), 0);
  });

  it('forgets a peer after a success or a quiet period', function () {
    const t = new AuthThrottle({ freeFailures: 1, baseDelayMs: 100, maxDelayMs: 800, forgetAfterMs: 1000 });
    failOnce(t, 'a', 0);
    failOnce(t, 'a', 0);
    assert.ok(t.reserve('a', 0) >= 0);
    t.succeeded('a');
    assert.strictEqual(t.reserve('a', 0), 0);
    failOnce(t, 'b', 0);
    failOnce(t, 'b', 0);
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
