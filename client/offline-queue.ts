/**
 * Sends and notifies waiting for a connection: while a connect is under way,
 * and while disconnected when the `offlineQueue` option allows it. They go
 * out in order once a connection is ready.
 */

import type { PendingRequest } from './pending';

/** A send or notify waiting for a connection. */
export interface QueuedMessage {
  /** Position among everything the client sent (see PendingRequest.seq). */
  seq: number;
  line: string;
  /** The request, or null for a notify. */
  entry: PendingRequest | null;
}

export class OfflineQueue {
  #items: QueuedMessage[] = [];

  get length(): number {
    return this.#items.length;
  }

  /** True when `limit` > 0 and that many messages wait already. */
  isFull(limit: number): boolean {
    return limit > 0 && this.#items.length >= limit;
  }

  push(seq: number, line: string, entry: PendingRequest | null): void {
    this.#items.push({ seq, line, entry });
  }

  /** Removes and returns everything, oldest first. */
  takeAll(): QueuedMessage[] {
    const items = this.#items;
    if (items.length) this.#items = [];
    return items;
  }

  /** Forgets requests that already have their outcome (timed out or cancelled while waiting). */
  dropSettled(): void {
    this.#items = this.#items.filter(isStillWanted);
  }

  /** The smallest seq still waiting for its turn, or Infinity (a request sent again after shutting_down is older than what precedes it). */
  oldestSeq(): number {
    let oldest = Infinity;
    for (const item of this.#items) {
      if (item.entry && item.entry.done) continue;
      if (item.seq < oldest) oldest = item.seq;
    }
    return oldest;
  }
}

function isStillWanted(item: QueuedMessage): boolean {
  return !item.entry || !item.entry.done;
}
