'use strict';
// expectServerUid (issue 15): the Node client checks who is listening, as the
// kernel reports it (SO_PEERCRED), before it writes anything, credentials
// included. The impostor test runs a server as another user (root only, as
// in CI; skipped with a message otherwise).
const assert = require('assert');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { spawn } = require('child_process');
const { startServer, makeTempDir, cleanupTempDirs, freePort } = require('../helpers/harness');
const { LoggerStub } = require('../helpers/logger-stub');
const { waitFor } = require('../helpers/wait');
const IPCClient = require('pixl-ipc/client');
const { peerCredentialsAvailable } = require('../../dist/lib/peer-cred');

const ECHO = '/ipcserver/test/echo';
const OTHER_UID = 65534; // nobody

describe('client: expectServerUid', function () {
  let h;
  before(async function () {
    if (!peerCredentialsAvailable()) this.skip();
    h = await startServer({ auth_tokens: ['s3cret'] });
  });
  after(async function () { if (h) await h.stop(); cleanupTempDirs(); });

  it('connects, authenticates and is served when the server runs as the expected uid', async function () {
    const client = new IPCClient(h.socketPath, null, { expectServerUid: process.getuid(), auth: 's3cret' });
    await client.connect();
    assert.strictEqual(await client.send(ECHO, 'me'), 'me');
    await client.close();
  });

  it('another expected uid: refused with server_identity before anything is written (no credentials, no requests)', async function () {
    const socketPath = path.join(makeTempDir(), 'counting.sock');
    let bytes = 0;
    let connections = 0;
    const server = net.createServer((sock) => { connections++; sock.on('data', (d) => { bytes += d.length; }); sock.on('error', () => {}); });
    await new Promise((resolve) => server.listen(socketPath, resolve));
    const logger = new LoggerStub();
    const client = new IPCClient(socketPath, logger, { expectServerUid: process.getuid() + 12345, auth: 's3cret', autoReconnect: false });
    const connecting = client.connect();
    const queued = client.send(ECHO, 'must not leave');
    await assert.rejects(connecting, (err) => err.code === 'server_identity' && err.message.includes(`${socketPath} is served by uid ${process.getuid()} (`) && err.message.includes(`not the expected uid ${process.getuid() + 12345} (no name); nothing was sent`));
    await assert.rejects(queued, { code: 'server_identity' });
    assert.strictEqual(logger.errorsWithCode('server_identity').length, 1);
    await client.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.strictEqual(connections, 1, 'it did connect');
    assert.strictEqual(bytes, 0, 'and wrote nothing');
    await new Promise((resolve) => server.close(resolve));
  });

  it('a tcp:// target cannot be checked, so it is refused', async function () {
    const port = await freePort();
    const server = net.createServer((s) => s.destroy()).listen(port, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const client = new IPCClient(`tcp://127.0.0.1:${port}`, null, { expectServerUid: 0 });
    await assert.rejects(client.connect(), (err) => err.code === 'server_identity' && /Unix socket/.test(err.message));
    await new Promise((resolve) => server.close(resolve));
  });

  it('an impostor listening as another user gets neither the credentials nor a request', async function () {
    if (process.getuid() !== 0) {
      console.log('      (skipped: running a server as another user needs root)');
      this.skip();
    }
    this.timeout(15000);
    const dir = makeTempDir('pixl-ipc-impostor-');
    fs.chmodSync(dir, 0o777);
    const socketPath = path.join(dir, 'impostor.sock');
    // The impostor prints every byte it receives, and READY once listening.
    const script = `
      const net = require('net');
      net.createServer((s) => { s.on('data', (d) => process.stdout.write('GOT ' + d.length + ' ' + d.toString('base64') + '\\n')); s.on('error', () => {}); })
        .listen(process.argv[1], () => process.stdout.write('READY\\n'));
      process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`;
    const child = spawn(process.execPath, ['-e', script, socketPath], { uid: OTHER_UID, gid: OTHER_UID, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    try {
      await waitFor(() => out.includes('READY'), 'the impostor to listen', 10000);
      const client = new IPCClient(socketPath, null, { expectServerUid: process.getuid(), auth: 's3cret', autoReconnect: false });
      const connecting = client.connect();
      const queued = client.send(ECHO, 'for the real daemon only');
      await assert.rejects(connecting, (err) => err.code === 'server_identity' && err.message.includes('uid ' + OTHER_UID));
      await assert.rejects(queued, { code: 'server_identity' });
      await client.close();
      // Without the check, the same client hands over its token: the test can tell.
      const trusting = new IPCClient(socketPath, null, { auth: 's3cret', autoReconnect: false, connectTimeout: 300 });
      await assert.rejects(trusting.connect(), { code: 'connect_timeout' });
      await waitFor(() => out.includes('GOT'), 'the trusting client\'s bytes');
      const received = out.split('\n').filter((l) => l.startsWith('GOT ')).map((l) => Buffer.from(l.split(' ')[2], 'base64').toString()).join('');
      assert.ok(received.includes('s3cret'), 'the control client did send its credentials');
      assert.strictEqual(received.includes('for the real daemon only'), false);
      assert.strictEqual((received.match(/s3cret/g) || []).length, 1, 'only the trusting client sent them');
      await trusting.close();
    } finally {
      child.stdin.end();
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
