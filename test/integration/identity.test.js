'use strict';
// Issue 15, tried as a second local user would: the runtime directory, the
// socket's mode while it appears, the kernel's peer identity, access policy,
// and credential guessing. Needs root (to create and act as that user); CI
// runs as root. Skipped with the reason otherwise.
const assert = require('assert');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const IPCClient = require('pixl-ipc/client');
const { startServer, makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { rawConnect } = require('../helpers/raw');
const { otherUser, runAs, OTHER_USER_NAME } = require('../helpers/other-user');
const { sleep, waitFor } = require('../helpers/wait');

const CLI = path.join(__dirname, '..', '..', 'dist', 'bin', 'pixl-ipc.js');
const RESTART_DAEMON = path.join(__dirname, 'fixtures', 'restart-daemon.js');
const ECHO = '/ipcserver/test/echo';
const AUTH = '/ipcserver/auth';

/** A directory the other user can pass through (0711) but not list or write. */
function reachableDir() {
  const dir = makeTempDir('pixl-ipc-id-');
  fs.chmodSync(dir, 0o711);
  return dir;
}

/** A fresh stand-in for /tmp: world-writable and sticky. */
function stickyTmp() {
  const dir = makeTempDir('pixl-ipc-tmp-');
  fs.chmodSync(dir, 0o1777);
  return dir;
}

/** A root-only file and its content, to show nothing was written through a planted link. */
function secretFile() {
  const file = path.join(makeTempDir('pixl-ipc-secret-'), 'secret.txt');
  fs.writeFileSync(file, 'root only\n', { mode: 0o600 });
  return file;
}

/** Runs `pixl-ipc serve` as root with `env`; resolves when it exits or prints that it listens. */
function serve(args, env) {
  return new Promise((resolve) => {
    const childEnv = { ...process.env, XDG_RUNTIME_DIR: '', ...env };
    delete childEnv.PIXL_IPC_SOCKET;
    const child = spawn(process.execPath, [CLI, 'serve', ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const limit = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('pixl-ipc listening on')) {
        clearTimeout(limit);
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('close', (code) => {
      clearTimeout(limit);
      resolve({ code, stdout, stderr, listened: stdout.includes('pixl-ipc listening on') });
    });
  });
}

function request(line) {
  return Object.assign({ ipcReqID: 1 }, line);
}

describe('identity: a second local user', function () {
  this.timeout(60000);
  let other;

  before(function () {
    other = otherUser();
    if (other.skip) {
      console.log(`      skipped: ${other.skip}`);
      this.skip();
    }
  });
  after(() => cleanupTempDirs());

  describe('the runtime directory', function () {
    it('refuses a default directory another user created first, and writes nothing through the log symlink planted in it', async function () {
      const tmp = stickyTmp();
      const secret = secretFile();
      const runtimeDir = path.join(tmp, `pixl-ipc-${process.getuid()}`);
      await runAs(other, { mode: 'plant', steps: [['mkdir', runtimeDir, '777'], ['symlink', secret, path.join(runtimeDir, 'pixl-ipc.log')]] });
      const result = await serve([], { TMPDIR: tmp });
      assert.strictEqual(result.listened, false, result.stdout);
      assert.strictEqual(result.code, 1);
      assert.match(result.stderr, new RegExp(`belongs to ${OTHER_USER_NAME} \\(uid ${other.uid}\\)`));
      assert.match(result.stderr, /rm -r/, 'says how to fix it');
      assert.strictEqual(fs.readFileSync(secret, 'utf8'), 'root only\n', 'nothing written through the symlink');
      assert.ok(!fs.existsSync(path.join(runtimeDir, 'pixl-ipc.sock')));
    });

    it('refuses a default directory name pointed at a directory the other user owns', async function () {
      const tmp = stickyTmp();
      const theirs = path.join(tmp, 'theirs');
      const runtimeDir = path.join(tmp, `pixl-ipc-${process.getuid()}`);
      await runAs(other, { mode: 'plant', steps: [['mkdir', theirs, '755'], ['symlink', theirs, runtimeDir]] });
      const result = await serve([], { TMPDIR: tmp });
      assert.strictEqual(result.listened, false, result.stdout);
      assert.match(result.stderr, /is a symbolic link -> .*theirs/);
      assert.deepStrictEqual(fs.readdirSync(theirs), [], 'no socket or log in their directory');
    });

    it('refuses a log symlink planted in a sticky log directory (O_NOFOLLOW), and a socket directory others can write to', async function () {
      const tmp = stickyTmp();
      const secret = secretFile();
      await runAs(other, { mode: 'plant', steps: [['symlink', secret, path.join(tmp, 'planted.log')]] });
      const configFile = path.join(makeTempDir(), 'config.json');
      fs.writeFileSync(configFile, JSON.stringify({ log_dir: tmp, log_filename: 'planted.log', IPCServer: { socket_path: path.join(reachableDir(), 'ipc.sock') } }));
      const planted = await serve(['--config', configFile], {});
      assert.strictEqual(planted.listened, false);
      assert.match(planted.stderr, /planted\.log is a symbolic link; refusing to write through it/);
      assert.strictEqual(fs.readFileSync(secret, 'utf8'), 'root only\n');

      const open = makeTempDir();
      fs.chmodSync(open, 0o777);
      const openDir = await serve(['--socket', path.join(open, 'ipc.sock')], { TMPDIR: stickyTmp() });
      assert.strictEqual(openDir.listened, false);
      assert.match(openDir.stderr, /writable by every user \(mode 0777\) and not sticky.*chmod go-w/);
    });

    it('creates the default directory 0700 and serves from it', async function () {
      const tmp = stickyTmp();
      const result = await serve([], { TMPDIR: tmp });
      assert.ok(result.listened, result.stderr);
      const runtimeDir = path.join(tmp, `pixl-ipc-${process.getuid()}`);
      const stats = fs.lstatSync(runtimeDir);
      assert.strictEqual(stats.mode & 0o7777, 0o700);
      assert.strictEqual(fs.lstatSync(path.join(runtimeDir, 'pixl-ipc.log')).mode & 0o777, 0o600);
    });
  });

  describe('the command line on its default socket', function () {
    it('pixl-ipc send refuses a server running as another user on the default socket, sending it nothing (not even credentials)', async function () {
      const tmp = stickyTmp();
      const runtimeDir = path.join(tmp, `pixl-ipc-${process.getuid()}`);
      fs.mkdirSync(runtimeDir);
      fs.chmodSync(runtimeDir, 0o777); // as if another user had got in
      const socketPath = path.join(runtimeDir, 'pixl-ipc.sock');
      let impostor;
      const received = runAs(other, { mode: 'listen', socketPath }, (child) => { impostor = child; });
      await waitFor(() => fs.existsSync(socketPath) && (fs.statSync(socketPath).mode & 0o777) === 0o666, 'the impostor listening');
      const env = { ...process.env, TMPDIR: tmp, XDG_RUNTIME_DIR: '', PIXL_IPC_AUTH: 'the-secret' };
      delete env.PIXL_IPC_SOCKET;
      const cli = (args) => new Promise((resolve) => {
        const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (chunk) => { stderr += chunk; });
        child.on('close', (code) => resolve({ code, stderr }));
      });
      const refused = await cli(['send', ECHO, '"hi"', '--timeout', '1500']);
      assert.strictEqual(refused.code, 3, refused.stderr);
      assert.match(refused.stderr, new RegExp(`is served by uid ${other.uid} \\(${other.name}\\), not the expected uid ${process.getuid()} \\(${os.userInfo().username}\\); nothing was sent`));
      // The impostor was reachable: a plain connection from here gets through.
      const probe = net.connect(socketPath);
      await new Promise((resolve, reject) => { probe.once('connect', resolve); probe.once('error', reject); });
      await new Promise((resolve) => probe.end('x', resolve));
      await sleep(100);
      impostor.stdin.end();
      const { bytes } = await received;
      assert.strictEqual(bytes, 1, 'the command sent nothing: only the probe\'s byte arrived');
    });
  });

  describe('the socket while it appears', function () {
    it('is never connectable by the other user with a mode looser than configured: 20 starts under umask 000', async function () {
      const dir = makeTempDir('pixl-ipc-umask-');
      fs.chmodSync(dir, 0o755); // the other user can reach the socket: only its mode stops them
      const socketPath = path.join(dir, 'ipc.sock');
      let loop;
      const watching = runAs(other, { mode: 'connect-loop', socketPath }, (child) => { loop = child; });
      const daemon = spawn('/bin/sh', ['-c', `umask 000; exec "${process.execPath}" "${RESTART_DAEMON}" '${JSON.stringify({ socket_path: socketPath, socket_chmod: '600', starts: 20, log_dir: makeTempDir() })}'`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      daemon.stdout.on('data', (chunk) => { out += chunk; });
      daemon.stderr.on('data', (chunk) => { err += chunk; });
      const code = await new Promise((resolve) => daemon.on('close', resolve));
      loop.stdin.end();
      const counts = await watching;
      assert.strictEqual(code, 0, err);
      assert.deepStrictEqual(JSON.parse(out), { starts: 20, umask: 0 });
      console.log(`      other user's connect attempts: ${JSON.stringify(counts)}`);
      assert.strictEqual(counts.connected, 0, 'connected to a socket configured 600');
      assert.ok(counts.EACCES > 0, 'the loop ran while the socket existed (refused by its mode)');
    });
  });

  describe('peer identity and policy', function () {
    let h;
    let seenAuthPeers;
    let connected;

    before(async function () {
      const dir = reachableDir();
      h = await startServer({
        socket_path: path.join(dir, 'ipc.sock'),
        socket_chmod: '666',
        policy: [{ uri: '^/admin/', users: [os.userInfo().username] }],
        max_connections_per_user: 2,
      }, { debug_level: 8 });
      h.ipc.addURIHandler('/who', 'who', (req) => ({ peer: req.connection.peer, claimedPid: req.pid, claimedUserAgent: req.userAgent }));
      h.ipc.addURIHandler(/^\/admin\//, 'admin', () => 'admin done');
      h.ipc.addURIHandler('/public', 'public', () => 'public done');
      connected = [];
      h.ipc.on('connect', (c) => connected.push(c.toJSON()));
    });
    after(() => h && h.stop());

    it('reports the real uid, gid and pid of a child, whatever it claims', async function () {
      const result = await runAs(other, { mode: 'lines', socketPath: h.socketPath, lines: [request({ uri: '/who', pid: 1, userAgent: 'root pretender' })] });
      const [answer] = result.sessions[0].lines;
      assert.deepStrictEqual(answer.data, {
        peer: { pid: result.pid, uid: other.uid, gid: other.gid, user: OTHER_USER_NAME, group: OTHER_USER_NAME },
        claimedPid: 1,
        claimedUserAgent: 'root pretender',
      });
      const listed = connected.find((c) => c.peer && c.peer.pid === result.pid);
      assert.ok(listed, 'getConnections()/toJSON carry peer');
      assert.strictEqual(listed.peer.uid, other.uid);
      await waitFor(() => fs.readFileSync(path.join(h.logDir, "test.log"), "utf8").includes(`"pid":${result.pid},"uid":${other.uid}`), "the level-8 log line with the peer");
    });

    it('per-uri rules refuse the other user with forbidden and serve the daemon\'s user', async function () {
      const result = await runAs(other, { mode: 'lines', socketPath: h.socketPath, lines: [
        request({ ipcReqID: 'a', uri: '/admin/reset' }), request({ ipcReqID: 'p', uri: '/public' }), request({ ipcReqID: 'b', uri: '/admin/other' }),
      ] });
      const byId = Object.fromEntries(result.sessions[0].lines.map((line) => [line.ipcReqID, line]));
      assert.strictEqual(byId.a.code, 'forbidden');
      assert.match(byId.a.message, /uid \d+ may not call \/admin\/reset/);
      assert.strictEqual(byId.b.code, 'forbidden', 'the connection stays open after forbidden');
      assert.strictEqual(byId.p.data, 'public done');
      const client = new IPCClient(h.socketPath, null, { autoReconnect: false });
      await client.connect();
      assert.strictEqual(await client.send('/admin/reset'), 'admin done');
      await client.close();
    });

    it('max_connections_per_user refuses the other user\'s third connection and not the daemon\'s user', async function () {
      const result = await runAs(other, { mode: 'lines', socketPath: h.socketPath, connections: 3, waitMs: 800, lines: [request({ uri: ECHO, data: 'hi' })] });
      const outcomes = result.sessions.map((s) => (s.lines[0] && s.lines[0].code) || (s.lines[0] && s.lines[0].data)).sort();
      assert.deepStrictEqual(outcomes, ['hi', 'hi', 'too_many_connections']);
      const own = await Promise.all([0, 1, 2, 3, 4].map(() => rawConnect(h.socketPath)));
      for (const c of own) await c.write(request({ uri: ECHO, data: 'mine' }));
      for (const c of own) assert.strictEqual((await c.next()).data, 'mine');
      for (const c of own) c.destroy();
    });
  });

  describe('allow_users and allow_groups', function () {
    it('allow_users refuses the other user at accept with access, then closes; the daemon\'s user is served', async function () {
      const h = await startServer({ socket_path: path.join(reachableDir(), 'ipc.sock'), socket_chmod: '666', allow_users: [os.userInfo().username] });
      try {
        const result = await runAs(other, { mode: 'lines', socketPath: h.socketPath, lines: [request({ uri: ECHO, data: 'x' })] });
        const session = result.sessions[0];
        assert.strictEqual(session.lines.length, 1, JSON.stringify(session));
        assert.strictEqual(session.lines[0].code, 'access');
        assert.strictEqual(session.lines[0].ipcReqID, null);
        assert.match(session.lines[0].message, new RegExp(`uid ${other.uid} is not allowed`));
        assert.ok(session.ended, 'closed after the refusal');
        const client = new IPCClient(h.socketPath, null, { autoReconnect: false });
        await client.connect();
        assert.strictEqual(await client.send(ECHO, 'mine'), 'mine');
        await client.close();
      } finally {
        await h.stop();
      }
    });

    it('allow_groups lets the other user\'s group in and refuses the daemon\'s user', async function () {
      const h = await startServer({ socket_path: path.join(reachableDir(), 'ipc.sock'), socket_chmod: '666', allow_groups: [OTHER_USER_NAME] });
      try {
        const result = await runAs(other, { mode: 'lines', socketPath: h.socketPath, lines: [request({ uri: ECHO, data: 'theirs' })] });
        assert.strictEqual(result.sessions[0].lines[0].data, 'theirs');
        const own = await rawConnect(h.socketPath);
        assert.strictEqual((await own.next()).code, 'access');
        own.destroy();
      } finally {
        await h.stop();
      }
    });
  });
});

describe('identity: credentials', function () {
  this.timeout(60000);
  const GOOD = 'the-right-token';
  after(() => cleanupTempDirs());

  it('after a wrong token nothing more is read: the right token behind it is never acted on', async function () {
    const h = await startServer({ auth_tokens: [GOOD] });
    let ran = 0;
    h.ipc.addURIHandler('/guarded', 'guarded', () => { ran++; return 'ran'; });
    try {
      // All in one write: the wrong token, the right one, a request.
      const together = await rawConnect(h.socketPath);
      await together.write([
        { ipcReqID: 1, uri: AUTH, data: 'wrong' }, { ipcReqID: 2, uri: AUTH, data: GOOD }, { ipcReqID: 3, uri: '/guarded' },
      ].map((m) => JSON.stringify(m) + '\n').join(''));
      const answers = [];
      try {
        for (;;) answers.push(await together.next(2000));
      } catch { /* stream ended */ }
      assert.ok(answers.length >= 1 && answers.every((a) => a.code === 'access'), JSON.stringify(answers));
      together.destroy();

      // The right token after the access answer.
      const after = await rawConnect(h.socketPath);
      await after.write({ ipcReqID: 1, uri: AUTH, data: 'wrong' });
      assert.strictEqual((await after.next()).code, 'access');
      after.socket.write(JSON.stringify({ ipcReqID: 2, uri: AUTH, data: GOOD }) + '\n' + JSON.stringify({ ipcReqID: 3, uri: '/guarded' }) + '\n', () => {});
      await after.waitEnd(3000);
      await sleep(100);
      assert.deepStrictEqual(after.lines, [], 'nothing answered after the refusal');
      after.destroy();
      assert.strictEqual(ran, 0, 'the guarded handler never ran');
      assert.strictEqual(h.ipc.getStats().totals.authFailures, 2);
    } finally {
      await h.stop();
    }
  });

  /** Guesses wrong tokens from `workers` parallel connections for `ms`; returns answered guesses. */
  async function guess(socketPath, ms, workers = 4) {
    let guesses = 0;
    const until = Date.now() + ms;
    await Promise.all(Array.from({ length: workers }, async () => {
      while (Date.now() < until) {
        const client = await rawConnect(socketPath);
        await client.write({ ipcReqID: 1, uri: AUTH, data: 'guess' + Math.random() });
        try {
          const answer = await client.next(Math.max(1, until - Date.now()));
          if (answer.code === 'access') guesses++;
        } catch { /* the window closed first */ }
        client.destroy();
      }
    }));
    return guesses;
  }

  it('repeated failures from the same peer are slowed down: guesses per second, counted and logged once', async function () {
    const open = await startServer({ auth_tokens: [GOOD], auth_throttle_after: 0 });
    const throttled = await startServer({ auth_tokens: [GOOD] });
    try {
      const seconds = 1.5;
      const free = await guess(open.socketPath, seconds * 1000);
      const slowed = await guess(throttled.socketPath, seconds * 1000);
      console.log(`      wrong-token guesses in ${seconds} s from 4 parallel connections: ${free} without the throttle (${Math.round(free / seconds)}/s), ${slowed} with it (${(slowed / seconds).toFixed(1)}/s)`);
      // 5 free failures, then checks 100, 200, 400, 800 ms apart: about 9 in 1.5 s, however many connections.
      assert.ok(slowed <= 12, `throttled guesses ${slowed}`);
      assert.ok(free >= 4 * slowed, `unthrottled ${free} vs throttled ${slowed}`);
      const totals = throttled.ipc.getStats().totals;
      assert.ok(totals.authThrottled > 0, 'counted in authThrottled');
      assert.ok(totals.authFailures >= slowed);
      const log = fs.readFileSync(path.join(throttled.logDir, 'test.log'), 'utf8');
      assert.strictEqual(log.split('\n').filter((line) => line.includes('[auth_throttled]')).length, 1, 'logged once per burst');

    } finally {
      await open.stop();
      await throttled.stop();
    }
  });
});
