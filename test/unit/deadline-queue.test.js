'use strict';
const assert = require('assert');
const { DeadlineQueue } = require('../../dist/lib/deadline-queue');
const { sleep } = require('../helpers/wait');

/** A stand-in for a Call: what the queue reads and writes. */
function call(name, receivedAt = Date.now()) {
  return { name, receivedAt, deadline: 0, timeoutKey: 0, settled: false };
}

describe('DeadlineQueue', function () {
  it('expires only the calls not answered by their deadline, in order', async function () {
    const expired = [];
    const queue = new DeadlineQueue((c) => { expired.push(c.name); c.settled = true; queue.settled(c); });
    const a = call('a');
    const b = call('b');
    const c = call('c');
    for (const x of [a, b, c]) queue.add(x, 40);
    b.settled = true;
    queue.settled(b);
    await sleep(120);
    assert.deepStrictEqual(expired, ['a', 'c']);
  });

  it('lets go of answered calls at the front at once (nothing is held until the deadline)', function () {
    const queue = new DeadlineQueue(() => assert.fail('nothing should expire'));
    const calls = Array.from({ length: 5000 }, (_, i) => call(i));
    for (const x of calls) queue.add(x, 60000);
    for (const x of calls) { x.settled = true; queue.settled(x); }
    const inner = queue.queues.get(60000);
    assert.strictEqual(inner.size, 0);
    queue.clear();
  });

  it('keeps one queue per timeout value, each with its own timer', async function () {
    const expired = [];
    const queue = new DeadlineQueue((c) => { expired.push(c.name); c.settled = true; queue.settled(c); });
    queue.add(call('long'), 150);
    queue.add(call('short'), 20);
    queue.add(call('short2'), 20);
    await sleep(80);
    assert.deepStrictEqual(expired, ['short', 'short2']);
    await sleep(150);
    assert.deepStrictEqual(expired, ['short', 'short2', 'long']);
    assert.strictEqual(queue.queues.size, 0, 'empty queues are dropped');
  });

  it('re-arms for the next head when the first one was answered', async function () {
    const expired = [];
    const queue = new DeadlineQueue((c) => { expired.push(c.name); c.settled = true; queue.settled(c); });
    const first = call('first');
    queue.add(first, 30);
    await sleep(15);
    const second = call('second');
    queue.add(second, 30);
    first.settled = true;
    queue.settled(first);
    await sleep(25);
    assert.deepStrictEqual(expired, []);
    await sleep(40);
    assert.deepStrictEqual(expired, ['second']);
  });
});

describe('DeadlineQueue memory', function () {
  it('does not keep answered calls behind one long-running call at the front', function () {
    const queue = new DeadlineQueue(() => {});
    const slow = call('slow');
    queue.add(slow, 60000);
    for (let i = 0; i < 100000; i++) {
      const fast = call(i);
      queue.add(fast, 60000);
      fast.settled = true;
      queue.settled(fast);
    }
    const inner = queue.queues.get(60000);
    assert.ok(inner.calls.length - inner.head < 5000, `${inner.calls.length - inner.head} calls held`);
    assert.strictEqual(inner.peek(), slow);
    queue.clear();
  });

  it('keeps no queue nor timer for a timeout whose calls were all answered: 20,000 distinct timeouts leave at most one', function () {
    const queue = new DeadlineQueue(() => assert.fail('nothing should expire'));
    let most = 0;
    for (let i = 0; i < 20000; i++) {
      const fast = call(i);
      queue.add(fast, 1e9 + i);
      fast.settled = true;
      queue.settled(fast);
      most = Math.max(most, queue.queueCount);
    }
    console.log(`      at most ${most} queues (and armed timers) at once for 20,000 distinct timeouts answered at once`);
    assert.ok(most <= 2, `${most} queues at once`);
    assert.ok(queue.queueCount <= 1, `${queue.queueCount} queues left`);
    queue.clear();
  });

  it('holds at most one queue per waiting call plus one, with answers in any order', function () {
    const queue = new DeadlineQueue(() => {});
    const waiting = [];
    for (let i = 0; i < 2000; i++) {
      const c = call(i);
      queue.add(c, 1e9 + (i % 700));
      waiting.push(c);
      if (i % 3 === 0) {
        const done = waiting.splice((i * 7919) % waiting.length, 1)[0];
        done.settled = true;
        queue.settled(done);
      }
      const distinctWaiting = new Set(waiting.map((w) => w.timeoutKey)).size;
      assert.ok(queue.queueCount <= distinctWaiting + 1, `${queue.queueCount} queues for ${distinctWaiting} waiting timeouts`);
    }
    for (const c of waiting) { c.settled = true; queue.settled(c); }
    assert.ok(queue.queueCount <= 1);
    queue.clear();
  });
});
