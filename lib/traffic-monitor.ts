/**
 * The live traffic view (`pixl-ipc monitor`): every answered request as an
 * event (uri, handler, caller's kernel uid and pid, latency, answer code),
 * pushed to the connections that asked for it, in batches.
 *
 * It must never slow the daemon: with no watcher, recording is one boolean
 * test per request; with watchers, each window (100 ms) takes at most
 * `eventsPerSecond / 10` events per watcher, and the rest are only counted
 * (`skipped`), so memory is bounded by watchers x window x event size. A
 * watcher that does not read gets no batch past its output buffer (push()
 * refuses), and what was refused is counted as skipped too.
 */
import type { Call } from './call';
import type { Connection } from './connection';
import { excerpt } from './excerpt';

/** The request that starts (or, with `{"stop": true}`, ends) watching. */
export const MONITOR_URI = '/ipcserver/monitor';
/** The push that carries a batch of events. */
export const TRAFFIC_PUSH_URI = '/ipcserver/monitor/traffic';
/** Connections watching at once; one more gets `too_many_monitors`. */
export const MAX_WATCHERS = 8;
/** How often batches go out. */
export const WINDOW_MS = 100;
/** The longest uri excerpt an event carries. */
const URI_EXCERPT = 200;

/** One answered request, as a watcher sees it. */
export interface TrafficEvent {
  /** When it was answered, ms since the epoch. */
  t: number;
  uri: string;
  /** The handler's registered name, or null when it was answered before routing (auth, shutdown). */
  handler: string | null;
  /** The connection's id (as `pixl-ipc connections` lists it). */
  connection: number;
  /** The caller's uid and pid as the kernel reports them (null over TCP/TLS). */
  uid: number | null;
  pid: number | null;
  /** From reading the request to answering it, ms (three decimals). */
  ms: number;
  /** The error code of an error answer, or the string `code` a success's data carries (an unknown uri's no_handler_found); else null. */
  code: string | null;
}

interface Watcher {
  connection: Connection;
  events: TrafficEvent[];
  skipped: number;
}

export class TrafficMonitor {
  /** True while anyone watches: the one test the request path pays. */
  watching = false;
  private readonly watchers = new Map<Connection, Watcher>();
  private timer: NodeJS.Timeout | null = null;
  private perWindow: number;

  constructor(eventsPerSecond: number) {
    this.perWindow = Math.max(1, Math.ceil(eventsPerSecond * WINDOW_MS / 1000));
  }

  /** Changes the rate (at startup, from the config). */
  setRate(eventsPerSecond: number): void {
    this.perWindow = Math.max(1, Math.ceil(eventsPerSecond * WINDOW_MS / 1000));
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  /** Starts sending traffic to `connection`; throws `too_many_monitors` past MAX_WATCHERS. */
  watch(connection: Connection): { watching: true; eventsPerSecond: number; windowMs: number } {
    if (!this.watchers.has(connection)) {
      if (this.watchers.size >= MAX_WATCHERS) {
        throw Object.assign(new Error(`${MAX_WATCHERS} connections already watch the traffic; stop one first`), { code: 'too_many_monitors' });
      }
      this.watchers.set(connection, { connection, events: [], skipped: 0 });
      this.watching = true;
      if (!this.timer) {
        this.timer = setInterval(() => this.flush(), WINDOW_MS);
        this.timer.unref();
      }
    }
    return { watching: true, eventsPerSecond: this.perWindow * (1000 / WINDOW_MS), windowMs: WINDOW_MS };
  }

  /** Stops sending to `connection` (it asked, or it closed). */
  unwatch(connection: Connection): void {
    if (!this.watchers.delete(connection)) return;
    if (this.watchers.size === 0) this.stop();
  }

  /** Records one answered request (only called while `watching`). */
  record(call: Call, errorCode: string | null, ms: number, data: unknown): void {
    let event: TrafficEvent | null = null;
    for (const watcher of this.watchers.values()) {
      // A monitor's own requests (its subscription) are not news to it.
      if (watcher.connection === call.connection) continue;
      if (watcher.events.length >= this.perWindow) {
        watcher.skipped++;
        continue;
      }
      if (event === null) event = this.eventOf(call, errorCode, ms, data);
      watcher.events.push(event);
    }
  }

  /** Ends every watch (the server stops). */
  stop(): void {
    this.watchers.clear();
    this.watching = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private eventOf(call: Call, errorCode: string | null, ms: number, data: unknown): TrafficEvent {
    const { connection } = call;
    const peer = connection.peer;
    let code = errorCode;
    if (code === null && data !== null && typeof data === 'object') {
      const carried = (data as { code?: unknown }).code;
      if (typeof carried === 'string' && carried !== '') code = carried;
    }
    return {
      t: Date.now(),
      uri: excerpt(call.request.uri, URI_EXCERPT),
      handler: call.handlerName,
      connection: connection.id,
      uid: peer ? peer.uid : null,
      pid: peer ? peer.pid : null,
      ms: Math.round(ms * 1000) / 1000,
      code,
    };
  }

  /** Sends each watcher its batch; a closed watcher is dropped, a full one keeps counting what it missed. */
  private flush(): void {
    for (const watcher of [...this.watchers.values()]) {
      if (!watcher.connection.isOpen) {
        this.unwatch(watcher.connection);
        continue;
      }
      if (watcher.events.length === 0 && watcher.skipped === 0) continue;
      const batch = { events: watcher.events, skipped: watcher.skipped };
      if (watcher.connection.push(TRAFFIC_PUSH_URI, batch)) watcher.skipped = 0;
      else watcher.skipped += watcher.events.length;
      watcher.events = [];
    }
  }
}
