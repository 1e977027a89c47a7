/**
 * The client's requests, from send() to their one outcome: encoding (and the
 * local size check), the deadline, waiting for a connection, writing, cancel,
 * sending again after shutting_down, turning the answer into an outcome, and
 * delivering it to a callback, a promise or a stream. flush() waits here too.
 *
 * What it needs from the connection is narrow (CallSession): which link is
 * writable now, whether a connection is coming, and retiring a link whose
 * server is going away.
 */

import { numberText, requestLine, requestLineOpen } from '../lib/protocol';
import type { ClientContext, ConnectionState } from './context';
import { ErrorCode, IPCError, abortError } from './errors';
import type { Link } from './link';
import { FlushWaiters } from './flush-waiters';
import { OfflineQueue } from './offline-queue';
import type { ResponseMessageObject } from './options';
import { Outbox } from './outbox';
import { PartStream } from './part-stream';
import { PendingRequest, PendingTable, ResponseCallback } from './pending';
import { answerError } from './response-handler';
import type { RequestOptions, StreamOptions } from './types';
import { RequestLineLimit, cancelLine, closeWithTimeout, withStreamFlag } from './wire';

/** A deadline_exceeded answer this close to the request's own deadline is its timeout, seen by the server first. */
const DEADLINE_SLACK_MS = 20;

/** Bytes of parts waiting for a stream's consumer at which the connection stops being read (besides highWaterMark parts). */
const STREAM_HOLD_BYTES = 8 * 1024 * 1024;

/** How often one request is written again after shutting_down answers before that answer is delivered. */
const MAX_RESENDS = 3;

/** What the calls need from the connection (session.ts). */
export interface CallSession {
  readonly state: ConnectionState;
  /** The current link (open or opening). */
  readonly link: Link | null;
  readonly closedByUser: boolean;
  /** A lost connection will be reconnected by the client itself. */
  reconnectExpected(): boolean;
  /** The server answered shutting_down on `link`: write nothing more there, move to a new connection. */
  retire(link: Link, why: string): void;
  /** The client gave up on `link` (it closed it): log why. */
  linkFailed(link: Link): void;
}

export class Calls {
  readonly pending: PendingTable;
  readonly outbox: Outbox;
  readonly queue = new OfflineQueue();
  /** Set by the client right after both exist. */
  session!: CallSession;
  readonly #ctx: ClientContext;
  /** The caller set offlineQueue: held sends also wait while no connection is expected (the option's first meaning). */
  readonly #offlineQueueExplicit: boolean;
  #nextId = 0;
  #nextSeq = 0;
  readonly #flushWaiters = new FlushWaiters();
  readonly #lineLimit = new RequestLineLimit();

  constructor(ctx: ClientContext, offlineQueueExplicit: boolean) {
    this.#ctx = ctx;
    this.#offlineQueueExplicit = offlineQueueExplicit;
    this.pending = new PendingTable(
      (expired) => this.#onExpired(expired),
      () => ctx.options.expireRequest,
    );
    this.outbox = new Outbox(() => this.pending.size);
  }

  // ---- starting ----

  /** send(): the outcome goes to `callback`, or the returned promise. */
  send<T>(uri: string, data: unknown, options: RequestOptions | undefined, callback: ResponseCallback<T> | undefined): Promise<T> | void {
    const entry = this.#newEntry(uri, options);
    if (typeof callback === 'function') {
      entry.callback = callback as ResponseCallback;
      this.#start(entry, data, options);
      return;
    }
    return new Promise<T>((resolve, reject) => {
      // What the server sent is the caller's T: the client does not check its shape.
      entry.resolve = resolve as (data: unknown) => void;
      entry.reject = reject;
      this.#start(entry, data, options);
    });
  }

