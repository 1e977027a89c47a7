'use strict';
// client/pending.ts: the requests waiting for answers, and their deadlines (one timer).
const assert = require('assert');
const { PendingTable, PendingRequest } = require('../../dist/client/pending');
const { sleep, waitFor } = require('../helpers/wait');

function table(rememberMs = 300) {
  const expired = [];
  const t = new PendingTable((list) => expired.push(...list.map((e) => e.id)), () => rememberMs);
  return { t, expired };
}

describe('client pending table', function () {
  it('expires in deadline order with one timer and remembers expired ids for a while', async function () {
    const { t, expired } = table();
    const now = Date.now();
    t.add(new PendingRequest('a', 0, '/a', now + 20));
    t.add(new PendingRequest('b', 1, '/b', now + 30));
    t.add(new PendingRequest('c', 2, '/c', now + 5000));
    assert.strictEqual(t.size, 3);
    assert.strictEqual(t.take('b').uri, '/b');
    assert.strictEqual(t.take('b'), undefined);
    assert.strictEqual(t.oldestSeq(), 0);
    await waitFor(() => expired.length === 1, 'the first deadline');
    assert.deepStrictEqual(expired, ['a']);
    assert.strictEqual(t.oldestSeq(), 2);
    assert.strictEqual(t.takeExpired('a'), true);
    assert.strictEqual(t.takeExpired('a'), false, 'remembered once');
    assert.strictEqual(t.takeExpired('zzz'), false);
    assert.deepStrictEqual(t.removeWhere(() => true).map((e) => e.id), ['c']);
    t.stop();
    assert.strictEqual(t.size, 0);
  });

  it('a request with a shorter deadline than earlier ones expires on time, not behind them', async function () {
    const { t, expired } = table();
    const now = Date.now();
    t.add(new PendingRequest('rq0', 0, '/long', now + 5000));
    t.add(new PendingRequest('rq1', 1, '/short', now + 30));
    t.add(new PendingRequest('rq2', 2, '/shorter', now + 10));
    t.add(new PendingRequest('rq3', 3, '/never', Infinity));
    await waitFor(() => expired.length === 2, 'the two short deadlines', 3000);
    assert.deepStrictEqual(expired, ['rq2', 'rq1']);
    assert.strictEqual(t.size, 2);
    assert.strictEqual(t.oldestSeq(), 0);
    t.stop();
  });

  it('with no timeout (Infinity) at the head, later finite deadlines still expire', async function () {
    const { t, expired } = table();
    t.add(new PendingRequest('rq0', 0, '/forever', Infinity));
    t.add(new PendingRequest('rq1', 1, '/soon', Date.now() + 15));
    await waitFor(() => expired.length === 1, 'the finite deadline');
    assert.deepStrictEqual(expired, ['rq1']);
    assert.strictEqual(t.take('rq0').uri, '/forever');
    t.stop();
  });

  it('an out-of-order request answered before its deadline is not expired', async function () {
    const { t, expired } = table();
    const now = Date.now();
    t.add(new PendingRequest('rq0', 0, '/long', now + 200));
    t.add(new PendingRequest('rq1', 1, '/short', now + 20));
    assert.strictEqual(t.take('rq1').uri, '/short');
    await waitFor(() => expired.length === 1, 'the long deadline');
    assert.deepStrictEqual(expired, ['rq0']);
    t.stop();
  });

  it('a short deadline after the table emptied expires on time, though the timer was armed for a longer one', async function () {
    const { t, expired } = table();
    t.add(new PendingRequest('rq0', 0, '/long', Date.now() + 5000));
    t.take('rq0');
    t.add(new PendingRequest('rq1', 1, '/short', Date.now() + 20));
    await waitFor(() => expired.length === 1, 'the short deadline', 2000);
    assert.deepStrictEqual(expired, ['rq1']);
    t.stop();
  });

  it('rememberAbandoned: an answer to a cancelled request is recognised once', function () {
    const { t } = table();
    const entry = new PendingRequest('rq9', 0, '/x', Infinity);
    t.add(entry);
    assert.strictEqual(t.isWaiting(entry), true);
    t.take('rq9');
    assert.strictEqual(t.isWaiting(entry), false);
    t.rememberAbandoned('rq9');
    assert.strictEqual(t.takeExpired('rq9'), true);
    assert.strictEqual(t.takeExpired('rq9'), false);
    t.stop();
  });

  it('finds every request among thousands, numbered or not, and in-order removal keeps the table small', function () {
    const { t } = table();
    const ids = [];
    for (let i = 0; i < 5000; i++) ids.push(i % 7 === 0 ? 'custom-' + i : 'rq' + i);
    ids.forEach((id, i) => t.add(new PendingRequest(id, i, '/u', Infinity)));
    assert.strictEqual(t.size, 5000);
    for (let i = 4999; i >= 0; i -= 2) assert.strictEqual(t.take(ids[i]).seq, i);
    assert.strictEqual(t.size, 2500);
    assert.strictEqual(t.oldestSeq(), 0);
    for (let i = 0; i < 5000; i += 2) assert.strictEqual(t.take(ids[i]).seq, i);
    assert.strictEqual(t.size, 0);
    assert.strictEqual(t.oldestSeq(), Infinity);
    t.stop();
  });

  it('forgets expired ids after rememberMs', async function () {
    const { t, expired } = table(20);
    t.add(new PendingRequest('rq0', 0, '/a', Date.now() + 5));
    await waitFor(() => expired.length === 1, 'expiry');
    await sleep(40);
    t.add(new PendingRequest('rq1', 1, '/b', Date.now() + 5));
    await waitFor(() => expired.length === 2, 'second expiry');
    assert.strictEqual(t.takeExpired('rq0'), false, 'forgotten');
    t.stop();
  });
});
