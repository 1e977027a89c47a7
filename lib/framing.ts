/**
 * Newline-delimited framing, shared by the server and the Node client.
 *
 * Bytes in: a LineReader turns socket chunks into complete lines. It keeps the
 * unfinished tail as a list of Buffers (never a growing string), scans each byte
 * once, splits on `\n` only (so a multi-byte UTF-8 character split across chunks
 * is reassembled before decoding) and refuses a line longer than its limit as
 * soon as the limit is passed, before the line is complete.
 *
 * Lines out: messages are written as `JSON + "\n"`; see protocol.ts.
 */

import { isAscii } from 'buffer';

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;

/**
 * From this length on, a line is checked for ASCII before decoding: V8's UTF-8
 * decoder costs several times a Latin-1 copy on large lines (1 MiB request:
 * decode + JSON.parse 7.4 -> 4.1 ms CPU), and for pure ASCII the two give the
 * same string. Shorter lines gain nothing from the extra check.
 */
const ASCII_CHECK_MIN_BYTES = 4096;

/** `bytes` as a string (UTF-8), taking the cheaper Latin-1 copy when every byte is ASCII. */
function decodeLine(bytes: Buffer, start: number, end: number): string {
  if (end - start >= ASCII_CHECK_MIN_BYTES && isAscii(bytes.subarray(start, end))) return bytes.toString('latin1', start, end);
  return bytes.toString('utf8', start, end);
}

/**
 * Below this length, a chunk is decoded as UTF-8 in one call and kept when no
 * character took more than one byte; from it on, checked for ASCII first and
 * copied as Latin-1. One call into C++ instead of two wins on short chunks
 * (100 B: about 60 ns against 90); the Latin-1 copy wins from about 1 KiB.
 */
const UTF8_FIRST_MAX_BYTES = 512;

/**
 * The chunk as a string whose offsets are its byte offsets, or null when it
 * has a character of more than one byte. UTF-8 never gives more characters
 * than bytes, and gives as many only when each character came from a single
 * byte: ASCII, or a lone invalid byte decoded as U+FFFD, exactly as the
 * line-by-line decode would have it (a newline always ends a bad sequence).
 */
function wholeChunkText(chunk: Buffer): string | null {
  if (chunk.length < UTF8_FIRST_MAX_BYTES) {
    const text = chunk.toString();
    return text.length === chunk.length ? text : null;
  }
  return isAscii(chunk) ? chunk.toString('latin1') : null;
}

/** How many leading bytes of an oversized line are kept, so the caller can try to find its request id. */
const OVERSIZE_HEAD_BYTES = 256;

export interface LineReaderEvents {
  /** A complete line, decoded as UTF-8, without its `\n` (or `\r\n`). Never empty. `bytes` counts the line as received, ending included. */
  onLine(line: string, bytes: number): void;
  /** The line being read passed the limit. `head` is its first bytes. The reader stops until reset(). */
  onOverflow(head: Buffer): void;
}

export class LineReader {
  /** The longest line accepted, in bytes, not counting the line ending. */
  maxLineBytes: number;
  private readonly events: LineReaderEvents;
  /** Bytes of the current unfinished line, in arrival order. */
  private tail: Buffer[] = [];
  private tailBytes = 0;
  /** A chunk whose scanning was interrupted by pause(), and where to resume. */
  private pausedChunk: Buffer | null = null;
  private pausedOffset = 0;
  private paused = false;
  private overflowed = false;

  constructor(maxLineBytes: number, events: LineReaderEvents) {
    this.maxLineBytes = maxLineBytes;
    this.events = events;
  }

