'use strict';
// `npm pack` / `npm publish` helper. The `prepare` script compiles a git
// checkout on `npm install`, but in a tarball it has nothing to do (the tarball
// ships dist/) and npm warns every consumer installing a tarball about it as an
// unreviewed install script. So prepack removes it from package.json while the
// tarball is made, and postpack puts the file back byte for byte.
//   node scripts/packed-manifest.js strip|restore
const fs = require('fs');
const path = require('path');

const manifest = path.join(__dirname, '..', 'package.json');
const saved = path.join(__dirname, '..', '.package.json.before-pack');

function strip() {
  const original = fs.readFileSync(manifest, 'utf8');
  // A backup left by an interrupted pack is the original: keep it.
  if (!fs.existsSync(saved)) fs.writeFileSync(saved, original);
  const pkg = JSON.parse(original);
  delete pkg.scripts.prepare;
  fs.writeFileSync(manifest, JSON.stringify(pkg, null, 2) + '\n');
}

function restore() {
  if (!fs.existsSync(saved)) return;
  fs.writeFileSync(manifest, fs.readFileSync(saved));
  fs.unlinkSync(saved);
}

module.exports = { strip, restore, saved };

if (require.main === module) {
  const command = { strip, restore }[process.argv[2]];
  if (!command) {
    console.error('usage: node scripts/packed-manifest.js strip|restore');
    process.exit(2);
  }
  command();
}
