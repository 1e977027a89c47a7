'use strict';
// Running the pixl-ipc command as a child process, as a user would: to
// completion (runCli), or in the background (spawnCli, spawnServe) with its
// output collected, and killed after the test (killSpawned).
const assert = require('assert');
const { spawn } = require('child_process');
const path = require('path');

const CLI = path.join(__dirname, '..', '..', 'dist', 'bin', 'pixl-ipc.js');
/** Longest any one command may run before the test gives up on it. */
const COMMAND_LIMIT_MS = 15000;

/** Background children still running, killed by killSpawned() so none outlives a test. */
const spawned = [];

/** The environment for a child: ours, without pixl-ipc settings, plus `extra`. */
function childEnv(extra = {}) {
  const env = { ...process.env };
  delete env.PIXL_IPC_SOCKET;
  delete env.PIXL_IPC_AUTH;
  return { ...env, ...extra };
}

/** Runs `pixl-ipc ...args` to completion; stdin gets `input` (or is closed at once). */
function runCli(args, { input, env, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(env), cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const limit = setTimeout(() => child.kill('SIGKILL'), COMMAND_LIMIT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/**
 * Starts `pixl-ipc ...args` in the background. Returns { child, stdout,
 * stderr, exited } (stdout/stderr grow as output arrives; exited resolves to
 * {code, signal}).
 */
function spawnCli(args, { env, cwd } = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(env), cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { child, stdout: '', stderr: '' };
  child.stdout.on('data', (chunk) => { proc.stdout += chunk; });
  child.stderr.on('data', (chunk) => { proc.stderr += chunk; });
  proc.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  spawned.push(child);
  return proc;
}

/** Starts `pixl-ipc serve ...args` in the background; the caller stops it. */
function spawnServe(args, env, cwd) {
  return spawnCli(['serve', ...args], { env, cwd });
}

/** Kills every background child still running (call in afterEach). */
function killSpawned() {
  while (spawned.length) {
    const child = spawned.pop();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Resolves once `proc` printed output matching `pattern` (on `stream`); rejects if it exits first. */
function waitForOutput(proc, pattern, ms = 10000, stream = 'stdout') {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      const match = pattern.exec(proc[stream]);
      if (match) return resolve(match);
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
        return reject(new Error(`${path.basename(CLI)} exited (${proc.child.exitCode}) before printing ${pattern}: ${proc.stderr}`));
      }
      if (Date.now() - started > ms) return reject(new Error(`no ${pattern} within ${ms} ms; ${stream}: ${proc[stream]}`));
      setTimeout(check, 20);
    };
    check();
  });
}

/** A one-line error message on stderr that mentions `fragment`. */
function assertOneLineError(result, fragment) {
  assert.strictEqual(result.stderr.trim().split('\n').length, 1, `stderr should be one line: ${JSON.stringify(result.stderr)}`);
  assert.ok(result.stderr.includes(fragment), `stderr should mention ${fragment}: ${result.stderr}`);
}

module.exports = { CLI, childEnv, runCli, spawnCli, spawnServe, killSpawned, waitForOutput, assertOneLineError };
