'use strict';
const assert = require('assert');
const { Router } = require('../../dist/lib/router');

const noop = () => {};

describe('Router', function () {
  it('reads a string pattern as an anchored regular expression, as 1.x did', function () {
    const router = new Router();
    router.add('/myapi/users/.*', 'users', noop);
    router.add('/a.b', 'dotted', noop);
    router.add('/plain', 'plain', noop);
    router.add(/^\/api\//, 'api', noop);
    assert.strictEqual(router.match('/myapi/users/42').name, 'users');
    assert.strictEqual(router.match('/myapi/users/').name, 'users');
    assert.strictEqual(router.match('/myapi/users'), null, 'anchored: the trailing slash is part of the pattern');
    assert.strictEqual(router.match('/x/myapi/users/1'), null, 'anchored at the start');
    assert.strictEqual(router.match('/a.b').name, 'dotted');
    assert.strictEqual(router.match('/aXb').name, 'dotted', 'a dot is any character, as in 1.x');
    assert.strictEqual(router.match('/a.b/more'), null, 'anchored at the end');
    assert.strictEqual(router.match('/plain').name, 'plain', 'an exact string is its own pattern');
    assert.strictEqual(router.match('/plainer'), null);
    assert.strictEqual(router.match('/api/users').name, 'api');
    assert.strictEqual(router.size, 4);
  });

  it('builds a string pattern as 1.x did (^ + pattern + $), alternations included', function () {
    const router = new Router();
    router.add('/a|/b', 'either', noop);
    // 1.x's RegExp("^/a|/b$"): starts with /a, or ends with /b.
    assert.strictEqual(router.match('/a/anything').name, 'either');
    assert.strictEqual(router.match('/x/b').name, 'either');
    assert.strictEqual(router.match('/c'), null);
  });

  it('keeps registration order between exact strings and regular expressions', function () {
    const router = new Router();
    router.add('/x', 'exact-first', noop);
    router.add(/^\/x/, 'regex-second', noop);
    router.add('/y', 'exact-second', noop);
    router.add('/y', 'exact-duplicate', noop);
    assert.strictEqual(router.match('/x').name, 'exact-first');
    assert.strictEqual(router.match('/xx').name, 'regex-second');
    assert.strictEqual(router.match('/y').name, 'exact-second', 'the first of two equal strings wins');
    router.remove('exact-second');
    assert.strictEqual(router.match('/y').name, 'exact-duplicate');
  });

  it('finds each of 10,000 literal routes, and a regex registered before them still wins', function () {
    const router = new Router();
    router.add(/^\/r\/7$/, 'regex-first', noop);
    for (let i = 0; i < 10000; i++) router.add(`/r/${i}`, `r${i}`, noop);
    for (const i of [0, 1, 6, 8, 4999, 9999]) assert.strictEqual(router.match(`/r/${i}`).name, `r${i}`);
    assert.strictEqual(router.match('/r/7').name, 'regex-first');
    assert.strictEqual(router.match('/r/10000'), null);
  });

  it('refuses a string that is not a valid regular expression, naming it', function () {
    const router = new Router();
    assert.throws(() => router.add('/broken(', 'n', noop), (err) => err instanceof TypeError && /"\/broken\(" is not a valid regular expression/.test(err.message));
    assert.strictEqual(router.size, 0);
  });

  it('lists string patterns as registered', function () {
    const router = new Router();
    router.add('/myapi/.*', 'n', noop);
    assert.deepStrictEqual(router.list().map((r) => r.pattern), ['/myapi/.*']);
  });

  it('lets the first registered match win', function () {
    const router = new Router();
    router.add(/^\/x/, 'first', noop);
    router.add('/x', 'second', noop);
    assert.strictEqual(router.match('/x').name, 'first');
  });

  it('tests /g and /y patterns from the start every time', function () {
    const router = new Router();
    router.add(/\/g/g, 'global', noop);
    for (let i = 0; i < 3; i++) assert.strictEqual(router.match('/g' + i).name, 'global', 'lookup ' + i);
  });

  it('removes every route under a name and forgets cached lookups', function () {
    const router = new Router();
    router.add('/one', 'dup', noop);
    router.add(/^\/two/, 'dup', noop);
    router.add('/three', 'keep', noop);
    assert.strictEqual(router.match('/one').name, 'dup');
    assert.strictEqual(router.remove('dup'), 2);
    assert.strictEqual(router.remove('dup'), 0);
    assert.strictEqual(router.match('/one'), null, 'the cached hit is gone');
    assert.strictEqual(router.match('/three').name, 'keep');
  });

  it('sees routes added after a cached miss', function () {
    const router = new Router();
    assert.strictEqual(router.match('/late'), null);
    router.add('/late', 'late', noop);
    assert.strictEqual(router.match('/late').name, 'late');
  });

  it('keeps answering right past its cache limit (hostile uris cannot grow it)', function () {
    const router = new Router();
    router.add(/^\/n\/\d+$/, 'numbered', noop);
    for (let i = 0; i < 5000; i++) assert.strictEqual(router.match('/n/' + i).name, 'numbered');
    assert.strictEqual(router.match('/miss'), null);
  });

  it('refuses bad patterns and handlers', function () {
    const router = new Router();
    assert.throws(() => router.add(42, 'n', noop), TypeError);
    assert.throws(() => router.add('/x', 'n', 'not a function'), TypeError);
    assert.strictEqual(router.size, 0);
  });
});
