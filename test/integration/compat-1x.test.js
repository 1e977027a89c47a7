'use strict';
// An application written for 1.x, run unchanged in its own process: its string
// patterns still route (they are anchored regular expressions, as in 1.x), and
// when startup fails without a `startup_failed` listener the reason is on
// stderr, not only in the log file.
const assert = require('assert');
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const IPCClient = require('pixl-ipc/client');
const { makeTempDir, cleanupTempDirs } = require('../helpers/harness');

const APP = path.join(__dirname, 'fixtures', 'app-1x.js');

/** Runs the 1.x app; `ready` resolves on READY, `exited` with { code, stdout, stderr }. */
function runApp(socketPath) {
  const child = spawn(process.execPath, [APP, socketPath, makeTempDir('pixl-ipc-log-')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', () => { if (stdout.includes('READY')) resolve(); });
    exited.then((r) => reject(new Error(`the app exited ${r.code}: ${r.stdout}${r.stderr}`)));
  });
  ready.catch(() => {});
  return { child, ready, exited };
}

/** 1.x callback style: send(uri, data, callback(err, data)). */
function send(client, uri, data) {
  return new Promise((resolve, reject) => client.send(uri, data, (err, answer) => (err ? reject(err) : resolve(answer))));
}

describe('a 1.x application, unchanged', function () {
  this.timeout(20000);
  const running = [];
  afterEach(async function () {
    for (const app of running.splice(0)) {
      app.child.kill('SIGTERM');
      await app.exited;
    }
  });
  after(cleanupTempDirs);

  it('routes its string patterns as anchored regular expressions', async function () {
    const socketPath = path.join(makeTempDir(), 'legacy.sock');
    const app = runApp(socketPath);
    running.push(app);
    await app.ready;
    const client = new IPCClient(socketPath);
    await new Promise((resolve, reject) => client.connect((err) => (err ? reject(err) : resolve())));
    try {
      assert.deepStrictEqual(await send(client, '/myapi/users/42', {}), { user: '42' });
      assert.deepStrictEqual(await send(client, '/myapi/status', {}), { ok: true });
      assert.deepStrictEqual(await send(client, '/myapi/v2/echo', { a: 1 }), { a: 1 });
      // Anchored: a longer uri is not a match, as in 1.x.
      const miss = await send(client, '/myapi/statusx', {});
      assert.strictEqual(miss.code, 'no_handler_found');
    } finally {
      client.close();
    }
  });

  it('says on stderr why it cannot start: a group-writable socket directory', async function () {
    const dir = path.join(makeTempDir(), 'shared');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o775);
    const result = await runApp(path.join(dir, 'legacy.sock')).exited;
    assert.strictEqual(result.code, 1);
    assert.match(result.stderr, /^pixl-ipc: IPCServer cannot start: .*is writable by its group \(mode 0775\).*chmod go-w /m);
  });

  it('says on stderr why it cannot start: the socket is in use by another daemon', async function () {
    const socketPath = path.join(makeTempDir(), 'legacy.sock');
    const first = runApp(socketPath);
    running.push(first);
    await first.ready;
    const second = await runApp(socketPath).exited;
    assert.strictEqual(second.code, 1);
    assert.match(second.stderr, /^pixl-ipc: IPCServer cannot start: .*legacy\.sock/m);
    assert.doesNotMatch(second.stdout, /READY/);
  });
});
