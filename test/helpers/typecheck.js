'use strict';
// Type-checks a consumer's TypeScript file the way a user's strict project
// would, and returns TypeScript's complaints as plain strings.
const path = require('path');
const ts = require('typescript');

const root = path.join(__dirname, '..', '..');

/** Diagnostics for `file` (strict, esModuleInterop, CommonJS); `extraOptions` adds compiler options such as `paths`. */
function typeCheck(file, extraOptions = {}) {
  const program = ts.createProgram([file], {
    strict: true,
    esModuleInterop: true,
    noEmit: true,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    target: ts.ScriptTarget.ES2022,
    types: ['node'],
    typeRoots: [path.join(root, 'node_modules', '@types')],
    ...extraOptions,
  });
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

module.exports = { typeCheck };
