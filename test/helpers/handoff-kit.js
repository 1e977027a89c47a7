'use strict';
// Daemons for the hand-off and lock tests: real `pixl-ipc serve` processes
// (with a handlers file that answers /who with the daemon's pid), and probes
// of what the socket path leads to.
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { sleep } = require('./wait');

const CLI = path.join(__dirname, '..', '..', 'dist', 'bin', 'pixl-ipc.js');

/** A handlers file answering /who with the pid (and `extra` appended to its body). */
function writeHandlers(dir, name = 'who.js', extra = '') {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `module.exports = (ipc) => {\n  ipc.addURIHandler('/who', 'Who', (request, callback) => callback({ pid: process.pid }));\n${extra}};\n`);
  return file;
}

/** A daemon config file in `dir` for `socketPath`. */
function writeConfig(dir, socketPath, ipc = {}) {
  const file = path.join(dir, 'daemon.json');
  fs.writeFileSync(file, JSON.stringify({
    log_dir: dir,
    log_filename: 'daemon.log',
    debug_level: 5,
    IPCServer: { socket_path: socketPath, exit_timeout: 3000, log_stats_interval: false, ...ipc },
  }));
  return file;
}

const running = new Set();

/**
 * Starts `pixl-ipc serve -c configFile --handlers handlersFile [--takeover]`.
 * `pause` (`<step>:<ms>`, `*:<ms>`, or `markers` for none) turns on the
 * hand-off step hook (PIXL_IPC_TEST_HANDOFF_PAUSE): the daemon prints each
 * step and pauses at the one named.
 * Returns { child, pid, out, exited, listening, step(name) }.
 */
function spawnDaemon(configFile, handlersFile, { takeover = false, pause = '' } = {}) {
  const args = [CLI, 'serve', '-c', configFile, '--handlers', handlersFile];
  if (takeover) args.push('--takeover');
  const env = { ...process.env };
  delete env.PIXL_IPC_TEST_HANDOFF_PAUSE;
  if (pause) env.PIXL_IPC_TEST_HANDOFF_PAUSE = pause;
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  running.add(child);
  const out = { text: '' };
  const waiters = [];
  const onOutput = (chunk) => {
    out.text += chunk;
    for (const waiter of waiters.slice()) {
      if (waiter.pattern.test(out.text)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(true);
      }
    }
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    running.delete(child);
    for (const waiter of waiters.splice(0)) waiter.resolve(false);
    resolve({ code, signal, output: out.text });
  }));
  /** Resolves true once the output matches `pattern`, false if the daemon exits first. */
  const waitOutput = (pattern) => {
    if (pattern.test(out.text)) return Promise.resolve(true);
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(false);
    return new Promise((resolve) => waiters.push({ pattern, resolve }));
  };
  return {
    child,
    pid: child.pid,
    out,
    exited,
    listening: waitOutput(/pixl-ipc listening on/),
    step: (name) => waitOutput(new RegExp(`handoff step: ${name}`)),
    waitOutput,
  };
}

/** Kills every daemon still running (for after()). */
async function killAll() {
  const children = [...running];
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children.map((child) => child.exitCode === null && child.signalCode === null ? new Promise((resolve) => child.once('exit', resolve)) : null));
}

/**
 * One request to /who at `socketPath`: resolves { pid } or { code } (the
 * connect error, or 'timeout' after `timeoutMs`).
 */
function who(socketPath, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    let text = '';
    const done = (result) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ code: 'timeout' }), timeoutMs);
    socket.on('connect', () => socket.write(JSON.stringify({ uri: '/who', ipcReqID: 1 }) + '\n'));
    socket.on('data', (chunk) => {
      text += chunk;
      const line = text.split('\n').find((l) => l.includes('"ipcReqID":1'));
      if (!line) return;
      const message = JSON.parse(line);
      done(message.data && message.data.pid ? { pid: message.data.pid } : { code: message.code || (message.data && message.data.code) || 'no_answer' });
    });
    socket.on('error', (err) => done({ code: err.code }));
    socket.on('close', () => done({ code: 'closed' }));
  });
}

/**
 * Polls /who until a daemon answers (and, with `pids`, one of those);
 * resolves { pid, ms } or { code, ms } after `withinMs`.
 */
async function untilLive(socketPath, withinMs, pids = null) {
  const started = Date.now();
  let last = { code: 'none' };
  while (Date.now() - started <= withinMs) {
    last = await who(socketPath, 250);
    if (last.pid && (!pids || pids.includes(last.pid))) return { pid: last.pid, ms: Date.now() - started };
    await sleep(10);
  }
  return { ...last, ms: Date.now() - started };
}

/** The pid written in the lock file beside `socketPath` (null if none). */
function lockPid(socketPath) {
  try {
    const text = fs.readFileSync(socketPath + '.lock', 'utf8');
    return /^\d+\n$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/** True while a process with `pid` exists. */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

module.exports = { CLI, writeHandlers, writeConfig, spawnDaemon, killAll, who, untilLive, lockPid, alive };
