/**
 * One connection's running calls (read and not answered yet), oldest first,
 * for cancel, disconnect and shutdown.
 *
 * The calls are linked through themselves (no Set entry or array slot per
 * request). Finding a call by its id (cancel) uses an index built on the
 * first cancel and kept from then on, so a connection that never cancels
 * pays nothing for it and one that does finds its target in constant time,
 * however many calls run.
 */
import type { Call } from './call';
import type { RequestId } from './protocol';

export class RunningCalls {
  private oldest: Call | null = null;
  private newest: Call | null = null;
  /** Id -> the oldest running call with that id (its later namesakes hang off it); null until the first lookup. */
  private byId: Map<RequestId, Call> | null = null;

  get first(): Call | null {
    return this.oldest;
  }

  add(call: Call): void {
    const newest = this.newest;
    call.previousRunning = newest;
    if (newest !== null) newest.nextRunning = call;
    else this.oldest = call;
    this.newest = call;
    if (this.byId !== null) this.index(call);
  }

  remove(call: Call): void {
    const { previousRunning: previous, nextRunning: next } = call;
    if (previous !== null) previous.nextRunning = next;
    else if (this.oldest === call) this.oldest = next;
    else return; // not on the list
    if (next !== null) next.previousRunning = previous;
    else this.newest = previous;
    call.previousRunning = null;
    call.nextRunning = null;
    if (this.byId !== null) this.unindex(call);
  }

  /** The oldest running call with this id other than `except`, or null. */
  find(id: RequestId, except: Call): Call | null {
    if (this.byId === null) {
      this.byId = new Map();
      for (let call = this.oldest; call !== null; call = call.nextRunning) this.index(call);
    }
    for (let call = this.byId.get(id) ?? null; call !== null; call = call.newerSameId) {
      // At most two steps: `except` (the cancel itself, if it reused the id) is the newest namesake.
      if (call !== except && !call.settled) return call;
    }
    return null;
  }

  private index(call: Call): void {
    const id = call.request.ipcReqID;
    if (id === null) return;
    const first = this.byId!.get(id);
    if (first === undefined) {
      this.byId!.set(id, call);
      call.newestSameId = call;
      return;
    }
    const last = first.newestSameId!;
    last.newerSameId = call;
    call.olderSameId = last;
    first.newestSameId = call;
  }

  private unindex(call: Call): void {
    const id = call.request.ipcReqID;
    if (id === null) return;
    const first = this.byId!.get(id);
    if (first === undefined) return;
    const { olderSameId: older, newerSameId: newer } = call;
    if (first === call) {
      if (newer === null) this.byId!.delete(id);
      else {
        newer.olderSameId = null;
        newer.newestSameId = call.newestSameId;
        this.byId!.set(id, newer);
      }
    } else {
      if (older !== null) older.newerSameId = newer;
      if (newer !== null) newer.olderSameId = older;
      else first.newestSameId = older;
    }
    call.olderSameId = null;
    call.newerSameId = null;
    call.newestSameId = null;
  }
}
