/**
 * Turns what one connection reads into lines, holding at most a small
 * constant factor of the bytes it holds, whatever the server's write pattern.
 *
 * One contiguous buffer per connection: the socket reads straight into its
 * free end (net's `onread`), lines are decoded in place, and what an
 * unfinished line holds moves to the front (or into a buffer twice its size)
 * only when the free end runs short. So a server that sends 8 KiB without a
 * line feed and then one byte per write costs one byte per write, not a read
 * buffer per write (an earlier reader kept a 64 KiB buffer alive for every
 * byte: 674x the bytes received).
 *
 * Bounds: a line longer than `maxLineBytes` is refused as soon as that many
 * bytes are held (onOverflow, then the reader stops); the buffer is at most
 * about 2 x (maxLineBytes + MIN_READ_BYTES); once empty, a buffer grown past
 * KEEP_BYTES is dropped for a base-sized one.
 *
 * Lines are checked as UTF-8: a line that is not is handed to onInvalid, not
 * decoded with replacement characters (a server that sends it is broken).
 */

import { isAscii, isUtf8 } from 'buffer';

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;

/** A new buffer's size, and the most a read gets when little is held (as large as net's own reads). */
export const BASE_BYTES = 64 * 1024;
/** The least free space offered to a read: below it, the held bytes move to the front or to a larger buffer. */
const MIN_READ_BYTES = 16 * 1024;
/** A buffer grown up to this size is kept for the next large line; a larger one is dropped once empty. */
const KEEP_BYTES = 256 * 1024;
/** Lines from this length on are checked for ASCII first, so they decode as cheap Latin-1 (same text). */
const ASCII_CHECK_MIN_BYTES = 4096;

/** Where reads go after stop(): shared, never read back. */
const discarded = Buffer.allocUnsafe(MIN_READ_BYTES);

export interface LinkReaderEvents {
  /** A complete line, decoded, without its `\n` (or `\r\n`); never empty. `bytes` counts it as received. */
  onLine(line: string, bytes: number): void;
  /** A line passed maxLineBytes; the reader has stopped. */
  onOverflow(heldBytes: number): void;
  /** A line that is not valid UTF-8 (its bytes are dropped; the caller decides what that means). */
  onInvalid(bytes: number): void;
}

export class LinkReader {
  /** The longest line accepted, in bytes, without its line ending. */
  readonly maxLineBytes: number;
  /** Lines delivered and their bytes, over the reader's life. */
  lines = 0;
  bytesIn = 0;
  /** Date.now() when the oldest byte held for an unfinished line arrived (0: nothing held). */
  heldSince = 0;
  readonly #events: LinkReaderEvents;
  #buffer: Buffer;
  /** First byte not delivered yet. */
  #start = 0;
  /** End of the bytes read. */
  #end = 0;
  /** No line feed in [#start, #scanned). */
  #scanned = 0;
  #paused = false;
  #stopped = false;

  constructor(maxLineBytes: number, events: LinkReaderEvents) {
    this.maxLineBytes = maxLineBytes;
    this.#events = events;
    this.#buffer = Buffer.allocUnsafe(BASE_BYTES);
  }

  /** Bytes read and not delivered yet (an unfinished line; while paused, whole lines too). */
  get heldBytes(): number {
    return this.#end - this.#start;
  }

  /** Bytes of memory the reader holds (its buffer). */
  get capacity(): number {
    return this.#buffer.length;
  }

  get isPaused(): boolean {
    return this.#paused;
  }

