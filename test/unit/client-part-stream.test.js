'use strict';
// client/part-stream.ts: the consumer's side of a streamed answer.
const assert = require('assert');
const { PartStream } = require('../../dist/client/part-stream');

function control() {
  const c = { holds: 0, releases: 0, cancels: 0 };
  c.cancel = () => c.cancels++;
  c.hold = () => c.holds++;
  c.release = () => c.releases++;
  return c;
}

describe('client part stream', function () {
  it('hands parts over in order, buffered or awaited, then ends with the final data', async function () {
    const c = control();
    const s = new PartStream(10, c);
    s.push('a');
    s.push('b');
    assert.strictEqual(s.buffered, 2);
    const got = [];
    const reading = (async () => { for await (const part of s) got.push(part); })();
    await new Promise((resolve) => setImmediate(resolve));
    s.push('c');
    s.end({ total: 3 });
    await reading;
    assert.deepStrictEqual(got, ['a', 'b', 'c']);
    assert.deepStrictEqual(s.result, { total: 3 });
    assert.strictEqual(s.partsSeen, 3);
    assert.strictEqual(c.cancels, 0, 'a finished stream is not cancelled');
  });

  it('holds the connection once the waiting parts pass maxBytes, whatever their count, and releases it at half', async function () {
    const c = control();
    const s = new PartStream(256, c, 1000);
    s.push('a', 400);
    s.push('b', 400);
    assert.strictEqual(c.holds, 0);
    s.push('c', 400);
    assert.strictEqual(c.holds, 1, 'three parts, 1,200 bytes');
    assert.strictEqual(s.bufferedBytes, 1200);
    await s.next();
    assert.strictEqual(c.releases, 0, '800 bytes still wait');
    await s.next();
    assert.strictEqual(c.releases, 1, '400 bytes: under half');
    assert.strictEqual(s.bufferedBytes, 400);
  });

  it('holds the connection at highWaterMark and releases it at half', async function () {
    const c = control();
    const s = new PartStream(4, c);
    for (let i = 0; i < 4; i++) s.push(i);
    assert.strictEqual(c.holds, 1);
    s.push(4); // a line already read when the hold began
    assert.strictEqual(c.holds, 1, 'held once');
    await s.next();
    await s.next();
    assert.strictEqual(c.releases, 0, '3 still buffered');
    await s.next();
    assert.strictEqual(c.releases, 1, 'released at 2 (half of 4)');
  });

  it('an error is delivered after the parts buffered before it, then the stream is done', async function () {
    const s = new PartStream(10, control());
    s.push(1);
    s.fail(new Error('boom'));
    assert.deepStrictEqual(await s.next(), { value: 1, done: false });
    await assert.rejects(s.next(), /boom/);
    assert.deepStrictEqual(await s.next(), { value: undefined, done: true });
  });

  it('a waiting next() gets the error at once', async function () {
    const s = new PartStream(10, control());
    const waiting = s.next();
    s.fail(new Error('late'));
    await assert.rejects(waiting, /late/);
  });

  it('return() before the end cancels once, drops the buffer, releases a hold and ends a waiting next()', async function () {
    const c = control();
    const s = new PartStream(2, c);
    s.push(1);
    s.push(2);
    assert.strictEqual(c.holds, 1);
    assert.deepStrictEqual(await s.return(), { value: undefined, done: true });
    assert.strictEqual(c.cancels, 1);
    assert.strictEqual(c.releases, 1);
    assert.strictEqual(s.buffered, 0);
    await s.return();
    assert.strictEqual(c.cancels, 1, 'once');
    s.push(3);
    assert.deepStrictEqual(await s.next(), { value: undefined, done: true });
    const c2 = control();
    const s2 = new PartStream(2, c2);
    const waiting = s2.next();
    await s2.return();
    assert.deepStrictEqual(await waiting, { value: undefined, done: true });
    assert.strictEqual(c2.cancels, 1);
  });

  it('break in for await cancels; return() after the end does not', async function () {
    const c = control();
    const s = new PartStream(10, c);
    s.push(1);
    s.push(2);
    for await (const part of s) if (part === 1) break;
    assert.strictEqual(c.cancels, 1);
    const c2 = control();
    const s2 = new PartStream(10, c2);
    s2.end('done');
    for await (const part of s2) assert.fail(part);
    await s2.return();
    assert.strictEqual(c2.cancels, 0);
  });

  it('several next() calls at once are answered in order', async function () {
    const s = new PartStream(10, control());
    const first = s.next();
    const second = s.next();
    const third = s.next();
    s.push('x');
    s.push('y');
    s.end('r');
    assert.deepStrictEqual(await Promise.all([first, second, third]), [
      { value: 'x', done: false }, { value: 'y', done: false }, { value: 'r', done: true },
    ]);
  });
});
