'use strict';
// Startup and shutdown: socket files, permissions, draining, hung clients.
const assert = require('assert');
const fs = require('fs');
const net = require('net');
const { startServer, tmpSocketPath, cleanupTempDirs } = require('../helpers/harness');
const { startDaemon } = require('../helpers/daemon');
const { rawConnect } = require('../helpers/raw');

describe('lifecycle', function () {
  after(cleanupTempDirs);

  it('fails startup with a clear error when socket_path is missing', async function () {
    const { exited } = startDaemon({});
    const result = await exited;
    assert.notStrictEqual(result.code, 0);
    assert.match(result.output, /socket_path is required/);
  });

  it('removes a stale socket file left by a killed daemon and serves', async function () {
    const socketPath = tmpSocketPath();
    const first = startDaemon({ socket_path: socketPath });
    await first.ready;
    first.child.kill('SIGKILL');
    await first.exited;
    assert.ok(fs.existsSync(socketPath), 'SIGKILL leaves the socket file behind');
    const h = await startServer({ socket_path: socketPath });
    const client = await rawConnect(socketPath);
    await client.write({ uri: '/ipcserver/test/echo', ipcReqID: 1, data: 'back' });
    assert.deepStrictEqual(await client.next(), { ipcReqID: 1, data: 'back' });
    client.destroy();
    await h.stop();
  });

  it('refuses to start on a socket a live server is listening on, leaving that server alone', async function () {
    const socketPath = tmpSocketPath();
    const live = startDaemon({ socket_path: socketPath });
    await live.ready;
    const second = startDaemon({ socket_path: socketPath });
    const result = await second.exited;
    assert.notStrictEqual(result.code, 0);
    assert.match(result.output, new RegExp(`the daemon with pid ${live.child.pid} already serves .*ipc\\.sock \\(it holds the lock`));
    const client = await rawConnect(socketPath);
    await client.write({ uri: '/daemon/pid', ipcReqID: 1 });
    assert.strictEqual((await client.next()).data.pid, live.child.pid);
    client.destroy();
    live.child.kill('SIGTERM');
    const stopped = await live.exited;
    assert.strictEqual(stopped.code, 0);
    assert.ok(!fs.existsSync(socketPath), 'SIGTERM shutdown removes the socket file');
  });

  it('refuses to replace a file that is not a socket', async function () {
    const socketPath = tmpSocketPath();
    fs.writeFileSync(socketPath, 'precious');
    const result = await startDaemon({ socket_path: socketPath }).exited;
    assert.notStrictEqual(result.code, 0);
    assert.match(result.output, /not a socket/);
    assert.strictEqual(fs.readFileSync(socketPath, 'utf8'), 'precious');
  });

  it('applies socket_chmod, 0600 by default', async function () {
    let h = await startServer();
    assert.strictEqual(fs.statSync(h.socketPath).mode & 0o777, 0o600);
    await h.stop();
    h = await startServer({ socket_chmod: '660' });
    assert.strictEqual(fs.statSync(h.socketPath).mode & 0o777, 0o660);
    await h.stop();
  });

  it('lets in-flight requests finish and answer during shutdown, then removes the socket', async function () {
    const h = await startServer({ exit_timeout: 2000 });
    const client = await rawConnect(h.socketPath);
    await client.write({ uri: '/ipcserver/test/delay', ipcReqID: 'd', data: { delay: 200 } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    const stopping = h.stop();
    assert.deepStrictEqual(await client.next(), { uri: '/ipcserver/goaway', data: { reason: 'shutdown' } });
    assert.deepStrictEqual(await client.next(), { ipcReqID: 'd', data: { delay: 200 } });
    await client.waitEnd();
    await stopping;
    assert.ok(Date.now() - started < 1500);
    assert.ok(!fs.existsSync(h.socketPath));
  });

  it('finishes shutdown within exit_timeout even when a client hangs', async function () {
    const h = await startServer({ exit_timeout: 500 });
    const hung = await rawConnect(h.socketPath);
    hung.socket.pause(); // never reads
    await hung.write({ uri: '/ipcserver/test/delay', ipcReqID: 'forever', data: { delay: 60000 } });
    const idle = await rawConnect(h.socketPath);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    await h.stop();
    const took = Date.now() - started;
    assert.ok(took >= 450 && took < 1200, 'shutdown took ' + took + ' ms');
    assert.ok(!fs.existsSync(h.socketPath));
    await idle.waitEnd();
    hung.destroy();
    idle.destroy();
  });

  it('closeConnections() ends every client gracefully and the server keeps accepting', async function () {
    const h = await startServer();
    const a = await rawConnect(h.socketPath);
    const b = await rawConnect(h.socketPath);
    await new Promise((resolve) => setTimeout(resolve, 20));
    h.ipc.closeConnections();
    await a.waitEnd();
    await b.waitEnd();
    const c = await rawConnect(h.socketPath);
    await c.write({ uri: '/ipcserver/test/echo', ipcReqID: 1, data: 1 });
    assert.deepStrictEqual(await c.next(), { ipcReqID: 1, data: 1 });
    c.destroy();
    await h.stop();
  });

  it('answers requests a client sent before half-closing its side', async function () {
    const h = await startServer();
    const socket = net.connect(h.socketPath);
    let text = '';
    socket.on('data', (d) => { text += d; });
    socket.end('{"uri":"/ipcserver/test/delay","ipcReqID":"h","data":{"delay":30}}\n');
    await new Promise((resolve) => socket.on('close', resolve));
    assert.deepStrictEqual(JSON.parse(text), { ipcReqID: 'h', data: { delay: 30 } });
    await h.stop();
  });
});
