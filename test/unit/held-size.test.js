'use strict';
// The estimate of what a request line holds once parsed (lib/held-size.ts).
// What it is checked against, the heap itself, is measured in
// test/integration/budgets.test.js; here, its arithmetic and its bound.
const assert = require('assert');
const fc = require('fast-check');
const { heldBytesOf, parsedBytesOf, SCAN_FROM_BYTES, SMALL_LINE_FACTOR, REQUEST_OVERHEAD_BYTES } = require('../../dist/lib/held-size');

const bytesOf = (line) => Buffer.byteLength(line) + 1;

describe('held-size: what a request line will hold once parsed', function () {
  it('charges a short line SMALL_LINE_FACTOR times its length, without looking at it', function () {
    const line = '{"uri":"/x","data":"' + 'a'.repeat(100) + '"}';
    assert.strictEqual(heldBytesOf(line, bytesOf(line)), bytesOf(line) * SMALL_LINE_FACTOR + REQUEST_OVERHEAD_BYTES);
  });

  it('charges a long string about its length, and a long line of tokens by its tokens', function () {
    const text = JSON.stringify({ uri: '/x', data: 's'.repeat(SCAN_FROM_BYTES * 4) });
    const held = heldBytesOf(text, bytesOf(text));
    assert.ok(held >= text.length && held < text.length + 2048, `${held} for ${text.length}`);
    const nested = '{"uri":"/x","data":' + '['.repeat(SCAN_FROM_BYTES) + ']'.repeat(SCAN_FROM_BYTES) + '}';
    assert.ok(parsedBytesOf(nested, bytesOf(nested)) >= SCAN_FROM_BYTES * 56, 'an array is at least 56 B');
  });

  it('skips structural characters inside strings, escaped quotes included', function () {
    const inside = JSON.stringify({ uri: '/x', data: '[{,:"\\'.repeat(SCAN_FROM_BYTES) });
    const outside = JSON.stringify({ uri: '/x', data: 'abcdef'.repeat(SCAN_FROM_BYTES) });
    // Same number of strings and tokens outside them: the same but for the characters (escapes doubled, two bytes each).
    const a = parsedBytesOf(inside, bytesOf(inside));
    const b = parsedBytesOf(outside, bytesOf(outside));
    assert.ok(a - 2 * inside.length === b - outside.length, `${a} vs ${b}`);
  });

  it('counts a line with a character past U+00FF (raw or escaped) at two bytes a character', function () {
    const raw = JSON.stringify({ uri: '/x', data: 'Ā' + 'x'.repeat(SCAN_FROM_BYTES) });
    const escaped = '{"uri":"/x","data":"\\u0100' + 'x'.repeat(SCAN_FROM_BYTES) + '"}';
    assert.ok(parsedBytesOf(raw, bytesOf(raw)) >= 2 * raw.length);
    assert.ok(parsedBytesOf(escaped, bytesOf(escaped)) >= 2 * escaped.length);
  });

  it('SMALL_LINE_FACTOR bounds the estimate of any JSON line (so short lines need no scan)', function () {
    fc.assert(fc.property(fc.json({ maxDepth: 6 }), (json) => {
      const line = `{"uri":"/x","data":${json}}`;
      return parsedBytesOf(line, bytesOf(line)) <= SMALL_LINE_FACTOR * bytesOf(line);
    }), { numRuns: 2000 });
    for (const worst of ['['.repeat(5000) + ']'.repeat(5000), '[' + new Array(5000).fill('[]').join(',') + ']', '{' + new Array(2000).fill(0).map((_, i) => `"${i}":-0`).join(',') + '}', '[' + new Array(5000).fill('{}').join(',') + ']']) {
      const line = `{"uri":"/x","data":${worst}}`;
      const perByte = parsedBytesOf(line, bytesOf(line)) / bytesOf(line);
      assert.ok(perByte <= SMALL_LINE_FACTOR, `${perByte.toFixed(1)} per byte for ${worst.slice(0, 20)}`);
    }
  });
});
