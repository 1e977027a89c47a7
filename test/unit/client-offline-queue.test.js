'use strict';
// client/offline-queue.ts: what waits for a connection, in order.
const assert = require('assert');
const { OfflineQueue } = require('../../dist/client/offline-queue');
const { PendingRequest } = require('../../dist/client/pending');

describe('client offline queue', function () {
  it('keeps messages in order and hands them all over once', function () {
    const q = new OfflineQueue();
    const a = new PendingRequest('rq0', 0, '/a', Infinity);
    q.push(0, 'line a\n', a);
    q.push(1, 'notify\n', null);
    assert.strictEqual(q.length, 2);
    assert.deepStrictEqual(q.takeAll().map((m) => m.line), ['line a\n', 'notify\n']);
    assert.strictEqual(q.length, 0);
    assert.deepStrictEqual(q.takeAll(), []);
  });

  it('isFull only with a positive limit', function () {
    const q = new OfflineQueue();
    assert.strictEqual(q.isFull(0), false);
    q.push(0, 'x\n', null);
    q.push(1, 'y\n', null);
    assert.strictEqual(q.isFull(0), false, '0 means no bound');
    assert.strictEqual(q.isFull(2), true);
    assert.strictEqual(q.isFull(3), false);
  });

  it('oldestSeq skips settled requests; dropSettled forgets them but keeps notifies', function () {
    const q = new OfflineQueue();
    const a = new PendingRequest('rq0', 5, '/a', Infinity);
    const b = new PendingRequest('rq1', 6, '/b', Infinity);
    q.push(5, 'a\n', a);
    q.push(6, 'b\n', b);
    q.push(7, 'n\n', null);
    assert.strictEqual(q.oldestSeq(), 5);
    a.done = true;
    assert.strictEqual(q.oldestSeq(), 6);
    b.done = true;
    assert.strictEqual(q.oldestSeq(), 7);
    q.dropSettled();
    assert.deepStrictEqual(q.takeAll().map((m) => m.seq), [7]);
    assert.strictEqual(q.oldestSeq(), Infinity);
  });
});
