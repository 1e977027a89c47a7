'use strict';
// Runs before `npm start` and `npm test`: on a fresh checkout, where nothing has
// been installed or compiled yet, install the pinned dependencies (which also
// compiles the TypeScript through the `prepare` script). Otherwise does nothing.
const { execSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');

// An `npm pack` interrupted between prepack and postpack leaves package.json
// without its prepare script (see packed-manifest.js): put it back first.
const packedManifest = require('./packed-manifest');
if (fs.existsSync(packedManifest.saved)) {
  console.error('pixl-ipc: restoring package.json after an interrupted npm pack');
  packedManifest.restore();
}
const installed = fs.existsSync(path.join(root, 'node_modules', '.package-lock.json'));
const built = fs.existsSync(path.join(root, 'dist', 'lib', 'index.js')) && fs.existsSync(path.join(root, 'dist', 'client', 'index.js'));

if (!installed) {
  console.error('pixl-ipc: first run, installing dependencies (npm ci)');
  execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
} else if (!built) {
  console.error('pixl-ipc: compiling TypeScript (npm run build)');
  execSync('npm run build', { cwd: root, stdio: 'inherit' });
}
