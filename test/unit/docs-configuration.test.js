'use strict';
// docs/configuration.md against the code: every key of defaultConfig has a row,
// every row a key, the default column is the code's default, and each "≥ N"
// bound is exactly what startup accepts (N passes, below N is refused).
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { defaultConfig, readSettings, ConfigError } = require('../../dist/lib/config');

const PAGE = path.join(__dirname, '..', '..', 'docs', 'configuration.md');

/** { key: { type, defaultText, allowed } } from the page's key table. */
function documentedKeys() {
  const rows = {};
  for (const line of fs.readFileSync(PAGE, 'utf8').split('\n')) {
    const cells = /^\| `(\w+)` \|/.test(line) ? line.split(' | ') : null;
    if (!cells) continue;
    const key = /`(\w+)`/.exec(cells[0])[1];
    rows[key] = { type: cells[1], defaultText: cells[2], allowed: cells[3] };
  }
  return rows;
}

/** The value a default cell names: its first `code span`, read as JSON. */
function documentedDefault(cell) {
  const span = /`([^`]*)`/.exec(cell);
  assert.ok(span, `no \`value\` in the default cell "${cell}"`);
  return JSON.parse(span[1]);
}

function settingsWith(key, value) {
  const config = { ...defaultConfig, socket_path: '/tmp/x.sock', [key]: value };
  return readSettings((name) => config[name]);
}

describe('docs/configuration.md matches lib/config.ts', function () {
  const rows = documentedKeys();

  it('has one row per config key, socket_path included, and no row for a key the code lacks', function () {
    assert.deepStrictEqual(Object.keys(rows).sort(), ['socket_path', ...Object.keys(defaultConfig)].sort());
  });

  for (const [key, value] of Object.entries(defaultConfig)) {
    it(`${key}: the documented default is the code's (${JSON.stringify(value)})`, function () {
      assert.ok(rows[key], `${key} is not documented`);
      assert.deepStrictEqual(documentedDefault(rows[key].defaultText), value);
    });
  }

  it('every numeric key states its bound, and startup accepts the bound and refuses one below it', function () {
    const numeric = Object.keys(defaultConfig).filter((key) => typeof defaultConfig[key] === 'number');
    assert.ok(numeric.length >= 15, 'too few numeric keys: is the table parsed?');
    for (const key of numeric) {
      const bound = /^≥ (\d+)$/.exec(rows[key] && rows[key].allowed);
      assert.ok(bound, `${key}: the allowed column should read "≥ N" (got ${rows[key] && rows[key].allowed})`);
      const min = Number(bound[1]);
      assert.doesNotThrow(() => settingsWith(key, min), `${key} = ${min} should be accepted`);
      assert.throws(() => settingsWith(key, min - 1), (err) => err instanceof ConfigError && err.message.includes(key), `${key} = ${min - 1} should be refused`);
    }
  });
});
