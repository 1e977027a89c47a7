'use strict';
const assert = require('assert');
const { LineReader } = require('../../dist/lib/framing');

function collect(max = 1024) {
  const lines = [];
  const overflows = [];
  const reader = new LineReader(max, {
    onLine: (line) => lines.push(line),
    onOverflow: (head) => overflows.push({ head: head.toString() }),
  });
  return { reader, lines, overflows };
}

describe('LineReader', function () {
  it('splits several lines in one chunk and joins one line across many chunks', function () {
    const { reader, lines } = collect();
    reader.push(Buffer.from('{"a":1}\n{"b":2}\n{"c":'));
    assert.deepStrictEqual(lines, ['{"a":1}', '{"b":2}']);
    for (const ch of '3}\n') reader.push(Buffer.from(ch));
    assert.deepStrictEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
    assert.strictEqual(reader.bufferedBytes, 0);
  });

  it('reads a chunk of whole lines as one string with the same lines, byte counts, CRLF endings and pauses as line by line', function () {
    const seen = [];
    let reader;
    let pauseAfter = -1;
    reader = new LineReader(1024, {
      onLine: (line, bytes) => {
        seen.push([line, bytes]);
        if (seen.length === pauseAfter) reader.pause();
      },
      onOverflow: () => assert.fail('no line here is too long'),
    });
    // Whole ASCII lines (the one-string path), CRLF and a blank line included.
    reader.push(Buffer.from('{"a":1}\r\n\n{"b":22}\n'));
    assert.deepStrictEqual(seen, [['{"a":1}', 9], ['{"b":22}', 9]]);
    // A pause from inside onLine keeps the rest of the chunk, unscanned, until resume().
    seen.length = 0;
    pauseAfter = 1;
    reader.push(Buffer.from('{"c":3}\n{"d":4}\n{"e":5}\n'));
    assert.deepStrictEqual(seen, [['{"c":3}', 8]]);
    assert.strictEqual(reader.bufferedBytes, 16);
    pauseAfter = -1;
    reader.resume();
    assert.deepStrictEqual(seen.map((s) => s[0]), ['{"c":3}', '{"d":4}', '{"e":5}']);
    assert.strictEqual(reader.bufferedBytes, 0);
    // Non-ASCII whole lines take the per-line path: UTF-8 text, bytes counted as received.
    seen.length = 0;
    reader.push(Buffer.from('{"s":"é€"}\n'));
    assert.deepStrictEqual(seen, [['{"s":"é€"}', Buffer.byteLength('{"s":"é€"}\n')]]);
  });

  it('delivers a chunk read as one string exactly as byte by byte: non-ASCII, invalid UTF-8, CRLF, one line or several, short or long', function () {
    const read = (chunks) => {
      const seen = [];
      const reader = new LineReader(1024, { onLine: (line, bytes) => seen.push([line, bytes]), onOverflow: () => assert.fail('no overflow') });
      for (const chunk of chunks) reader.push(chunk);
      assert.strictEqual(reader.bufferedBytes, 0);
      return seen;
    };
    const pieces = ['{"a":1}', 'é', '€', '𝄞', '\r', '\n', 'x', '\u0000', Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xe2, 0x82]), 'y'.repeat(300)];
    let seed = 7;
    const random = (n) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    for (let round = 0; round < 500; round++) {
      const parts = [];
      for (let i = random(12); i >= 0; i--) {
        const piece = pieces[random(pieces.length)];
        parts.push(Buffer.isBuffer(piece) ? piece : Buffer.from(piece));
      }
      parts.push(Buffer.from('\n'));
      const chunk = Buffer.concat(parts);
      const byByte = read([...chunk].map((b) => Buffer.from([b])));
      assert.deepStrictEqual(read([chunk]), byByte, `chunk ${chunk.toString('hex')}`);
      assert.strictEqual(byByte.reduce((sum, [, bytes]) => sum + bytes, 0) <= chunk.length, true);
    }
  });

  it('detachHeld copies the unfinished line and a paused chunk out of the buffer they were read into, so it can be reused', function () {
    const seen = [];
    let reader;
    reader = new LineReader(1024, {
      onLine: (line) => {
        seen.push(line);
        if (line === '{"p":1}') reader.pause();
      },
      onOverflow: () => assert.fail('no line here is too long'),
    });
    const shared = Buffer.alloc(64);
    const readInto = (text) => shared.subarray(0, shared.write(text));
    reader.push(readInto('{"a":1}\n{"b":'));
    reader.detachHeld();
    shared.fill(0x78); // the next read overwrites the buffer
    reader.push(readInto('2}\n{"p":1}\n{"c":3}\n'));
    assert.deepStrictEqual(seen, ['{"a":1}', '{"b":2}', '{"p":1}']);
    assert.strictEqual(reader.bufferedBytes, 8);
    reader.detachHeld();
    shared.fill(0x78);
    reader.resume();
    assert.deepStrictEqual(seen, ['{"a":1}', '{"b":2}', '{"p":1}', '{"c":3}']);
  });

  it('reassembles a multi-byte character split between chunks', function () {
    const { reader, lines } = collect();
    const bytes = Buffer.from('{"s":"héllo €𝄞"}\n');
    for (let i = 0; i < bytes.length; i++) reader.push(bytes.subarray(i, i + 1));
    assert.deepStrictEqual(lines, ['{"s":"héllo €𝄞"}']);
  });

  it('decodes long lines, ASCII or not, whole or across chunks, exactly as UTF-8', function () {
    const { reader, lines } = collect(1 << 20);
    const ascii = JSON.stringify({ s: 'ascii-only '.repeat(2000) });
    const mixed = JSON.stringify({ s: 'ascii '.repeat(2000) + 'é€𝄞\u0000\u007f' + 'x'.repeat(5000) });
    const invalid = Buffer.concat([Buffer.from('{"s":"'), Buffer.alloc(6000, 0x61), Buffer.from([0xff, 0xc3]), Buffer.from('"}')]);
    for (const step of [1 << 20, 4093, 7]) {
      lines.length = 0;
      const bytes = Buffer.concat([Buffer.from(ascii + '\n' + mixed + '\n'), invalid, Buffer.from('\n')]);
      for (let i = 0; i < bytes.length; i += step) reader.push(bytes.subarray(i, i + step));
      assert.deepStrictEqual(lines, [ascii, mixed, invalid.toString('utf8')], `chunks of ${step} bytes`);
    }
  });

  it('drops \\r before \\n and skips empty lines', function () {
    const { reader, lines } = collect();
    reader.push(Buffer.from('a\r\n\n\r\nb\r'));
    reader.push(Buffer.from('\n'));
    assert.deepStrictEqual(lines, ['a', 'b']);
  });

  it('refuses a line past the limit before its newline arrives', function () {
    const { reader, lines, overflows } = collect(10);
    reader.push(Buffer.from('{"ipcReqID":'));
    assert.strictEqual(overflows.length, 1);

    reader.push(Buffer.from('1}\n{"ok":1}\n'));
    assert.deepStrictEqual(lines, [], 'nothing is delivered after an overflow');
  });

  it('accepts a line exactly at the limit', function () {
    const { reader, lines, overflows } = collect(5);
    reader.push(Buffer.from('12345\n123456\n'));
    assert.deepStrictEqual(lines, ['12345']);
    assert.strictEqual(overflows.length, 1);
  });

  it('holds the rest of a chunk while paused and delivers it on resume', function () {
    const lines = [];
    const reader = new LineReader(100, {
      onLine: (line) => { lines.push(line); if (line === 'b') reader.pause(); },
      onOverflow: () => assert.fail('no overflow expected'),
    });
    reader.push(Buffer.from('a\nb\nc\nd'));
    assert.deepStrictEqual(lines, ['a', 'b']);
    assert.ok(reader.isPaused);
    reader.resume();
    assert.deepStrictEqual(lines, ['a', 'b', 'c']);
    reader.push(Buffer.from('\n'));
    assert.deepStrictEqual(lines, ['a', 'b', 'c', 'd']);
  });
});