  /** Bytes buffered for a line that is not complete yet. */
  get bufferedBytes(): number {
    return this.tailBytes + (this.pausedChunk ? this.pausedChunk.length - this.pausedOffset : 0);
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Feed one chunk. Lines are delivered synchronously, in order. */
  push(chunk: Buffer): void {
    if (this.overflowed) return;
    if (this.paused || this.pausedChunk) {
      // Only reachable if the caller keeps feeding while paused: keep the order.
      this.pausedChunk = this.pausedChunk ? Buffer.concat([this.pausedChunk.subarray(this.pausedOffset), chunk]) : chunk;
      this.pausedOffset = 0;
      if (!this.paused) this.resume();
      return;
    }
    this.scan(chunk, 0);
  }

  /**
   * Stop delivering lines. May be called from inside onLine: the rest of the
   * current chunk is kept, unscanned, until resume().
   */
  pause(): void {
    this.paused = true;
  }

  /** Deliver what pause() kept back, then continue with new chunks. */
  resume(): void {
    if (!this.paused && !this.pausedChunk) return;
    this.paused = false;
    const chunk = this.pausedChunk;
    if (!chunk) return;
    this.pausedChunk = null;
    this.scan(chunk, this.pausedOffset);
  }

  /**
   * Copies the bytes held for later (the unfinished line, the unscanned rest
   * of a paused chunk) out of the chunks they arrived in, so the caller may
   * read into the same buffer again.
   */
  detachHeld(): void {
    if (this.tailBytes > 0) this.tail = [Buffer.concat(this.tail, this.tailBytes)];
    if (this.pausedChunk) {
      this.pausedChunk = Buffer.from(this.pausedChunk.subarray(this.pausedOffset));
      this.pausedOffset = 0;
    }
  }

  /** Forget any partial line and the overflow state (used after a reconnect). */
  reset(): void {
    this.tail = [];
    this.tailBytes = 0;
    this.pausedChunk = null;
    this.pausedOffset = 0;
    this.paused = false;
    this.overflowed = false;
  }

  /**
   * The common case, a chunk of whole ASCII lines that fits the limit, read as
   * one string: one decode per chunk, then string searches, instead of a
   * Buffer search and a decode per line (each a call into C++). Returns false,
   * having delivered nothing, when the chunk does not qualify.
   */
  private scanWholeLines(chunk: Buffer): boolean {
    const length = chunk.length;
    if (this.tailBytes !== 0 || length > this.maxLineBytes + 1 || chunk[length - 1] !== NEWLINE) return false;
    const text = wholeChunkText(chunk);
    if (text === null) return false;
    let start = 0;
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      const end = newline > start && text.charCodeAt(newline - 1) === CARRIAGE_RETURN ? newline - 1 : newline;
      if (end > start) this.events.onLine(text.slice(start, end), newline - start + 1);
      start = newline + 1;
      if (this.stopsAfterLine(chunk, start)) return true;
      newline = text.indexOf('\n', start);
    }
    return true;
  }

  /**
   * After a line was delivered: true when delivery stops here, because the
   * line overflowed or onLine paused the reader (the rest of the chunk, from
   * `start`, is then kept unscanned until resume()).
   */
  private stopsAfterLine(chunk: Buffer, start: number): boolean {
    if (this.overflowed) return true;
    if (!this.paused) return false;
    if (start < chunk.length) {
      this.pausedChunk = chunk;
      this.pausedOffset = start;
    }
    return true;
  }

  private scan(chunk: Buffer, start: number): void {
    if (start === 0 && this.scanWholeLines(chunk)) return;
    const length = chunk.length;
    let newline = chunk.indexOf(NEWLINE, start);
    while (newline !== -1) {
      const lineBytes = this.tailBytes + (newline - start);
      if (lineBytes > this.maxLineBytes) {
        this.overflow(chunk.subarray(start, newline));
        return;
      }
      this.emitLine(chunk, start, newline);
      start = newline + 1;
      if (this.stopsAfterLine(chunk, start)) return;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < length) {
      this.tail.push(start === 0 ? chunk : chunk.subarray(start));
      this.tailBytes += length - start;
      if (this.tailBytes > this.maxLineBytes) this.overflow(null);
    }
  }

  private emitLine(chunk: Buffer, start: number, end: number): void {
    let line: string;
    const bytes = this.tailBytes + (end - start) + 1;
    if (this.tailBytes === 0) {
      if (end > start && chunk[end - 1] === CARRIAGE_RETURN) end--;
      if (end === start) return;
      line = decodeLine(chunk, start, end);
    } else {
      this.tail.push(chunk.subarray(start, end));
      const whole = Buffer.concat(this.tail, this.tailBytes + (end - start));
      this.tail = [];
      this.tailBytes = 0;
      let wholeEnd = whole.length;
      if (wholeEnd > 0 && whole[wholeEnd - 1] === CARRIAGE_RETURN) wholeEnd--;
      if (wholeEnd === 0) return;
      line = decodeLine(whole, 0, wholeEnd);
    }
    this.events.onLine(line, bytes);
  }

  /** `rest` is the part of the line not in the tail yet, if any. */
  private overflow(rest: Buffer | null): void {
    // The head is the line's first bytes, which may span several chunks: the
    // first chunk alone can end inside the request id.
    const parts = rest ? [...this.tail, rest] : this.tail;
    const pieces: Buffer[] = [];
    let headBytes = 0;
    for (const part of parts) {
      if (headBytes >= OVERSIZE_HEAD_BYTES) break;
      const piece = part.subarray(0, OVERSIZE_HEAD_BYTES - headBytes);
      pieces.push(piece);
      headBytes += piece.length;
    }
    const head = Buffer.concat(pieces, headBytes);
    this.tail = [];
    this.tailBytes = 0;
    this.pausedChunk = null;
    this.overflowed = true;
    this.events.onOverflow(head);
  }
}
