'use strict';
// The fixture daemon (test/integration/fixtures/daemon.js) in its own process,
// with --expose-gc so its heap can be read after a full collection, for the
// tests that attack it: optionally under prlimit, or with more node flags
// (--max-old-space-size=256).
const path = require('path');
const { spawn } = require('child_process');
const { makeTempDir } = require('./harness');
const { rawConnect } = require('./raw');

const DAEMON = path.join(__dirname, '..', 'integration', 'fixtures', 'daemon.js');

const daemons = [];

/** Starts the daemon; resolves once it is READY. */
async function startDaemon(ipcConfig, { prlimit = null, debugLevel = 3, nodeFlags = [] } = {}) {
  const token = ipcConfig.auth_tokens ? ipcConfig.auth_tokens[0] : null;
  const dir = makeTempDir('pixl-ipc-hostile-');
  const socketPath = path.join(dir, 'ipc.sock');
  const args = ['--expose-gc', ...nodeFlags, DAEMON, JSON.stringify(Object.assign({ socket_path: socketPath, log_stats_interval: false }, ipcConfig)), dir];
  const command = prlimit ? 'prlimit' : process.execPath;
  const argv = prlimit ? [...prlimit, process.execPath, ...args] : args;
  const child = spawn(command, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, DAEMON_DEBUG_LEVEL: String(debugLevel) } });
  daemons.push(child);
  let output = '';
  let exit = null;
  child.on('exit', (code, signal) => { exit = { code, signal }; });
  child.stderr.on('data', (d) => { output += d; });
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { output += d; if (/READY/.test(output)) resolve(); });
    child.once('exit', () => reject(new Error('daemon exited: ' + output.slice(-2000))));
  });
  // Keep draining its echo so a full pipe never blocks it.
  child.stdout.removeAllListeners('data');
  child.stdout.on('data', () => {});
  const call = async (uri, data, ms = 10000) => {
    const c = await rawConnect(socketPath);
    try {
      if (token) {
        await c.write({ ipcReqID: 0, uri: '/ipcserver/auth', data: token });
        await c.next(ms);
      }
      await c.write({ ipcReqID: 1, uri, data });
      const answer = await c.next(ms);
      if (answer.code) throw Object.assign(new Error(`${uri}: ${answer.code}: ${answer.message}`), { code: answer.code });
      return answer.data;
    } finally {
      c.destroy();
    }
  };
  return {
    child, socketPath, dir,
    get exit() { return exit; },
    get output() { return output; },
    logFile: path.join(dir, 'daemon-test.log'),
    call,
    /** rss, heapUsed (after a full collection) and getStats(). */
    memory: async () => (await call('/daemon/memory')),
    stop: () => new Promise((resolve) => {
      if (exit) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    }),
  };
}

/** Kills every daemon started (for afterEach). */
async function stopDaemons() {
  while (daemons.length) {
    const child = daemons.pop();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
}

module.exports = { startDaemon, stopDaemons };
