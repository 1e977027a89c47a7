'use strict';
// lib/socket-activation.ts: reading what systemd passes (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES).
const assert = require('assert');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { parseListenFds, describeSocketFd } = require('../../dist/lib/socket-activation');

describe('socket activation: LISTEN_* variables', function () {
  it('is not activated without LISTEN_FDS or LISTEN_PID, or when LISTEN_PID names another process', function () {
    assert.strictEqual(parseListenFds({}, 100), null);
    assert.strictEqual(parseListenFds({ LISTEN_FDS: '1' }, 100), null);
    assert.strictEqual(parseListenFds({ LISTEN_FDS: '1', LISTEN_PID: '99' }, 100), null);
  });

  it('lists fds from 3, with their names when the names match the count', function () {
    assert.deepStrictEqual(parseListenFds({ LISTEN_FDS: '2', LISTEN_PID: '100', LISTEN_FDNAMES: 'mydaemon.socket:tcp' }, 100), [
      { fd: 3, name: 'mydaemon.socket' },
      { fd: 4, name: 'tcp' },
    ]);
    // systemd ignores names that do not match the fds one to one.
    assert.deepStrictEqual(parseListenFds({ LISTEN_FDS: '2', LISTEN_PID: '100', LISTEN_FDNAMES: 'only-one' }, 100), [
      { fd: 3, name: null },
      { fd: 4, name: null },
    ]);
    assert.deepStrictEqual(parseListenFds({ LISTEN_FDS: '0', LISTEN_PID: '100' }, 100), []);
  });

  it('refuses a LISTEN_FDS that is not a number', function () {
    assert.throws(() => parseListenFds({ LISTEN_FDS: 'two', LISTEN_PID: '100' }, 100), /LISTEN_FDS must be a number/);
    assert.throws(() => parseListenFds({ LISTEN_FDS: '-1', LISTEN_PID: '100' }, 100), /LISTEN_FDS must be a number/);
    assert.throws(() => parseListenFds({ LISTEN_FDS: '1'.repeat(100000), LISTEN_PID: '100' }, 100), /LISTEN_FDS must be a number of file descriptors \(got "1{40}\.\.\." \(100000 characters\)\)/);
  });

  it('bounds LISTEN_FDS before making anything of it: 64 at most, 50,000,000 refused at once with a clear error', function () {
    assert.strictEqual(parseListenFds({ LISTEN_FDS: '64', LISTEN_PID: '100' }, 100).length, 64);
    const before = process.memoryUsage().rss;
    const started = process.hrtime.bigint();
    assert.throws(() => parseListenFds({ LISTEN_FDS: '50000000', LISTEN_PID: '100' }, 100), /socket activation: LISTEN_FDS is 50000000; at most 64 inherited sockets/);
    assert.throws(() => parseListenFds({ LISTEN_FDS: '65', LISTEN_PID: '100' }, 100), /LISTEN_FDS is 65; at most 64/);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(ms < 50, `refused in ${ms} ms`);
    assert.ok(process.memoryUsage().rss - before < 16 * 1024 * 1024, 'no memory grown for the refused count');
  });

  it('refuses a malformed LISTEN_PID (not a pid, zero, past pid_max) instead of guessing', function () {
    for (const pid of ['100x', '0', '-5', '4194305', ' 100', '1'.repeat(50)]) {
      assert.throws(() => parseListenFds({ LISTEN_FDS: '1', LISTEN_PID: pid }, 100), /LISTEN_PID must be a process id/, pid);
    }
  });

  it('refuses LISTEN_FDNAMES entries systemd would never pass: too long, control characters, spaces; and a huge value', function () {
    assert.throws(() => parseListenFds({ LISTEN_FDS: '1', LISTEN_PID: '100', LISTEN_FDNAMES: 'x'.repeat(256) }, 100), /LISTEN_FDNAMES/);
    assert.throws(() => parseListenFds({ LISTEN_FDS: '2', LISTEN_PID: '100', LISTEN_FDNAMES: 'a\nb:tcp' }, 100), /LISTEN_FDNAMES entry "a\\nb"/);
    assert.throws(() => parseListenFds({ LISTEN_FDS: '1', LISTEN_PID: '100', LISTEN_FDNAMES: 'has space' }, 100), /LISTEN_FDNAMES/);
    assert.throws(() => parseListenFds({ LISTEN_FDS: '1', LISTEN_PID: '100', LISTEN_FDNAMES: ':'.repeat(10_000_000) }, 100), /LISTEN_FDNAMES is 10000000 characters long/);
    assert.deepStrictEqual(parseListenFds({ LISTEN_FDS: '1', LISTEN_PID: '100', LISTEN_FDNAMES: 'x'.repeat(255) }, 100), [{ fd: 3, name: 'x'.repeat(255) }]);
  });

  it('tells a Unix socket (with its path) from a TCP socket and from a file', async function () {
    if (!fs.existsSync('/proc/net/unix')) this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixl-ipc-sa-'));
    const unix = net.createServer();
    const tcp = net.createServer();
    try {
      await new Promise((resolve) => unix.listen(path.join(dir, 's.sock'), resolve));
      await new Promise((resolve) => tcp.listen(0, '127.0.0.1', resolve));
      assert.deepStrictEqual(describeSocketFd(unix._handle.fd), { kind: 'unix', path: path.join(dir, 's.sock') });
      assert.deepStrictEqual(describeSocketFd(tcp._handle.fd), { kind: 'other' });
      const file = fs.openSync(path.join(dir, 'plain'), 'w');
      assert.deepStrictEqual(describeSocketFd(file), { kind: 'not_a_socket' });
      fs.closeSync(file);
    } finally {
      unix.close();
      tcp.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
