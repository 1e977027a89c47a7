'use strict';
// Deadlines, cancellation and streamed answers between the real Node client
// and a real pixl-ipc server (issue 18): what a handler sees when the client
// gives up, and streams with flow control from end to end.
const assert = require('assert');
const { startServer, cleanupTempDirs } = require('../helpers/harness');
const { sleep, waitFor } = require('../helpers/wait');
const IPCClient = require('pixl-ipc/client');

describe('client and server: deadlines, cancellation, streams', function () {
  let h;
  /** What handlers saw, by the request's data.tag. */
  const seen = new Map();
  before(async function () {
    h = await startServer({ max_output_buffer: 256 * 1024 });
    // Waits until its signal aborts (or 10 s), and records when and why.
    h.ipc.addURIHandler('/live/wait', 'wait', (request) => new Promise((resolve) => {
      const record = { startedAt: Date.now(), deadline: request.deadline, timeLeft: request.timeLeft(), abortedAt: null, reason: null };
      seen.set(request.data.tag, record);
      const timer = setTimeout(() => resolve('waited'), 10000);
      request.signal.addEventListener('abort', () => {
        record.abortedAt = Date.now();
        record.reason = request.signal.reason && request.signal.reason.code;
        clearTimeout(timer);
        resolve('too late');
      });
    }));
    h.ipc.addURIHandler('/live/count', 'count', async function* (request) {
      const record = { produced: 0, finished: false, closed: false };
      seen.set(request.data.tag, record);
      try {
        for (let i = 0; i < request.data.n; i++) {
          record.produced++;
          yield request.data.pad ? { i, pad: request.data.pad } : i;
        }
        record.finished = true;
        return { total: request.data.n };
      } finally {
        record.closed = true;
      }
    });
  });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('aborting a send aborts the handler\'s signal promptly (reason cancelled)', async function () {
    const client = new IPCClient(h.socketPath);
    await client.connect();
    const controller = new AbortController();
    const sent = client.send('/live/wait', { tag: 'cancel' }, { signal: controller.signal });
    await waitFor(() => seen.has('cancel'), 'the handler to start');
    const abortedAt = Date.now();
    controller.abort();
    await assert.rejects(sent, { name: 'AbortError' });
    await waitFor(() => seen.get('cancel').abortedAt !== null, 'the handler to see the abort');
    const record = seen.get('cancel');
    assert.strictEqual(record.reason, 'cancelled');
    const lag = record.abortedAt - abortedAt;
    console.log(`      handler saw the abort ${lag} ms after the client's abort`);
    assert.ok(lag < 1000, `${lag} ms`);
    await waitFor(() => client.getStats().lateResponses === 1, 'the cancelled answer, dropped');
    assert.strictEqual(client.getStats().unknownResponses, 0);
    await client.close();
  });

  it('a timeout travels as the handler\'s deadline; past it the handler is aborted with deadline_exceeded', async function () {
    const client = new IPCClient(h.socketPath, null, { requestTimeout: 10000 });
    await client.connect();
    const started = Date.now();
    // Whichever side sees the deadline first (the server's answer, or the client's timer), the caller gets request_timeout.
    await assert.rejects(client.send('/live/wait', { tag: 'deadline' }, { timeout: 150 }), { code: 'request_timeout' });
    await waitFor(() => seen.get('deadline').abortedAt !== null, 'the deadline to abort the handler');
    const record = seen.get('deadline');
    assert.strictEqual(record.reason, 'deadline_exceeded');
    assert.ok(record.timeLeft > 0 && record.timeLeft <= 150, `timeLeft ${record.timeLeft}`);
    assert.ok(record.abortedAt - started >= 140, 'not before the deadline');
    const stats = client.getStats();
    assert.strictEqual(stats.timeouts, 1);
    assert.strictEqual(stats.errors, 0);
    await client.close();
  });

  it('closing the client aborts every running handler of its connection (reason disconnected)', async function () {
    const client = new IPCClient(h.socketPath);
    await client.connect();
    const tags = ['d1', 'd2', 'd3'];
    const sends = tags.map((tag) => client.send('/live/wait', { tag }).catch((err) => err.code));
    await waitFor(() => tags.every((t) => seen.has(t)), 'the handlers to start');
    await client.close();
    assert.deepStrictEqual(await Promise.all(sends), ['client_closed', 'client_closed', 'client_closed']);
    await waitFor(() => tags.every((t) => seen.get(t).abortedAt !== null), 'every handler to be aborted');
    assert.deepStrictEqual(tags.map((t) => seen.get(t).reason), ['disconnected', 'disconnected', 'disconnected']);
  });

  it('the built-in delay endpoint stops when its request is cancelled', async function () {
    const client = new IPCClient(h.socketPath);
    await client.connect();
    const controller = new AbortController();
    const sent = client.send('/ipcserver/test/delay', { delay: 5000 }, { signal: controller.signal });
    await sleep(30);
    controller.abort();
    await assert.rejects(sent, { name: 'AbortError' });
    await waitFor(() => client.getStats().lateResponses === 1, 'the server to answer cancelled at once');
    await client.close();
  });

  it('a streamed answer arrives part by part, in order, with the handler\'s return value as result', async function () {
    const client = new IPCClient(h.socketPath);
    await client.connect();
    const stream = client.stream('/live/count', { tag: 's1', n: 1000 });
    let expected = 0;
    for await (const part of stream) assert.strictEqual(part, expected++);
    assert.strictEqual(expected, 1000);
    assert.deepStrictEqual(stream.result, { total: 1000 });
    assert.strictEqual(client.getStats().parts, 1000);
    await client.close();
  });

  it('a plain send to a streaming handler gets the parts as one array', async function () {
    const client = new IPCClient(h.socketPath);
    await client.connect();
    assert.deepStrictEqual(await client.send('/live/count', { tag: 's2', n: 5 }), [0, 1, 2, 3, 4]);
    await client.close();
  });

  it('breaking out of the loop stops the handler (its generator is closed)', async function () {
    const client = new IPCClient(h.socketPath);
    await client.connect();
    for await (const part of client.stream('/live/count', { tag: 's3', n: 1e9 })) if (part === 20) break;
    await waitFor(() => seen.get('s3').closed, 'the handler\'s finally block');
    const record = seen.get('s3');
    assert.strictEqual(record.finished, false);
    assert.ok(record.produced < 1e6, `${record.produced} parts produced`);
    await sleep(50);
    assert.strictEqual(client.getStats().unknownResponses, 0);
    assert.strictEqual(await client.send('/ipcserver/test/echo', 'after'), 'after');
    await client.close();
  });

  it('100,000 parts to a slow reader: the server stays within max_output_buffer, the handler waits, every part arrives in order', async function () {
    this.timeout(120000);
    const client = new IPCClient(h.socketPath, null, { requestTimeout: 0, userAgent: 'slow-reader' });
    await client.connect();
    const total = 100000;
    const stream = client.stream('/live/count', { tag: 'slow', n: total, pad: 'p'.repeat(200) }, { highWaterMark: 32 });
    let expected = 0;
    let maxQueued = 0;
    const mine = () => h.ipc.getConnections().find((c) => c.userAgent === 'slow-reader');
    for await (const part of stream) {
      assert.strictEqual(part.i, expected++);
      if (expected === 100 || expected === 50000) {
        // The reader stalls: the handler must stop producing, held by backpressure.
        await sleep(300);
        const record = seen.get('slow');
        const produced = record.produced;
        await sleep(200);
        assert.strictEqual(seen.get('slow').produced, produced, 'the handler waits while the reader stalls');
        assert.ok(produced < total, `${produced} produced`);
        const queued = mine().toJSON ? mine().toJSON().queuedOutputBytes : mine().queuedOutputBytes;
        maxQueued = Math.max(maxQueued, queued);
        assert.ok(queued <= 256 * 1024 + 64 * 1024, `server queued ${queued} bytes`);
        assert.ok(stream.buffered <= 32, `${stream.buffered} parts buffered in the client`);
      }
    }
    assert.strictEqual(expected, total);
    assert.deepStrictEqual(stream.result, { total });
    console.log(`      server output queue at most ${maxQueued} bytes while the reader stalled (max_output_buffer 262144)`);
    await client.close();
  });
});
