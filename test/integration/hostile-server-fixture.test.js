'use strict';
// The hostile-server test fixture itself (test/helpers/hostile-server.js):
// its command line prints READY once it listens and each mode misbehaves as
// documented, so client tests in any language can rely on it.
const assert = require('assert');
const net = require('net');
const path = require('path');
const { makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { startHostileServer, MODES } = require('../helpers/hostile-server');

/**
 * Sends one request and collects what comes back for at least `minMs`, then
 * until `done(result)` holds or `maxMs` passed (a loaded machine is slow to start the child).
 */
function probe(socketPath, done, minMs = 200, maxMs = 5000) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    const chunks = [];
    const result = { bytes: Buffer.alloc(0), closed: false };
    socket.on('connect', () => socket.write('{"uri":"/x","ipcReqID":"r1","stream":true}\n'));
    socket.on('data', (chunk) => { chunks.push(chunk); });
    socket.on('error', reject);
    socket.on('close', () => { result.closed = true; });
    const started = Date.now();
    const check = () => {
      result.bytes = Buffer.concat(chunks);
      const elapsed = Date.now() - started;
      if ((elapsed >= minMs && done(result)) || elapsed >= maxMs) {
        socket.destroy();
        resolve(result);
      } else {
        setTimeout(check, 20);
      }
    };
    setTimeout(check, 20);
  });
}

describe('hostile-server fixture', function () {
  this.timeout(10000);
  after(cleanupTempDirs);

  const expectations = {
    'endless-line': (r) => r.bytes.length > 64 * 1024 && !r.bytes.includes(10),
    trickle: (r) => r.bytes.length > 8 * 1024 && !r.bytes.includes(10),
    'byte-drip': (r) => r.bytes.length > 3 && r.bytes.length < 200 && !r.bytes.includes(10),
    'push-flood': (r) => r.bytes.length > 10000 && JSON.parse(r.bytes.subarray(0, r.bytes.indexOf(10))).uri === '/flood',
    'endless-parts': (r) => r.bytes.length > 10000 && JSON.parse(r.bytes.subarray(0, r.bytes.indexOf(10))).part !== undefined,
    'unknown-ids': (r) => r.bytes.length > 10000 && JSON.parse(r.bytes.subarray(0, r.bytes.indexOf(10))).ipcReqID === 'nobody-0',
    silence: (r) => r.bytes.length === 0 && !r.closed,
    'invalid-utf8': (r) => r.bytes.includes(0xff) && r.bytes[r.bytes.length - 1] === 10,
    'invalid-json': (r) => { try { JSON.parse(r.bytes.toString()); return false; } catch { return r.bytes[r.bytes.length - 1] === 10; } },
    'half-line': (r) => r.closed && r.bytes.length > 10 && !r.bytes.includes(10),
    'accept-then-close': (r) => r.closed && r.bytes.length === 0,
    identity: (r) => r.bytes.toString() === '{"ipcReqID":"r1","data":null}\n',
  };

  it('covers every mode it offers', () => {
    assert.deepStrictEqual(Object.keys(expectations).sort(), [...MODES].sort());
  });

  for (const mode of MODES) {
    it(`${mode} behaves as documented`, async () => {
      const socketPath = path.join(makeTempDir('pixl-ipc-fixture-'), 'h.sock');
      const server = await startHostileServer({ mode, socketPath, interval: 10 });
      try {
        const result = await probe(socketPath, expectations[mode]);
        assert.ok(expectations[mode](result), `${mode}: ${result.bytes.length} bytes, closed ${result.closed}: ${result.bytes.subarray(0, 120).toString()}`);
      } finally {
        await server.stop();
      }
    });
  }
});
