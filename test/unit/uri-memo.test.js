'use strict';
// The per-uri memo behind routing and policy lookups: right answers, and
// bounded whatever uris clients send.
const assert = require('assert');
const fc = require('fast-check');
const { UriMemo, MAX_URI_LENGTH } = require('../../dist/lib/uri-memo');

/** A memo of `compute` that counts its calls. */
function counted(compute, limit) {
  const calls = [];
  const memo = new UriMemo((uri) => {
    calls.push(uri);
    return compute(uri);
  }, limit);
  return { memo, calls };
}

describe('UriMemo', function () {
  it('works out each uri once while it is remembered, the last one and the others, null answers included', function () {
    const { memo, calls } = counted((uri) => (uri.startsWith('/a') ? uri.length : null));
    for (let round = 0; round < 3; round++) {
      assert.strictEqual(memo.get('/a/1'), 4);
      assert.strictEqual(memo.get('/a/1'), 4);
      assert.strictEqual(memo.get('/b'), null);
      assert.strictEqual(memo.get('/a/22'), 5);
    }
    assert.deepStrictEqual(calls, ['/a/1', '/b', '/a/22']);
    memo.clear();
    assert.strictEqual(memo.get('/a/1'), 4);
    assert.strictEqual(calls.length, 4, 'cleared: worked out again');
  });

  it('never keeps a uri past MAX_URI_LENGTH, not even as the last one asked', function () {
    const { memo, calls } = counted((uri) => uri.length);
    const long = '/' + 'é'.repeat(MAX_URI_LENGTH);
    assert.strictEqual(memo.get(long), MAX_URI_LENGTH + 1);
    assert.strictEqual(memo.get(long), MAX_URI_LENGTH + 1);
    assert.strictEqual(calls.length, 2);
    assert.strictEqual(memo.size, 0);
    // One at the limit is kept.
    const atLimit = '/' + 'é'.repeat(MAX_URI_LENGTH - 1);
    memo.get(atLimit);
    memo.get(atLimit);
    assert.strictEqual(calls.length, 3);
    assert.strictEqual(memo.size, 1);
  });

  it('holds at most its limit of uris, the longest kept and all distinct, and still answers right', function () {
    const limit = 50;
    const { memo } = counted((uri) => uri.charCodeAt(uri.length - 1), limit);
    let most = 0;
    for (let i = 0; i < 20 * limit; i++) {
      const uri = String(i).padStart(MAX_URI_LENGTH, 'é');
      assert.strictEqual(memo.get(uri), uri.charCodeAt(uri.length - 1));
      most = Math.max(most, memo.size);
    }
    assert.strictEqual(most, limit);
  });

  it('answers every sequence of uris as the function itself does', function () {
    const uri = fc.oneof(fc.constantFrom('/a', '/b', '/a/1'), fc.string({ maxLength: 8 }), fc.string({ minLength: MAX_URI_LENGTH - 1, maxLength: MAX_URI_LENGTH + 2 }));
    fc.assert(fc.property(fc.array(uri, { maxLength: 60 }), fc.integer({ min: 1, max: 5 }), (uris, limit) => {
      const compute = (u) => (u.length % 3 === 0 ? null : u.length + ':' + u.slice(0, 2));
      const { memo } = counted(compute, limit);
      for (const u of uris) {
        assert.strictEqual(memo.get(u), compute(u));
        assert.ok(memo.size <= limit);
      }
    }));
  });
});
