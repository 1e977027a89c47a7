'use strict';
// Runs after tsc (npm run build, prepare, prepack): removes the `#private;`
// marker tsc writes into the .d.ts of a class with ES private fields. A
// consumer whose tsconfig targets ES5 (TypeScript's default) cannot read it
// (TS18028), and it says nothing a user can rely on: the fields stay private
// at run time.
const fs = require('fs');
const path = require('path');

const dist = path.join(__dirname, '..', 'dist');

function declarationFiles(dir) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...declarationFiles(full));
    else if (entry.name.endsWith('.d.ts')) found.push(full);
  }
  return found;
}

let changed = 0;
for (const file of declarationFiles(dist)) {
  const text = fs.readFileSync(file, 'utf8');
  const finished = text.replace(/^[ \t]*#private;\r?\n/gm, '');
  if (finished !== text) {
    fs.writeFileSync(file, finished);
    changed++;
  }
}
if (process.argv.includes('--verbose')) console.log(`finish-declarations: ${changed} files without #private`);
