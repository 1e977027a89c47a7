'use strict';
// Operations on the app a new user just built: docs/handlers.md's minimal app,
// with no extra config, answers `stats`, `handlers`, `connections`, `top`,
// `monitor` and `ping` for its own user (the kernel's peer uid), and refuses
// the operations (not ping) to another local user unless its config opens them.
const assert = require('assert');
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');
const IPCClient = require('../../dist/client');
const { runCli, spawnCli, killSpawned, waitForOutput } = require('../helpers/cli');
const { startMinimalApp } = require('../helpers/minimal-app');
const { otherUser } = require('../helpers/other-user');
const { packedConsumer } = require('../helpers/consumer');
const { startServer, makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { waitFor } = require('../helpers/wait');

/** Labels in `stats` are words: a camelCase word there is a raw field name. */
function rawFieldNames(text) {
  return text.split('\n').filter((line) => /^ {2}\S/.test(line)).map((line) => line.slice(2, 24).trim()).filter((label) => /[a-z][A-Z]/.test(label));
}

async function client(socketPath, userAgent) {
  const c = new IPCClient(socketPath, null, { autoReconnect: false, userAgent });
  await c.connect();
  return c;
}

describe('operations on the minimal app, as its own user', function () {
  this.timeout(60000);
  let app;
  before(async function () { app = await startMinimalApp(); });
  after(async function () { if (app) await app.stop(); });
  afterEach(killSpawned);

  it('stats answers with readable labels, no raw field names', async function () {
    const c = await client(app.socketPath, 'ops-test');
    await c.send('/myapi/hello', { name: 'Ada' });
    await c.close();
    const result = await runCli(['stats', '--socket', app.socketPath]);
    assert.strictEqual(result.code, 0, result.stderr);
    assert.match(result.stdout, /connections open/);
    assert.match(result.stdout, /auth checks delayed\s+0/);
    assert.match(result.stdout, /pushes dropped\s+0/);
    assert.match(result.stdout, /resident memory/);
    assert.deepStrictEqual(rawFieldNames(result.stdout), []);
  });

  it('handlers lists the app\'s handler with its figures', async function () {
    const result = await runCli(['handlers', '--socket', app.socketPath]);
    assert.strictEqual(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Hello\s+\/\^\\\/myapi\\\/hello\/\s+\d+/m);
    assert.match(result.stdout, /IPCServer\.monitor/);
  });

  it('connections lists the connections, with the kernel\'s peer', async function () {
    const held = await client(app.socketPath, 'held-open/1.0');
    try {
      await held.send('/ipcserver/test/echo', {}); // a connection's user agent comes with its requests
      const result = await runCli(['connections', '--json', '--socket', app.socketPath]);
      assert.strictEqual(result.code, 0, result.stderr);
      const list = JSON.parse(result.stdout);
      const mine = list.find((c) => c.userAgent === 'held-open/1.0');
      assert.ok(mine, result.stdout);
      assert.strictEqual(mine.peer.uid, process.getuid());
      assert.strictEqual(mine.peer.pid, process.pid);
    } finally {
      await held.close();
    }
  });

  it('top --once draws its screen', async function () {
    const result = await runCli(['top', '--once', '--interval', '0.2', '--socket', app.socketPath]);
    assert.strictEqual(result.code, 0, result.stderr);
    assert.match(result.stdout, /ENDPOINTS/);
    assert.match(result.stdout, /CONNECTIONS/);
  });

  it('monitor shows each request: uri, handler, caller uid and pid, latency, answer code', async function () {
    const proc = spawnCli(['monitor', '--json', '--socket', app.socketPath]);
    const c = await client(app.socketPath, 'traffic');
    try {
      // The monitor subscribes a moment after it starts: probe until it shows one, then let its batches drain.
      await waitFor(async () => {
        await c.send('/myapi/hello', { name: 'probe' });
        return proc.stdout.includes('\n');
      }, 'the monitor shows traffic', 10000, 50);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = proc.stdout.trim().split('\n').length;
      await c.send('/myapi/hello', { name: 'Grace' });
      const unknown = await c.send('/myapi/nothing-here', {});
      assert.strictEqual(unknown.code, 'no_handler_found');
      await assert.rejects(c.send('/ipcserver/test/delay', { delay: -1 }), (err) => err.code === 'bad_delay');
      await waitFor(() => proc.stdout.trim().split('\n').length >= before + 3, 'three more lines', 10000, 20);
      const events = proc.stdout.trim().split('\n').slice(before).map((line) => JSON.parse(line));
      assert.deepStrictEqual(events.map((e) => [e.uri, e.handler, e.code]), [
        ['/myapi/hello', 'Hello', null],
        ['/myapi/nothing-here', '(unmatched)', 'no_handler_found'],
        ['/ipcserver/test/delay', 'IPCServer.delay', 'bad_delay'],
      ]);
      for (const event of events) {
        assert.strictEqual(event.uid, process.getuid());
        assert.strictEqual(event.pid, process.pid);
        assert.ok(event.ms >= 0 && event.ms < 5000, `latency ${event.ms}`);
        assert.ok(Math.abs(event.t - Date.now()) < 60000);
      }
    } finally {
      await c.close();
    }
  });

  it('monitor prints one readable line per request', async function () {
    const proc = spawnCli(['monitor', '--count', '1', '--socket', app.socketPath]);
    // Requests until one shows: the monitor subscribes some time after it starts.
    const c = await client(app.socketPath, 'traffic');
    const sending = setInterval(() => c.send('/myapi/hello', { name: 'x' }).catch(() => {}), 50);
    try {
      await waitForOutput(proc, /\n/, 10000);
    } finally {
      clearInterval(sending);
    }
    await proc.exited;
    await c.close();
    assert.match(proc.stdout, new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  uid ${process.getuid()} pid ${process.pid}  conn \\d+  /myapi/hello  \\(Hello\\)  [\\d.]+ ms  ok\\n$`));
  });

  it('ping exits 0 with the times', async function () {
    const result = await runCli(['ping', '--count', '3', '--socket', app.socketPath]);
    assert.strictEqual(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^pong from ${app.socketPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: connect [\\d.]+ ms, round trip [\\d.]+ ms \\(median of 3, min [\\d.]+ ms, max [\\d.]+ ms\\)\\n$`));
    const json = await runCli(['ping', '--json', '--socket', app.socketPath]);
    assert.strictEqual(json.code, 0, json.stderr);
    const figures = JSON.parse(json.stdout);
    assert.strictEqual(figures.ok, true);
    assert.ok(figures.roundTripMs > 0 && figures.connectMs > 0);
  });
});

