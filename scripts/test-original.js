'use strict';
// Runs the original pixl-ipc 1.x test suite (its test/ directory, from a
// checkout of GitHub rdominy/pixl-ipc) against this package: the suite's
// `require('..')`, `require('../client')` and its PHP tests' client path are
// pointed at ours, nothing else is changed. The suite is not ours to copy into
// this repository, so it is read from the checkout given.
//
//   npm run test:original -- /path/to/pixl-ipc-1.x-checkout
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const original = process.argv[2];
if (!original || !fs.existsSync(path.join(original, 'test', 'test.js'))) {
  console.error('usage: npm run test:original -- <checkout of the original pixl-ipc 1.x, with test/test.js>');
  process.exit(2);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixl-ipc-original-'));
try {
  fs.cpSync(path.join(original, 'test'), path.join(dir, 'test'), { recursive: true });
  // The suite's view of the package: its root is ours, its client is ours.
  fs.writeFileSync(path.join(dir, 'index.js'), `module.exports = require(${JSON.stringify(root)});\n`);
  fs.writeFileSync(path.join(dir, 'client.js'), `module.exports = require(${JSON.stringify(path.join(root, 'dist', 'client', 'index.js'))});\n`);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'pixl-ipc-original-suite', private: true, main: 'index.js' }));
  fs.mkdirSync(path.join(dir, 'clients'));
  fs.writeFileSync(path.join(dir, 'clients', 'PixlIPCClient.class.php'), `<?php\nrequire_once ${JSON.stringify(path.join(root, 'clients', 'PixlIPCClient.class.php'))};\n`);
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const mocha = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
  const result = spawnSync(process.execPath, [mocha, '--exit', 'test/test.js'], { cwd: dir, stdio: 'inherit', timeout: 300000 });
  process.exitCode = result.status === null ? 1 : result.status;
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