  /**
   * Where the socket reads next: the free end of the buffer (after making
   * room). Valid until the next readInto() or push(); call read(n) after
   * reading n bytes into it.
   */
  readInto(): Buffer {
    // A socket may read once more after the reader stopped: into scratch space, then dropped.
    if (this.#stopped) return discarded;
    this.#makeRoom(MIN_READ_BYTES);
    return this.#buffer.subarray(this.#end);
  }

  /** `bytes` were read into what readInto() returned. */
  read(bytes: number): void {
    if (this.#stopped) return;
    this.#received(bytes);
  }

  /** A chunk from elsewhere (TLS 'data' events): copied in. */
  push(chunk: Buffer): void {
    if (this.#stopped) return;
    this.#makeRoom(chunk.length);
    chunk.copy(this.#buffer, this.#end);
    this.#received(chunk.length);
  }

  /** Stop delivering lines (may be called from inside onLine); what is read meanwhile is held. */
  pause(): void {
    this.#paused = true;
  }

  /** Deliver what was held back, then go on. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (!this.#stopped) this.#scan();
  }

  /** Stops for good (the connection is let go): nothing more is delivered, the memory goes. */
  stop(): void {
    this.#stopped = true;
    this.#paused = true;
    this.#start = this.#end = this.#scanned = 0;
    this.#buffer = Buffer.alloc(0);
  }

  #received(bytes: number): void {
    const before = this.#end;
    this.#end += bytes;
    this.bytesIn += bytes;
    if (this.#paused) return;
    if (before === this.#start && this.#scanWholeLines()) return;
    this.#scan();
  }

  /**
   * Free space of at least `need` bytes at the end: move what is held to the
   * front when that frees enough (it is at most half the buffer, so moves are
   * paid for by the bytes delivered since), else into a buffer twice as large
   * as needed (paid for by the bytes it holds).
   */
  #makeRoom(need: number): void {
    const held = this.#end - this.#start;
    if (held === 0) {
      this.#start = this.#end = this.#scanned = 0;
      if (this.#buffer.length > KEEP_BYTES) this.#buffer = Buffer.allocUnsafe(BASE_BYTES);
    }
    if (this.#buffer.length - this.#end >= need) return;
    if (this.#start > 0 && held <= this.#buffer.length / 2 && this.#buffer.length - held >= need) {
      this.#buffer.copy(this.#buffer, 0, this.#start, this.#end);
    } else {
      const larger = Buffer.allocUnsafe(Math.max(BASE_BYTES, 2 * (held + need)));
      this.#buffer.copy(larger, 0, this.#start, this.#end);
      this.#buffer = larger;
    }
    this.#scanned -= this.#start;
    this.#end = held;
    this.#start = 0;
  }

  /**
   * The common case, read all at once: whole ASCII lines ending at the end of
   * what was read, decoded once as Latin-1 and split as a string (one call
   * into C++ per read, not several per line). False, having delivered
   * nothing, when the bytes do not qualify.
   */
  #scanWholeLines(): boolean {
    const start = this.#start;
    const end = this.#end;
    if (end - start > this.maxLineBytes + 1 || this.#buffer[end - 1] !== NEWLINE) return false;
    const bytes = this.#buffer.subarray(start, end);
    if (!isAscii(bytes)) return false;
    const text = bytes.toString('latin1');
    let from = 0;
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      const lineStart = from;
      const lineEnd = newline > lineStart && text.charCodeAt(newline - 1) === CARRIAGE_RETURN ? newline - 1 : newline;
      from = newline + 1;
      this.#start = this.#scanned = start + from;
      if (lineEnd > lineStart) this.#deliver(text.slice(lineStart, lineEnd), from - lineStart);
      if (this.#paused || this.#stopped) break;
      newline = text.indexOf('\n', from);
    }
    this.#afterScan();
    return true;
  }

  #scan(): void {
    const view = this.#buffer.subarray(0, this.#end);
    while (!this.#paused && !this.#stopped) {
      const newline = view.indexOf(NEWLINE, this.#scanned);
      if (newline === -1) {
        this.#scanned = this.#end;
        if (this.#end - this.#start > this.maxLineBytes) {
          this.#overflow();
          return;
        }
        break;
      }
      const start = this.#start;
      const lineBytes = newline - start + 1;
      this.#start = this.#scanned = newline + 1;
      let lineEnd = newline;
      if (lineEnd > start && view[lineEnd - 1] === CARRIAGE_RETURN) lineEnd--;
      if (lineEnd - start > this.maxLineBytes) {
        this.#overflow();
        return;
      }
      if (lineEnd > start) this.#decodeAndDeliver(view, start, lineEnd, lineBytes);
    }
    this.#afterScan();
  }

  #decodeAndDeliver(view: Buffer, start: number, end: number, lineBytes: number): void {
    if (end - start >= ASCII_CHECK_MIN_BYTES && isAscii(view.subarray(start, end))) {
      this.#deliver(view.toString('latin1', start, end), lineBytes);
      return;
    }
    const line = view.toString('utf8', start, end);
    // A replacement character is either in the text or stands for bytes that are not UTF-8.
    if (line.includes('\uFFFD') && !isUtf8(view.subarray(start, end))) {
      this.#events.onInvalid(lineBytes);
      return;
    }
    this.#deliver(line, lineBytes);
  }

  #deliver(line: string, bytes: number): void {
    this.lines++;
    this.#events.onLine(line, bytes);
  }

  #afterScan(): void {
    if (this.#end === this.#start) this.heldSince = 0;
    else if (this.heldSince === 0) this.heldSince = Date.now();
  }

  #overflow(): void {
    const held = this.#end - this.#start;
    this.stop();
    this.#events.onOverflow(held);
  }
}
