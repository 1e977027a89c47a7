'use strict';
// Startup settings that shape the listeners: socket file mode and directory,
// listen_host, the warning for an unauthenticated network listener, and TLS
// settings refused up front.
const assert = require('assert');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { startServer, makeTempDir, cleanupTempDirs, freePort } = require('../helpers/harness');
const { startDaemon } = require('../helpers/daemon');
const { rawConnect } = require('../helpers/raw');

const NO_AUTH_WARNING = 'WARNING: IPCServer listens on the network without authentication';

function readLog(h) {
  return fs.readFileSync(path.join(h.logDir, 'test.log'), 'utf8');
}

/** Resolves to the error code of a TCP connect to host:port, or 'connected'. */
function tryConnect(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.once('connect', () => { socket.destroy(); resolve('connected'); });
    socket.once('error', (err) => resolve(err.code));
  });
}

async function echoOver(target) {
  const client = await rawConnect(target);
  try {
    await client.write({ ipcReqID: 'e', uri: '/ipcserver/test/echo', data: 'over ' + JSON.stringify(target) });
    return (await client.next()).data;
  } finally {
    client.destroy();
  }
}

describe('startup: the socket file', function () {
  let h = null;
  afterEach(async function () { if (h) await h.stop(); h = null; });
  after(cleanupTempDirs);

  it('socket_chmod as a number sets that mode', async function () {
    h = await startServer({ socket_chmod: 0o640 });
    assert.strictEqual(fs.statSync(h.socketPath).mode & 0o7777, 0o640);
  });

  it('socket_chmod as a four-digit string sets that mode', async function () {
    h = await startServer({ socket_chmod: '0660' });
    assert.strictEqual(fs.statSync(h.socketPath).mode & 0o7777, 0o660);
  });

  it('socket_chmod: false leaves the mode the umask gives', async function () {
    h = await startServer({ socket_chmod: false });
    const umask = process.umask();
    assert.strictEqual(fs.statSync(h.socketPath).mode & 0o777, 0o777 & ~umask, 'umask ' + umask.toString(8));
    assert.strictEqual(await echoOver(h.socketPath), 'over ' + JSON.stringify(h.socketPath));
  });

  it('creates a missing socket directory, nested', async function () {
    const socketPath = path.join(makeTempDir(), 'not', 'there', 'yet', 'ipc.sock');
    h = await startServer({ socket_path: socketPath });
    assert.ok(fs.statSync(socketPath).isSocket());
    assert.strictEqual(await echoOver(socketPath), 'over ' + JSON.stringify(socketPath));
  });
});

describe('startup: network listeners', function () {
  let h = null;
  afterEach(async function () { if (h) await h.stop(); h = null; });
  after(cleanupTempDirs);

  it('listen_host binds the TCP listener to that address only', async function () {
    if (process.platform !== 'linux') this.skip(); // 127.0.0.2 is loopback on Linux without setup
    const port = await freePort();
    h = await startServer({ listen_port: port, listen_host: '127.0.0.2', auth_tokens: ['t'] });
    assert.strictEqual(h.ipc.tcpPort, port);
    assert.strictEqual(await tryConnect('127.0.0.2', port), 'connected');
    assert.strictEqual(await tryConnect('127.0.0.1', port), 'ECONNREFUSED');
  });

  it('listens on loopback by default', async function () {
    const port = await freePort();
    h = await startServer({ listen_port: port, auth_tokens: ['t'] });
    const addresses = Object.values(require('os').networkInterfaces()).flat()
      .filter((a) => a.family === 'IPv4' && !a.internal).map((a) => a.address);
    assert.strictEqual(await tryConnect('127.0.0.1', port), 'connected');
    for (const address of addresses) assert.notStrictEqual(await tryConnect(address, port), 'connected', address);
  });

  it('warns once when a network listener has no authentication, and not otherwise', async function () {
    h = await startServer({ listen_port: await freePort() });
    const log = readLog(h);
    assert.strictEqual(log.split(NO_AUTH_WARNING).length - 1, 1, 'one warning');
    await h.stop();
    h = await startServer({ listen_port: await freePort(), auth_tokens: ['a-token'] });
    assert.ok(!readLog(h).includes(NO_AUTH_WARNING), 'none with auth_tokens');
    await h.stop();
    h = await startServer({});
    assert.ok(!readLog(h).includes(NO_AUTH_WARNING), 'none on the Unix socket alone');
  });

  it('warns about each unknown IPCServer key, naming the closest known key, and starts anyway', async function () {
    h = await startServer({ max_mesage_size: 1024, Socket_Chmod: '660', completely_unrelated: true });
    const log = readLog(h);
    assert.match(log, /WARNING: IPCServer config: unknown key max_mesage_size \(did you mean max_message_size\?\); it is ignored/);
    assert.match(log, /unknown key Socket_Chmod \(did you mean socket_chmod\?\)/);
    assert.match(log, /unknown key completely_unrelated; it is ignored/);
    assert.strictEqual(h.ipc.limits.maxMessageSize, 32 * 1024 * 1024, 'the misspelled key changed nothing');
    assert.doesNotMatch(log, /unknown key (socket_path|max_connections|log_stats_interval)\b/, 'known keys are not reported');
  });

  it('refuses to start with tls_port but no tls_key or tls_cert, saying so', async function () {
    const socketPath = path.join(makeTempDir(), 'tls.sock');
    for (const config of [{ tls_port: 7443 }, { tls_port: 7443, tls_key: '/nonexistent/key.pem' }]) {
      const result = await startDaemon({ socket_path: socketPath, ...config }).exited;
      assert.notStrictEqual(result.code, 0, JSON.stringify(config));
      assert.match(result.output, /tls_port needs tls_key and tls_cert/, JSON.stringify(config));
      assert.ok(!fs.existsSync(socketPath), 'nothing was left listening');
    }
  });

  it('refuses to start when the TLS key file cannot be read, leaving no socket file', async function () {
    const socketPath = path.join(makeTempDir(), 'tls2.sock');
    const result = await startDaemon({ socket_path: socketPath, tls_port: await freePort(), tls_key: '/nonexistent/key.pem', tls_cert: '/nonexistent/cert.pem' }).exited;
    assert.notStrictEqual(result.code, 0);
    assert.match(result.output, /key\.pem/);
    assert.ok(!fs.existsSync(socketPath), 'the Unix listener opened before it was closed again');
  });
});