  /** stream(): parts and the outcome go to the returned stream. */
  stream<T, R>(uri: string, data: unknown, options: StreamOptions | undefined): PartStream<T, R> {
    const entry = this.#newEntry(uri, options);
    const highWaterMark = options && options.highWaterMark ? options.highWaterMark : this.#ctx.options.streamHighWaterMark;
    const control = { cancel: () => this.#cancel(entry, null), hold: () => entry.link?.hold(), release: () => entry.link?.release() };
    const stream = new PartStream<T, R>(highWaterMark, control, STREAM_HOLD_BYTES);
    // The client fills it with what the server sent: the caller's T and R, unchecked.
    entry.stream = stream as PartStream<unknown, unknown>;
    this.#start(entry, data, options);
    return stream;
  }

  /** notify(): true when written or queued, false (logged) when dropped. */
  notify(uri: string, data: unknown): boolean {
    const ctx = this.#ctx;
    let line: string;
    try {
      if (typeof uri !== 'string') throw new TypeError('uri must be a string');
      line = requestLine(uri, data, undefined, process.pid, ctx.options.userAgent, true);
    } catch (err) {
      ctx.logError(ErrorCode.badRequest, 'Notify to ' + String(uri) + ' not sent: ' + (err as Error).message, { uri });
      return false;
    }
    const seq = this.#nextSeq++;
    if (this.session.state === 'connected') {
      ctx.counters.notifiesSent++;
      this.outbox.add(line);
      return true;
    }
    if (this.#canHold()) {
      this.queue.push(seq, line, null);
      return true;
    }
    ctx.logError(this.#queueFull() ? ErrorCode.queueFull : ErrorCode.noOpenStream, this.#noConnectionMessage('notify to ' + uri), { uri });
    return false;
  }

  /** Calls `done` once everything sent so far has its outcome and was handed to the system. */
  flush(done: () => void): void {
    this.#flushWaiters.add(this.#nextSeq, done);
    this.#checkFlushWaiters();
  }

  /** Whether held sends also wait while no connection is expected (offlineQueue given explicitly). */
  get holdsWithoutConnection(): boolean {
    return this.#offlineQueueExplicit;
  }

  /** A new request entry: id, place in the order of sends, deadline. */
  #newEntry(uri: string, options: RequestOptions | undefined): PendingRequest {
    const id = 'rq' + numberText(this.#nextId++);
    let timeout = this.#ctx.options.requestTimeout;
    if (options !== undefined && options.timeout !== undefined && options.timeout !== null) timeout = Number(options.timeout) || 0;
    if (!(timeout > 0)) timeout = 0;
    const entry = new PendingRequest(id, this.#nextSeq++, uri, timeout > 0 ? Date.now() + timeout : Infinity);
    entry.timeoutMs = timeout;
    return entry;
  }

  /** Encodes and checks a request, then writes it, holds it for a connection, or fails it. */
  #start(entry: PendingRequest, data: unknown, options: RequestOptions | undefined): void {
    const ctx = this.#ctx;
    const uri = entry.uri;
    let line: string;
    try {
      if (typeof uri !== 'string') throw new TypeError('uri must be a string, not ' + typeof uri);
      line = requestLineOpen(uri, data, entry.id, process.pid, ctx.options.userAgent);
    } catch (err) {
      this.#failLater(entry, new IPCError(ErrorCode.badRequest, 'Request to ' + String(uri) + ' not sent: ' + (err as Error).message, { uri: String(uri), ipcReqID: entry.id, cause: err }));
      return;
    }
    entry.openLine = entry.stream !== null ? withStreamFlag(line) : line;
    // Refused here: the server would refuse it and close the connection, failing everything else on it.
    const tooLarge = this.#lineLimit.check(entry.openLine, entry.timeoutMs, ctx.options.maxMessageSize);
    if (tooLarge !== null) {
      this.#failLater(entry, new IPCError(ErrorCode.messageTooLarge, 'Request to ' + uri + ' not sent: ' + tooLarge, { uri, ipcReqID: entry.id }));
      return;
    }
    entry.line = entry.openLine + '}\n';
    const signal = options !== undefined ? options.signal : undefined;
    if (signal) {
      if (signal.aborted) {
        ctx.counters.cancelled++;
        entry.done = true;
        const err = abortError(signal, 'Request to ' + uri);
        setImmediate(() => entry.deliver(err, undefined));
        return;
      }
      entry.signal = signal;
      entry.onAbort = () => this.#cancel(entry, abortError(signal, 'Request to ' + uri));
      signal.addEventListener('abort', entry.onAbort, { once: true });
    }
    if (this.session.state === 'connected') {
      this.pending.add(entry);
      this.#writeRequest(entry, 0);
      return;
    }
    if (this.#canHold()) {
      this.pending.add(entry);
      this.queue.push(entry.seq, entry.line, entry);
      return;
    }
    const code = this.#queueFull() ? ErrorCode.queueFull : ErrorCode.noOpenStream;
    const message = this.#noConnectionMessage('request to ' + uri);
    ctx.logError(code, message, { uri });
    this.#failLater(entry, new IPCError(code, message, { uri, ipcReqID: entry.id }));
  }

  /**
   * Whether a send or notify made now may wait for a connection instead of
   * failing: while a connect is under way, or a reconnect is coming (a lost
   * connection, autoReconnect on), up to offlineQueue. An offlineQueue given
   * explicitly also holds while no connection is expected (as it always did).
   */
  #canHold(): boolean {
    const limit = this.#ctx.options.offlineQueue;
    const session = this.session;
    if (session.state === 'connecting' || session.state === 'authenticating') return !this.queue.isFull(limit);
    if (session.state === 'connected' || session.closedByUser || limit <= 0) return false;
    if (!this.#offlineQueueExplicit && !session.reconnectExpected()) return false;
    return !this.queue.isFull(limit);
  }

  /** Called when a message could not be held: was that because the offline queue is full? */
  #queueFull(): boolean {
    const limit = this.#ctx.options.offlineQueue;
    return limit > 0 && !this.session.closedByUser && this.queue.isFull(limit);
  }

  #noConnectionMessage(what: string): string {
    if (this.#queueFull()) {
      return 'Offline queue full (' + this.#ctx.options.offlineQueue + '); ' + what + ' not sent to ' + this.#ctx.targetName;
    }
    return 'No open connection to ' + this.#ctx.targetName + '; ' + what + ' not sent';
  }

