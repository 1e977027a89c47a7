'use strict';
// A server in its own process (test/integration/fixtures/daemon.js), for tests
// that need kill -9 or exit codes: pixl-server exits the process when startup fails.
const path = require('path');
const { spawn } = require('child_process');
const { makeTempDir } = require('./harness');

const DAEMON = path.join(__dirname, '..', 'integration', 'fixtures', 'daemon.js');

/** Starts the daemon; `ready` resolves when it prints READY (or rejects with its output on exit). */
function startDaemon(ipcConfig) {
  const child = spawn(process.execPath, [DAEMON, JSON.stringify(ipcConfig), makeTempDir()], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, output })));
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { output += d; if (/READY/.test(output)) resolve(child); });
    child.stderr.on('data', (d) => { output += d; });
    exited.then((result) => reject(Object.assign(new Error('daemon exited: ' + result.output), result)));
  });
  ready.catch(() => {}); // only some tests wait for READY
  return { child, ready, exited };
}

module.exports = { startDaemon };
