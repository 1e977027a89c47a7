/**
 * flush() callers, each waiting for everything sent before it: its outcome
 * (requests) or its hand-off to the system (notifies). Waiters are in send
 * order, so the ready ones are always at the front.
 */

interface FlushWaiter {
  /** Waits for everything with a smaller seq. */
  seq: number;
  done: () => void;
}

export class FlushWaiters {
  #waiters: FlushWaiter[] = [];

  get length(): number {
    return this.#waiters.length;
  }

  add(seq: number, done: () => void): void {
    this.#waiters.push({ seq, done });
  }

  /** Takes the waiters that nothing older than `oldestSeq` holds back. */
  takeReady(oldestSeq: number): Array<() => void> {
    const waiters = this.#waiters;
    let ready = 0;
    while (ready < waiters.length && waiters[ready].seq <= oldestSeq) ready++;
    return ready === 0 ? [] : waiters.splice(0, ready).map((waiter) => waiter.done);
  }

  /** Takes them all (close()). */
  takeAll(): Array<() => void> {
    return this.#waiters.splice(0).map((waiter) => waiter.done);
  }
}