  /** A message_too_large from the server: remember its limit, so larger requests are refused here. */
  learnLineLimit(message: { limit?: unknown; message?: unknown }): void {
    this.#lineLimit.learn(message);
  }

  // ---- writing ----

  /** A connection is ready: what waited for it goes out, in order, with the time each has left. */
  connected(): void {
    const now = Date.now();
    for (const item of this.queue.takeAll()) {
      const entry = item.entry;
      if (entry) {
        if (entry.done) continue;
        this.#writeRequest(entry, now);
      } else {
        this.#ctx.counters.notifiesSent++;
        this.outbox.add(item.line);
      }
    }
    if (this.#flushWaiters.length) this.#checkFlushWaiters();
  }

  /**
   * Writes a request to the current connection with its deadline: the whole
   * timeout when written as it is sent (`now` 0), else the time it has left.
   */
  #writeRequest(entry: PendingRequest, now: number): void {
    entry.written = true;
    entry.link = this.session.link;
    this.#ctx.counters.requestsSent++;
    const timeout = entry.timeoutMs;
    if (timeout === 0) {
      this.outbox.add(entry.line!);
      return;
    }
    const left = now === 0 ? timeout : Math.max(1, Math.ceil(entry.deadline - now));
    this.outbox.add(closeWithTimeout(entry.openLine!, left));
  }

  /**
   * Callbacks never run inside send(). A failure found at once is delivered on
   * the next turn of the event loop (not process.nextTick), so a caller that
   * retries in a loop cannot starve the timers that would reconnect it.
   */
  #failLater(entry: PendingRequest, err: IPCError): void {
    setImmediate(() => this.#complete(entry, err, undefined));
  }

