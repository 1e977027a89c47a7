/**
 * The consumer's side of a streamed answer: an async iterator of parts.
 *
 *   for await (const part of client.stream('/log/tail', { lines: 100 })) { ... }
 *
 * Parts are buffered until the consumer asks for them. Once `highWaterMark`
 * parts wait, or parts of `maxBytes` bytes (counted as received), the stream holds its connection (stops reading the socket), so
 * a slow consumer slows the server through ordinary socket backpressure
 * instead of growing this buffer; reading resumes when the consumer has taken
 * half of them. Leaving the loop early (break, return, throw) cancels the
 * request on the server.
 */

/** What a stream needs from the client. */
export interface StreamControl {
  /** The consumer left before the end: cancel the request. */
  cancel(): void;
  /** Stop and restart reading the stream's connection (see Link.hold). */
  hold(): void;
  release(): void;
}

interface Waiter<T, R> {
  resolve: (result: IteratorResult<T, R | undefined>) => void;
  reject: (err: unknown) => void;
}

/**
 * `T` is the type of each part, `R` the final answer's data (`result`); both
 * `unknown` unless the caller says (`client.stream<Row, Summary>(...)`).
 */
export class PartStream<T = unknown, R = unknown> implements AsyncIterableIterator<T, R | undefined, undefined> {
  /** Parts the consumer has not taken yet. */
  #parts: T[] = [];
  /** Bytes of each waiting part, in step with #parts. */
  #sizes: number[] = [];
  #head = 0;
  #bufferedBytes = 0;
  readonly #maxBytes: number;
  /** next() calls waiting for a part, oldest first. */
  #waiters: Waiter<T, R>[] = [];
  #ended = false;
  #error: unknown = null;
  /** No more parts will be delivered: the end, an error delivered, or the consumer left. */
  #finished = false;
  #holding = false;
  #result: R | undefined = undefined;
  #partsSeen = 0;
  readonly #highWaterMark: number;
  readonly #control: StreamControl;

  constructor(highWaterMark: number, control: StreamControl, maxBytes = Infinity) {
    this.#highWaterMark = Math.max(1, highWaterMark);
    this.#control = control;
    this.#maxBytes = maxBytes;
  }

  /** Bytes of the parts received and not taken yet (as received on the wire). */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** The final answer's data, once the stream has ended (the value of the last `next()`). */
  get result(): R | undefined {
    return this.#result;
  }

  /** Parts received so far. */
  get partsSeen(): number {
    return this.#partsSeen;
  }

  /** Parts received and not taken yet. */
  get buffered(): number {
    return this.#parts.length - this.#head;
  }

  // ---- the client's side ----

  /** A part arrived (`bytes`: its line's size). */
  push(part: T, bytes = 0): void {
    if (this.#finished || this.#ended) return;
    this.#partsSeen++;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve({ value: part, done: false });
      return;
    }
    this.#parts.push(part);
    this.#sizes.push(bytes);
    this.#bufferedBytes += bytes;
    if (!this.#holding && (this.buffered >= this.#highWaterMark || this.#bufferedBytes >= this.#maxBytes)) {
      this.#holding = true;
      this.#control.hold();
    }
  }

  /** The final answer arrived: parts already buffered are still delivered. */
  end(result: R): void {
    if (this.#finished || this.#ended) return;
    this.#ended = true;
    this.#result = result;
    this.#releaseHold();
    if (this.#waiters.length) {
      this.#finished = true;
      for (const waiter of this.#waiters.splice(0)) waiter.resolve({ value: result, done: true });
    }
  }

  /** The request failed: buffered parts are still delivered, then `next()` rejects with `err`. */
  fail(err: unknown): void {
    if (this.#finished || this.#ended) return;
    this.#ended = true;
    this.#error = err;
    this.#releaseHold();
    if (this.#waiters.length) {
      this.#finished = true;
      this.#error = null;
      const [first, ...rest] = this.#waiters.splice(0);
      first.reject(err);
      for (const waiter of rest) waiter.resolve({ value: undefined, done: true });
    }
  }

  // ---- the consumer's side ----

  next(): Promise<IteratorResult<T, R | undefined>> {
    if (this.buffered > 0) {
      const value = this.#parts[this.#head];
      (this.#parts as unknown[])[this.#head] = undefined;
      this.#bufferedBytes -= this.#sizes[this.#head];
      this.#head++;
      if (this.#head === this.#parts.length) {
        this.#parts = [];
        this.#sizes = [];
        this.#head = 0;
      } else if (this.#head >= 1024 && this.#head * 2 >= this.#parts.length) {
        this.#parts = this.#parts.slice(this.#head);
        this.#sizes = this.#sizes.slice(this.#head);
        this.#head = 0;
      }
      if (this.#holding && this.buffered <= this.#highWaterMark / 2 && this.#bufferedBytes <= this.#maxBytes / 2) this.#releaseHold();
      return Promise.resolve({ value, done: false });
    }
    if (this.#finished) return Promise.resolve({ value: undefined, done: true });
    if (this.#ended) {
      this.#finished = true;
      const err = this.#error;
      this.#error = null;
      if (err !== null) return Promise.reject(err);
      return Promise.resolve({ value: this.#result, done: true });
    }
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
    });
  }

  /** Leaves the stream: cancels the request when it is still running. */
  return(value?: R): Promise<IteratorResult<T, R | undefined>> {
    this.#leave();
    return Promise.resolve({ value, done: true });
  }

  throw(err?: unknown): Promise<IteratorResult<T, R | undefined>> {
    this.#leave();
    return Promise.reject(err);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #leave(): void {
    if (this.#finished) return;
    this.#finished = true;
    const running = !this.#ended;
    this.#parts = [];
    this.#sizes = [];
    this.#bufferedBytes = 0;
    this.#head = 0;
    this.#error = null;
    this.#releaseHold();
    for (const waiter of this.#waiters.splice(0)) waiter.resolve({ value: undefined, done: true });
    if (running) this.#control.cancel();
  }

  #releaseHold(): void {
    if (!this.#holding) return;
    this.#holding = false;
    this.#control.release();
  }
}
