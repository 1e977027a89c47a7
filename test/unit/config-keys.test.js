'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { editDistance, closestKey, unknownKeyWarnings, KNOWN_KEYS } = require('../../dist/lib/config-keys');
const { defaultConfig } = require('../../dist/lib/config');

describe('config keys: unknown-key warnings', function () {
  it('measures edit distance (insertions, deletions, substitutions)', function () {
    assert.strictEqual(editDistance('', ''), 0);
    assert.strictEqual(editDistance('abc', 'abc'), 0);
    assert.strictEqual(editDistance('max_mesage_size', 'max_message_size'), 1);
    assert.strictEqual(editDistance('kitten', 'sitting'), 3);
    assert.strictEqual(editDistance('', 'abc'), 3);
  });

  it('suggests the nearest known key for a typo, and nothing for an unrelated word', function () {
    assert.strictEqual(closestKey('max_mesage_size'), 'max_message_size');
    assert.strictEqual(closestKey('socketpath'), 'socket_path');
    assert.strictEqual(closestKey('SOCKET_CHMOD'), 'socket_chmod');
    assert.strictEqual(closestKey('idle_timout'), 'idle_timeout');
    assert.strictEqual(closestKey('database_url'), null);
  });

  it('knows socket_path and every key with a default', function () {
    assert.deepStrictEqual([...KNOWN_KEYS].sort(), ['socket_path', ...Object.keys(defaultConfig)].sort());
    assert.deepStrictEqual(unknownKeyWarnings({ socket_path: '/x', ...defaultConfig }), []);
  });

  it('IPCServer.Config (lib/config-types.ts) has exactly the known keys, so TypeScript refuses the same misspellings', function () {
    const source = fs.readFileSync(path.join(__dirname, '..', '..', 'dist', 'lib', 'config-types.d.ts'), 'utf8');
    const body = source.slice(source.indexOf('export interface IPCServerConfig {'), source.indexOf('\n}\n', source.indexOf('export interface IPCServerConfig {')));
    const typed = [...body.matchAll(/^ {4}([a-z_]+)\??:/gm)].map((m) => m[1]);
    assert.deepStrictEqual([...typed].sort(), [...KNOWN_KEYS].sort());
  });

  it('warns once per unknown key', function () {
    assert.deepStrictEqual(unknownKeyWarnings({ socket_path: '/x', max_conections: 1, zzz: 2 }), [
      'IPCServer config: unknown key max_conections (did you mean max_connections?); it is ignored',
      'IPCServer config: unknown key zzz; it is ignored',
    ]);
    assert.deepStrictEqual(unknownKeyWarnings(null), []);
  });
});
