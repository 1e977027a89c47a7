'use strict';
// client/outbox.ts: one write per tick, slices while responses are handled.
const assert = require('assert');
const { Outbox } = require('../../dist/client/outbox');

function fakeSocket() {
  const writes = [];
  return { writes, write(lines) { writes.push(lines); return true; } };
}

const tick = () => new Promise((resolve) => process.nextTick(resolve));

describe('client outbox', function () {
  it('lines added in one tick go out in one write on the next tick', async function () {
    const socket = fakeSocket();
    const outbox = new Outbox(() => 0);
    outbox.socket = socket;
    outbox.add('a\n');
    outbox.add('b\n');
    outbox.add('c\n');
    assert.deepStrictEqual(socket.writes, []);
    await tick();
    assert.deepStrictEqual(socket.writes, ['a\nb\nc\n']);
    outbox.add('d\n');
    await tick();
    assert.deepStrictEqual(socket.writes, ['a\nb\nc\n', 'd\n']);
  });

  it('while a chunk of responses is handled, writes slices of at least 4 lines, or a quarter of those in flight', function () {
    const socket = fakeSocket();
    let inFlight = 0;
    const outbox = new Outbox(() => inFlight);
    outbox.socket = socket;
    outbox.beginDelivery();
    for (let i = 0; i < 9; i++) outbox.add(i + '\n');
    assert.deepStrictEqual(socket.writes, ['0\n1\n2\n3\n', '4\n5\n6\n7\n']);
    outbox.endDelivery();
    assert.deepStrictEqual(socket.writes.pop(), '8\n', 'the rest goes out at the end of the chunk');
    socket.writes.length = 0;
    inFlight = 40;
    outbox.beginDelivery();
    for (let i = 0; i < 10; i++) outbox.add('x\n');
    assert.strictEqual(socket.writes.length, 1, 'a slice once 10 lines are a quarter of 40 in flight');
    assert.strictEqual(socket.writes[0], 'x\n'.repeat(10));
    outbox.endDelivery();
    assert.strictEqual(socket.writes.length, 1, 'nothing left to write');
  });

  it('take() empties it without writing; without a socket, lines are dropped at write time', async function () {
    const outbox = new Outbox(() => 0);
    outbox.add('kept\n');
    assert.strictEqual(outbox.take(), 'kept\n');
    assert.strictEqual(outbox.take(), '');
    outbox.add('lost\n');
    await tick();
    const socket = fakeSocket();
    outbox.socket = socket;
    outbox.write();
    assert.deepStrictEqual(socket.writes, [], 'nothing left from before the socket was set');
  });
});