describe('ping for health checks: exit codes', function () {
  this.timeout(30000);
  after(cleanupTempDirs);

  it('exits 3 with the shared hint when nothing is there', async function () {
    const missing = path.join(makeTempDir(), 'none.sock');
    const result = await runCli(['ping', '--socket', missing]);
    assert.strictEqual(result.code, 3);
    assert.strictEqual(result.stdout, '');
    assert.match(result.stderr, /^pixl-ipc ping: no socket at /);
  });

  it('exits 4 when the daemon accepts but does not answer in time', async function () {
    const socketPath = path.join(makeTempDir(), 'silent.sock');
    const held = [];
    const silent = net.createServer((socket) => held.push(socket));
    await new Promise((resolve) => silent.listen(socketPath, resolve));
    try {
      const started = Date.now();
      const result = await runCli(['ping', '--timeout', '300', '--socket', socketPath]);
      assert.strictEqual(result.code, 4, result.stderr);
      assert.match(result.stderr, /request_timeout/);
      assert.ok(Date.now() - started < 10000);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

/** The packed package's CLI, which another user can read (a checkout may sit in a private directory). */
function cliForOtherUser() {
  const { dir } = packedConsumer();
  // mkdtemp makes it 0700; npm's files inside are world-readable.
  fs.chmodSync(dir, 0o755);
  return path.join(dir, 'node_modules', 'pixl-ipc', 'dist', 'bin', 'pixl-ipc.js');
}

function runCliAs(user, cli, args) {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH, HOME: '/', LANG: 'C' };
    const child = spawn(process.execPath, [cli, ...args], { uid: user.uid, gid: user.gid, env, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const limit = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(limit); resolve({ code, stdout, stderr }); });
  });
}

describe('operations as another local user', function () {
  this.timeout(120000);
  let user;
  let cli;
  before(function () {
    user = otherUser();
    if (user.skip) {
      console.log(`      (skipped: ${user.skip})`);
      this.skip();
    }
    cli = cliForOtherUser();
  });

  describe('the minimal app, its socket opened to every user (socket_chmod 666) and nothing else changed', function () {
    let app;
    before(async function () { app = await startMinimalApp({ socket_chmod: '666' }); });
    after(async function () { if (app) await app.stop(); });

    for (const command of [['stats'], ['handlers'], ['connections'], ['top', '--once', '--interval', '0.2'], ['monitor', '--count', '1']]) {
      it(`${command[0]} is refused: forbidden, exit 1, saying how to open it`, async function () {
        const result = await runCliAs(user, cli, [...command, '--socket', app.socketPath]);
        assert.strictEqual(result.code, 1, `${result.stdout}\n${result.stderr}`);
        assert.strictEqual(result.stdout, '');
        assert.match(result.stderr, /forbidden: the (stats endpoint|traffic monitor) answers only the daemon's own user \(uid \d+\), not uid \d+: run the command as that user, or set (stats|monitor)_endpoint: true/);
        assert.strictEqual(result.stderr.trim().split('\n').length, 1, result.stderr);
      });
    }

    it('ping works for any user who can connect, and the app keeps serving its own user', async function () {
      const result = await runCliAs(user, cli, ['ping', '--socket', app.socketPath]);
      assert.strictEqual(result.code, 0, result.stderr);
      assert.match(result.stdout, /^pong from /);
      const own = await runCli(['stats', '--json', '--socket', app.socketPath]);
      assert.strictEqual(own.code, 0, own.stderr);
    });

    it("the other user's requests show in its owner's monitor, with the other user's uid", async function () {
      const proc = spawnCli(['monitor', '--json', '--count', '1', '--socket', app.socketPath]);
      try {
        // Ping (as the other user) until the monitor, once subscribed, has seen one.
        await waitFor(async () => {
          if (proc.stdout.includes('\n')) return true;
          await runCliAs(user, cli, ['ping', '--socket', app.socketPath]);
          return proc.stdout.includes('\n');
        }, 'a traffic line', 30000, 50);
        const event = JSON.parse(proc.stdout.split('\n')[0]);
        assert.strictEqual(event.uid, user.uid);
        assert.strictEqual(event.uri, '/ipcserver/test/echo');
      } finally {
        killSpawned();
      }
    });
  });

  describe('a daemon whose config opens them (stats_endpoint and monitor_endpoint true)', function () {
    let h;
    before(async function () {
      // A directory the other user may enter; the daemon makes the socket's own.
      const dir = makeTempDir();
      fs.chmodSync(dir, 0o755);
      h = await startServer({ socket_path: path.join(dir, 'run', 'ipc.sock'), socket_chmod: '666', stats_endpoint: true, monitor_endpoint: true });
    });
    after(async function () { if (h) await h.stop(); cleanupTempDirs(); });

    it('answers stats and the traffic monitor to the other user', async function () {
      const stats = await runCliAs(user, cli, ['stats', '--json', '--socket', h.socketPath]);
      assert.strictEqual(stats.code, 0, stats.stderr);
      assert.strictEqual(typeof JSON.parse(stats.stdout).uptime, 'number');
      const monitor = spawn(process.execPath, [cli, 'monitor', '--json', '--count', '1', '--socket', h.socketPath], { uid: user.uid, gid: user.gid, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      monitor.stdout.on('data', (chunk) => { out += chunk; });
      const exited = new Promise((resolve) => monitor.on('close', resolve));
      const c = await client(h.socketPath, 'seen');
      try {
        await waitFor(async () => {
          await c.send('/ipcserver/test/echo', { n: 1 });
          return out.includes('\n');
        }, 'the other user\'s monitor printed a request', 20000, 50);
      } finally {
        await c.close();
        monitor.kill('SIGKILL');
        await exited;
      }
      assert.strictEqual(JSON.parse(out.split('\n')[0]).uid, process.getuid());
    });
  });
});
