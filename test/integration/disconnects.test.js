'use strict';
// How connections end, seen from both sides: requests during shutdown, and
// the disconnect reasons "error" and "message_too_large".
const assert = require('assert');
const { startServer, cleanupTempDirs, freePort } = require('../helpers/harness');
const { rawConnect } = require('../helpers/raw');
const { waitFor } = require('../helpers/wait');

const DELAY = '/ipcserver/test/delay';

describe('disconnects', function () {
  let h = null;
  let reasons;
  async function start(config) {
    h = await startServer(config);
    reasons = [];
    h.ipc.on('disconnect', (connection, reason) => reasons.push(reason));
  }
  afterEach(async function () { if (h) await h.stop(); h = null; });
  after(cleanupTempDirs);

  it('answers a request read during shutdown with shutting_down, and still answers the one running', async function () {
    await start({ exit_timeout: 3000 });
    let ran = 0;
    h.ipc.addURIHandler('/dc/count', 'count', (request, callback) => { ran++; callback(ran); });
    const client = await rawConnect(h.socketPath);
    await client.write({ ipcReqID: 'running', uri: DELAY, data: { delay: 300 } });
    await waitFor(() => h.ipc.getStats().inFlight === 1, 'the delay running');
    const stopping = h.stop();
    assert.deepStrictEqual(await client.next(), { uri: '/ipcserver/goaway', data: { reason: 'shutdown' } });
    await client.write({ ipcReqID: 'late', uri: '/dc/count' });
    const late = await client.next();
    assert.strictEqual(late.ipcReqID, 'late');
    assert.strictEqual(late.code, 'shutting_down');
    assert.strictEqual(ran, 0, 'the late request never ran');
    assert.deepStrictEqual(await client.next(), { ipcReqID: 'running', data: { delay: 300 } });
    await client.waitEnd();
    await stopping;
    h = null;
    assert.deepStrictEqual(reasons, ['shutdown']);
    client.destroy();
  });

  it('gives the reason "message_too_large" to a connection refused for a long line', async function () {
    await start({ max_message_size: 1024 });
    const client = await rawConnect(h.socketPath);
    await client.write('{"ipcReqID":"big","uri":"/ipcserver/test/echo","data":"' + 'x'.repeat(4096) + '"}\n');
    const reply = await client.next();
    assert.deepStrictEqual([reply.ipcReqID, reply.code], ['big', 'message_too_large']);
    await client.waitEnd();
    client.destroy();
    await waitFor(() => reasons.length === 1, 'the disconnect');
    assert.deepStrictEqual(reasons, ['message_too_large']);
    assert.strictEqual(h.ipc.getStats().totals.errors, 1);
  });

  it('gives the reason "error" to a connection whose socket fails (reset by the client)', async function () {
    const port = await freePort();
    await start({ listen_port: port });
    const client = await rawConnect({ port });
    await client.write({ ipcReqID: 1, uri: '/ipcserver/test/echo', data: 1 });
    await client.next();
    client.socket.resetAndDestroy();
    await waitFor(() => reasons.length === 1, 'the disconnect');
    assert.deepStrictEqual(reasons, ['error']);
    assert.strictEqual(h.ipc.getConnections().length, 0);
  });
});
