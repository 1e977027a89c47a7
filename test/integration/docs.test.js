'use strict';
// Every fenced code block in README.md, PROTOCOL.md and docs/*.md runs as written, in a
// consumer project made from `npm pack` (one project, shared; each block gets a
// fresh directory inside it and a fresh TMPDIR, so `os.tmpdir()` and the
// default socket are the block's own).
//
// The rules (also in docs/development.md):
//   js    CommonJS: saved as block.js and run with node; must exit 0.
//   mjs   ES module: saved as block.mjs and run with node; must exit 0.
//   ts    strict TypeScript without skipLibCheck: must type-check both with module
//         NodeNext and with module CommonJS + esModuleInterop (the settings the
//         README's TypeScript section states), then is compiled to CommonJS and
//         run; must exit 0.
//   mts   the same as an ES module (block.mts, compiled to block.mjs; NodeNext only).
//   sh    checked with `bash -n`, then run with `bash -e` (node_modules/.bin on
//         PATH); must exit 0. A block that administers the machine (sudo,
//         systemctl, useradd, apt...) must be marked skip: it is never run.
//   php   (`<?php` is added when missing) checked with `php -l`, then run (vendor/autoload.php loads the PHP
//         client, as Composer's does); must exit 0.
//   json  parsed: one JSON value, or one per line (the wire format).
//   Any other tag, or none (program output, config files): not checked.
// A comment on the last non-blank line before a block changes that:
//   <!-- fragment -->      part of a program: syntax-checked only.
//   <!-- skip: reason -->  not run (needs root, a checkout, the network...): syntax-checked only.
//   <!-- needs-daemon -->  `pixl-ipc serve` runs on the default socket while the block runs;
//   <!-- needs-daemon: PATH -->  ... on PATH, relative to the block's os.tmpdir().
//   <!-- server: TEXT -->  a program that runs until stopped: passes once its
//                          output contains TEXT, then must exit on SIGTERM.
const assert = require('assert');
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const vm = require('vm');
const ts = require('typescript');
const { codeBlocks } = require('../helpers/doc-blocks');
const { packedConsumer } = require('../helpers/consumer');

