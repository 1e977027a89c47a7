'use strict';
// The Node client's streamed answers (issue 18): client.stream() as an async
// iterator, early exit as cancel, errors, and flow control through the
// socket. Against a scripted server (not pixl-ipc:
// test/helpers/scripted-server.js) that writes parts as the wire design says.
const assert = require('assert');
const { tmpSocketPath, cleanupTempDirs } = require('../helpers/harness');
const { scriptedServer } = require('../helpers/scripted-server');
const { sleep, waitFor } = require('../helpers/wait');
const IPCClient = require('pixl-ipc/client');

describe('client: streamed answers (scripted server, not pixl-ipc)', function () {
  let s;
  /** Per request: how many parts the server has handed to its socket, and whether it was cancelled. */
  let lastProgress = null;
  before(async function () {
    s = await scriptedServer(tmpSocketPath('stream.sock'), (request, connection) => {
      const id = request.ipcReqID;
      // Ids are per client (rq0, rq1...): keep the progress per connection.
      connection.progress = connection.progress || new Map();
      if (request.uri === '/ipcserver/cancel') {
        const p = connection.progress.get(request.data.ipcReqID);
        if (p) p.cancelled = true;
        return undefined;
      }
      if (request.uri === '/count') {
        const p = { id, written: 0, cancelled: false, finished: false };
        connection.progress.set(id, p);
        lastProgress = p;
        const { n, fail, pad } = request.data;
        (async () => {
          for (let i = 0; i < n && !p.cancelled; i++) {
            // Honour the socket's backpressure, as the real server does.
            if (!connection.send({ ipcReqID: id, part: pad ? { i, pad } : i })) await connection.drained();
            p.written++;
          }
          if (p.cancelled) connection.send({ ipcReqID: id, code: 'cancelled', message: 'cancelled' });
          else if (fail) connection.send({ ipcReqID: id, code: 'tail_failed', message: 'gave up after ' + n });
          else connection.send({ ipcReqID: id, data: { total: n } });
          p.finished = true;
        })();
        return undefined;
      }
      return request.data; // an endpoint that does not stream
    });
  });
  after(async function () { await s.close(); cleanupTempDirs(); });

  it('delivers every part in order, then ends; the final data is stream.result; the request said stream: true', async function () {
    const client = new IPCClient(s.socketPath);
    await client.connect();
    const got = [];
    const stream = client.stream('/count', { n: 500 });
    for await (const part of stream) got.push(part);
    assert.deepStrictEqual(got, Array.from({ length: 500 }, (_, i) => i));
    assert.deepStrictEqual(stream.result, { total: 500 });
    const line = s.lines.find((l) => l.uri === '/count');
    assert.strictEqual(line.stream, true);
    assert.strictEqual(line.timeoutMs, 10000);
    const stats = client.getStats();
    assert.strictEqual(stats.parts, 500);
    assert.strictEqual(stats.responses, 1);
    assert.strictEqual(client.requestCount, 0);
    await client.close();
  });

  it('plain sends and streams share the connection', async function () {
    const client = new IPCClient(s.socketPath);
    await client.connect();
    const collect = async (n) => { const out = []; for await (const p of client.stream('/count', { n })) out.push(p); return out.length; };
    const [a, b, echo] = await Promise.all([collect(300), collect(200), client.send('/echo', 'between')]);
    assert.deepStrictEqual([a, b, echo], [300, 200, 'between']);
    await client.close();
  });

  it('an error answer rejects the iteration after the parts before it', async function () {
    const client = new IPCClient(s.socketPath);
    await client.connect();
    const got = [];
    await assert.rejects(async () => {
      for await (const part of client.stream('/count', { n: 3, fail: true })) got.push(part);
    }, (err) => err.code === 'tail_failed' && /gave up/.test(err.message));
    assert.deepStrictEqual(got, [0, 1, 2]);
    await client.close();
  });

  it('breaking out of the loop cancels the request on the server; the rest of its parts are dropped quietly', async function () {
    const client = new IPCClient(s.socketPath);
    await client.connect();
    let seen = 0;
    for await (const part of client.stream('/count', { n: 1000000 })) {
      seen++;
      if (part === 9) break;
    }
    assert.strictEqual(seen, 10);
    const p = lastProgress;
    const id = p.id;
    await waitFor(() => p.cancelled && p.finished, 'the server to see the cancel');
    const cancel = s.lines.find((l) => l.uri === '/ipcserver/cancel' && l.data.ipcReqID === id);
    assert.ok(cancel && cancel.noReply === true);
    assert.ok(p.written < 1000000, 'the server stopped early');
    await sleep(50);
    const stats = client.getStats();
    assert.strictEqual(stats.unknownResponses, 0, 'late parts and the cancelled answer are not unknown');
    assert.strictEqual(stats.cancelled, 1);
    assert.strictEqual(client.requestCount, 0);
    assert.strictEqual(await client.send('/echo', 'still fine'), 'still fine');
    await client.close();
  });

  it('a slow consumer: the client stops reading, so the server is held back by its socket, and every part arrives in order', async function () {
    this.timeout(60000);
    const client = new IPCClient(s.socketPath, null, { requestTimeout: 0 });
    await client.connect();
    const total = 100000;
    const stream = client.stream('/count', { n: total, pad: 'x'.repeat(100) }, { highWaterMark: 64 });
    let expected = 0;
    let maxBuffered = 0;
    let p = null;
    for await (const part of stream) {
      assert.strictEqual(part.i, expected++);
      maxBuffered = Math.max(maxBuffered, stream.buffered);
      if (expected === 10) {
        // The consumer stalls: the server must be stopped by backpressure well before the end.
        p = lastProgress;
        await sleep(300);
        assert.ok(p.written < total / 2, `the server wrote ${p.written} of ${total} parts while the consumer stalled`);
        assert.ok(stream.buffered <= 64, `${stream.buffered} parts buffered`);
      }
      if (expected % 20000 === 0) await sleep(10);
    }
    assert.strictEqual(expected, total);
    assert.ok(maxBuffered <= 64, `at most ${maxBuffered} parts buffered`);
    assert.deepStrictEqual(stream.result, { total });
    await client.close();
  });

  it('a server that answers once (no parts): the loop sees no parts and result is the answer', async function () {
    const client = new IPCClient(s.socketPath);
    await client.connect();
    const stream = client.stream('/echo', { whole: true });
    const parts = [];
    for await (const part of stream) parts.push(part);
    assert.deepStrictEqual(parts, []);
    assert.deepStrictEqual(stream.result, { whole: true });
    await client.close();
  });

  it('no connection: the iteration rejects with no_open_stream; an abort signal rejects it with AbortError', async function () {
    const offline = new IPCClient(s.socketPath);
    await assert.rejects(async () => { for await (const part of offline.stream('/count', { n: 1 })) assert.fail(part); }, { code: 'no_open_stream' });
    const client = new IPCClient(s.socketPath);
    await client.connect();
    const controller = new AbortController();
    const got = [];
    await assert.rejects(async () => {
      for await (const part of client.stream('/count', { n: 1000000 }, { signal: controller.signal })) {
        got.push(part);
        if (part === 4) controller.abort();
      }
    }, { name: 'AbortError' });
    assert.ok(got.length >= 5);
    await waitFor(() => s.lines.some((l) => l.uri === '/ipcserver/cancel'), 'the cancel message');
    await client.close();
  });

  it('a lost connection rejects the iteration with connection_closed', async function () {
    const client = new IPCClient(s.socketPath, null, { autoReconnect: false });
    await client.connect();
    const stream = client.stream('/count', { n: 1000000 }, { highWaterMark: 8 });
    const first = await stream.next();
    assert.strictEqual(first.value, 0);
    s.connections[s.connections.length - 1].destroy();
    await assert.rejects(async () => { for (;;) { const r = await stream.next(); if (r.done) break; } }, { code: 'connection_closed' });
    await client.close();
  });
});
