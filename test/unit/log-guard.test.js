'use strict';
const assert = require('assert');
const { guardLogger } = require('../../dist/lib/log-guard');
const { excerpt, EXCERPT_MAX } = require('../../dist/lib/excerpt');

function failingLogger(code) {
  return {
    lines: 0,
    print() {
      const err = new Error(`${code}: write failed`);
      err.code = code;
      throw err;
    },
  };
}

describe('log guard', function () {
  it('turns a throwing log write into a counted failure, reported once per burst', function () {
    const reports = [];
    const logger = failingLogger('ENOSPC');
    const stats = guardLogger(logger, (m) => reports.push(m));
    for (let i = 0; i < 50; i++) logger.print({ msg: 'x' });
    assert.strictEqual(stats.failedWrites, 50);
    assert.strictEqual(stats.lastError, 'ENOSPC');
    assert.strictEqual(reports.length, 1);
    assert.match(reports[0], /ENOSPC/);
  });

  it('passes lines through while writes succeed, and wraps a logger only once', function () {
    const seen = [];
    const logger = { print(args) { seen.push(args.msg); } };
    const first = guardLogger(logger, () => {});
    const second = guardLogger(logger, () => {});
    logger.print({ msg: 'a' });
    assert.deepStrictEqual(seen, ['a']);
    assert.strictEqual(first, second);
    assert.strictEqual(first.failedWrites, 0);
  });

  it('ignores something that is not a logger', function () {
    assert.strictEqual(guardLogger(null), null);
    assert.strictEqual(guardLogger({}), null);
  });
});

describe('excerpt', function () {
  it('keeps short text and cuts long text, saying how much was left out', function () {
    assert.strictEqual(excerpt('/short/uri'), '/short/uri');
    const long = '/x'.repeat(500000);
    const cut = excerpt(long);
    assert.ok(cut.length < EXCERPT_MAX + 40, `excerpt is ${cut.length} characters`);
    assert.match(cut, /\(999800 more characters\)$/);
  });
});
