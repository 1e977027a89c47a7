'use strict';
const assert = require('assert');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { peerCredentials, peerCredentialsAvailable, peerIdentity, peerGroups } = require('../../dist/lib/peer-cred');
const { userName, groupName, resolveUid, resolveGid } = require('../../dist/lib/user-db');

/** A connected pair over a real socket: resolves { server, client, close() }. */
function connectedPair(listenArgs) {
  return new Promise((resolve, reject) => {
    const listener = net.createServer();
    listener.once('error', reject);
    listener.once('connection', (server) => {
      resolve({
        server,
        client,
        close: () => { server.destroy(); client.destroy(); listener.close(); },
      });
    });
    let client;
    listener.listen(...listenArgs, () => {
      const address = listener.address();
      client = typeof address === 'string' ? net.connect(address) : net.connect(address.port, '127.0.0.1');
    });
  });
}

describe('peer-cred', function () {
  let dir;
  before(function () {
    if (process.platform !== 'linux') this.skip();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixl-ipc-peer-'));
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  it('is available on Linux x64 (the prebuilt addon loads)', function () {
    assert.strictEqual(peerCredentialsAvailable(), true);
  });

  it('reads this process as the peer on both ends of a Unix socket', async function () {
    const pair = await connectedPair([path.join(dir, 'a.sock')]);
    try {
      await new Promise((resolve) => pair.client.once('connect', resolve));
      const expected = { pid: process.pid, uid: process.getuid(), gid: process.getgid() };
      assert.deepStrictEqual(peerCredentials(pair.server), expected);
      // The client side sees the process that called listen(): also us.
      assert.deepStrictEqual(peerCredentials(pair.client), expected);
      const identity = peerIdentity(pair.server);
      assert.strictEqual(identity.user, os.userInfo().username);
      assert.strictEqual(typeof identity.group, 'string');
      const groups = peerGroups(pair.server);
      assert.ok(Array.isArray(groups));
    } finally {
      pair.close();
    }
  });

  it('answers null for TCP sockets and closed sockets', async function () {
    const pair = await connectedPair([0, '127.0.0.1']);
    try {
      await new Promise((resolve) => pair.client.once('connect', resolve));
      // A TCP socket has a descriptor, but the kernel keeps no credentials for it.
      assert.strictEqual(peerCredentials(pair.server), null);
    } finally {
      pair.close();
    }
    const unix = await connectedPair([path.join(dir, 'b.sock')]);
    unix.close();
    assert.strictEqual(peerCredentials(unix.server), null);
    assert.strictEqual(peerCredentials({}), null);
  });

  it('resolves names and ids both ways', function () {
    assert.strictEqual(userName(0), 'root');
    assert.strictEqual(groupName(0), 'root');
    assert.strictEqual(resolveUid('root'), 0);
    assert.strictEqual(resolveGid('root'), 0);
    assert.strictEqual(resolveUid('1234'), 1234);
    assert.strictEqual(resolveUid(77), 77);
    assert.strictEqual(resolveUid('no-such-user-pixl-ipc'), null);
    assert.strictEqual(resolveGid('no-such-group-pixl-ipc'), null);
    assert.strictEqual(userName(3999999), null);
  });
});
