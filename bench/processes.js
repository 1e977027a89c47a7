'use strict';
// Child processes of a benchmark run: servers and client agents, optionally
// pinned to one CPU with taskset, with their open-file limit raised when a
// workload needs more descriptors than the shell gives. Every process and
// temporary directory is registered so that the run cleans up after itself on
// success, error, Ctrl-C or crash.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');

const children = new Set();
const tempDirs = new Set();

const SCRIPTS = {
  raw: path.join(__dirname, 'raw-server.js'),
  ipc: path.join(__dirname, 'ipc-server.js'),
  client: path.join(__dirname, 'client-runner.js'),
};

/** Is `taskset` usable here (for the pinned CPU)? */
function hasTaskset() {
  return spawnSync('taskset', ['-c', pinCpu, 'true']).status === 0;
}

/** Is `php` usable here? */
function hasPhp() {
  return spawnSync('php', ['-r', 'echo 1;']).status === 0;
}

/** A new temporary directory, removed by cleanup(). */
function makeTempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** The CPU pinned processes run on (`--cpu`). */
let pinCpu = '0';
function setPinCpu(cpu) {
  pinCpu = String(cpu);
}

/** Open-file limits of processes started from here: { soft, hard } (Infinity for unlimited). */
function fdLimits() {
  const read = (flag) => {
    const out = spawnSync('sh', ['-c', `ulimit ${flag} -n`]).stdout.toString().trim();
    return out === 'unlimited' ? Infinity : Number(out);
  };
  return { soft: read('-S'), hard: read('-H') };
}

/**
 * The command line, wrapped in `taskset -c <cpu>` when pinned, and in a shell
 * that raises the soft open-file limit first when `fds` is more than it allows.
 */
function command(file, args, pinned, fds = 0) {
  let cmd = file;
  let cmdArgs = args;
  if (pinned) [cmd, cmdArgs] = ['taskset', ['-c', pinCpu, cmd, ...cmdArgs]];
  if (fds) [cmd, cmdArgs] = ['sh', ['-c', `ulimit -S -n ${fds} && exec "$@"`, 'sh', cmd, ...cmdArgs]];
  return [cmd, cmdArgs];
}

/** Spawn a process and register it for cleanup. */
function track(file, args, options, pinned, fds = 0) {
  const [cmd, cmdArgs] = command(file, args, pinned, fds);
  const child = spawn(cmd, cmdArgs, options);
  children.add(child);
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    children.delete(child);
    resolve({ code, signal });
  }));
  return child;
}

/** Resolves with the first message of `type` from the child; rejects if it exits or reports an error first. */
function waitForMessage(child, type, timeoutMs = 120000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no "${type}" from ${child.label} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message) => {
      if (message.type === type) finish(null, message);
      else if (message.type === 'error') finish(new Error(`${child.label}: ${message.message}`));
    };
    const onExit = (code, signal) => finish(new Error(`${child.label} exited (${signal || code}) before "${type}"`));
    function finish(err, message) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(message);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/**
 * Start a benchmark server: kind 'raw' (the baseline) or 'ipc' (pixl-server with
 * our component); `script` runs another server script instead (bench/ab.js: the
 * ipc-server.js of another checkout). `nodeArgs` go to node (for example
 * --cpu-prof); `launcher` runs node under another program (bench/callgrind.js: valgrind). Resolves once it listens, to { kind, pid, socketPath, stats(), rss(), stop() }.
 */
async function startServer(kind, { pinned = false, nodeArgs = [], launcher = [], config = {}, fds = 0, label = kind, script = SCRIPTS[kind], startMs = 30000 } = {}) {
  const dir = makeTempDir('pixl-ipc-bench-');
  const socketPath = path.join(dir, 'bench.sock');
  const env = Object.assign({}, process.env, { BENCH_SOCKET: socketPath, BENCH_LOG_DIR: dir, BENCH_CONFIG: JSON.stringify(config) });
  const [file, ...args] = [...launcher, process.execPath, ...nodeArgs, script];
  const child = track(file, args, { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }, pinned, fds);
  child.label = `${label} server`;
  const { pid } = await waitForMessage(child, 'listening', startMs);
  let nextId = 1;
  return {
    kind,
    pid,
    socketPath,
    /** CPU time (process.cpuUsage) and RSS, as the server process sees them. */
    async stats({ gc = false } = {}) {
      const id = nextId++;
      const reply = waitForMessage(child, 'stats', 10000);
      child.send({ cmd: 'stats', id, gc });
      return reply;
    },
    /** Resident set size in bytes, read from /proc without disturbing the server. */
    rss() {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
    },
    /** Shut down (gracefully, so a CPU profile gets written), then force it. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        if (child.connected) child.send({ cmd: 'shutdown' });
        const forced = setTimeout(() => child.kill('SIGKILL'), 5000);
        await child.exited;
        clearTimeout(forced);
      }
      fs.rmSync(dir, { recursive: true, force: true });
      tempDirs.delete(dir);
    },
  };
}

/**
 * Start a client agent (bench/client-runner.js) that runs commands one at a
 * time: `call(command, { onReady })` resolves to the command's result;
 * `onReady` runs at the command's checkpoint and must resolve before the agent
 * is told to go on. `exit()` ends the process.
 */
function startAgent({ pinned = false, nodeArgs = [], fds = 0, label = 'client' } = {}) {
  const child = track(process.execPath, [...nodeArgs, SCRIPTS.client], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }, pinned, fds);
  child.label = `${label} client`;
  let nextId = 1;
  return {
    child,
    label,
    call(cmd, payload = {}, { onReady = null, timeoutMs = 300000 } = {}) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`${child.label}: no answer to ${cmd} within ${timeoutMs} ms`)), timeoutMs);
        const onMessage = (message) => {
          if (!message || message.id !== id) return;
          if (message.type === 'result') finish(null, message.result);
          else if (message.type === 'error') finish(new Error(`${child.label} (${cmd}): ${message.message}`));
          else if (message.type === 'ready') {
            Promise.resolve(onReady ? onReady(message) : null).then(() => child.send({ cmd: 'go', id }), finish);
          }
        };
        const onExit = (code, signal) => finish(new Error(`${child.label} exited (${signal || code}) during ${cmd}`));
        function finish(err, result) {
          clearTimeout(timer);
          child.off('message', onMessage);
          child.off('exit', onExit);
          if (err) reject(err);
          else resolve(result);
        }
        child.on('message', onMessage);
        child.on('exit', onExit);
        child.send(Object.assign({ cmd, id }, payload));
      });
    },
    async exit() {
      if (child.exitCode === null && child.signalCode === null) {
        if (child.connected) child.send({ cmd: 'exit' });
        const forced = setTimeout(() => child.kill('SIGKILL'), 5000);
        await child.exited;
        clearTimeout(forced);
      }
    },
  };
}

/** Run a command to completion (optionally pinned); resolves to { code, stdout, stderr }. */
function runCommand(file, args, { pinned = false, timeoutMs = 300000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = track(file, args, { stdio: ['ignore', 'pipe', 'pipe'] }, pinned);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      resolve({ code: signal ? signal : code, stdout, stderr });
    });
  });
}

/** Kill every process this run started and remove its temporary directories (synchronous, safe in 'exit'). */
function cleanup() {
  for (const child of children) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
  children.clear();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

module.exports = { hasTaskset, hasPhp, fdLimits, setPinCpu, makeTempDir, startServer, startAgent, runCommand, waitForMessage, cleanup };
