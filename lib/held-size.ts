/**
 * What a request will hold once its line is parsed: bytes of V8 heap, known
 * before the line is parsed, so that the server can refuse a request it has
 * no budget for instead of building it.
 *
 * A line's wire length says little: `[{},{},...]` holds 21 times its length
 * once parsed, `[[[[...]]]]` 28 times, a long string once. What a parsed value
 * holds is a sum over its tokens (measured on Node 20, x64, 8-byte pointers):
 *
 *   array `[`   ≤ 64 B  (JSArray 32, elements header 16, its first slot 8)
 *   object `{`  ≤ 64 B  (JSObject with its in-object slots)
 *   `,`         ≤ 24 B  (an element's slot, 8, and a heap number, 16: `-0`, `1.5`, `2147483648`)
 *   `:`         ≤ 56 B  (a property: its slot, a heap number, its share of a new shape)
 *   `-` `.` `e` ≤ 16 B  (the heap number of an array's first element: `[-0]`, `[1e9]`;
 *               one of 10 digits or more pays with its digits)
 *   string      ≤ 32 B  (header and padding) + its characters, 1 byte each, 2 in a
 *               string with a character past U+00FF (possible only when the line
 *               has a non-ASCII byte or a `\`)
 *
 * Lines shorter than SCAN_FROM_BYTES are not scanned: the costliest tokens
 * above amount to at most SMALL_LINE_FACTOR bytes per wire byte (`[[[...]]]`
 * nests 64 B in each 2 bytes, `[],` is 64+24 B in 3, `{"":0,` 64+32+56+24 B
 * in 6: all under 33, plus 1 for the characters themselves), so such a line
 * is charged 34 times its length, with no work at all. Longer lines are scanned once for those tokens, jumping over string
 * contents with indexOf (native code): about a tenth of JSON.parse's time on
 * a line of 1 KiB strings, a hundredth on one long string.
 * Every request is charged REQUEST_OVERHEAD_BYTES more for what the server
 * keeps beside it (its Call, the handler's callback, an AbortSignal).
 *
 * The amplification test (test/integration/budgets.test.js) checks, over
 * generated shapes, that the heap a request holds stays under its charge.
 */

/** Lines from this length on are scanned for their tokens; shorter ones are charged SMALL_LINE_FACTOR times their length. */
export const SCAN_FROM_BYTES = 16 * 1024;
/** The most heap any JSON line can hold per wire byte, by the costs above (the worst measured: 28). */
export const SMALL_LINE_FACTOR = 34;
/** Held beside each request's parsed line, whatever its size. */
export const REQUEST_OVERHEAD_BYTES = 1024;

const ARRAY_COST = 64;
const OBJECT_COST = 64;
const ELEMENT_COST = 24;
const PROPERTY_COST = 56;
const NUMBER_MARK_COST = 16;
const STRING_COST = 32;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Cost of each ASCII character outside strings. */
const TOKEN_COST = new Uint8Array(128);
TOKEN_COST[0x5b] = ARRAY_COST;
TOKEN_COST[0x7b] = OBJECT_COST;
TOKEN_COST[0x2c] = ELEMENT_COST;
TOKEN_COST[0x3a] = PROPERTY_COST;
for (const mark of '-.eE') TOKEN_COST[mark.charCodeAt(0)] = NUMBER_MARK_COST;

/**
 * The heap a request will hold once `line` is parsed (an upper bound), with
 * the server's own per-request overhead. `bytes` is the line's length as
 * received, line ending included.
 */
export function heldBytesOf(line: string, bytes: number): number {
  if (bytes < SCAN_FROM_BYTES) return bytes * SMALL_LINE_FACTOR + REQUEST_OVERHEAD_BYTES;
  return parsedBytesOf(line, bytes) + REQUEST_OVERHEAD_BYTES;
}

/** True when the quote at `at` is escaped (an odd run of backslashes before it). */
function isEscaped(line: string, at: number): boolean {
  let run = 0;
  while (line.charCodeAt(at - 1 - run) === BACKSLASH) run++;
  return (run & 1) === 1;
}

/** The scan behind heldBytesOf for long lines: token costs plus the characters. */
export function parsedBytesOf(line: string, bytes: number): number {
  const length = line.length;
  const hasBackslash = line.indexOf('\\') !== -1;
  // Fewer characters than bytes: a multi-byte UTF-8 character, so perhaps a two-byte string.
  const charBytes = hasBackslash || length + 1 < bytes ? 2 : 1;
  let cost = length * charBytes;
  let i = 0;
  while (i < length) {
    const c = line.charCodeAt(i);
    if (c !== QUOTE) {
      if (c < 128) cost += TOKEN_COST[c];
      i++;
      continue;
    }
    cost += STRING_COST;
    // The closing quote, found natively (a loop here costs more, even for short strings).
    let j = line.indexOf('"', i + 1);
    while (j !== -1 && hasBackslash && line.charCodeAt(j - 1) === BACKSLASH && isEscaped(line, j)) j = line.indexOf('"', j + 1);
    // No closing quote: not JSON, and parsing will say so.
    if (j === -1) break;
    i = j + 1;
  }
  return cost;
}
