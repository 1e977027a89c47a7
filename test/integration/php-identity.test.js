'use strict';
// The PHP client's expectServerUid against an impostor: a server listening as
// another local user (test/helpers/other-user.js) at the path the client uses.
// The impostor counts every byte it receives; only the control client (the
// check turned off) may have sent any.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { startServer, makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { otherUser } = require('../helpers/other-user');
const { waitFor } = require('../helpers/wait');
const { runPhp, assertPassed } = require('../helpers/php-runner');

/** A server run as `user` on each of `paths`; it reports what it received. */
function startImpostor(user, paths) {
  const script = `
    const net = require('net');
    let received = '';
    for (const p of process.argv.slice(1)) {
      net.createServer((s) => { s.on('data', (d) => { received += d; }); s.on('error', () => {}); })
        .listen(p, () => { require('fs').chmodSync(p, 0o666); process.stdout.write('READY\\n'); });
    }
    process.stdin.on('end', () => { process.stdout.write('RECEIVED ' + JSON.stringify(received) + '\\n'); process.exit(0); });
    process.stdin.resume();`;
  const child = spawn(process.execPath, ['-e', script, ...paths], { uid: user.uid, gid: user.gid, stdio: ['pipe', 'pipe', 'inherit'], cwd: '/' });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  return {
    ready: () => waitFor(() => (out.match(/READY/g) || []).length === paths.length, 'the impostor to listen', 10000),
    stop: async () => {
      child.stdin.end();
      await new Promise((resolve) => child.once('exit', resolve));
      const line = out.split('\n').find((l) => l.startsWith('RECEIVED '));
      return JSON.parse(line.slice('RECEIVED '.length));
    },
  };
}

describe('PHP client: expectServerUid against an impostor of another uid', function () {
  this.timeout(30000);
  let user;

  before(function () {
    user = otherUser();
    if (user.skip) {
      console.log(`    (${user.skip})`);
      this.skip();
    }
  });

  after(() => cleanupTempDirs());

  it('sends 0 bytes to the impostor (explicit uid, and by default on the default socket); the real daemon is served', async function () {
    const base = makeTempDir('pixl-ipc-php-identity-');
    fs.chmodSync(base, 0o755);
    // The impostor's own directory, and a world-writable "tmp" where it planted the default socket's directory.
    const impostorDir = path.join(base, 'impostor');
    fs.mkdirSync(impostorDir);
    fs.chownSync(impostorDir, user.uid, user.gid);
    const tmp = path.join(base, 'tmp');
    fs.mkdirSync(tmp);
    fs.chmodSync(tmp, 0o1777);
    const defaultDir = path.join(tmp, `pixl-ipc-${process.getuid()}`);
    fs.mkdirSync(defaultDir);
    fs.chownSync(defaultDir, user.uid, user.gid);
    const impostorSocket = path.join(impostorDir, 'app.sock');
    const defaultSocket = path.join(defaultDir, 'pixl-ipc.sock');

    // The real daemon (this process's uid) in a directory only it can change...
    const realDir = path.join(base, 'real');
    fs.mkdirSync(realDir, { mode: 0o755 });
    const daemon = await startServer({ socket_path: path.join(realDir, 'app.sock') });
    // ...and one whose directory is made world-writable after it started.
    const unsafeDir = path.join(base, 'unsafe');
    fs.mkdirSync(unsafeDir, { mode: 0o755 });
    const unsafeDaemon = await startServer({ socket_path: path.join(unsafeDir, 'app.sock') });
    fs.chmodSync(unsafeDir, 0o777);
    const symlink = path.join(base, 'link.sock');
    fs.symlinkSync(daemon.socketPath, symlink);

    const impostor = startImpostor(user, [impostorSocket, defaultSocket]);
    try {
      await impostor.ready();
      const env = {
        IPC_OTHER_UID: String(user.uid),
        IPC_IMPOSTOR_SOCKET: impostorSocket,
        IPC_DEFAULT_SOCKET: defaultSocket,
        IPC_SOCKET: daemon.socketPath,
        IPC_SYMLINK_SOCKET: symlink,
        IPC_UNSAFE_SOCKET: unsafeDaemon.socketPath,
        TMPDIR: tmp,
        XDG_RUNTIME_DIR: '',
      };
      assertPassed(await runPhp('identity_test.php', env), 7);
    } finally {
      const received = await impostor.stop();
      await daemon.stop();
      await unsafeDaemon.stop();
      // Only the control client's request reached the impostor: no credentials, no charge.
      assert.strictEqual((received.match(/control-marker/g) || []).length, 1, `received: ${received}`);
      assert.ok(!received.includes('secret-token'), 'no credentials');
      assert.ok(!received.includes('/billing/charge'), 'no request');
    }
  });
});
