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
    assert.strictEqual(parseListenFds({ LISTEN_FDS: '1', LISTEN_PID: '100x' }, 100), null);
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
