'use strict';
// Per-resource limits: connections, requests in flight, unsent output, idle time.
const assert = require('assert');
const { startServer, cleanupTempDirs } = require('../helpers/harness');
const { rawConnect } = require('../helpers/raw');
const { sleep, waitFor } = require('../helpers/wait');


describe('limits', function () {
  after(cleanupTempDirs);

  it('max_connections: refuses the next connection with one error line and keeps the others', async function () {
    const h = await startServer({ max_connections: 2 });
    const a = await rawConnect(h.socketPath);
    const b = await rawConnect(h.socketPath);
    const c = await rawConnect(h.socketPath);
    const refusal = await c.next();
    assert.strictEqual(refusal.code, 'too_many_connections');
    assert.strictEqual(refusal.ipcReqID, null);
    await c.waitEnd();
    for (const client of [a, b]) {
      await client.write({ uri: '/ipcserver/test/echo', ipcReqID: 1, data: 'ok' });
      assert.deepStrictEqual(await client.next(), { ipcReqID: 1, data: 'ok' });
    }
    assert.strictEqual(h.ipc.getStats().totals.connectionsRejected, 1);
    a.destroy();
    await waitFor(() => h.ipc.getStats().connections === 1, 'close', 3000);
    const d = await rawConnect(h.socketPath);
    await d.write({ uri: '/ipcserver/test/echo', ipcReqID: 2, data: 'room again' });
    assert.deepStrictEqual(await d.next(), { ipcReqID: 2, data: 'room again' });
    for (const client of [b, c, d]) client.destroy();
    await h.stop();
  });

  it('max_in_flight: stops reading a connection at the bound and resumes as answers go out', async function () {
    const h = await startServer({ max_in_flight: 4 });
    const held = [];
    h.ipc.addURIHandler('/t/hold', 'hold', (request, callback) => held.push(() => callback(request.data)));
    const client = await rawConnect(h.socketPath);
    let batch = '';
    for (let i = 0; i < 10; i++) batch += JSON.stringify({ uri: '/t/hold', ipcReqID: i, data: i }) + '\n';
    await client.write(batch);
    await waitFor(() => held.length === 4, '4 held', 3000);
    await sleep(50);
    assert.strictEqual(held.length, 4, 'no more than max_in_flight requests are started');
    assert.strictEqual(h.ipc.getStats().inFlight, 4);
    // Release a snapshot: releasing may start the next requests synchronously.
    const release = () => held.splice(0).forEach((answer) => answer());
    release();
    await waitFor(() => held.length === 4, 'next 4', 3000);
    await sleep(50);
    assert.strictEqual(held.length, 4, 'still no more than max_in_flight');
    release();
    await waitFor(() => held.length === 2, 'last 2', 3000);
    release();
    const replies = await client.take(10);
    assert.deepStrictEqual(replies.map((r) => r.data).sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    client.destroy();
    await h.stop();
  });

  it('backpressure: pauses a client that does not read its responses, while others are served', async function () {
    this.timeout(20000);
    const h = await startServer({ max_output_buffer: 256 * 1024 });
    const flooder = await rawConnect(h.socketPath);
    flooder.socket.pause(); // never reads
    const payload = 'x'.repeat(1000);
    const line = JSON.stringify({ uri: '/ipcserver/test/echo', data: payload }) + '\n';
    const batch = line.repeat(100);
    // Write until the socket stops accepting (the server has stopped reading).
    let sent = 0;
    const blocked = await new Promise((resolve) => {
      const pump = () => {
        while (sent < 100000) {
          sent += 100;
          if (!flooder.socket.write(batch)) {
            const timer = setTimeout(() => resolve(true), 500);
            flooder.socket.once('drain', () => { clearTimeout(timer); pump(); });
            return;
          }
        }
        resolve(false);
      };
      pump();
    });
    assert.ok(blocked, 'the server stopped reading from the flooder');
    const handled = h.ipc.getStats().totals.requests;
    assert.ok(handled < sent, `handled ${handled} of ${sent}`);
    const output = h.ipc.getConnections()[0].toJSON();
    assert.ok(output.counters.bytesOut > 0);
    // Another client is answered promptly meanwhile.
    const other = await rawConnect(h.socketPath);
    const started = Date.now();
    await other.write({ uri: '/ipcserver/test/echo', ipcReqID: 'x', data: 1 });
    assert.deepStrictEqual(await other.next(), { ipcReqID: 'x', data: 1 });
    assert.ok(Date.now() - started < 500);
    other.destroy();
    flooder.destroy();
    await h.stop();
  });

  it('idle_timeout: closes a connection that sends nothing, and not one that keeps talking', async function () {
    const h = await startServer({ idle_timeout: 150 });
    const idle = await rawConnect(h.socketPath);
    const busy = await rawConnect(h.socketPath);
    const reasons = [];
    h.ipc.on('disconnect', (connection, reason) => reasons.push(reason));
    for (let i = 0; i < 8; i++) {
      await busy.write({ uri: '/ipcserver/test/echo', ipcReqID: i, data: i });
      await busy.next();
      await sleep(50);
    }
    const notice = await idle.next();
    assert.strictEqual(notice.code, 'idle_timeout');
    await idle.waitEnd();
    assert.ok(!busy.ended);
    assert.deepStrictEqual(reasons, ['idle_timeout']);
    idle.destroy();
    busy.destroy();
    await h.stop();
  });

  it('idle_timeout does not cut off a connection whose request is still running', async function () {
    const h = await startServer({ idle_timeout: 100 });
    const client = await rawConnect(h.socketPath);
    await client.write({ uri: '/ipcserver/test/delay', ipcReqID: 'long', data: { delay: 300 } });
    assert.deepStrictEqual(await client.next(), { ipcReqID: 'long', data: { delay: 300 } });
    client.destroy();
    await h.stop();
  });
});
