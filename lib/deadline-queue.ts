/**
 * The server's request deadlines, without a timer per request. A client
 * sends the same `timeoutMs` with request after request, so the calls that
 * share a timeout arrive in deadline order: each timeout value gets one FIFO
 * queue and one timer, armed for the queue's head. Answered calls leave the
 * head as they settle (most settle in order); the timer, when it fires,
 * expires what is due and re-arms for the next head.
 *
 * A queue whose calls have all been answered goes away with its timer at
 * once, except the one used last (the steady client's, kept so its next
 * request does not pay for a new queue and timer): there are never more
 * queues, nor timers, than calls waiting plus one, whatever timeouts clients
 * choose.
 */
import type { Call } from './call';
import { MAX_TIMEOUT_MS } from './protocol';

/**
 * Clears an unref'd timer so that Node forgets its duration's timer list too:
 * Node keeps the (empty) list of a cleared unref'd timer until its time would
 * have come (~160 B a distinct duration, for up to 24 days), and each queue's
 * timer has a duration of its own.
 */
function cancelTimer(timer: NodeJS.Timeout): void {
  timer.ref();
  clearTimeout(timer);
}

class Queue {
  calls: Call[] = [];
  head = 0;
  /** Calls in the queue not answered yet. */
  live = 0;
  timer: NodeJS.Timeout | null = null;

  get size(): number {
    return this.calls.length - this.head;
  }

  peek(): Call | undefined {
    return this.calls[this.head];
  }

  shift(): void {
    this.calls[this.head++] = undefined as unknown as Call;
    // Compact once the dead front is most of the array.
    if (this.head > 1024 && this.head * 2 > this.calls.length) {
      this.calls = this.calls.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Drops answered calls from anywhere in the queue once they are most of it:
   * one long-running call at the front must not keep every later answered
   * call (and its request's data) until its own deadline.
   */
  compactIfMostlyAnswered(): void {
    if (this.size > 1024 && this.size > 2 * this.live) {
      this.calls = this.calls.slice(this.head).filter((call) => !call.settled);
      this.head = 0;
    }
  }
}

export class DeadlineQueue {
  private readonly queues = new Map<number, Queue>();
  /** The queue used last: clients send one timeout over and over, so this saves a Map lookup per add and per settle. */
  private lastMs = -1;
  private lastQueue: Queue | null = null;

  /** `expire` runs for a call whose deadline passed before it was answered. */
  constructor(private readonly expire: (call: Call) => void) {}

  /** Starts the clock on `call`: it expires `timeoutMs` after it was read unless answered first. */
  add(call: Call, timeoutMs: number): void {
    const ms = Math.min(timeoutMs, MAX_TIMEOUT_MS);
    call.deadline = call.receivedAt + ms;
    call.timeoutKey = ms;
    let queue = (ms === this.lastMs ? this.lastQueue : this.queues.get(ms)) as Queue;
    if (ms !== this.lastMs) {
      // The queue used last stops being kept once another is used.
      const previous = this.lastQueue;
      if (previous !== null && previous.live === 0) this.drop(this.lastMs, previous);
      if (!queue) {
        queue = new Queue();
        this.queues.set(ms, queue);
      }
      this.lastMs = ms;
      this.lastQueue = queue;
    }
    // Calls of one timeout arrive in deadline order, except when the clock
    // steps back; an earlier deadline behind a later one only fires late.
    queue.calls.push(call);
    queue.live++;
    if (!queue.timer) this.arm(ms, queue, call.deadline);
  }

  /** A call was answered: let go of it if it is at the front (the usual case). */
  settled(call: Call): void {
    const ms = call.timeoutKey;
    const queue = ms === this.lastMs ? this.lastQueue : this.queues.get(ms);
    if (!queue) return;
    queue.live--;
    if (queue.live === 0 && queue !== this.lastQueue) {
      this.drop(ms, queue);
    } else if (queue.peek() === call) {
      while (queue.size > 0 && queue.peek()!.settled) queue.shift();
    } else {
      queue.compactIfMostlyAnswered();
    }
  }

  /** How many queues (and so armed timers, at most) exist: for the tests of the bound. */
  get queueCount(): number {
    return this.queues.size;
  }

  /** Clears every timer (at shutdown). */
  clear(): void {
    for (const queue of this.queues.values()) if (queue.timer) cancelTimer(queue.timer);
    this.queues.clear();
    this.forgetLast();
  }

  /** Forgets a queue none of whose calls waits any more, and its timer. */
  private drop(ms: number, queue: Queue): void {
    if (queue.timer) cancelTimer(queue.timer);
    queue.timer = null;
    this.queues.delete(ms);
    if (this.lastQueue === queue) this.forgetLast();
  }

  private forgetLast(): void {
    this.lastMs = -1;
    this.lastQueue = null;
  }

  private arm(ms: number, queue: Queue, deadline: number): void {
    queue.timer = setTimeout(() => this.fire(ms, queue), Math.max(0, deadline - Date.now()));
    // A pending deadline never keeps a stopped daemon alive.
    queue.timer.unref();
  }

  private fire(ms: number, queue: Queue): void {
    queue.timer = null;
    const now = Date.now();
    for (let call = queue.peek(); call !== undefined; call = queue.peek()) {
      if (!call.settled) {
        if (call.deadline > now) {
          this.arm(ms, queue, call.deadline);
          return;
        }
        // Answering it (deadline_exceeded) usually takes it off the front already.
        this.expire(call);
        if (queue.peek() !== call) continue;
      }
      queue.shift();
    }
    // Empty: forget the queue so a client's one-off timeouts do not pile up.
    this.queues.delete(ms);
    if (this.lastMs === ms) this.forgetLast();
  }
}
