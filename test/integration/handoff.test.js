'use strict';
// Hand-off that never leaves the socket path without a daemon (issue 24):
// the commit waits for the new daemon's whole startup; a new daemon killed at
// any step gives the path back to the old one within a second; an old daemon
// killed at any step leaves the new one owning path and lock. Real `pixl-ipc
// serve` processes, killed with SIGKILL.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { writeHandlers, writeConfig, spawnDaemon, killAll, who, untilLive, lockPid, alive } = require('../helpers/handoff-kit');
const IPCClient = require('pixl-ipc/client');
const { sleep, waitFor } = require('../helpers/wait');

/** The step hook's pause: long enough to kill inside a step, short enough that an old daemon killed meanwhile is replaced within a second. */
const PAUSE_MS = 400;
/** handoff_watch in these tests, and a wait past it. */
const WATCH_MS = 300;
const PAST_WATCH_MS = 500;

/** A fresh directory with a config (short watch) and the /who handlers. */
function setup(ipc = {}) {
  const dir = makeTempDir('pixl-ipc-ho-');
  const socketPath = path.join(dir, 'ipc.sock');
  return { dir, socketPath, config: writeConfig(dir, socketPath, { handoff_watch: WATCH_MS, ...ipc }), handlers: writeHandlers(dir) };
}

async function startOld(env) {
  const old = spawnDaemon(env.config, env.handlers);
  assert.ok(await old.listening, old.out.text);
  assert.strictEqual((await who(env.socketPath)).pid, old.pid);
  return old;
}

