'use strict';
// socket_chmod against a socket directory made earlier under another mode:
// the directory keeps its mode, so users the socket now lets in could not
// reach it ("Permission denied" until the directory was deleted). The daemon
// adds the missing search bits to a directory of its own and logs what it did
// with the command; one it cannot change is logged with the command to run.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { describeSearchPermissionChange, reconcileSearchPermission } = require('../../dist/lib/safe-dir');
const { startServer, makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { otherUser, runAs } = require('../helpers/other-user');

function logOf(h) {
  return fs.readFileSync(path.join(h.logDir, 'test.log'), 'utf8');
}

describe('socket_chmod and an existing socket directory', function () {
  this.timeout(30000);
  after(cleanupTempDirs);

  it('adds the search bit socket_chmod 660 needs to a 0700 directory of its own, and logs it with the command', async function () {
    const dir = path.join(makeTempDir(), 'run');
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.chmodSync(dir, 0o700); // as a daemon with socket_chmod 600 made it
    const h = await startServer({ socket_path: path.join(dir, 'ipc.sock'), socket_chmod: '660' });
    try {
      assert.strictEqual(fs.statSync(dir).mode & 0o7777, 0o710);
      assert.ok(logOf(h).includes(`socket_chmod 660 lets its group connect, but the socket directory ${dir} had mode 0700, without search (x) permission for them: set it to 0710 (chmod g+x ${dir})`), logOf(h));
    } finally {
      await h.stop();
    }
  });

  it('says nothing and changes nothing when the mode already fits', async function () {
    const dir = path.join(makeTempDir(), 'run');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o750);
    const h = await startServer({ socket_path: path.join(dir, 'ipc.sock'), socket_chmod: '660' });
    try {
      assert.strictEqual(fs.statSync(dir).mode & 0o7777, 0o750);
      assert.doesNotMatch(logOf(h), /without search \(x\) permission/);
    } finally {
      await h.stop();
    }
  });

  it('never opens more than search: socket_chmod 600 leaves a 0700 directory alone', async function () {
    const dir = path.join(makeTempDir(), 'run');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o700);
    const h = await startServer({ socket_path: path.join(dir, 'ipc.sock') });
    try {
      assert.strictEqual(fs.statSync(dir).mode & 0o7777, 0o700);
    } finally {
      await h.stop();
    }
  });

  it('a directory it cannot change (another owner) is left as it is, with the command in the message', function () {
    const dir = '/run/mydaemon';
    const stats = { uid: process.getuid() + 4242, mode: 0o40700 };
    const change = reconcileSearchPermission(dir, stats, 0o666);
    assert.deepStrictEqual(change, { from: 0o700, to: 0o711, fixed: false, command: `chmod go+x ${dir}`, who: 'its group and other users' });
    assert.strictEqual(describeSearchPermissionChange(dir, 0o666, change),
      `socket_chmod 666 lets its group and other users connect, but the socket directory ${dir} had mode 0700, without search (x) permission for them, and this user cannot change it: they get "Permission denied" until it is fixed with: chmod go+x ${dir}`);
  });

  it('another user the socket lets in can connect once the directory is fixed', async function () {
    const user = otherUser();
    if (user.skip) {
      console.log(`      (skipped: ${user.skip})`);
      this.skip();
    }
    const parent = makeTempDir();
    fs.chmodSync(parent, 0o755);
    const dir = path.join(parent, 'run');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o700);
    const socketPath = path.join(dir, 'ipc.sock');
    const h = await startServer({ socket_path: socketPath, socket_chmod: '666' });
    try {
      assert.strictEqual(fs.statSync(dir).mode & 0o7777, 0o711);
      const result = await runAs(user, { mode: 'lines', socketPath, lines: [{ uri: '/ipcserver/test/echo', ipcReqID: 1, data: 'in' }] });
      const [session] = result.sessions;
      assert.strictEqual(session.error, null, JSON.stringify(result));
      assert.deepStrictEqual(session.lines.map((l) => l.data), ['in']);
    } finally {
      await h.stop();
    }
  });
});
