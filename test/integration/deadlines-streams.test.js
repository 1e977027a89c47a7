'use strict';
// Deadlines, cancellation and streamed answers on the wire (issue 18), driven
// through a bare socket against the real server, so what is checked is the
// protocol itself; the clients' own support is tested with each client.
const assert = require('assert');
const net = require('net');
const { startServer, cleanupTempDirs } = require('../helpers/harness');
const { rawConnect, onLines } = require('../helpers/raw');
const { sleep, waitFor } = require('../helpers/wait');

describe('deadlines, cancellation and streams (wire)', function () {
  let h;
  /** What handlers saw, by request id. */
  const seen = new Map();
  const record = (request, what) => seen.set(String(request.ipcReqID), Object.assign(seen.get(String(request.ipcReqID)) || {}, what));

  before(async function () {
    h = await startServer({ max_output_buffer: 64 * 1024, exit_timeout: 300 });
    // Waits until aborted (or 20 s), recording when and why.
    h.ipc.addURIHandler('/wait', 'Wait', (request) => new Promise((resolve) => {
      record(request, { deadline: request.deadline, timeLeft: request.timeLeft(), started: Date.now() });
      const timer = setTimeout(() => resolve('finished'), 20000);
      request.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        record(request, { abortedAt: Date.now(), reason: request.signal.reason && request.signal.reason.code });
        // Answer anyway: the server must drop this late answer and count it.
        setTimeout(() => resolve('late'), 5);
      }, { once: true });
    }));
    h.ipc.addURIHandler('/count', 'Count', async function* (request) {
      const n = request.data.n;
      try {
        for (let i = 0; i < n; i++) yield { i, pad: request.data.pad || '' };
        return { total: n };
      } finally {
        record(request, { generatorDone: Date.now(), aborted: request.signal.aborted });
      }
    });
    h.ipc.addURIHandler('/writer', 'Writer', async (request) => {
      const stream = request.openStream();
      for (let i = 0; i < 3; i++) await stream.write(i);
      stream.end('done');
    });
    h.ipc.addURIHandler('/writer-fails', 'WriterFails', async (request) => {
      const stream = request.openStream();
      await stream.write('first');
      throw Object.assign(new Error('went wrong'), { code: 'my_code' });
    });
  });
  after(async function () { await h.stop(); cleanupTempDirs(); });
  beforeEach(function () { seen.clear(); });

  describe('deadlines', function () {
    it('answers deadline_exceeded when timeoutMs passes first, aborts the handler with that reason, and counts the late answer', async function () {
      const c = await rawConnect(h.socketPath);
      const lateBefore = h.ipc.getStats().totals.lateAnswers;
      const sent = Date.now();
      await c.write({ ipcReqID: 'd1', uri: '/wait', timeoutMs: 150 });
      const answer = await c.next(5000);
      const took = Date.now() - sent;
      assert.deepStrictEqual({ id: answer.ipcReqID, code: answer.code }, { id: 'd1', code: 'deadline_exceeded' });
      assert.ok(took >= 140, `answered after ${took} ms, before the deadline`);
      const rec = seen.get('d1');
      assert.strictEqual(rec.reason, 'deadline_exceeded');
      assert.ok(rec.deadline > sent - 1000 && rec.deadline <= sent + 1000, 'request.deadline is near now + timeoutMs');
      assert.ok(rec.timeLeft > 0 && rec.timeLeft <= 150, `timeLeft() was ${rec.timeLeft}`);
      await waitFor(() => h.ipc.getStats().totals.lateAnswers > lateBefore, 'the late answer to be counted', 2000);
      // Nothing more arrives for d1: the late answer was dropped.
      await c.write({ ipcReqID: 'after', uri: '/ipcserver/test/echo', data: 1 });
      assert.deepStrictEqual(await c.next(), { ipcReqID: 'after', data: 1 });
      c.destroy();
    });

    it('a request that answers in time is unaffected by its deadline; requests without one have none', async function () {
      const c = await rawConnect(h.socketPath);
      await c.write({ ipcReqID: 'e1', uri: '/ipcserver/test/echo', data: { x: 1 }, timeoutMs: 5000 });
      assert.deepStrictEqual(await c.next(), { ipcReqID: 'e1', data: { x: 1 } });
      await c.write({ ipcReqID: 'w0', uri: '/wait' });
      await waitFor(() => seen.get('w0'), 'the handler to start', 2000);
      assert.strictEqual(seen.get('w0').deadline, null);
      assert.strictEqual(seen.get('w0').timeLeft, Infinity);
      c.destroy();
    });

    it('refuses a timeoutMs that is not a positive number with bad_request', async function () {
      const c = await rawConnect(h.socketPath);
      for (const bad of [0, -5, 'soon', true]) {
        await c.write({ ipcReqID: 'b', uri: '/ipcserver/test/echo', timeoutMs: bad });
        const answer = await c.next();
        assert.strictEqual(answer.code, 'bad_request', `timeoutMs ${JSON.stringify(bad)}`);
      }
      c.destroy();
    });

    it('the built-in delay endpoint stops at the deadline', async function () {
      const c = await rawConnect(h.socketPath);
      await c.write({ ipcReqID: 'dl', uri: '/ipcserver/test/delay', data: { delay: 10000 }, timeoutMs: 100 });
      const answer = await c.next(3000);
      assert.strictEqual(answer.code, 'deadline_exceeded');
      c.destroy();
    });
  });

  describe('cancellation', function () {
    it('a cancel aborts the handler at once (reason cancelled) and the request is answered cancelled', async function () {
      const c = await rawConnect(h.socketPath);
      const before = h.ipc.getStats().totals.cancelled;
      await c.write({ ipcReqID: 'c1', uri: '/wait' });
      await waitFor(() => seen.get('c1'), 'the handler to start', 2000);
      const cancelAt = Date.now();
      await c.write({ uri: '/ipcserver/cancel', data: { ipcReqID: 'c1' }, noReply: true });
      const answer = await c.next(3000);
      assert.deepStrictEqual({ id: answer.ipcReqID, code: answer.code }, { id: 'c1', code: 'cancelled' });
      const rec = seen.get('c1');
      assert.strictEqual(rec.reason, 'cancelled');
      const lag = rec.abortedAt - cancelAt;
      assert.ok(lag < 250, `the handler saw the abort ${lag} ms after the cancel was sent`);
      assert.strictEqual(h.ipc.getStats().totals.cancelled, before + 1);
      c.destroy();
    });

    it('a cancel for an unknown or finished id changes nothing, and answers {cancelled:false} when asked', async function () {
      const c = await rawConnect(h.socketPath);
      await c.write({ ipcReqID: 'x1', uri: '/ipcserver/cancel', data: { ipcReqID: 'nope' } });
      assert.deepStrictEqual(await c.next(), { ipcReqID: 'x1', data: { cancelled: false } });
      await c.write({ ipcReqID: 'x2', uri: '/ipcserver/cancel', data: {} });
      assert.strictEqual((await c.next()).code, 'bad_request');
      c.destroy();
    });

    it('cancels only on the connection that sent the request', async function () {
      const a = await rawConnect(h.socketPath);
      const b = await rawConnect(h.socketPath);
      await a.write({ ipcReqID: 'same', uri: '/ipcserver/test/delay', data: { delay: 300 } });
      await b.write({ ipcReqID: 'c', uri: '/ipcserver/cancel', data: { ipcReqID: 'same' } });
      assert.deepStrictEqual(await b.next(), { ipcReqID: 'c', data: { cancelled: false } });
      assert.deepStrictEqual(await a.next(3000), { ipcReqID: 'same', data: { delay: 300 } });
      a.destroy();
      b.destroy();
    });

    it('disconnecting aborts every running handler of that connection (reason disconnected)', async function () {
      const c = await rawConnect(h.socketPath);
      for (const id of ['g1', 'g2', 'g3']) await c.write({ ipcReqID: id, uri: '/wait' });
      await waitFor(() => seen.size === 3, 'three handlers to start', 2000);
      const droppedBefore = h.ipc.getStats().totals.droppedResponses;
      c.destroy();
      await waitFor(() => ['g1', 'g2', 'g3'].every((id) => seen.get(id).reason), 'every handler to be aborted', 2000);
      for (const id of ['g1', 'g2', 'g3']) assert.strictEqual(seen.get(id).reason, 'disconnected');
      assert.strictEqual(h.ipc.getStats().totals.droppedResponses, droppedBefore + 3);
      await waitFor(() => h.ipc.getConnections().length === 0, 'the connection to be released', 2000);
    });

    it('a client that only half-closes (ends its side, still reads) keeps its running requests', async function () {
      const socket = net.connect(h.socketPath);
      await new Promise((resolve) => socket.once('connect', resolve));
      let received = '';
      socket.on('data', (chunk) => { received += chunk; });
      socket.end(JSON.stringify({ ipcReqID: 'h1', uri: '/ipcserver/test/delay', data: { delay: 100 } }) + '\n');
      await new Promise((resolve) => socket.once('close', resolve));
      assert.deepStrictEqual(JSON.parse(received), { ipcReqID: 'h1', data: { delay: 100 } });
    });
  });

  describe('streamed answers', function () {
    it('sends each yielded value as a part, in order, then the final answer', async function () {
      const c = await rawConnect(h.socketPath);
      await c.write({ ipcReqID: 's1', uri: '/count', data: { n: 5 }, stream: true });
      const lines = await c.take(6);
      assert.deepStrictEqual(lines.slice(0, 5).map((l) => [l.ipcReqID, l.part.i]), [['s1', 0], ['s1', 1], ['s1', 2], ['s1', 3], ['s1', 4]]);
      assert.deepStrictEqual(lines[5], { ipcReqID: 's1', data: { total: 5 } });
      c.destroy();
    });

    it('collects the parts into one ordinary answer for a caller that did not ask for a stream (original clients)', async function () {
      const c = await rawConnect(h.socketPath);
      await c.write({ ipcReqID: 's2', uri: '/count', data: { n: 3 } });
      assert.deepStrictEqual(await c.next(), { ipcReqID: 's2', data: [{ i: 0, pad: '' }, { i: 1, pad: '' }, { i: 2, pad: '' }] });
      await c.write({ ipcReqID: 's3', uri: '/writer' });
      assert.deepStrictEqual(await c.next(), { ipcReqID: 's3', data: [0, 1, 2] });
      c.destroy();
    });

    it('refuses a collected answer that outgrows max_output_buffer with message_too_large, and stops the generator', async function () {
      const c = await rawConnect(h.socketPath);
      await c.write({ ipcReqID: 'big', uri: '/count', data: { n: 1000, pad: 'x'.repeat(1000) } });
      const answer = await c.next(5000);
      assert.strictEqual(answer.code, 'message_too_large');
      await waitFor(() => seen.get('big') && seen.get('big').generatorDone, 'the generator to stop', 2000);
      c.destroy();
    });

    it('the writer API: write, end; an error after parts ends the stream with that code', async function () {
      const c = await rawConnect(h.socketPath);
      await c.write({ ipcReqID: 'w1', uri: '/writer', stream: true });
      assert.deepStrictEqual(await c.take(4), [
        { ipcReqID: 'w1', part: 0 }, { ipcReqID: 'w1', part: 1 }, { ipcReqID: 'w1', part: 2 }, { ipcReqID: 'w1', data: 'done' },
      ]);
      await c.write({ ipcReqID: 'w2', uri: '/writer-fails', stream: true });
      const [part, end] = await c.take(2);
      assert.deepStrictEqual(part, { ipcReqID: 'w2', part: 'first' });
      assert.deepStrictEqual({ id: end.ipcReqID, code: end.code, message: end.message }, { id: 'w2', code: 'my_code', message: 'went wrong' });
      c.destroy();
    });

    it('cancelling a stream stops its generator (its finally runs) and ends it with cancelled', async function () {
      const c = await rawConnect(h.socketPath);
      // A reader that does not read: the generator blocks on backpressure.
      await c.write({ ipcReqID: 'sc', uri: '/count', data: { n: 1e9, pad: 'y'.repeat(100) }, stream: true });
      await c.next(3000);
      await c.write({ uri: '/ipcserver/cancel', data: { ipcReqID: 'sc' }, noReply: true });
      await waitFor(() => seen.get('sc') && seen.get('sc').generatorDone, 'the generator to stop', 3000);
      assert.strictEqual(seen.get('sc').aborted, true);
      // Drain: the last line for sc is the cancelled answer, after which only new answers come.
      let last;
      do { last = await c.next(3000); } while (last.part !== undefined);
      assert.deepStrictEqual({ id: last.ipcReqID, code: last.code }, { id: 'sc', code: 'cancelled' });
      c.destroy();
    });

    it('100,000 parts to a slow reader: every part in order, the server holding no more than max_output_buffer plus a small constant', async function () {
      this.timeout(60000);
      const total = 100000;
      const limit = 64 * 1024;
      const socket = net.connect(h.socketPath);
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.pause();
      socket.write(JSON.stringify({ ipcReqID: 'slow', uri: '/count', data: { n: total, pad: 'z'.repeat(50) }, stream: true }) + '\n');
      let maxQueued = 0;
      const watch = setInterval(() => {
        for (const conn of h.ipc.getConnections()) maxQueued = Math.max(maxQueued, conn.toJSON().queuedOutputBytes);
      }, 2);
      let expected = 0;
      let final = null;
      let outOfOrder = null;
      await new Promise((resolve, reject) => {
        onLines(socket, (message) => {
          if (message.part !== undefined) {
            if (message.part.i !== expected && outOfOrder === null) outOfOrder = `part ${message.part.i} where ${expected} was expected`;
            expected++;
          } else {
            final = message;
            resolve();
          }
        });
        socket.on('error', reject);
        // Read slowly: a little now and then, so the server waits on backpressure for most of the run.
        (async () => {
          for (let i = 0; i < 20 && !final; i++) {
            await sleep(20);
            socket.resume();
            await sleep(2);
            socket.pause();
          }
          socket.resume();
        })();
      });
      clearInterval(watch);
      socket.destroy();
      assert.strictEqual(outOfOrder, null);
      assert.strictEqual(expected, total);
      assert.deepStrictEqual(final, { ipcReqID: 'slow', data: { total } });
      // One batch of parts queued past the limit at most (the writer waits once it is over).
      const bound = 2 * limit + 16 * 1024;
      console.log(`      server-side queue peaked at ${maxQueued} bytes (max_output_buffer ${limit}, bound checked ${bound})`);
      assert.ok(maxQueued <= bound, `queued output peaked at ${maxQueued} bytes`);
    });
  });

  it('at shutdown, requests still running when exit_timeout ends are aborted (reason shutting_down) and answered interrupted, not cut off', async function () {
    const own = await startServer({ exit_timeout: 200 });
    let reason = null;
    own.ipc.addURIHandler('/forever', 'Forever', (request) => new Promise(() => {
      request.signal.addEventListener('abort', () => { reason = request.signal.reason.code; });
    }));
    const c = await rawConnect(own.socketPath);
    await c.write({ ipcReqID: 'f', uri: '/forever' });
    await sleep(50);
    const stopping = own.stop();
    assert.deepStrictEqual(await c.next(3000), { uri: '/ipcserver/goaway', data: { reason: 'shutdown' } });
    const answer = await c.next(3000);
    await stopping;
    assert.deepStrictEqual({ id: answer.ipcReqID, code: answer.code }, { id: 'f', code: 'interrupted' });
    assert.strictEqual(reason, 'shutting_down');
  });
});