describe('hand-off: the path always leads to a live daemon (issue 24)', function () {
  this.timeout(30000);
  afterEach(killAll);
  after(cleanupTempDirs);

  it('serve --takeover whose handlers setup throws (or rejects) leaves the old daemon serving, the path and the lock its own, and says why', async function () {
    const env = setup();
    const old = await startOld(env);
    const inode = fs.statSync(env.socketPath).ino;
    const client = new IPCClient(env.socketPath, null, { autoReconnect: false });
    await client.connect();
    for (const body of ["  throw new Error('setup exploded');\n", "  return Promise.reject(new Error('setup exploded later'));\n"]) {
      const bad = writeHandlers(env.dir, 'bad.js', body);
      const taker = spawnDaemon(env.config, bad, { takeover: true });
      const result = await taker.exited;
      assert.notStrictEqual(result.code, 0, result.output);
      assert.match(result.output, /pixl-ipc serve: handlers file .*bad\.js: setup exploded/);
      assert.strictEqual(fs.statSync(env.socketPath).ino, inode, 'the path still leads to the old socket');
      assert.strictEqual((await who(env.socketPath)).pid, old.pid);
      assert.strictEqual(lockPid(env.socketPath), old.pid);
      assert.strictEqual((await client.send('/who')).pid, old.pid, 'a connected client keeps being served');
    }
    await sleep(PAST_WATCH_MS); // the old daemon never started to go
    assert.ok(alive(old.pid));
    assert.strictEqual((await who(env.socketPath)).pid, old.pid);
    await client.close();
  });

  for (const step of ['spawned', 'prepared', 'renamed', 'committed']) {
    it(`the new daemon SIGKILLed ${step === 'spawned' ? 'before prepare' : `after it ${step}`}: the path leads to the old daemon again within a second, and it serves on`, async function () {
      const env = setup();
      const old = await startOld(env);
      const client = new IPCClient(env.socketPath, null, { autoReconnect: false });
      await client.connect();
      const taker = spawnDaemon(env.config, env.handlers, { takeover: true, pause: step === 'spawned' ? '' : `${step}:3000` });
      if (step !== 'spawned') assert.ok(await taker.step(step), taker.out.text);
      if (step === 'renamed' || step === 'committed') assert.strictEqual((await who(env.socketPath)).pid, taker.pid, 'the path leads to the new daemon');
      taker.child.kill('SIGKILL');
      await taker.exited;
      const back = await untilLive(env.socketPath, 1000, [old.pid]);
      assert.strictEqual(back.pid, old.pid, `the path leads to the old daemon within a second (${JSON.stringify(back)})`);
      console.log(`      new daemon killed ${step}: path back to the old daemon in ${back.ms} ms`);
      assert.strictEqual((await client.send('/who')).pid, old.pid, 'its connected client never noticed');
      await sleep(PAST_WATCH_MS);
      assert.ok(alive(old.pid), 'the old daemon did not shut down');
      assert.strictEqual((await who(env.socketPath)).pid, old.pid);
      assert.strictEqual(lockPid(env.socketPath), old.pid);
      assert.ok(!fs.readdirSync(env.dir).some((name) => name.startsWith('.pixl-')), 'no staging or standby directory left');
      await client.close();
      if (step !== 'committed') return;
      // And a later hand-off still works.
      const next = spawnDaemon(env.config, env.handlers, { takeover: true });
      assert.ok(await next.listening, next.out.text);
      assert.strictEqual((await who(env.socketPath)).pid, next.pid);
      const oldExit = await old.exited;
      assert.strictEqual(oldExit.code, 0, oldExit.output);
      await waitFor(() => lockPid(env.socketPath) === next.pid, 'the new daemon to own the lock', 3000);
    });
  }

  for (const step of ['prepared', 'renamed', 'committed']) {
    it(`the old daemon SIGKILLed after the new one ${step}: the new one serves the path within a second and owns the lock`, async function () {
      const env = setup();
      const old = await startOld(env);
      const taker = spawnDaemon(env.config, env.handlers, { takeover: true, pause: `${step}:${PAUSE_MS}` });
      assert.ok(await taker.step(step), taker.out.text);
      old.child.kill('SIGKILL');
      await old.exited;
      const live = await untilLive(env.socketPath, 1000, [taker.pid]);
      assert.strictEqual(live.pid, taker.pid, `the new daemon serves within a second (${JSON.stringify(live)}): ${taker.out.text}`);
      console.log(`      old daemon killed after the new one ${step}: the new one serves in ${live.ms} ms`);
      assert.ok(await taker.listening, taker.out.text);
      await waitFor(() => lockPid(env.socketPath) === taker.pid, 'the new daemon to own the lock', 3000);
    });
  }

  it('a takeover whose rename fails (socket_path became a plain file) exits 1 saying why, and the old daemon serves on', async function () {
    const env = setup();
    const old = await startOld(env);
    const taker = spawnDaemon(env.config, env.handlers, { takeover: true, pause: 'prepared:1500' });
    assert.ok(await taker.step('prepared'), taker.out.text);
    // Someone puts a file at the path meanwhile.
    const aside = env.socketPath + '.aside';
    fs.renameSync(env.socketPath, aside);
    fs.writeFileSync(env.socketPath, 'not a socket');
    const result = await taker.exited;
    assert.strictEqual(result.code, 1, result.output);
    assert.match(result.output, /pixl-ipc serve: IPCServer: .*ipc\.sock exists and is not a socket; refusing to replace it/);
    // The old daemon saw the new one go and put its socket back (it owns the path: it holds the lock).
    assert.strictEqual((await untilLive(env.socketPath, 1000)).pid, old.pid);
    fs.unlinkSync(aside);
    await sleep(PAST_WATCH_MS);
    assert.ok(alive(old.pid));
  });

  it('auth_timeout and idle_timeout shorter than the new daemon\'s startup do not close the hand-off connection', async function () {
    const env = setup({ auth_tokens: ['tok'], auth_timeout: 200, idle_timeout: 200 });
    const old = spawnDaemon(env.config, env.handlers);
    assert.ok(await old.listening, old.out.text);
    const taker = spawnDaemon(env.config, env.handlers, { takeover: true, pause: 'prepared:700' });
    assert.ok(await taker.waitOutput(new RegExp(`took over from pid ${old.pid}`)), taker.out.text);
    assert.strictEqual((await old.exited).code, 0);
    await waitFor(() => lockPid(env.socketPath) === taker.pid, 'the new daemon to own the lock', 3000);
  });

  it('TCP and metrics ports pass to the new daemon once the old one lets go of them, after its watch', async function () {
    const { freePort } = require('../helpers/harness');
    const tcpPort = await freePort();
    const metricsPort = await freePort();
    const env = setup({ listen_port: tcpPort, metrics_port: metricsPort });
    const old = await startOld(env);
    const taker = spawnDaemon(env.config, env.handlers, { takeover: true });
    assert.ok(await taker.waitOutput(new RegExp(`took over from pid ${old.pid}`)), taker.out.text);
    assert.strictEqual((await old.exited).code, 0);
    const viaTcp = new IPCClient(`tcp://127.0.0.1:${tcpPort}`, null, { autoReconnect: false });
    await waitFor(async () => {
      try {
        await viaTcp.connect();
        return true;
      } catch {
        return false;
      }
    }, 'the new daemon to listen on the TCP port', 8000, 50);
    assert.strictEqual((await viaTcp.send('/who')).pid, taker.pid);
    await viaTcp.close();
    const http = require('http');
    const metrics = await new Promise((resolve) => {
      const poll = () => http.get({ host: '127.0.0.1', port: metricsPort, path: '/metrics' }, (res) => { res.resume(); resolve(res.statusCode); }).on('error', () => setTimeout(poll, 50));
      poll();
    });
    assert.strictEqual(metrics, 200);
  });

  it('a plain hand-off: the old daemon stands by for handoff_watch, then goes; the new one owns the lock once it has', async function () {
    const env = setup();
    const old = await startOld(env);
    const taker = spawnDaemon(env.config, env.handlers, { takeover: true });
    assert.ok(await taker.listening, taker.out.text);
    assert.strictEqual((await who(env.socketPath)).pid, taker.pid);
    // The old daemon holds the owner lock until it exits; the new one holds the start lock meanwhile.
    assert.ok(alive(old.pid));
    const exit = await old.exited;
    assert.strictEqual(exit.code, 0);
    assert.match(exit.output, new RegExp(`handing off to pid ${taker.pid}`));
    await waitFor(() => lockPid(env.socketPath) === taker.pid, 'the lock to pass to the new daemon', 3000);
    assert.match(taker.out.text, new RegExp(`took over from pid ${old.pid}`));
  });
});
