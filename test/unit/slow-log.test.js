'use strict';
const assert = require('assert');
const { SlowRequestLog, uriExcerpt, URI_EXCERPT_CHARS } = require('../../dist/lib/slow-log');

describe('SlowRequestLog', function () {
  it('logs at most N per second and reports how many it left out', function () {
    let now = 1000;
    const lines = [];
    const log = new SlowRequestLog(2, (message, data) => lines.push({ message, data }), () => now);
    const slow = (ms) => log.report({ handler: 'h', uri: '/a', connectionId: 7, ms });
    assert.strictEqual(slow(30), true);
    assert.strictEqual(slow(31), true);
    for (let i = 0; i < 10; i++) assert.strictEqual(slow(32), false);
    assert.strictEqual(lines.length, 2);
    now += 999;
    assert.strictEqual(slow(33), false, 'still the same second');
    now += 1;
    assert.strictEqual(slow(34.5), true);
    assert.strictEqual(lines.length, 3);
    assert.strictEqual(lines[2].data.suppressed, 11);
    assert.match(lines[2].message, /11 more slow responses/);
    assert.deepStrictEqual({ ...lines[0].data }, { handler: 'h', uri: '/a', connection: 7, ms: 30 });
    assert.strictEqual(log.suppressedTotal, 11);
    assert.strictEqual(slow(35), true);
    assert.strictEqual(lines[3].data.suppressed, undefined, 'the count is given once');
  });

  it('bounds and escapes the uri excerpt', function () {
    const long = '/x'.repeat(10000);
    assert.ok(uriExcerpt(long).length <= URI_EXCERPT_CHARS + 1);
    assert.strictEqual(uriExcerpt('/a\nb\u0000'), '/a\\nb\\u0000');
    assert.ok(!/[\n\r]/.test(uriExcerpt('/\r\n/injected log line')));
  });
});
