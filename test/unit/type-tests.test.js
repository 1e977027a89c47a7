'use strict';
// Compiles the type tests in test/types/ against the built declarations, as a
// consumer would import them (strict, module nodenext, no skipLibCheck): each
// expectTypeOf must hold and each @ts-expect-error must meet an error.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const ts = require('typescript');

const root = path.join(__dirname, '..', '..');
const dir = path.join(root, 'test', 'types');

describe('type tests (test/types)', function () {
  this.timeout(120000);

  it('compile in strict mode: generics infer, misspelled config keys and wrong handler results do not compile', function () {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f));
    assert.ok(files.length > 0);
    const program = ts.createProgram(files, {
      strict: true,
      noEmit: true,
      esModuleInterop: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: ['node'],
      typeRoots: [path.join(root, 'node_modules', '@types')],
    });
    const complaints = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${path.relative(root, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : '';
      return `${where} TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    assert.deepStrictEqual(complaints, []);
  });
});
