'use strict';
// A consumer project made the way users get the package: `npm pack` (with its
// prepack/postpack scripts), then `npm install <tarball>` into an empty
// project. Made once per test run and shared by the tests that need it.
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..', '..');
let made = null;

/** Runs npm; returns stdout and stderr (npm prints its warnings there). */
function npm(args, cwd) {
  const result = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return { stdout: result.stdout, stderr: result.stderr };
}

/**
 * { dir, tarball, files, installOutput }: `dir` holds package.json and
 * node_modules/pixl-ipc installed from the tarball; `files` is what the tarball
 * contains; `installOutput` is everything `npm install` printed.
 */
function packedConsumer() {
  if (made) return made;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixl-ipc-consumer-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], root).stdout.replace(/^[^[]*/, ''));
  const tarball = path.join(dir, packed[0].filename);
  const files = packed[0].files.map((file) => file.path);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2));
  // --prefer-offline: the dependencies are in npm's cache after the checkout's `npm ci`.
  const install = npm(['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], dir);
  made = { dir, tarball, files, installOutput: install.stdout + install.stderr };
  return made;
}

module.exports = { packedConsumer, npm };
