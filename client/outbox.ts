/**
 * Lines waiting to be written to the connection.
 *
 * Lines queued during one tick go out in one socket write on the next tick.
 * While a chunk of responses is being handled, the requests their callbacks
 * send go out in slices of MIN_SLICE_LINES lines at least (a quarter of the
 * requests in flight when that is more) instead of at the end of the chunk:
 * the server starts on the first slice while the client works through the
 * rest, rather than each side idling while the other works.
 */

import type { Socket } from 'net';

const MIN_SLICE_LINES = 4;

export class Outbox {
  /** Where lines go; null while there is no ready connection (lines are then dropped at write time). */
  socket: Socket | null = null;
  #lines = '';
  #count = 0;
  #flushScheduled = false;
  #delivering = false;
  readonly #inFlight: () => number;

  /** `inFlight` says how many requests wait for an answer (sizes the slices). */
  constructor(inFlight: () => number) {
    this.#inFlight = inFlight;
  }

  /** Queues one line (ending in `\n`). */
  add(line: string): void {
    this.#lines += line;
    this.#count++;
    if (this.#delivering) {
      if (this.#count >= MIN_SLICE_LINES && this.#count * 4 >= this.#inFlight()) this.write();
      return;
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(this.#flushLater);
    }
  }

  /** Marks the start of a chunk of responses: lines queued until endDelivery() go out in slices. */
  beginDelivery(): void {
    this.#delivering = true;
  }

  /** The chunk is handled: what its callbacks sent goes out now. */
  endDelivery(): void {
    this.#delivering = false;
    this.write();
  }

  /** Writes every queued line in one socket write. */
  write(): void {
    const lines = this.#lines;
    if (lines === '') return;
    this.#lines = '';
    this.#count = 0;
    const socket = this.socket;
    if (socket !== null) socket.write(lines);
  }

  /** Removes and returns the queued lines without writing them. */
  take(): string {
    const lines = this.#lines;
    this.#lines = '';
    this.#count = 0;
    return lines;
  }

  readonly #flushLater = (): void => {
    this.#flushScheduled = false;
    this.write();
  };
}
