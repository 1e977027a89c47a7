'use strict';
// The Node client recovers by itself (issue 25): after the server closes the
// connection (a refusal, a restart), sends made meanwhile wait for the
// reconnection (the offline queue, on by default; the first reconnect at
// once) instead of failing; a request over the server's size limit, once
// known, is refused here without losing the connection. offlineQueue: 0
// keeps the original client's behaviour.
const assert = require('assert');
const { startServer, makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { sleep } = require('../helpers/wait');
const path = require('path');
const IPCClient = require('pixl-ipc/client');

const ECHO = '/ipcserver/test/echo';
const OFFSETS_MS = [0, 10, 50, 200, 500];

/** Sends an echo at each offset (ms from now); resolves to each outcome ({ value } or { code }). */
function sendAt(client, tag) {
  return Promise.all(OFFSETS_MS.map(async (ms) => {
    await sleep(ms);
    try {
      return { ms, value: await client.send(ECHO, `${tag}@${ms}`) };
    } catch (err) {
      return { ms, code: err.code, message: err.message };
    }
  }));
}

describe('client: recovering by itself', function () {
  this.timeout(15000);
  let h = null;
  afterEach(async () => {
    if (h) await h.stop();
    h = null;
  });
  after(cleanupTempDirs);

  it('sends 0, 10, 50, 200 and 500 ms after a message_too_large all succeed; a second oversized request is refused here, the connection kept', async () => {
    h = await startServer({ max_message_size: 4096 });
    const client = new IPCClient(h.socketPath, null, { requestTimeout: 5000 });
    await client.connect();
    await assert.rejects(client.send(ECHO, 'x'.repeat(10000)), { code: 'message_too_large' });
    const outcomes = await sendAt(client, 'after-refusal');
    assert.deepStrictEqual(outcomes, OFFSETS_MS.map((ms) => ({ ms, value: `after-refusal@${ms}` })));
    const disconnects = client.getStats().disconnects;
    // The server said its limit: the next oversized request never leaves, and nothing else is lost.
    const [refused, fine] = await Promise.allSettled([client.send(ECHO, 'y'.repeat(10000)), client.send(ECHO, 'fine')]);
    assert.strictEqual(refused.reason.code, 'message_too_large');
    assert.match(refused.reason.message, /over the server's limit .* of 4096 bytes/);
    assert.strictEqual(fine.value, 'fine');
    assert.strictEqual(client.getStats().disconnects, disconnects, 'the connection was kept');
    await client.close();
  });

  it('a request over maxMessageSize is refused here before the server ever sees it', async () => {
    h = await startServer({});
    const client = new IPCClient(h.socketPath, null, { maxMessageSize: 2048 });
    await client.connect();
    await assert.rejects(client.send(ECHO, 'z'.repeat(3000)), (err) => err.code === 'message_too_large' && /over maxMessageSize of 2048 bytes/.test(err.message));
    assert.strictEqual(await client.send(ECHO, 'still connected'), 'still connected');
    assert.strictEqual(client.getStats().disconnects, 0);
    assert.strictEqual(client.getStats().requestsSent, 1);
    await client.close();
  });

  it('sends 0, 10, 50, 200 and 500 ms after a daemon restart began all succeed', async () => {
    const socketPath = path.join(makeTempDir('pixl-ipc-recover-'), 'ipc.sock');
    h = await startServer({ socket_path: socketPath });
    const client = new IPCClient(socketPath, null, { requestTimeout: 8000 });
    client.on('error', () => {});
    await client.connect();
    assert.strictEqual(await client.send(ECHO, 'before'), 'before');
    const stopping = h.stop();
    const outcomes = sendAt(client, 'restart');
    await stopping;
    await sleep(100);
    h = await startServer({ socket_path: socketPath });
    assert.deepStrictEqual(await outcomes, OFFSETS_MS.map((ms) => ({ ms, value: `restart@${ms}` })));
    await client.close();
  });

  it('offlineQueue: 0 keeps the original behaviour: sends right after the refusal fail at once', async () => {
    h = await startServer({ max_message_size: 4096 });
    const client = new IPCClient(h.socketPath, null, { offlineQueue: 0, autoReconnect: 200 });
    client.on('error', () => {});
    await client.connect();
    await assert.rejects(client.send(ECHO, 'x'.repeat(10000)), { code: 'message_too_large' });
    const started = Date.now();
    await assert.rejects(client.send(ECHO, 'too soon'), (err) => ['no_open_stream', 'connection_closed'].includes(err.code));
    assert.ok(Date.now() - started < 100, 'failed at once');
    await client.close();
  });

  it('the offline queue is bounded: past offlineQueue a send fails with queue_full', async () => {
    const socketPath = path.join(makeTempDir('pixl-ipc-recover-'), 'ipc.sock');
    h = await startServer({ socket_path: socketPath });
    const client = new IPCClient(socketPath, null, { offlineQueue: 3, requestTimeout: 3000, autoReconnect: 5000 });
    client.on('error', () => {});
    await client.connect();
    await h.stop();
    h = null;
    await sleep(50);
    const held = [1, 2, 3].map((n) => client.send(ECHO, n).catch((err) => err.code));
    await assert.rejects(client.send(ECHO, 4), { code: 'queue_full' });
    await client.close();
    assert.deepStrictEqual(await Promise.all(held), ['client_closed', 'client_closed', 'client_closed']);
  });
});
