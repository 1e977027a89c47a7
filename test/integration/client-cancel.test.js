'use strict';
// The Node client's deadlines and cancellation on the wire (issue 18):
// timeoutMs, AbortSignal, the cancel control message, and the discarded
// `cancelled` answer. Against a scripted server (not pixl-ipc:
// test/helpers/scripted-server.js) that records every line it reads.
const assert = require('assert');
const { getEventListeners } = require('events');
const { tmpSocketPath, cleanupTempDirs } = require('../helpers/harness');
const { scriptedServer } = require('../helpers/scripted-server');
const { sleep, waitFor } = require('../helpers/wait');
const { LoggerStub } = require('../helpers/logger-stub');
const IPCClient = require('pixl-ipc/client');

describe('client: deadlines and cancellation on the wire (scripted server, not pixl-ipc)', function () {
  let s;
  /** Requests held unanswered, by id: the test answers them. */
  const held = new Map();
  before(async function () {
    s = await scriptedServer(tmpSocketPath('scripted.sock'), (request, connection) => {
      if (request.uri === '/ipcserver/cancel') {
        // As the real server does: the cancelled request gets its `cancelled` answer at once.
        const id = request.data.ipcReqID;
        if (held.has(id)) {
          held.delete(id);
          connection.send({ ipcReqID: id, code: 'cancelled', message: 'Request cancelled by the client' });
        }
        return undefined;
      }
      if (request.uri === '/hold') {
        held.set(request.ipcReqID, connection);
        return undefined;
      }
      return request.data;
    });
  });
  after(async function () { await s.close(); cleanupTempDirs(); });
  beforeEach(function () { s.lines.length = 0; held.clear(); });

  const lineFor = (id) => s.lines.find((l) => l.ipcReqID === id);

  it('every request carries its timeout as timeoutMs: requestTimeout by default, options.timeout per request, none with 0', async function () {
    const client = new IPCClient(s.socketPath, null, { requestTimeout: 4000 });
    await client.connect();
    await client.send('/echo', 1);
    await client.send('/echo', 2, { timeout: 250 });
    await client.send('/echo', 3, { timeout: 0 });
    await new Promise((resolve, reject) => client.send('/echo', 4, { timeout: 900 }, (err) => (err ? reject(err) : resolve())));
    const byData = (d) => s.lines.find((l) => l.data === d);
    assert.strictEqual(byData(1).timeoutMs, 4000);
    assert.strictEqual(byData(2).timeoutMs, 250);
    assert.strictEqual(byData(3).timeoutMs, undefined);
    assert.strictEqual(byData(4).timeoutMs, 900);
    assert.strictEqual(byData(1).stream, undefined, 'plain sends do not ask for a stream');
    await client.close();
    const none = new IPCClient(s.socketPath, null, { requestTimeout: 0 });
    await none.connect();
    await none.send('/echo', 5);
    assert.strictEqual(byData(5).timeoutMs, undefined);
    await none.close();
  });

  it('a request that waited for the connection sends the time it has left', async function () {
    const client = new IPCClient(s.socketPath, null, { requestTimeout: 5000 });
    const connecting = client.connect();
    const sent = client.send('/echo', 'waited', { timeout: 3000 });
    await connecting;
    await sent;
    const ms = s.lines.find((l) => l.data === 'waited').timeoutMs;
    assert.ok(ms > 0 && ms <= 3000, `timeoutMs ${ms}`);
    await client.close();
  });

  it('a per-request timeout shorter than requestTimeout fails on time', async function () {
    const client = new IPCClient(s.socketPath, null, { requestTimeout: 10000 });
    await client.connect();
    const started = Date.now();
    await assert.rejects(client.send('/hold', 'x', { timeout: 80 }), (err) => err.code === 'request_timeout' && /80 ms/.test(err.message));
    const waited = Date.now() - started;
    assert.ok(waited >= 75 && waited < 5000, `waited ${waited} ms`);
    await client.close();
  });

  it('abort: rejects at once with an AbortError (cause: the reason), sends the cancel message, drops the cancelled answer', async function () {
    const logger = new LoggerStub();
    const client = new IPCClient(s.socketPath, logger);
    await client.connect();
    const controller = new AbortController();
    const pending = client.send('/hold', 'a', { signal: controller.signal });
    await waitFor(() => held.size === 1, 'the request to reach the server');
    const [id] = held.keys();
    const reason = new Error('user left');
    const abortedAt = Date.now();
    controller.abort(reason);
    await assert.rejects(pending, (err) => err.name === 'AbortError' && err.cause === reason && err instanceof Error);
    assert.ok(Date.now() - abortedAt < 1000);
    await waitFor(() => s.lines.some((l) => l.uri === '/ipcserver/cancel'), 'the cancel message');
    const cancel = s.lines.find((l) => l.uri === '/ipcserver/cancel');
    assert.deepStrictEqual(cancel.data, { ipcReqID: id });
    assert.strictEqual(cancel.noReply, true);
    assert.strictEqual(cancel.ipcReqID, undefined);
    // The server's `cancelled` answer arrives and is dropped quietly.
    await waitFor(() => client.getStats().lateResponses === 1, 'the cancelled answer');
    const stats = client.getStats();
    assert.strictEqual(stats.cancelled, 1);
    assert.strictEqual(stats.unknownResponses, 0);
    assert.strictEqual(stats.errors, 0);
    assert.strictEqual(logger.errorCount, 0);
    assert.strictEqual(client.requestCount, 0);
    assert.strictEqual(await client.send('/echo', 'after'), 'after');
    await client.close();
  });

  it('AbortSignal.timeout() works; an already aborted signal sends nothing', async function () {
    const client = new IPCClient(s.socketPath);
    await client.connect();
    await assert.rejects(client.send('/hold', 't', { signal: AbortSignal.timeout(50) }), (err) => err.name === 'AbortError' && err.cause.name === 'TimeoutError');
    const before = s.lines.length;
    await assert.rejects(client.send('/echo', 'never', { signal: AbortSignal.abort() }), { name: 'AbortError' });
    await new Promise((resolve) => client.send('/echo', 'never2', { signal: AbortSignal.abort() }, (err) => { assert.strictEqual(err.name, 'AbortError'); resolve(); }));
    await client.flush();
    await sleep(20);
    assert.ok(!s.lines.slice(before).some((l) => l.data === 'never' || l.data === 'never2'), 'nothing sent');
    await client.close();
  });

  it('aborting a request still waiting for the connection: nothing is sent, not even a cancel', async function () {
    const client = new IPCClient(s.socketPath);
    const controller = new AbortController();
    const connecting = client.connect();
    const queued = client.send('/echo', 'queued', { signal: controller.signal });
    controller.abort();
    await assert.rejects(queued, { name: 'AbortError' });
    await connecting;
    await client.send('/echo', 'marker');
    assert.ok(!s.lines.some((l) => l.data === 'queued' || l.uri === '/ipcserver/cancel'));
    await client.close();
  });

  it('the abort listener is removed once the request has its outcome (long-lived signals do not collect listeners)', async function () {
    const client = new IPCClient(s.socketPath);
    await client.connect();
    const controller = new AbortController();
    for (let i = 0; i < 20; i++) await client.send('/echo', i, { signal: controller.signal });
    assert.strictEqual(getEventListeners(controller.signal, 'abort').length, 0);
    controller.abort();
    assert.strictEqual(client.getStats().cancelled, 0);
    await client.close();
  });

  it('abort after the answer changes nothing', async function () {
    const client = new IPCClient(s.socketPath);
    await client.connect();
    const controller = new AbortController();
    assert.strictEqual(await client.send('/echo', 'done', { signal: controller.signal }), 'done');
    controller.abort();
    await sleep(20);
    assert.ok(!s.lines.some((l) => l.uri === '/ipcserver/cancel'));
    await client.close();
  });
});
