'use strict';
// The command's connect errors: one line, exit 3, the hint every client
// shares (test/vectors/connect-hints.json), then advice that follows what the
// user passed: `pixl-ipc serve` is suggested only for the default socket,
// where serve listens; a socket the user named is their own daemon's.
const assert = require('assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { runCli, assertOneLineError } = require('../helpers/cli');
const { makeTempDir, cleanupTempDirs, freePort } = require('../helpers/harness');
const { otherUser, runAs } = require('../helpers/other-user');
const { packedConsumer } = require('../helpers/consumer');
const { waitFor } = require('../helpers/wait');

/** An environment whose default socket is `<tmp>/pixl-ipc-<uid>/pixl-ipc.sock`. */
function defaultSocketEnv() {
  const tmp = makeTempDir();
  return { env: { TMPDIR: tmp, XDG_RUNTIME_DIR: '' }, dir: path.join(tmp, `pixl-ipc-${process.getuid()}`) };
}

/** A socket file nobody listens on: its server exited without closing it, as a crashed daemon does. */
function staleSocket(socketPath) {
  const made = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.exit(0))`]);
  assert.strictEqual(made.status, 0, String(made.stderr));
  assert.ok(fs.statSync(socketPath).isSocket());
}

async function failsWith(args, env, expected) {
  const result = await runCli(args, { env });
  assert.strictEqual(result.code, 3, result.stderr);
  assert.strictEqual(result.stdout, '');
  assertOneLineError(result, expected);
  return result.stderr.trim();
}

const SERVE_ADVICE = /pixl-ipc serve/;

describe('pixl-ipc: connect hints, by failure and by what the user passed', function () {
  this.timeout(60000);
  after(cleanupTempDirs);

  describe('no socket (ENOENT)', function () {
    it('with --socket: the hint, and no advice to start pixl-ipc serve', async function () {
      const socketPath = path.join(makeTempDir(), 'app.sock');
      const line = await failsWith(['send', '/ipcserver/test/echo', '{}', '--socket', socketPath], {},
        `pixl-ipc send: no socket at ${socketPath}: check that the daemon is running and that ${socketPath} is the socket_path in its config`);
      assert.doesNotMatch(line, SERVE_ADVICE);
    });

    it('on the default socket: the hint, then how to start a daemon there', async function () {
      const { env, dir } = defaultSocketEnv();
      const socketPath = path.join(dir, 'pixl-ipc.sock');
      const line = await failsWith(['stats'], env, `pixl-ipc stats: no socket at ${socketPath}: check that the daemon is running and that ${socketPath} is the socket_path in its config`);
      assert.ok(line.endsWith('. This is the default socket: start a daemon on it with `pixl-ipc serve`, or pass --socket (or set PIXL_IPC_SOCKET) to reach yours'), line);
    });
  });

  describe('a stale socket (ECONNREFUSED)', function () {
    it('with --socket: the hint only', async function () {
      const socketPath = path.join(makeTempDir(), 'app.sock');
      staleSocket(socketPath);
      const line = await failsWith(['ping', '--socket', socketPath], {},
        `pixl-ipc ping: nothing is listening on ${socketPath}: the daemon stopped and left its socket behind; start it again (it replaces a stale socket)`);
      assert.doesNotMatch(line, SERVE_ADVICE);
    });

    it('on the default socket: the hint, then that pixl-ipc serve starts one there', async function () {
      const { env, dir } = defaultSocketEnv();
      fs.mkdirSync(dir, { mode: 0o700 });
      staleSocket(path.join(dir, 'pixl-ipc.sock'));
      const line = await failsWith(['handlers'], env, 'nothing is listening on');
      assert.ok(line.endsWith('. This is the default socket: `pixl-ipc serve` starts a daemon on it'), line);
    });
  });

  it('not a socket: the hint', async function () {
    const socketPath = path.join(makeTempDir(), 'notes.txt');
    fs.writeFileSync(socketPath, 'not a socket');
    const line = await failsWith(['send', '/x', '{}', '--socket', socketPath], {}, `pixl-ipc send: ${socketPath} is not a socket: check the socket_path`);
    assert.doesNotMatch(line, SERVE_ADVICE);
  });

  it('TCP, nothing listening: the hint', async function () {
    const port = await freePort();
    await failsWith(['ping', '--socket', `tcp://127.0.0.1:${port}`], {},
      `pixl-ipc ping: nothing is listening on 127.0.0.1:${port}: check that the daemon has a tcp listener there`);
  });

  describe('as another user', function () {
    let user;
    let cli;
    before(function () {
      user = otherUser();
      if (user.skip) {
        console.log(`      (skipped: ${user.skip})`);
        this.skip();
      }
      const { dir } = packedConsumer();
      fs.chmodSync(dir, 0o755);
      cli = path.join(dir, 'node_modules', 'pixl-ipc', 'dist', 'bin', 'pixl-ipc.js');
    });

    function runCliAs(args) {
      const result = spawnSync(process.execPath, [cli, ...args], { uid: user.uid, gid: user.gid, cwd: '/', encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/' }, timeout: 15000 });
      return { code: result.status, stdout: result.stdout, stderr: result.stderr };
    }

    it('permission denied: the socket\'s mode, owner and group, the user\'s groups, and the php-fpm note', function () {
      const parent = makeTempDir();
      fs.chmodSync(parent, 0o755);
      const socketPath = path.join(parent, 'app.sock');
      staleSocket(socketPath); // a socket file of ours, mode 0600 after the chmod below
      fs.chmodSync(socketPath, 0o600);
      const result = runCliAs(['send', '/x', '{}', '--socket', socketPath]);
      assert.strictEqual(result.code, 3, result.stderr);
      const groups = spawnSync('id', ['-G', user.name], { encoding: 'utf8' }).stdout.trim().split(/\s+/).map(Number);
      assert.ok(groups.includes(user.gid));
      assertOneLineError(result, `pixl-ipc send: permission denied on ${socketPath} (mode 0600, owner root(0), group root(0)); ` +
        `this process runs as ${user.name} (uid ${user.uid}) in groups `);
      assert.match(result.stderr, new RegExp(`in groups [^:]*\\(${user.gid}\\)`));
      assert.match(result.stderr, /: add it to group root or change socket_chmod; php-fpm workers keep the groups they started with, so reload php-fpm after changing groups\n$/);
      assert.doesNotMatch(result.stderr, SERVE_ADVICE);
    });

    it('the default socket served by another user: nothing sent, who serves it, and how to find them', async function () {
      const { env, dir } = defaultSocketEnv();
      fs.chmodSync(path.dirname(dir), 0o755);
      fs.mkdirSync(dir);
      fs.chmodSync(dir, 0o777); // so the other user can listen there, as an attacker would on a badly made directory
      const socketPath = path.join(dir, 'pixl-ipc.sock');
      let impostor;
      const listening = runAs(user, { mode: 'listen', socketPath }, (child) => { impostor = child; });
      listening.catch(() => {}); // awaited below; a failure to listen shows as no socket within the wait
      try {
        await waitFor(() => fs.existsSync(socketPath), 'the impostor listens', 10000, 20);
        const result = await runCli(['send', '/ipcserver/test/echo', '{"secret": 1}', '--auth', 's3cret'], { env });
        assert.strictEqual(result.code, 3, result.stderr);
        assertOneLineError(result, `pixl-ipc send: ${socketPath} is served by uid ${user.uid} (${user.name}), not the expected uid ${process.getuid()} (root); nothing was sent. This is your default socket, which only your own daemon should serve: find who listens there (ss -xlp | grep pixl-ipc.sock)`);
      } finally {
        impostor.stdin.end();
      }
      const { bytes } = await listening;
      assert.strictEqual(bytes, 0, 'not a byte, credentials included, reached the impostor');
    });
  });
});