  /**
   * The caller gave up (AbortSignal, or a stream left early; `err` null): the
   * outcome is delivered now, the server is told to stop, and its answer
   * (`cancelled`, or a late one) is dropped when it comes.
   */
  #cancel(entry: PendingRequest, err: unknown): void {
    if (entry.done) return;
    this.#ctx.counters.cancelled++;
    this.pending.remove(entry);
    const link = entry.link;
    if (entry.written && link !== null) {
      this.pending.rememberAbandoned(entry.id);
      const line = cancelLine(entry.id, this.#ctx.options.userAgent);
      if (link === this.session.link && this.session.state === 'connected') this.outbox.add(line);
      else if (!link.detached && !link.socket.destroyed) link.socket.write(line);
    }
    const queued = !entry.written;
    if (err !== null) {
      this.#complete(entry, err, undefined, 'cancelled');
    } else {
      // A stream whose consumer left: nobody waits for an outcome.
      entry.done = true;
      this.#finish(entry);
      if (this.#flushWaiters.length) this.#checkFlushWaiters();
    }
    if (queued) this.queue.dropSettled();
  }

  // ---- answers ----

  /** One part of a streamed answer (`bytes`: its line's size). */
  part(entry: PendingRequest, part: unknown, bytes: number): void {
    entry.stream!.push(part, bytes);
  }

  /** Turns a response into the request's outcome (messageTransform, else answerError's rules). */
  settle(entry: PendingRequest, message: ResponseMessageObject): void {
    const options = this.#ctx.options;
    const code = message.code;
    // The server's deadline is the same timeout, started a little later: whichever side sees it
    // first, the caller gets request_timeout (counted once, as the timeout it is, not as a response).
    if (code === ErrorCode.deadlineExceeded && entry.timeoutMs > 0 && Date.now() >= entry.deadline - DEADLINE_SLACK_MS) {
      this.#timedOut(entry, ', deadline_exceeded from the server');
      if (this.#flushWaiters.length) this.#checkFlushWaiters();
      return;
    }
    this.#ctx.counters.responses++;
    if (code === ErrorCode.shuttingDown && this.#sendAgain(entry)) return;
    if (code === ErrorCode.messageTooLarge) this.learnLineLimit(message);
    const transform = options.messageTransform;
    if (typeof transform === 'function') {
      let outcome: [unknown, unknown];
      try {
        outcome = transform(message);
      } catch (err) {
        this.#complete(entry, err || new Error('messageTransform failed'), undefined);
        return;
      }
      const err = outcome ? outcome[0] : null;
      this.#complete(entry, err || null, outcome ? outcome[1] : undefined);
      return;
    }
    const err = answerError(message, options.codeToErr, entry.uri, entry.id);
    if (err !== null) this.#complete(entry, err, undefined);
    else this.#complete(entry, null, message.data);
  }

  /**
   * A `shutting_down` answer: the server never ran the request. Unless it
   * already streamed parts, or came back too often, it waits for the next
   * connection, and the stopping one is retired. Returns false when the
   * answer should be delivered as it is.
   */
  #sendAgain(entry: PendingRequest): boolean {
    const link = entry.link;
    const session = this.session;
    if (link === null || entry.resends >= MAX_RESENDS) return false;
    if (entry.stream !== null && entry.stream.partsSeen > 0) return false;
    if (!this.#ctx.options.autoReconnect || session.closedByUser) return false;
    if (link.draining) {
      this.#leaveLink(entry);
    } else {
      // Not counted among the link's remaining requests: it has left the table already.
      entry.link = null;
      session.retire(link, 'the server answered shutting_down');
    }
    entry.resends++;
    entry.written = false;
    this.#ctx.counters.resent++;
    this.pending.add(entry);
    if (session.state === 'connected') this.#writeRequest(entry, Date.now());
    else this.queue.push(entry.seq, entry.line!, entry);
    return true;
  }

  #onExpired(expired: PendingRequest[]): void {
    let queuedExpired = false;
    const now = Date.now();
    for (const entry of expired) {
      if (!entry.written) queuedExpired = true;
      const link = entry.link;
      this.#timedOut(entry, '');
      if (link !== null && link.reader.heldSince > 0 && now - link.reader.heldSince >= entry.timeoutMs / 2) {
        // A line still arriving when a request times out, after arriving for half its time: a dripping
        // server. Reading through the rest would only delay everything else on the connection.
        const why = 'a line has been arriving for ' + (now - link.reader.heldSince) + ' ms (' + link.reader.heldBytes + ' bytes so far) and a request timed out waiting';
        link.fail(ErrorCode.badResponse, why, (failed) => this.session.linkFailed(failed));
      }
    }
    if (queuedExpired) this.queue.dropSettled();
    if (this.#flushWaiters.length) this.#checkFlushWaiters();
  }

  /** Fails a request with request_timeout (its deadline passed here, or the server said so first). */
  #timedOut(entry: PendingRequest, by: string): void {
    const message = 'Request to ' + entry.uri + ' timed out after ' + entry.timeoutMs + ' ms (' + this.#ctx.targetName + by + ')';
    this.#ctx.counters.timeouts++;
    this.#ctx.logError(ErrorCode.requestTimeout, message, { uri: entry.uri, ipcReqID: entry.id });
    this.#complete(entry, new IPCError(ErrorCode.requestTimeout, message, { uri: entry.uri, ipcReqID: entry.id }), undefined, 'timeout');
  }

  // ---- failing many ----

  /** Fails every request written to `link` that still waits; returns how many. */
  failWrittenOn(link: Link, code: string, why: string, cause: unknown): number {
    const lost = this.pending.removeWhere((entry) => entry.link === link);
    for (const entry of lost) {
      this.#complete(entry, new IPCError(code, 'Request to ' + entry.uri + ' failed: ' + why, { uri: entry.uri, ipcReqID: entry.id, cause: cause || undefined }), undefined);
    }
    return lost.length;
  }

  /** Requests written to `link` that still wait. */
  countOn(link: Link): number {
    let count = 0;
    this.pending.forEach((entry) => {
      if (entry.link === link) count++;
    });
    return count;
  }

  /** Fails requests waiting for a connection, and drops waiting notifies. */
  failQueued(error: IPCError): void {
    const queued = this.queue.takeAll();
    if (!queued.length) return;
    for (const item of queued) {
      const entry = item.entry;
      if (!entry || entry.done) continue;
      this.pending.remove(entry);
      this.#complete(entry, new IPCError(error.code, 'Request to ' + entry.uri + ' not sent: ' + error.message, { uri: entry.uri, ipcReqID: entry.id, cause: error.cause }), undefined);
    }
    if (this.#flushWaiters.length) this.#checkFlushWaiters();
  }

  /** close(): every request still waiting fails with `reason`, queued notifies are dropped, flush() waiters are released. */
  closeAll(reason: IPCError): void {
    const waiting = this.pending.removeWhere(() => true);
    this.pending.stop();
    this.queue.takeAll();
    for (const entry of waiting) {
      this.#complete(entry, new IPCError(ErrorCode.clientClosed, 'Request to ' + entry.uri + ' failed: ' + reason.message, { uri: entry.uri, ipcReqID: entry.id }), undefined);
    }
    for (const done of this.#flushWaiters.takeAll()) done();
  }

  // ---- outcomes ----

  /**
   * Delivers a request's one outcome. A callback that throws does not disturb
   * the client: the error is rethrown on the next tick. `kind` says which
   * counter an error goes to (timeouts and cancellations have their own).
   */
  #complete(entry: PendingRequest, err: unknown, data: unknown, kind: 'error' | 'timeout' | 'cancelled' = 'error'): void {
    if (entry.done) return;
    entry.done = true;
    this.#finish(entry);
    if (err && kind === 'error') this.#ctx.counters.errors++;
    entry.deliver(err, data);
    if (this.#flushWaiters.length && kind !== 'timeout') this.#checkFlushWaiters();
  }

  /** Lets go of what a finished request held: its line, its abort listener, its place on a draining link. */
  #finish(entry: PendingRequest): void {
    entry.line = null;
    entry.openLine = null;
    if (entry.onAbort !== null) {
      entry.signal!.removeEventListener('abort', entry.onAbort);
      entry.onAbort = null;
      entry.signal = null;
    }
    if (entry.link !== null) this.#leaveLink(entry);
  }

  /** A request written to a draining link has its outcome (or is sent elsewhere): close the link once none is left. */
  #leaveLink(entry: PendingRequest): void {
    const link = entry.link;
    entry.link = null;
    if (link !== null && link.draining && --link.remaining === 0 && !link.detached) link.socket.end();
  }

  // ---- flush ----

  #checkFlushWaiters(): void {
    const due = this.#flushWaiters.takeReady(Math.min(this.pending.oldestSeq(), this.queue.oldestSeq()));
    if (due.length === 0) return;
    this.#afterWritten(() => {
      for (const done of due) done();
    });
  }

  /** Runs `fn` once every line queued so far has been handed to the operating system (at once if not connected). */
  #afterWritten(fn: () => void): void {
    const link = this.session.link;
    if (link === null || this.session.state !== 'connected') {
      process.nextTick(fn);
      return;
    }
    const socket = link.socket;
    this.outbox.write();
    if (socket.writableLength === 0) process.nextTick(fn);
    else socket.write('', () => fn());
  }
}
