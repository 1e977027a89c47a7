'use strict';
// The PHP client against a hostile server: every way a server can try to make
// a client hold memory or wait forever. Each call must end with a clear
// PixlIPCException by its deadline, and the PHP process's peak memory must stay
// under a stated bound (test/php/hostile_test.php asserts both).
const net = require('net');
const path = require('path');
const { makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { runPhp, assertPassed } = require('../helpers/php-runner');

/**
 * A server that misbehaves as the request's uri says (/hostile/<mode>).
 * Writes respect backpressure, so an endless mode costs this process nothing
 * while the client stops reading.
 */
function startHostileServer(socketPath) {
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
          case 'silence':
            break;
          case 'invalid_utf8':
            socket.write(Buffer.concat([Buffer.from(`{"ipcReqID":${id},"data":"`), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}\n')]));
            break;
          case 'invalid_json':
            socket.write(`{"ipcReqID":${id},"data":{oops}\n`);
            break;
          case 'half_line_close':
            socket.end(`{"ipcReqID":${id},"data":{"cut`);
            break;
          default:
            socket.write(`{"ipcReqID":${id},"data":{"mode":"unknown"}}\n`);
        }
      }
    });
  });
  return new Promise((resolve) => server.listen(socketPath, () => resolve({
    close: () => new Promise((done) => {
      for (const socket of sockets) socket.destroy();
      server.close(done);
    }),
  })));
}

describe('PHP client against a hostile server', function () {
  this.timeout(60000);
  let hostile;
  let socketPath;

  before(async function () {
    socketPath = path.join(makeTempDir('pixl-ipc-php-hostile-'), 'hostile.sock');
    hostile = await startHostileServer(socketPath);
  });

  after(async function () {
    if (hostile) await hostile.close();
    cleanupTempDirs();
  });

  it('ends every call with a clear exception by its deadline, memory bounded, in every mode', async function () {
    assertPassed(await runPhp('hostile_test.php', { IPC_HOSTILE_SOCKET: socketPath }), 12);
  });
});
