'use strict';
// Server-wide counts: every total the README names, exact after connections
// have closed; dropped responses; accepted and rejected connections; slow
// responses; the stats interval on its timer.
const assert = require('assert');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { startServer, cleanupTempDirs, freePort } = require('../helpers/harness');
const { rawConnect } = require('../helpers/raw');
const { sleep, waitFor } = require('../helpers/wait');

const ECHO = '/ipcserver/test/echo';
const DELAY = '/ipcserver/test/delay';

/** A bare socket that counts the bytes it sends and receives. */
function countingSocket(target) {
  return new Promise((resolve, reject) => {
    const socket = typeof target === 'string' ? net.connect(target) : net.connect(target.port, '127.0.0.1');
    const counted = { socket, bytesIn: 0, bytesOut: 0, text: '' };
    socket.on('data', (chunk) => { counted.bytesIn += chunk.length; counted.text += chunk; });
    counted.send = (line) => { counted.bytesOut += Buffer.byteLength(line); socket.write(line); };
    counted.closed = new Promise((done) => socket.once('close', done));
    socket.once('connect', () => resolve(counted));
    socket.once('error', reject);
  });
}

describe('stats: totals', function () {
  let h = null;
  afterEach(async function () { if (h) await h.stop(); h = null; });
  after(cleanupTempDirs);

  it('every total is exact once its connections have closed', async function () {
    h = await startServer();
    h.ipc.addURIHandler('/st/push', 'push', (request, callback) => {
      request.connection.push('/st/pushed', { n: 1 });
      callback('pushed');
    });
    h.ipc.addURIHandler('/st/fail', 'fail', () => { throw new Error('no'); });
    const a = await countingSocket(h.socketPath);
    const b = await countingSocket(h.socketPath);
    a.send(JSON.stringify({ ipcReqID: 1, uri: ECHO, data: 'é'.repeat(100) }) + '\n'); // success
    a.send(JSON.stringify({ ipcReqID: 2, uri: '/st/push' }) + '\n'); // success + push
    a.send(JSON.stringify({ ipcReqID: 3, uri: '/st/fail' }) + '\n'); // error answer
    a.send('{not json\n'); // refused line: error
    a.send(JSON.stringify({ uri: ECHO, data: 'quiet', noReply: true }) + '\n'); // notification (a success)
    b.send(JSON.stringify({ ipcReqID: 'b', uri: '/no/such/uri' }) + '\n'); // success (no_handler_found in data)
    await waitFor(() => a.text.split('\n').length - 1 === 5 && b.text.split('\n').length - 1 === 1, 'every line back');
    a.socket.end();
    b.socket.end();
    await Promise.all([a.closed, b.closed]);
    await waitFor(() => h.ipc.getConnections().length === 0, 'both closed on the server');
    const stats = h.ipc.getStats();
    assert.deepStrictEqual(stats.totals, {
      ...stats.totals, // keys other work may add
      requests: 5,
      responses: 4,
      notifications: 1,
      errors: 2,
      droppedResponses: 0,
      pushes: 1,
      bytesIn: a.bytesOut + b.bytesOut,
      bytesOut: a.bytesIn + b.bytesIn,
      connectionsAccepted: 2,
      connectionsRejected: 0,
      authFailures: 0,
    });
    assert.strictEqual(stats.connections, 0);
    assert.strictEqual(stats.inFlight, 0);
    // The per-transport byte counters agree, with no connection left to read them from.
    const metrics = h.ipc.getMetrics();
    const sample = (name) => Number(new RegExp('^' + name.replace(/[{}"]/g, '\\$&') + ' (\\S+)$', 'm').exec(metrics)[1]);
    assert.strictEqual(sample('pixl_ipc_received_bytes_total{transport="unix"}'), a.bytesOut + b.bytesOut);
    assert.strictEqual(sample('pixl_ipc_sent_bytes_total{transport="unix"}'), a.bytesIn + b.bytesIn);
  });

  it('counts connectionsAccepted, and connectionsRejected past max_connections', async function () {
    h = await startServer({ max_connections: 2 });
    const first = await rawConnect(h.socketPath);
    const second = await rawConnect(h.socketPath);
    const refused = await rawConnect(h.socketPath);
    assert.strictEqual((await refused.next()).code, 'too_many_connections');
    await refused.waitEnd();
    assert.strictEqual(h.ipc.getStats().totals.connectionsAccepted, 2);
    assert.strictEqual(h.ipc.getStats().totals.connectionsRejected, 1);
    first.destroy();
    await waitFor(() => h.ipc.getConnections().length === 1, 'a slot freed');
    const third = await rawConnect(h.socketPath);
    await third.write({ ipcReqID: 3, uri: ECHO, data: 3 });
    assert.deepStrictEqual(await third.next(), { ipcReqID: 3, data: 3 });
    const { totals } = h.ipc.getStats();
    assert.deepStrictEqual([totals.connectionsAccepted, totals.connectionsRejected], [3, 1]);
    second.destroy();
    third.destroy();
    refused.destroy();
  });

  it('counts a response dropped because its connection closed first (reset by the client)', async function () {
    const port = await freePort();
    h = await startServer({ listen_port: port, auth_tokens: [] });
    const reasons = [];
    h.ipc.on('disconnect', (connection, reason) => reasons.push({ connection, reason }));
    const client = await rawConnect({ port });
    await client.write({ ipcReqID: 'slow', uri: DELAY, data: { delay: 150 } });
    await waitFor(() => h.ipc.getStats().inFlight === 1, 'the request running');
    client.socket.resetAndDestroy(); // RST: the server's socket fails with ECONNRESET and closes
    await waitFor(() => reasons.length === 1, 'the disconnect');
    assert.strictEqual(reasons[0].reason, 'error');
    await waitFor(() => h.ipc.getStats().totals.droppedResponses === 1, 'the dropped response', 3000);
    assert.strictEqual(reasons[0].connection.counters.droppedResponses, 1);
    assert.strictEqual(reasons[0].connection.inFlight, 0);
  });

  it('counts responses dropped after the server closed the connection', async function () {
    h = await startServer();
    const client = await rawConnect(h.socketPath);
    await client.write({ ipcReqID: 'a', uri: DELAY, data: { delay: 100 } });
    await client.write({ ipcReqID: 'b', uri: DELAY, data: { delay: 100 }, noReply: true });
    await waitFor(() => h.ipc.getStats().inFlight === 2, 'both running');
    h.ipc.closeConnections();
    await client.waitEnd();
    client.destroy();
    await waitFor(() => h.ipc.getStats().totals.droppedResponses === 1, 'one dropped', 3000);
    await sleep(20);
    const { totals } = h.ipc.getStats();
    assert.strictEqual(totals.droppedResponses, 1, 'a noReply answer is not a dropped one');
    assert.strictEqual(totals.notifications, 1);
    assert.deepStrictEqual(client.lines, []);
  });

  it('counts slowResponses past slow_threshold_ms, in the interval and the totals', async function () {
    h = await startServer({ slow_threshold_ms: 100 });
    const client = await rawConnect(h.socketPath);
    for (const [id, delay] of [[1, 0], [2, 250], [3, 0], [4, 250], [5, 0]]) {
      await client.write({ ipcReqID: id, uri: DELAY, data: { delay } });
    }
    await client.take(5);
    h.ipc.logIntervalStats();
    const stats = h.ipc.getStats();
    assert.strictEqual(stats.slowResponses, 2, 'the interval just ended');
    assert.strictEqual(stats.totals.slowResponses, 2);
    assert.strictEqual(stats.requests, 5);
    client.destroy();
  });
});

describe('stats: log_stats_interval', function () {
  let h = null;
  afterEach(async function () { if (h) await h.stop(); h = null; });
  after(cleanupTempDirs);

  const statsLines = (server) => fs.readFileSync(path.join(server.logDir, 'test.log'), 'utf8').split('\n').filter((line) => line.includes('IPCServer Stats'));

  it('cycles and logs the interval on the named pixl-server timer event, and stops at shutdown', async function () {
    h = await startServer({ log_stats_interval: 'tick' }); // pixl-server emits tick every second
    const client = await rawConnect(h.socketPath);
    await client.write({ ipcReqID: 1, uri: ECHO, data: 1 });
    await client.next();
    await waitFor(() => statsLines(h).length >= 2, 'two stats lines', 6000, 50);
    const stats = h.ipc.getStats();
    assert.ok(stats.duration >= 500 && stats.duration <= 3000, 'interval of about a second: ' + stats.duration);
    client.destroy();
    const server = h;
    await h.stop();
    h = null;
    const logged = statsLines(server).length;
    await sleep(1500);
    assert.strictEqual(statsLines(server).length, logged, 'no more after shutdown');
  });

  it('false turns the timer off', async function () {
    h = await startServer({ log_stats_interval: false });
    await sleep(1300);
    assert.deepStrictEqual(statsLines(h), []);
  });
});
