'use strict';
// The PHP client against a hostile server: every way a server can try to make
// a client hold memory or wait forever (test/helpers/hostile-server.js, one
// server per mode). Each call must end with a clear PixlIPCException by its
// deadline, and the PHP process's peak memory must stay under a stated bound
// (test/php/hostile_test.php asserts both). A persistent connection must come
// out of each misbehaviour clean for the next page: that needs a server that
// misbehaves per request, not per connection (startMixedServer below).
const net = require('net');
const path = require('path');
const { makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { runPhp, assertPassed } = require('../helpers/php-runner');
const { startHostileServer } = require('../helpers/hostile-server');

const MODES = ['endless-line', 'trickle', 'byte-drip', 'push-flood', 'endless-parts', 'unknown-ids', 'silence', 'invalid-utf8', 'invalid-json', 'half-line', 'accept-then-close'];

/**
 * A server that misbehaves as each request's uri says (/hostile/<mode>), and
 * answers any other uri properly. Writes respect backpressure.
 */
function startMixedServer(socketPath) {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    let stopped = false;
    socket.on('close', () => { stopped = true; sockets.delete(socket); });
    const endless = (makeChunk, pauseMs = 0) => {
      const next = () => {
        if (stopped) return;
        const more = socket.write(makeChunk());
        if (pauseMs) setTimeout(next, pauseMs);
        else if (more) setImmediate(next);
        else socket.once('drain', next);
      };
      next();
    };
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const msg = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        if (msg.uri === '/ipcserver/cancel') continue;
        const id = JSON.stringify(msg.ipcReqID);
        const mode = msg.uri.replace('/hostile/', '');
        let n = 0;
        switch (mode) {
          case 'endless_line':
            socket.write(`{"ipcReqID":${id},"data":"`);
            endless(() => 'x'.repeat(65536));
            break;
          case 'trickle':
            // 8 KiB without a line feed, then one byte per write.
            socket.write(`{"ipcReqID":${id},"data":"` + 'y'.repeat(8192));
            endless(() => 'y', 1);
            break;
          case 'byte_drip': {
            const answer = `{"ipcReqID":${id},"data":{"text":"${'z'.repeat(100)}"}}\n`;
            endless(() => answer[n++ % answer.length], 100);
            break;
          }
          case 'push_flood':
            endless(() => `{"uri":"/flood","data":{"n":${n++},"pad":"${'p'.repeat(200)}"}}\n`);
            break;
          case 'endless_parts':
            endless(() => `{"ipcReqID":${id},"part":{"n":${n++}}}\n`);
            break;
          case 'unknown_ids':
            endless(() => `{"ipcReqID":"other-${n++}","data":{"pad":"${'u'.repeat(200)}"}}\n`);
            break;
          default:
            socket.write(`{"ipcReqID":${id},"data":{"mode":"unknown"}}\n`);
        }
      }
    });
  });
  return new Promise((resolve) => server.listen(socketPath, () => resolve({
    stop: () => new Promise((done) => {
      for (const socket of sockets) socket.destroy();
      server.close(done);
    }),
  })));
}

describe('PHP client against a hostile server', function () {
  this.timeout(60000);
  const servers = [];
  const env = {};

  before(async function () {
    const dir = makeTempDir('pixl-ipc-php-hostile-');
    for (const mode of MODES) {
      const server = await startHostileServer({ mode, socketPath: path.join(dir, `${mode}.sock`) });
      servers.push(server);
      env[`IPC_HOSTILE_${mode.toUpperCase().replace(/-/g, '_')}`] = server.socketPath;
    }
    env.IPC_MIXED_SOCKET = path.join(dir, 'mixed.sock');
    servers.push(await startMixedServer(env.IPC_MIXED_SOCKET));
  });

  after(async function () {
    for (const server of servers) await server.stop();
    cleanupTempDirs();
  });

  it('ends every call with a clear exception by its deadline, memory bounded, in every mode; reused connections come out clean', async function () {
    assertPassed(await runPhp('hostile_test.php', env), 16);
  });
});
