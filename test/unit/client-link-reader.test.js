'use strict';
// The Node client's line reader (client/link-reader.ts): the same lines as
// the server's reader for any chunking, a line limit counted on what is held,
// and memory that follows the bytes held whatever the write pattern.
const assert = require('assert');
const { LinkReader, BASE_BYTES } = require('../../dist/client/link-reader');
const { LineReader } = require('../../dist/lib/framing');

function collect(max = 1024 * 1024) {
  const out = { lines: [], bytes: [], overflow: null, invalid: 0 };
  out.reader = new LinkReader(max, {
    onLine: (line, bytes) => { out.lines.push(line); out.bytes.push(bytes); },
    onOverflow: (held) => { out.overflow = held; },
    onInvalid: () => { out.invalid++; },
  });
  return out;
}

/** Feeds `data` as a socket would: each piece read into the reader's own buffer. */
function feed(reader, piece) {
  const into = reader.readInto();
  assert.ok(into.length >= piece.length || into.length >= 16 * 1024, 'a read gets room');
  let at = 0;
  while (at < piece.length) {
    const target = reader.readInto();
    const n = Math.min(target.length, piece.length - at);
    piece.copy(target, 0, at, at + n);
    reader.read(n);
    at += n;
  }
}

describe('client LinkReader', () => {
  it('gives the same lines and byte counts as the server reader, for random chunkings', () => {
    const text = Buffer.from(['{"a":1}', 'é€😀 unicode', 'x'.repeat(5000), '', 'crlf\r', 'y'.repeat(70000), '{"b":[1,2,3]}'].join('\n') + '\n');
    for (let round = 0; round < 50; round++) {
      const ours = collect();
      const theirs = { lines: [], bytes: [] };
      const server = new LineReader(1024 * 1024, { onLine: (l, b) => { theirs.lines.push(l); theirs.bytes.push(b); }, onOverflow: () => {} });
      let at = 0;
      while (at < text.length) {
        const n = 1 + Math.floor(Math.random() * (round % 2 ? 20 : 9000));
        const piece = text.subarray(at, at + n);
        if (round % 3 === 0) ours.reader.push(piece); else feed(ours.reader, piece);
        server.push(Buffer.from(piece));
        at += n;
      }
      assert.deepStrictEqual(ours.lines, theirs.lines);
      assert.deepStrictEqual(ours.bytes, theirs.bytes);
      assert.strictEqual(ours.reader.heldBytes, 0);
    }
  });

  it('trickle: 8 KiB without a line feed, then one byte per read, holds about the bytes received', () => {
    const out = collect(128 * 1024 * 1024);
    feed(out.reader, Buffer.alloc(8 * 1024, 'x'));
    const one = Buffer.from('x');
    let maxCapacity = 0;
    for (let i = 0; i < 300000; i++) {
      feed(out.reader, one);
      maxCapacity = Math.max(maxCapacity, out.reader.capacity);
    }
    const held = out.reader.heldBytes;
    assert.strictEqual(held, 8 * 1024 + 300000);
    // One buffer, at most about twice what is held plus one read's room.
    assert.ok(maxCapacity <= 2 * held + 2 * BASE_BYTES, `capacity ${maxCapacity} for ${held} held`);
    assert.deepStrictEqual(out.lines, []);
  });

  it('refuses a line past the limit once that many bytes are held, then stops', () => {
    const out = collect(1000);
    feed(out.reader, Buffer.alloc(999, 'a'));
    feed(out.reader, Buffer.from('\n'));
    assert.strictEqual(out.lines.length, 1);
    feed(out.reader, Buffer.alloc(600, 'b'));
    assert.strictEqual(out.overflow, null);
    feed(out.reader, Buffer.alloc(600, 'b'));
    assert.strictEqual(out.overflow, 1200);
    feed(out.reader, Buffer.from('\n{"late":1}\n'));
    assert.strictEqual(out.lines.length, 1, 'nothing after the overflow');
    assert.strictEqual(out.reader.capacity, 0, 'its memory is let go');
  });

  it('a line that is not UTF-8 is reported, not decoded with replacement characters; a real U+FFFD passes', () => {
    const out = collect();
    out.reader.push(Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n{"b":"\uFFFD"}\n')]));
    assert.strictEqual(out.invalid, 1);
    assert.deepStrictEqual(out.lines, ['{"b":"\uFFFD"}']);
  });

  it('pause holds lines (also from inside onLine) and resume delivers them in order', () => {
    const lines = [];
    const reader = new LinkReader(1000, {
      onLine: (line) => { lines.push(line); if (line === 'b') reader.pause(); },
      onOverflow: () => {}, onInvalid: () => {},
    });
    feed(reader, Buffer.from('a\nb\nc\nd'));
    assert.deepStrictEqual(lines, ['a', 'b']);
    feed(reader, Buffer.from('\ne\n'));
    assert.deepStrictEqual(lines, ['a', 'b']);
    reader.resume();
    assert.deepStrictEqual(lines, ['a', 'b', 'c', 'd', 'e']);
    assert.strictEqual(reader.lines, 5);
  });

  it('a buffer grown for a large line is given back once the line is read', () => {
    const out = collect(64 * 1024 * 1024);
    feed(out.reader, Buffer.alloc(4 * 1024 * 1024, 'z'));
    assert.ok(out.reader.capacity >= 4 * 1024 * 1024);
    feed(out.reader, Buffer.from('\n'));
    out.reader.readInto();
    assert.strictEqual(out.reader.capacity, BASE_BYTES);
  });
});
