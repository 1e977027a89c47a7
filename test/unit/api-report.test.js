'use strict';
// The public API report (api/pixl-ipc.api.md) matches the built declarations:
// an export that changes without `npm run api:report` fails here.
const assert = require('assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const script = path.join(root, 'scripts', 'api-report.js');
const report = path.join(root, 'api', 'pixl-ipc.api.md');

function check(reportFile) {
  return spawnSync(process.execPath, [script, '--check', '--report', reportFile], { cwd: root, encoding: 'utf8' });
}

describe('API report', function () {
  this.timeout(30000);

  it('matches the built declarations (after an API change: npm run api:report, and commit the report)', function () {
    const result = check(report);
    assert.strictEqual(result.status, 0, result.stderr);
  });

  it('fails, naming the difference, when the report and the declarations differ', function () {
    const changed = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pixl-ipc-api-')), 'report.md');
    try {
      const text = fs.readFileSync(report, 'utf8');
      assert.match(text, /addURIHandler<Data = unknown, Result = unknown>/);
      fs.writeFileSync(changed, text.replace('addURIHandler<Data = unknown, Result = unknown>', 'addURIHandler'));
      const result = check(changed);
      assert.strictEqual(result.status, 1);
      assert.match(result.stderr, /^- .*addURIHandler\(pattern/m);
      assert.match(result.stderr, /^\+ .*addURIHandler<Data = unknown, Result = unknown>/m);
      assert.match(result.stderr, /npm run api:report/);
    } finally {
      fs.rmSync(path.dirname(changed), { recursive: true, force: true });
    }
  });

  it('leaves out private members and comments', function () {
    const text = fs.readFileSync(report, 'utf8');
    assert.doesNotMatch(text, /^\s*private /m);
    assert.doesNotMatch(text, /#private/);
    assert.doesNotMatch(text, /\/\*\*/);
  });
});
