'use strict';
const assert = require('assert');
const { Router } = require('../../dist/lib/router');

const noop = () => {};

describe('Router', function () {
  it('matches strings exactly (a dot is literal) and RegExps by test', function () {
    const router = new Router();
    router.add('/a.b', 'exact', noop);
    router.add(/^\/api\//, 'api', noop);
    assert.strictEqual(router.match('/a.b').name, 'exact');
    assert.strictEqual(router.match('/aXb'), null);
    assert.strictEqual(router.match('/a.b/more'), null);
    assert.strictEqual(router.match('/api/users').name, 'api');
    assert.strictEqual(router.size, 2);
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
