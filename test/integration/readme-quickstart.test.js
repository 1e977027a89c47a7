'use strict';
// A new user follows README.md's first screen (Install and Quick start, up to
// "From a checkout") in an empty directory, with the package from `npm pack`:
// every block runs as written, in order, and the Node and PHP calls answer.
// The one substitution: `npm install pixl-ipc` installs the packed tarball (an
// `npm` on PATH that swaps the name for the tarball's path), and Composer runs
// with the network off, as a path repository needs none.
const assert = require('assert');
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { codeBlocks } = require('../helpers/doc-blocks');
const { packedConsumer } = require('../helpers/consumer');

const root = path.join(__dirname, '..', '..');
const README = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const RUN_TIMEOUT_MS = 60000;

/** The blocks between "## Install" and "### From a checkout", each with the sentence before it. */
function firstScreenBlocks() {
  const lines = README.split('\n');
  const start = lines.indexOf('## Install') + 1;
  const end = lines.indexOf('### From a checkout') + 1;
  assert.ok(start > 0 && end > start, 'README.md needs "## Install" before "### From a checkout"');
  return codeBlocks(README, 'README.md')
    .filter((block) => block.line > start && block.line < end)
    .map((block) => {
      const before = lines.slice(0, block.line - 1).reverse().find((line) => line.trim() !== '' && !line.startsWith('<!--')) || '';
      return { ...block, before };
    });
}

function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An `npm` that installs the packed tarball where a user would name `pixl-ipc`. */
function npmShim(tarball) {
  const bin = tempDir('pqs-bin-');
  const realNpm = spawnSync('bash', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();
  fs.writeFileSync(path.join(bin, 'npm'), `#!/usr/bin/env bash
args=()
for a in "$@"; do if [ "$a" = pixl-ipc ]; then args+=(${JSON.stringify(tarball)} --prefer-offline --no-audit --no-fund); else args+=("$a"); fi; done
exec ${JSON.stringify(realNpm)} "\${args[@]}"
`, { mode: 0o755 });
  return bin;
}

function run(command, args, options) {
  const result = spawnSync(command, args, { ...options, encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
  assert.strictEqual(result.status, 0, `${command} ${args.join(' ')} exited ${result.status} ${result.signal || ''}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  return result.stdout;
}

describe("README.md's first screen, followed by a new user of the packed package", function () {
  this.timeout(180000);
  let daemon = null;

  after(function () {
    if (daemon && daemon.exitCode === null) process.kill(-daemon.pid, 'SIGKILL');
  });

  it('installs with npm and Composer, starts a daemon, and the command, Node and PHP calls all answer', async function () {
    assert.ok(spawnSync('composer', ['--version']).status === 0, 'composer is needed (.ci/run installs it)');
    const blocks = firstScreenBlocks();
    const langs = blocks.map((b) => b.lang).join(' ');
    assert.match(langs, /^sh sh sh sh js php$/, `the first screen's blocks: install, Composer, serve, send, Node, PHP (got ${langs})`);
    const { tarball } = packedConsumer();
    const project = tempDir('pqs-project-');
    const tmp = tempDir('pqs-');
    const home = tempDir('pqs-home-');
    const env = {
      ...process.env,
      PATH: `${npmShim(tarball)}${path.delimiter}${process.env.PATH}`,
      TMPDIR: tmp,
      HOME: home,
      COMPOSER_HOME: path.join(home, 'composer'),
      COMPOSER_DISABLE_NETWORK: '1',
      COMPOSER_ALLOW_SUPERUSER: '1',
      COMPOSER_NO_INTERACTION: '1',
      npm_config_update_notifier: 'false',
    };
    delete env.PIXL_IPC_SOCKET;
    delete env.XDG_RUNTIME_DIR;
    const outputs = [];
    try {
      for (const block of blocks) {
        if (block.lang === 'sh' && block.marker === 'server') {
          daemon = spawn('bash', ['-e', '-c', block.code], { cwd: project, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          await new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`the daemon did not say "${block.markerArg}":\n${out}`)), RUN_TIMEOUT_MS);
            const look = (chunk) => { out += chunk; if (out.includes(block.markerArg)) { clearTimeout(timer); resolve(); } };
            daemon.stdout.on('data', look);
            daemon.stderr.on('data', look);
            daemon.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the daemon exited ${code}:\n${out}`)); });
          });
          outputs.push(out);
        } else if (block.lang === 'sh') {
          outputs.push(run('bash', ['-e', '-c', block.code], { cwd: project, env }));
        } else {
          // "From Node (save as `hello.js`, run `node hello.js`):"
          const how = /save as `([^`]+)`, run `([^`]+)`/.exec(block.before);
          assert.ok(how, `say how to run the ${block.lang} block: "save as \`FILE\`, run \`COMMAND\`" (before line ${block.line})`);
          fs.writeFileSync(path.join(project, how[1]), block.code);
          const [command, ...args] = how[2].split(' ');
          outputs.push(run(command, args, { cwd: project, env }));
        }
      }
    } finally {
      if (daemon && daemon.exitCode === null) process.kill(-daemon.pid, 'SIGTERM');
    }
    assert.ok(fs.existsSync(path.join(project, 'vendor', 'autoload.php')), 'Composer installed the PHP client');
    assert.match(outputs[2], /listening on .*mydaemon\/ipc\.sock/);
    assert.deepStrictEqual(JSON.parse(outputs[3]), { hello: 'world' });
    assert.match(outputs[4], /hello: 'from Node'/);
    assert.strictEqual(outputs[5], '{"hello":"from PHP"}\n');
  });
});
