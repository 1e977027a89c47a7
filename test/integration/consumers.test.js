'use strict';
// Consumers of the package as `npm pack` ships it: the ecosystem's checkers
// (@arethetypeswrong/cli, publint) on the tarball, and small programs in
// CommonJS, ESM and strict TypeScript (module nodenext, module commonjs +
// esModuleInterop, the compiler's defaults, a project with its own
// pixl-server declaration) that compile without skipLibCheck and run: a
// daemon and a client, one round trip through a 1.x-style string pattern.
const assert = require('assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const ts = require('typescript');
const { packedConsumer } = require('../helpers/consumer');

const root = path.join(__dirname, '..', '..');
const fixtures = path.join(__dirname, 'fixtures', 'consumers');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 60000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  return { status: result.status, output: `${result.stdout}${result.stderr}`, stdout: result.stdout };
}

/** Compiles `files` with `options` into `outDir`; returns the diagnostics as text. */
function compile(files, options, outDir) {
  const program = ts.createProgram(files, {
    outDir,
    types: ['node'],
    typeRoots: [path.join(root, 'node_modules', '@types')],
    ...options,
  });
  const emitted = program.emit();
  return ts.getPreEmitDiagnostics(program).concat(emitted.diagnostics)
    .map((d) => `${d.file ? path.basename(d.file.fileName) : ''} TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

/** Runs a compiled or plain program in the consumer project; returns its one line of JSON. */
function runProgram(dir, file) {
  const work = fs.mkdtempSync(path.join(dir, 'run-'));
  const result = run(process.execPath, [file, work], dir);
  assert.strictEqual(result.status, 0, `${file} exited ${result.status}:\n${result.output}`);
  return JSON.parse(result.stdout.trim().split('\n').pop());
}

describe('consumers of the packed package', function () {
  this.timeout(180000);
  let consumer;
  before(function () {
    consumer = packedConsumer();
    for (const file of fs.readdirSync(fixtures)) fs.copyFileSync(path.join(fixtures, file), path.join(consumer.dir, file));
  });

  it('@arethetypeswrong/cli finds no problem for any entry under node10, node16 (CJS and ESM) and bundler', function () {
    const result = run(bin('attw'), [consumer.tarball, '--format', 'table-flipped'], consumer.dir);
    assert.strictEqual(result.status, 0, result.output);
    assert.match(result.output, /No problems found/);
    for (const entry of ['"pixl-ipc"', '"pixl-ipc/client"', '"pixl-ipc/client.js"']) assert.ok(result.output.includes(entry), `${entry} not checked:\n${result.output}`);
  });

  it('publint finds nothing to report, not even a suggestion', function () {
    const result = run(bin('publint'), [consumer.tarball, '--strict', '--level', 'suggestion'], consumer.dir);
    assert.strictEqual(result.status, 0, result.output);
    assert.match(result.output, /All good!/);
  });

  it('a CommonJS program runs', function () {
    assert.deepStrictEqual(runProgram(consumer.dir, 'app.cjs'), { uri: '/users/7', data: { kind: 'cjs' } });
  });

  it('an ES module program runs (named imports)', function () {
    assert.deepStrictEqual(runProgram(consumer.dir, 'app.mjs'), { uri: '/users/7', data: { kind: 'esm' } });
  });

  for (const settings of [
    { name: 'strict, module nodenext', options: { strict: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022 } },
    { name: 'strict, module commonjs + esModuleInterop', options: { strict: true, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, esModuleInterop: true, target: ts.ScriptTarget.ES2022 } },
  ]) {
    it(`a TypeScript program compiles (${settings.name}, no skipLibCheck) and runs`, function () {
      const outDir = fs.mkdtempSync(path.join(consumer.dir, 'ts-'));
      assert.deepStrictEqual(compile([path.join(consumer.dir, 'app.ts')], settings.options, outDir), []);
      const answer = runProgram(consumer.dir, path.join(outDir, 'app.js'));
      assert.deepStrictEqual(answer, { uri: '/users/7', data: { kind: 'ts' }, transport: 'unix', requests: 1, connections: 1 });
    });
  }

  it("TypeScript with the compiler's defaults (target ES5, CommonJS, no esModuleInterop) and strict compiles and runs, beside a project's own declare module 'pixl-server'", function () {
    // One program for both (each program costs seconds): the consumer's own
    // pixl-server.d.ts is global to it, as in a real project.
    const outDir = fs.mkdtempSync(path.join(consumer.dir, 'ts-'));
    const files = ['app-default.ts', 'own-pixl-server.ts', 'pixl-server.d.ts'].map((f) => path.join(consumer.dir, f));
    assert.deepStrictEqual(compile(files, { strict: true }, outDir), []);
    assert.deepStrictEqual(runProgram(consumer.dir, path.join(outDir, 'app-default.js')), { kind: 'default' });
    assert.deepStrictEqual(runProgram(consumer.dir, path.join(outDir, 'own-pixl-server.js')), { handlers: 2 });
  });
});
