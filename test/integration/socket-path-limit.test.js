'use strict';
// Socket paths longer than the kernel's sun_path limit: refused up front by the
// server (nothing created, so the next start with the same config fails the same
// way instead of on a leftover file) and by the Node client.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const IPCClient = require('pixl-ipc/client');
const { startServer, makeTempDir, cleanupTempDirs } = require('../helpers/harness');

const LIMIT = process.platform === 'linux' ? 107 : 103;

/** A path of exactly `bytes` bytes under a fresh temp dir, in a subdirectory that does not exist yet. */
function pathOfLength(bytes) {
  const base = path.join(makeTempDir(), 'sub') + '/';
  const name = 's'.repeat(bytes - Buffer.byteLength(base) - 5) + '.sock';
  const full = base + name;
  assert.strictEqual(Buffer.byteLength(full), bytes);
  return full;
}

describe('socket paths over the kernel limit', function () {
  after(cleanupTempDirs);

  function startAndCatch(socketPath) {
    const PixlServer = require('pixl-server');
    const logDir = makeTempDir();
    const server = new PixlServer({
      __name: 'LimitTest', __version: '1.0',
      config: { foreground: true, debug: true, log_dir: logDir, debug_level: 1, IPCServer: { socket_path: socketPath } },
      components: [require('pixl-ipc')],
    });
    const ipc = require('pixl-ipc').from(server);
    return new Promise((resolve, reject) => {
      ipc.on('startup_failed', resolve);
      // pixl-server exits the process after a failed startup; keep this one alive.
      server.shutdown = () => {};
      server.startup(() => reject(new Error('started on a path over the limit')));
    });
  }

  it(`starts on a path of exactly ${LIMIT} bytes`, async function () {
    const socketPath = pathOfLength(LIMIT);
    const { stop } = await startServer({ socket_path: socketPath });
    try {
      assert.ok(fs.statSync(socketPath).isSocket());
      const client = new IPCClient(socketPath, null, { autoReconnect: 0 });
      await client.connect();
      assert.deepStrictEqual(await client.send('/ipcserver/test/echo', { ok: 1 }), { ok: 1 });
      await client.close();
    } finally {
      await stop();
    }
  });

  it(`refuses ${LIMIT + 1} bytes at startup, naming the limit and the length, and leaves nothing behind`, async function () {
    const socketPath = pathOfLength(LIMIT + 1);
    for (let attempt = 0; attempt < 2; attempt++) {
      const err = await startAndCatch(socketPath);
      assert.match(err.message, new RegExp(`${LIMIT + 1} bytes long, over the ${LIMIT}-byte limit`));
      assert.ok(err.message.includes(socketPath), err.message);
      assert.ok(!fs.existsSync(path.dirname(socketPath)), 'the socket directory was created');
    }
  });

  it('the Node client refuses such a path with connect_failed and the same explanation', async function () {
    const client = new IPCClient(pathOfLength(LIMIT + 20), null, { autoReconnect: 0 });
    await assert.rejects(client.connect(), (err) => {
      assert.strictEqual(err.code, 'connect_failed');
      assert.match(err.message, new RegExp(`${LIMIT + 20} bytes long, over the ${LIMIT}-byte limit`));
      return true;
    });
    await client.close();
  });
});