const root = path.join(__dirname, '..', '..');
const DOCS = ['README.md', 'PROTOCOL.md', ...fs.readdirSync(path.join(__dirname, '..', '..', 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const RUN_TIMEOUT_MS = 30000;
const STOP_TIMEOUT_MS = 10000;
const CHECKED = new Set(['js', 'mjs', 'ts', 'mts', 'sh', 'php', 'json']);
const TYPESCRIPT = new Set(['ts', 'mts']);
/** Commands a documentation block must never run on the test machine. */
const ADMIN_COMMANDS = /(^|[\s;&|(])(sudo|su|systemctl|useradd|usermod|groupadd|userdel|apt-get|apt|dnf|yum|install -d|chown|chgrp|tee \/etc|reboot)(\s|$)/m;
const MARKERS = new Set(['fragment', 'skip', 'needs-daemon', 'server']);

const blocks = DOCS.flatMap((file) => codeBlocks(fs.readFileSync(path.join(root, file), 'utf8'), file));
const tempDirs = [];

function tempDir(parent, prefix) {
  const dir = fs.mkdtempSync(path.join(parent, prefix));
  tempDirs.push(dir);
  return dir;
}

function where(block) {
  return `${block.file}:${block.line} (${block.lang || 'untagged'}${block.marker ? ', ' + block.marker : ''})`;
}

function checkSyntax(block, dir) {
  const { lang, code } = block;
  if (lang === 'js') new vm.Script(`(async function () {\n${code}\n})`, { filename: where(block) });
  else if (lang === 'mjs') {
    fs.writeFileSync(path.join(dir, 'block.mjs'), code);
    expectExit(spawnSync(process.execPath, ['--check', 'block.mjs'], { cwd: dir, encoding: 'utf8' }), 'node --check');
  } else if (TYPESCRIPT.has(lang)) {
    const out = ts.transpileModule(code, { reportDiagnostics: true, compilerOptions: { module: ts.ModuleKind.CommonJS } });
    assert.deepStrictEqual(out.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')), []);
  } else if (lang === 'sh') {
    expectExit(spawnSync('bash', ['-n'], { input: code, encoding: 'utf8' }), 'bash -n');
  } else if (lang === 'php') {
    fs.writeFileSync(path.join(dir, 'block.php'), phpSource(code));
    expectExit(spawnSync('php', ['-l', 'block.php'], { cwd: dir, encoding: 'utf8' }), 'php -l');
  } else if (lang === 'json') {
    parseJson(code);
  }
}

function phpSource(code) {
  return code.trimStart().startsWith('<?php') ? code : `<?php\n${code}`;
}

function parseJson(code) {
  try {
    JSON.parse(code);
  } catch {
    for (const line of code.split('\n').filter((l) => l.trim() !== '')) JSON.parse(line);
  }
}

function expectExit(result, what) {
  assert.strictEqual(result.status, 0, `${what} exited ${result.status} ${result.signal || ''}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
}

/**
 * Strict TypeScript as a consumer's project would check it (no skipLibCheck:
 * our declarations are checked too), all files in one program (checking them
 * one by one costs a full program each); returns file -> complaints.
 * `settings` is one of CONSUMER_SETTINGS.
 */
function typeCheck(files, settings) {
  const program = ts.createProgram(files, {
    strict: true,
    esModuleInterop: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    types: ['node'],
    typeRoots: [path.join(root, 'node_modules', '@types')],
    ...settings.options,
  });
  const complaints = new Map(files.map((file) => [path.resolve(file), []]));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const text = `${settings.name}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    const file = d.file && path.resolve(d.file.fileName);
    if (file && complaints.has(file)) complaints.get(file).push(`line ${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ${text}`);
    else for (const list of complaints.values()) list.push(text);
  }
  return complaints;
}

/**
 * The two project settings the README's TypeScript section names: Node's own
 * ESM/CJS resolution, and classic CommonJS with esModuleInterop. `.mts`
 * blocks (ES modules with top-level await) are checked under the first only.
 */
const CONSUMER_SETTINGS = [
  { name: 'module nodenext', langs: ['ts', 'mts'], options: { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext } },
  { name: 'module commonjs', langs: ['ts'], options: { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 } },
];

/** Type-checks every ts block that runs, at once per setting; each block's dir and complaints are kept for its run. */
const typeChecked = new Map();
function typeCheckTsBlocks(consumerDir) {
  const runnable = blocks.filter((b) => TYPESCRIPT.has(b.lang) && b.marker !== 'fragment' && b.marker !== 'skip');
  for (const block of runnable) {
    const dir = tempDir(path.join(consumerDir, 'blocks'), 'b');
    const file = path.join(dir, `block.${block.lang}`);
    fs.writeFileSync(file, block.code);
    typeChecked.set(block, { dir, file, complaints: [] });
  }
  if (runnable.length === 0) return;
  for (const settings of CONSUMER_SETTINGS) {
    const checked = [...typeChecked.entries()].filter(([block]) => settings.langs.includes(block.lang));
    const complaints = typeCheck(checked.map(([, { file }]) => file), settings);
    for (const [, entry] of checked) entry.complaints.push(...complaints.get(path.resolve(entry.file)));
  }
}

/** Writes the block's program into `dir`; returns the command that runs it. */
function prepareRun(block, dir, consumerDir) {
  const { lang, code } = block;
  const write = (name, text) => fs.writeFileSync(path.join(dir, name), text);
  if (lang === 'js') { write('block.js', code); return [process.execPath, ['block.js']]; }
  if (lang === 'mjs') { write('block.mjs', code); return [process.execPath, ['block.mjs']]; }
  if (TYPESCRIPT.has(lang)) {
    assert.deepStrictEqual(typeChecked.get(block).complaints, [], 'strict TypeScript');
    const esm = lang === 'mts';
    const module = esm ? ts.ModuleKind.ESNext : ts.ModuleKind.CommonJS;
    const js = ts.transpileModule(code, { compilerOptions: { module, esModuleInterop: true, target: ts.ScriptTarget.ES2022 } }).outputText;
    write(esm ? 'block.mjs' : 'block.js', js);
    return [process.execPath, [esm ? 'block.mjs' : 'block.js']];
  }
  if (lang === 'sh') { write('block.sh', code); return ['bash', ['-e', 'block.sh']]; }
  if (lang === 'php') {
    fs.mkdirSync(path.join(dir, 'vendor'));
    write('vendor/autoload.php', `<?php\nrequire_once ${JSON.stringify(path.join(consumerDir, 'node_modules', 'pixl-ipc', 'php-client', 'PixlIPCClient.class.php'))};\n`);
    write('block.php', phpSource(code));
    return ['php', ['block.php']];
  }
  return null;
}

/** Spawns and collects output; `until(text)` resolves when output contains text. */
function start(command, args, options) {
  // A process group of its own: stopping a shell block stops what it started (npx, node).
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const run = { child, stdout: '', stderr: '', exited: null };
  const waiters = [];
  const poke = () => { for (const w of [...waiters]) w(); };
  child.stdout.on('data', (chunk) => { run.stdout += chunk; poke(); });
  child.stderr.on('data', (chunk) => { run.stderr += chunk; poke(); });
  run.done = new Promise((resolve) => child.on('close', (code, signal) => { run.exited = { code, signal }; poke(); resolve(run.exited); }));
  run.until = (predicate, ms, what) => new Promise((resolve, reject) => {
    const check = () => {
      if (predicate()) { cleanup(); resolve(); } else if (run.exited) { cleanup(); reject(new Error(`exited (${JSON.stringify(run.exited)}) before ${what}\n${outputOf(run)}`)); }
    };
    const timer = setTimeout(() => { cleanup(); reject(new Error(`no ${what} within ${ms} ms\n${outputOf(run)}`)); }, ms);
    const cleanup = () => { clearTimeout(timer); waiters.splice(waiters.indexOf(check), 1); };
    waiters.push(check);
    check();
  });
  return run;
}

function outputOf(run) {
  return `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
}

/** Signals the child's whole process group (it was spawned detached), else the child alone. */
function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

async function stop(run, what) {
  if (run.exited) return run.exited;
  signalGroup(run.child, 'SIGTERM');
  try {
    await run.until(() => run.exited, STOP_TIMEOUT_MS, `exit after SIGTERM (${what})`);
  } catch (err) {
    signalGroup(run.child, 'SIGKILL');
    throw err;
  }
  return run.exited;
}

async function startDaemon(consumerDir, env, socket) {
  const args = [path.join(consumerDir, 'node_modules', 'pixl-ipc', 'dist', 'bin', 'pixl-ipc.js'), 'serve'];
  if (socket) args.push('--socket', path.join(env.TMPDIR, socket));
  const daemon = start(process.execPath, args, { cwd: consumerDir, env });
  await daemon.until(() => /listening on/.test(daemon.stdout), RUN_TIMEOUT_MS, 'daemon listening');
  return daemon;
}

async function runBlock(block, consumerDir, envOverrides = {}) {
  const dir = typeChecked.has(block) ? typeChecked.get(block).dir : tempDir(path.join(consumerDir, 'blocks'), 'b');
  // A short TMPDIR: socket paths under it must stay within the kernel's limit.
  const tmp = tempDir(os.tmpdir(), 'pdoc-');
  const env = { ...process.env, TMPDIR: tmp, PATH: `${path.join(consumerDir, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}`, ...envOverrides };
  // The default socket and runtime directory then live under TMPDIR.
  delete env.PIXL_IPC_SOCKET;
  delete env.XDG_RUNTIME_DIR;
  checkSyntax(block, dir);
  if (block.marker === 'fragment' || block.marker === 'skip') return null;
  if (block.lang === 'sh') assert.doesNotMatch(block.code, ADMIN_COMMANDS, 'this block administers the machine: mark it <!-- skip: why --> (it is never run)');
  const command = prepareRun(block, dir, consumerDir);
  if (!command) return null;
  const daemon = block.marker === 'needs-daemon' ? await startDaemon(consumerDir, env, block.markerArg) : null;
  const run = start(command[0], command[1], { cwd: dir, env });
  try {
    if (block.marker === 'server') {
      await run.until(() => (run.stdout + run.stderr).includes(block.markerArg), RUN_TIMEOUT_MS, `"${block.markerArg}" in the output`);
      const exited = await stop(run, where(block));
      assert.ok(exited.code === 0 || exited.signal === 'SIGTERM', `stopped with ${JSON.stringify(exited)}\n${outputOf(run)}`);
    } else {
      await run.until(() => run.exited, RUN_TIMEOUT_MS, 'exit');
      assert.strictEqual(run.exited.code, 0, `exited ${JSON.stringify(run.exited)}\n${outputOf(run)}`);
    }
  } finally {
    await stop(run, where(block)).catch(() => {});
    if (daemon) await stop(daemon, 'daemon').catch(() => {});
  }
  return { stdout: run.stdout, stderr: run.stderr, tmp };
}

describe('docs: every code block in README.md, PROTOCOL.md and docs/*.md runs as written', function () {
  this.timeout(240000);
  let consumer;
  before(function () {
    consumer = packedConsumer();
    fs.mkdirSync(path.join(consumer.dir, 'blocks'), { recursive: true });
    typeCheckTsBlocks(consumer.dir);
  });
  after(function () {
    while (tempDirs.length) fs.rmSync(tempDirs.pop(), { recursive: true, force: true });
  });

  it('finds the blocks, and every marker is one the rules know', function () {
    assert.ok(blocks.filter((b) => CHECKED.has(b.lang)).length >= 10, 'too few checked blocks: is the parser broken?');
    const unknown = blocks.filter((b) => b.marker && !MARKERS.has(b.marker)).map(where);
    assert.deepStrictEqual(unknown, [], 'unknown markers (see the rules at the top of this file)');
    const serversWithoutText = blocks.filter((b) => b.marker === 'server' && !b.markerArg).map(where);
    assert.deepStrictEqual(serversWithoutText, [], '<!-- server: TEXT --> needs the text to wait for');
    const skipsWithoutReason = blocks.filter((b) => b.marker === 'skip' && !b.markerArg).map(where);
    assert.deepStrictEqual(skipsWithoutReason, [], '<!-- skip: reason --> needs a reason');
  });

  for (const block of blocks.filter((b) => CHECKED.has(b.lang))) {
    it(`${where(block)} ${block.code.split('\n').find((l) => l.trim() !== '').trim().slice(0, 60)}`, async function () {
      await runBlock(block, consumer.dir);
    });
  }

  it("the minimal app exits 1 with the reason on stderr when it cannot create its socket's directory", async function () {
    const app = blocks.find((b) => b.lang === 'js' && b.code.includes('startup_failed') && b.marker === 'server');
    assert.ok(app, 'no minimal app block (a js block with <!-- server: ... --> that listens for startup_failed)');
    const dirName = /path\.join\(os\.tmpdir\(\), '([\w.-]+)'\)/.exec(app.code);
    assert.ok(dirName, "the minimal app's runtime directory should be path.join(os.tmpdir(), 'NAME')");
    const tmp = tempDir(os.tmpdir(), 'pdoc-');
    // A file where the directory should be: mkdir fails, as it would without permission.
    fs.writeFileSync(path.join(tmp, dirName[1]), '');
    const dir = tempDir(path.join(consumer.dir, 'blocks'), 'b');
    fs.writeFileSync(path.join(dir, 'app.js'), app.code);
    const result = spawnSync(process.execPath, ['app.js'], { cwd: dir, encoding: 'utf8', env: { ...process.env, TMPDIR: tmp }, timeout: RUN_TIMEOUT_MS });
    assert.strictEqual(result.status, 1, `exit ${result.status}\n${result.stdout}\n${result.stderr}`);
    // The app's own line, with the component's reason, which names the directory.
    assert.match(result.stderr, new RegExp(`cannot start: .*${path.join(tmp, dirName[1])}`));
  });
});
