'use strict';
// Handler registration, handler styles and failures, built-ins, stats.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { startServer, cleanupTempDirs } = require('../helpers/harness');
const { rawConnect } = require('../helpers/raw');
const { waitFor } = require('../helpers/wait');

function readLog(h) {
  return fs.readFileSync(path.join(h.logDir, 'test.log'), 'utf8');
}

describe('handlers', function () {
  let h;
  let client;
  let seq = 0;
  const ask = async (uri, data) => {
    const id = 'q' + seq++;
    await client.write({ ipcReqID: id, uri, data, pid: 1234, userAgent: 'raw-test' });
    const reply = await client.next();
    assert.strictEqual(reply.ipcReqID, id);
    return reply;
  };

  // A fresh server for each test: handlers, the default handler and the stats
  // interval are the server's state, and each test must run alone.
  beforeEach(async function () { h = await startServer({ slow_threshold_ms: 150 }, { debug_level: 9 }); client = await rawConnect(h.socketPath); });
  afterEach(async function () { client.destroy(); await h.stop(); });
  after(cleanupTempDirs);

  it('counts the two built-in handlers as 1.x did (echo, delay), not the operations endpoints it routes too', async function () {
    assert.strictEqual(h.ipc.getStats().handlers, 2);
    const listed = (await ask('/ipcserver/stats', { handlers: true })).data;
    assert.deepStrictEqual(listed.routes.map((r) => r.name), ['IPCServer.echo', 'IPCServer.delay', 'IPCServer.stats', 'IPCServer.monitor']);
    assert.strictEqual(listed.handlers, 2);
  });

  it('passes uri, data, ipcReqID, pid, userAgent and the connection to a handler', async function () {
    let seen;
    h.ipc.addURIHandler('/t/fields', 'fields', (request, callback) => { seen = request; callback({ ok: true }); });
    const reply = await ask('/t/fields', { n: 1 });
    assert.deepStrictEqual(reply.data, { ok: true });
    assert.strictEqual(seen.uri, '/t/fields');
    assert.deepStrictEqual(seen.data, { n: 1 });
    assert.strictEqual(seen.pid, 1234);
    assert.strictEqual(seen.userAgent, 'raw-test');
    assert.ok(seen.ipcReqID.startsWith('q'));
    assert.strictEqual(typeof seen.connection.id, 'number');
    assert.strictEqual(seen.connection.pid, 1234);
    assert.strictEqual(h.ipc.getStats().handlers, 3);
  });

  it('reads string patterns as anchored regular expressions (1.x), an exact string matching itself', async function () {
    h.ipc.addURIHandler('/t/a.b', 'dotted', (request, callback) => callback('dotted'));
    h.ipc.addURIHandler('/t/users/.*', 'users', (request, callback) => callback(request.uri));
    assert.strictEqual((await ask('/t/a.b')).data, 'dotted');
    assert.strictEqual((await ask('/t/aXb')).data, 'dotted', 'a dot is any character, as in 1.x');
    assert.strictEqual((await ask('/t/a.b/more')).data.code, 'no_handler_found');
    assert.strictEqual((await ask('/t/users/7')).data, '/t/users/7');
    assert.strictEqual((await ask('/x/t/users/7')).data.code, 'no_handler_found');
  });

  it('tests RegExp patterns and lets the first registered match win', async function () {
    h.ipc.addURIHandler(/^\/t\/re\//, 'first', (request, callback) => callback('first'));
    h.ipc.addURIHandler(/^\/t\/re\/x/, 'second', (request, callback) => callback('second'));
    h.ipc.addURIHandler(/^\/t\/g/g, 'global', (request, callback) => callback('global'));
    assert.strictEqual((await ask('/t/re/x')).data, 'first');
    assert.strictEqual((await ask('/t/g1')).data, 'global');
    assert.strictEqual((await ask('/t/g2')).data, 'global', 'a /g pattern matches every time');
  });

  it('removes handlers by name and replaces the default handler', async function () {
    h.ipc.addURIHandler(/^\/t\/re\//, 'first', (request, callback) => callback('first'));
    h.ipc.addURIHandler(/^\/t\/re\/x/, 'second', (request, callback) => callback('second'));
    assert.strictEqual((await ask('/t/re/x')).data, 'first');
    assert.strictEqual(h.ipc.removeURIHandler('first'), 1);
    assert.strictEqual(h.ipc.removeURIHandler('first'), 0);
    assert.strictEqual((await ask('/t/re/x')).data, 'second');
    h.ipc.setDefaultHandler((request, callback) => callback({ fallback: request.uri }));
    assert.deepStrictEqual((await ask('/nothing/here')).data, { fallback: '/nothing/here' });
  });

  it('answers with the value of an async handler', async function () {
    h.ipc.addURIHandler('/t/async', 'async', async (request) => ({ doubled: request.data * 2 }));
    assert.deepStrictEqual((await ask('/t/async', 21)).data, { doubled: 42 });
  });

  it('waits for the callback of an async handler that takes one and resolves to nothing', async function () {
    h.ipc.addURIHandler('/t/async-cb', 'asyncCb', async (request, callback) => {
      setTimeout(() => callback('later'), 10);
    });
    assert.strictEqual((await ask('/t/async-cb')).data, 'later');
  });

  it('turns a throwing handler into handler_error, logs it, and keeps serving', async function () {
    h.ipc.addURIHandler('/t/throw', 'thrower', () => { throw new Error('kaboom'); });
    const reply = await ask('/t/throw');
    assert.strictEqual(reply.code, 'handler_error');
    assert.match(reply.message, /kaboom/);
    assert.match(readLog(h), /\[handler_error\].*kaboom/);
    assert.strictEqual((await ask('/ipcserver/test/echo', 'alive')).data, 'alive');
  });

  it('uses the code of a rejected error', async function () {
    h.ipc.addURIHandler('/t/reject', 'rejecter', async () => { throw Object.assign(new Error('nope'), { code: 'not_allowed' }); });
    const reply = await ask('/t/reject');
    assert.strictEqual(reply.code, 'not_allowed');
    assert.strictEqual(reply.message, 'nope');
  });

  it('sends one response when a callback is called twice, and logs the second call', async function () {
    h.ipc.addURIHandler('/t/twice', 'twice', (request, callback) => { callback(1); callback(2); });
    assert.strictEqual((await ask('/t/twice')).data, 1);
    assert.strictEqual((await ask('/ipcserver/test/echo', 'next')).data, 'next', 'no stray second response');
    assert.match(readLog(h), /\[callback_twice\]/);
  });

  it('answers an unserializable result with an error instead of crashing', async function () {
    h.ipc.addURIHandler('/t/bigint', 'bigint', (request, callback) => callback({ n: 10n }));
    const reply = await ask('/t/bigint');
    assert.strictEqual(reply.code, 'handler_error');
  });

  it('echo returns data unchanged', async function () {
    const data = { s: 'x', n: 1.5, a: [1, null, { b: true }], u: 'ünïcode ✓' };
    assert.deepStrictEqual((await ask('/ipcserver/test/echo', data)).data, data);
  });

  it('delay waits and answers {delay: N}, {delay: 0} without one, and refuses bad delays', async function () {
    const started = Date.now();
    assert.deepStrictEqual((await ask('/ipcserver/test/delay', { delay: 50 })).data, { delay: 50 });
    assert.ok(Date.now() - started >= 45);
    assert.deepStrictEqual((await ask('/ipcserver/test/delay', {})).data, { delay: 0 });
    assert.deepStrictEqual((await ask('/ipcserver/test/delay')).data, { delay: 0 });
    assert.strictEqual((await ask('/ipcserver/test/delay', { delay: -5 })).code, 'bad_delay');
    assert.strictEqual((await ask('/ipcserver/test/delay', { delay: 'soon' })).code, 'bad_delay');
  });

  it('counts requests, connections and slow responses per interval, and totals since startup', async function () {
    h.ipc.logIntervalStats(); // a fresh interval for this test
    const before = h.ipc.getStats().totals;
    const other = await rawConnect(h.socketPath);
    for (let i = 0; i < 21; i++) assert.strictEqual((await ask('/ipcserver/test/echo', i)).data, i);
    for (const delay of [-1, 'soon', -2]) assert.strictEqual((await ask('/ipcserver/test/delay', { delay })).code, 'bad_delay');
    // Slower than slow_threshold_ms (150, far above what a loaded machine adds to the others).
    await ask('/ipcserver/test/delay', { delay: 200 });
    await ask('/ipcserver/test/delay', { delay: 200 });
    other.destroy();
    await other.closed;
    await waitFor(() => h.ipc.getConnections().length === 1, 'the other connection closed');
    h.ipc.logIntervalStats();
    const stats = h.ipc.getStats();
    assert.strictEqual(stats.connections, 1);
    assert.strictEqual(stats.clientOpen, 1);
    assert.strictEqual(stats.clientClose, 1);
    assert.strictEqual(stats.maxConnections, 2);
    assert.strictEqual(stats.requests, 26);
    assert.strictEqual(stats.errors, 3);
    assert.strictEqual(stats.slowResponses, 2);
    assert.ok(stats.duration > 0);
    assert.strictEqual(stats.totals.requests - before.requests, 26);
    assert.strictEqual(stats.totals.errors - before.errors, 3);
    assert.ok(stats.totals.bytesIn > 0 && stats.totals.bytesOut > 0);
    assert.match(readLog(h), /IPCServer Stats/);
  });

  it('bytes out are current whenever they are read (stats, metrics, the connection list), though counted only then', async function () {
    const h = await startServer({ metrics_endpoint: true });
    const c = await rawConnect(h.socketPath);
    const before = h.ipc.getStats().totals.bytesOut;
    let answered = 0;
    for (let i = 0; i < 20; i++) {
      await c.write({ ipcReqID: i, uri: '/ipcserver/test/echo', data: { pad: 'x'.repeat(100 * i) } });
      answered += JSON.stringify(await c.next()).length + 1;
    }
    // Every answer was read by the client: the server's figures count each of its bytes, with no drain or close in between.
    assert.strictEqual(h.ipc.getStats().totals.bytesOut - before, answered);
    const [entry] = h.ipc.getConnections().map((conn) => conn.toJSON());
    assert.strictEqual(entry.counters.bytesOut, answered);
    const sent = /pixl_ipc_sent_bytes_total\{transport="unix"\} (\d+)/.exec(h.ipc.getMetrics());
    assert.ok(sent, 'the metrics name the bytes sent over the Unix socket');
    assert.strictEqual(Number(sent[1]), h.ipc.getStats().totals.bytesOut);
    c.destroy();
    await h.stop();
  });
});
