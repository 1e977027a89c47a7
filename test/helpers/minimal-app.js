'use strict';
// The minimal app of docs/handlers.md (the block README.md sends new users
// to), run as written from this checkout: `require('pixl-ipc')` resolves to
// the checkout, `os.tmpdir()` to a fresh directory of its own.
const assert = require('assert');
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { codeBlocks } = require('./doc-blocks');

const ROOT = path.join(__dirname, '..', '..');
const PAGE = 'docs/handlers.md';

/** The app's source, as the page has it. */
function minimalAppSource() {
  const blocks = codeBlocks(fs.readFileSync(path.join(ROOT, PAGE), 'utf8'), PAGE);
  const app = blocks.find((b) => b.lang === 'js' && b.marker === 'server' && b.code.includes('startup_failed'));
  assert.ok(app, `${PAGE} has no minimal app (a js block marked server that listens for startup_failed)`);
  return app;
}

/**
 * Starts the app; `ipcConfig` (optional) is merged into its IPCServer config,
 * the one change a test makes (e.g. socket_chmod so another user can connect).
 * Resolves to { socketPath, tmp, child, output(), stop() }.
 */
async function startMinimalApp(ipcConfig = null) {
  const block = minimalAppSource();
  let code = block.code;
  if (ipcConfig) {
    const before = code;
    code = code.replace(/IPCServer: \{ socket_path: ([^}]+) \}/, (_, socketPath) => `IPCServer: { socket_path: ${socketPath}, ...${JSON.stringify(ipcConfig)} }`);
    assert.notStrictEqual(code, before, 'the minimal app\'s IPCServer config is no longer `IPCServer: { socket_path: ... }`');
  }
  // A short, fresh TMPDIR that other users may enter (the socket's directory keeps its own mode).
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pma-'));
  fs.chmodSync(tmp, 0o755);
  const modules = path.join(tmp, 'node_modules');
  fs.mkdirSync(modules);
  fs.symlinkSync(ROOT, path.join(modules, 'pixl-ipc'));
  fs.writeFileSync(path.join(tmp, 'app.js'), code);
  const env = { ...process.env, TMPDIR: tmp, NODE_PATH: path.join(ROOT, 'node_modules') };
  const child = spawn(process.execPath, ['app.js'], { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const exited = new Promise((resolve) => child.on('close', resolve));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the minimal app did not start:\n${output}`)), 20000);
    const look = () => { if (output.includes(block.markerArg)) { clearTimeout(timer); resolve(); } };
    child.stdout.on('data', look);
    child.on('close', (status) => { clearTimeout(timer); reject(new Error(`the minimal app exited ${status}:\n${output}`)); });
  });
  const socketPath = /listening on (\S+)/.exec(output)[1];
  return {
    socketPath,
    tmp,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

module.exports = { startMinimalApp, minimalAppSource };
