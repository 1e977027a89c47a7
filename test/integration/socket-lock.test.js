'use strict';
// The lock beside the socket (lib/socket-lock.ts): daemons started at once on
// one path, plain or with takeover, end with exactly one owner and a clear
// error from each other; the lock never goes stale (SIGKILL, a reused pid),
// and a planted lock file is refused.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const PixlServer = require('pixl-server');
const { makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { writeHandlers, writeConfig, spawnDaemon, killAll, who, untilLive, lockPid } = require('../helpers/handoff-kit');
const { sleep, waitFor } = require('../helpers/wait');
const { spawnSync } = require('child_process');
const { otherUser } = require('../helpers/other-user');

/** What a starter that lost says (every failure must be one of these). */
const LOST = /another daemon is starting on .* or taking it over|already serves .* \(it holds the lock|A hand-off to the daemon with pid \d+ is in progress/;

/**
 * A pixl-server with the real component, in this process, that does not exit
 * the process when its startup fails. Resolves { ok, err, server, id } once
 * its startup has finished either way.
 */
function starter(socketPath, id, ipc) {
  const server = new PixlServer({
    __name: 'LockRace', __version: '1.0',
    config: { foreground: true, log_dir: path.dirname(socketPath), log_filename: 'race.log', debug_level: 1, IPCServer: { socket_path: socketPath, log_stats_interval: false, handoff_watch: 30, exit_timeout: 500, ...ipc } },
    components: [require('pixl-ipc')],
  });
  server.IPCServer.addURIHandler('/who', 'Who', (request, callback) => callback({ pid: id }));
  const realShutdown = server.shutdown.bind(server);
  let failed = null;
  const done = new Promise((resolve) => {
    server.IPCServer.once('startup_failed', (err) => {
      failed = err;
      for (const [signal, fn] of [['SIGINT', server.sigIntFunc], ['SIGTERM', server.sigTermFunc], ['SIGHUP', server.sigHupFunc]]) if (fn) process.off(signal, fn);
      resolve({ ok: false, err, server, id });
    });
    // pixl-server exits the process after a failed startup: not this one.
    server.shutdown = (callback) => (failed ? callback && callback() : realShutdown(callback));
    server.startup(() => resolve({ ok: true, server, id }));
  });
  return done;
}

/** Resolves once pixl-server `server` has shut down (or at once if it has). */
function whenShut(server) {
  return server.shut && server.components.length === 0 ? Promise.resolve() : new Promise((resolve) => server.once('shutdown', resolve));
}

describe('the lock beside the socket (issue 24)', function () {
  this.timeout(60000);
  afterEach(killAll);
  after(cleanupTempDirs);
  // Each pixl-server in this process listens for SIGINT, SIGTERM and SIGHUP while it runs: 8 at once pass Node's default of 10.
  const maxListeners = process.getMaxListeners();
  before(() => process.setMaxListeners(maxListeners + 16));
  after(() => process.setMaxListeners(maxListeners));

  it('8 starters at once on one path, 25 times (plain, takeover, and mixed): exactly one owner each time, a clear error from each other', async function () {
    const counts = { ok: 0, lost: 0, handedOff: 0 };
    for (let round = 0; round < 25; round++) {
      const socketPath = path.join(makeTempDir('pixl-ipc-lock-'), 'ipc.sock');
      // Rounds 0, 3, 6...: all plain; 1, 4...: all takeover; 2, 5...: half and half.
      const mode = round % 3;
      // Half the rounds start all 8 in the same tick; the others spread them over 40 ms, so that some arrive while another starts or hands off.
      const spread = round % 2 === 1 ? 40 : 0;
      const results = await Promise.all(Array.from({ length: 8 }, async (_, i) => {
        if (spread) await sleep(Math.random() * spread);
        return starter(socketPath, i + 1, { handoff: mode === 1 || (mode === 2 && i % 2 === 0) });
      }));
      for (const r of results.filter((x) => !x.ok)) assert.match(r.err.message, LOST, `round ${round}: a clear error`);
      const started = results.filter((r) => r.ok);
      assert.ok(started.length >= 1, `round ${round}: someone started`);
      // Started takeovers that won hand-offs: every daemon but the last one hands off and shuts down.
      const survivors = async () => {
        const alive = started.filter((r) => !r.server.shut);
        return alive.length === 1 ? alive : null;
      };
      await waitFor(survivors, `round ${round}: all but one daemon to hand off and stop`, 10000, 10);
      const [owner] = await survivors();
      await waitFor(async () => (await who(socketPath)).pid === owner.id, `round ${round}: the path to lead to the owner`, 3000, 10);
      await waitFor(() => lockPid(socketPath) === process.pid, `round ${round}: the owner to write the lock`, 3000, 10);
      counts.ok += 1;
      counts.lost += results.length - started.length;
      counts.handedOff += started.length - 1;
      await new Promise((resolve) => owner.server.shutdown(resolve));
      for (const r of started) await whenShut(r.server);
      assert.ok(!fs.existsSync(socketPath), 'the owner removed its socket');
    }
    console.log(`      25 rounds of 8: ${counts.ok} owners, ${counts.lost} refused with a clear error, ${counts.handedOff} started and handed off in turn`);
  });

  it('8 `pixl-ipc serve` processes at once on one path (half with --takeover): one owner, the others exit 1 saying why or hand off in turn', async function () {
    {
      const dir = makeTempDir('pixl-ipc-lock-');
      const socketPath = path.join(dir, 'ipc.sock');
      const config = writeConfig(dir, socketPath, { handoff_watch: 50, exit_timeout: 500 });
      const handlers = writeHandlers(dir);
      const daemons = Array.from({ length: 8 }, (_, i) => spawnDaemon(config, handlers, { takeover: i % 2 === 1 }));
      // Each either listens or exits; takeovers that started hand off in turn, leaving one.
      await waitFor(() => daemons.every((d) => /listening on/.test(d.out.text) || d.child.exitCode !== null), 'every starter to listen or exit', 30000, 20);
      await waitFor(() => daemons.filter((d) => d.child.exitCode === null).length === 1, 'one daemon to remain', 15000, 20);
      const owner = daemons.find((d) => d.child.exitCode === null);
      for (const d of daemons.filter((x) => x !== owner)) {
        const { code, output } = await d.exited;
        if (code === 0) assert.match(output, /handing off to pid/, 'a daemon that exits 0 handed off');
        else assert.match(output, new RegExp(`pixl-ipc serve: IPCServer: .*(${LOST.source})`), JSON.stringify({ code, output }));
      }
      assert.strictEqual((await who(socketPath)).pid, owner.pid);
      await waitFor(() => lockPid(socketPath) === owner.pid, 'the owner pid in the lock file', 3000);
      owner.child.kill('SIGTERM');
      await owner.exited;
    }
  });

  it('a SIGKILLed owner leaves no stale lock: the next daemon starts at once, whatever pid the file names', async function () {
    const dir = makeTempDir('pixl-ipc-lock-');
    const socketPath = path.join(dir, 'ipc.sock');
    const config = writeConfig(dir, socketPath);
    const handlers = writeHandlers(dir);
    const first = spawnDaemon(config, handlers);
    assert.ok(await first.listening);
    const second = spawnDaemon(config, handlers);
    const refused = await second.exited;
    assert.strictEqual(refused.code, 1);
    assert.match(refused.output, new RegExp(`pixl-ipc serve: IPCServer: the daemon with pid ${first.pid} already serves ${socketPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(it holds the lock .*ipc\\.sock\\.lock\\); stop it first, or start this one with handoff: true \\(pixl-ipc serve --takeover\\)`));
    first.child.kill('SIGKILL');
    await first.exited;
    // The file still names the dead daemon; make it name a live process (this one), as a reused pid would.
    fs.writeFileSync(socketPath + '.lock', `${process.pid}\n`);
    const third = spawnDaemon(config, handlers);
    assert.ok(await third.listening, third.out.text);
    assert.strictEqual((await untilLive(socketPath, 1000)).pid, third.pid);
    assert.match(third.out.text, /listening on/);
    assert.strictEqual(lockPid(socketPath), third.pid);
  });

  it('refuses a planted lock file: a symlink, a hard link to another file, a directory', async function () {
    const dir = makeTempDir('pixl-ipc-lock-');
    const socketPath = path.join(dir, 'ipc.sock');
    const config = writeConfig(dir, socketPath);
    const handlers = writeHandlers(dir);
    const victim = path.join(dir, 'victim.txt');
    fs.writeFileSync(victim, 'precious\n');
    const plants = [
      [() => fs.symlinkSync(victim, socketPath + '.lock'), /the lock file .*ipc\.sock\.lock is a symbolic link; refusing to use it/],
      [() => fs.linkSync(victim, socketPath + '.lock'), /the lock file .*ipc\.sock\.lock has 2 hard links; remove it/],
      [() => fs.mkdirSync(socketPath + '.lock'), /cannot open the lock file .*ipc\.sock\.lock|lock file .* is not a regular file/],
    ];
    for (const [plant, message] of plants) {
      plant();
      const daemon = spawnDaemon(config, handlers);
      const { code, output } = await daemon.exited;
      assert.strictEqual(code, 1, output);
      assert.match(output, message);
      assert.strictEqual(fs.readFileSync(victim, 'utf8'), 'precious\n', 'nothing written through the plant');
      assert.ok(!fs.existsSync(socketPath), 'no socket published');
      fs.rmSync(socketPath + '.lock', { recursive: true });
    }
    await sleep(0);
  });

  it('another local user can neither hold the lock nor plant it first in a shared (sticky) directory', async function () {
    const other = otherUser();
    if (other.skip) this.skip();
    const dir = makeTempDir('pixl-ipc-lock-');
    fs.chmodSync(dir, 0o1777); // like /tmp: everyone may create, only owners may rename
    const socketPath = path.join(dir, 'ipc.sock');
    const asOther = (code) => spawnSync(process.execPath, ['-e', code], { uid: other.uid, gid: other.gid, encoding: 'utf8' });
    // Planted first by the other user: refused, saying whose it is.
    const plant = asOther(`require('fs').writeFileSync(${JSON.stringify(socketPath + '.lock')}, '1\\n', { mode: 0o666 })`);
    assert.strictEqual(plant.status, 0, plant.stderr);
    const config = writeConfig(makeTempDir('pixl-ipc-lock-cfg-'), socketPath);
    const handlers = writeHandlers(path.dirname(config));
    const refused = await spawnDaemon(config, handlers).exited;
    assert.strictEqual(refused.code, 1);
    assert.match(refused.output, new RegExp(`the lock file .*ipc\\.sock\\.lock belongs to uid ${other.uid}, not to this daemon's user`));
    fs.rmSync(socketPath + '.lock');
    // Ours: 0600, so the other user cannot open it, let alone lock it.
    const daemon = spawnDaemon(config, handlers);
    assert.ok(await daemon.listening, daemon.out.text);
    assert.strictEqual(fs.statSync(socketPath + '.lock').mode & 0o777, 0o600);
    for (const flags of ['r', 'r+']) {
      const tryOpen = asOther(`try { require('fs').openSync(${JSON.stringify(socketPath + '.lock')}, '${flags}'); console.log('opened'); } catch (err) { console.log(err.code); }`);
      assert.strictEqual(tryOpen.stdout.trim(), 'EACCES', `open(${flags}) as another user`);
    }
  });
});
