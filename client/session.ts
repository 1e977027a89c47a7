/**
 * The client's connection over time: connect (open the link, check who
 * serves, authenticate), losing it, the server's goaway (draining links),
 * reconnecting after the retry strategy's delays, and close().
 *
 * States: disconnected -> connecting -> (authenticating ->) connected. One
 * current link; links the server is taking away drain beside it. Requests
 * are calls.ts's: the session tells it when a connection is ready or lost.
 */

import { URI, requestLine } from '../lib/protocol';
import type { CallSession, Calls } from './calls';
import { connectHint } from './connect-hints';
import { readyEvent } from './connector';
import type { ClientContext, ConnectionState } from './context';
import { rethrowLater } from './context';
import { ErrorCode, IPCError } from './errors';
import { Link } from './link';
import type { ResponseMessageObject } from './options';
import { serverIdentityError } from './peer';
import { ResponseHandler, ResponseSink, authAccepted, authRefusal } from './response-handler';
import { RetryStrategy, cappedDoubling, retryDelay } from './retry';
import type { ConnectCallbackType } from './types';
import { GOAWAY_URI } from './wire';

/** Immediate reconnects (after a goaway or a lost connection) come at most this often; others wait as the retry strategy says. */
const IMMEDIATE_RECONNECT_QUIET_MS = 1000;

export class Session implements CallSession {
  state: ConnectionState = 'disconnected';
  /** The current connection (socket, reader, response handler); a new one per connection. */
  link: Link | null = null;
  closedByUser = false;
  /** Bytes of links let go, for getStats(). */
  bytesIn = 0;
  bytesOut = 0;
  readonly #ctx: ClientContext;
  readonly #calls: Calls;
  /** Reconnects go through the client's connect(), so subclasses that override it take part. */
  readonly #connectThroughClient: (callback: ConnectCallbackType) => unknown;
  /** Connections the server is taking away (goaway): still read, never written. */
  readonly #draining = new Set<Link>();
  #connectWaiters: ConnectCallbackType[] = [];
  #connectTimer: NodeJS.Timeout | null = null;
  #reconnectTimer: NodeJS.Timeout | null = null;
  /** Reconnect attempts since the connection was lost (the retry strategy's argument). */
  #reconnectAttempts = 0;
  /** When the last reconnect made without waiting started. */
  #lastImmediateReconnectAt = 0;
  /** Set when an established connection was lost; cleared by a connect or close(). */
  #wantReconnect = false;
  #connectCount = 0;
  /** Why the current attempt failed, when we know better than the socket (timeout, refused auth). */
  #attemptError: IPCError | null = null;
  #authCount = 0;

  constructor(ctx: ClientContext, calls: Calls, connectThroughClient: (callback: ConnectCallbackType) => unknown) {
    this.#ctx = ctx;
    this.#calls = calls;
    this.#connectThroughClient = connectThroughClient;
  }

  /** A lost connection will be reconnected by the client itself. */
  reconnectExpected(): boolean {
    return this.#wantReconnect && Boolean(this.#ctx.options.autoReconnect) && !this.closedByUser;
  }

  // ---- connecting ----

  /** Opens the connection, or joins the attempt under way; `callback(err)` when it is ready or failed. */
  connect(callback: ConnectCallbackType): void {
    this.closedByUser = false;
    if (this.state === 'connected') {
      process.nextTick(callback, null);
      return;
    }
    this.#connectWaiters.push(callback);
    if (this.state !== 'disconnected') return;
    if (this.#reconnectTimer !== null) {
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = null;
    }
    this.#startAttempt();
  }

  #startAttempt(): void {
    const ctx = this.#ctx;
    this.state = 'connecting';
    this.#attemptError = null;
    // The sink reads `link` when lines arrive, after it is set.
    let link: Link | null = null;
    const responses = new ResponseHandler(this.#calls.pending, ctx.counters, this.#sinkFor(() => link));
    const outbox = this.#calls.outbox;
    let opened: Link;
    try {
      opened = new Link(ctx.target, responses, {
        maxMessageSize: ctx.options.maxMessageSize,
        tls: ctx.options.tls,
        beginDelivery: () => outbox.beginDelivery(),
        // What the response callbacks sent goes out now, without a trip through process.nextTick.
        endDelivery: () => outbox.endDelivery(),
        onOverflow: (failed) => this.linkFailed(failed),
        onNonsense: (failed) => this.linkFailed(failed),
      });
    } catch (err) {
      // Bad tls options and the like: fail like a refused connection, asynchronously.
      this.#attemptError = new IPCError(ErrorCode.connectFailed, 'Could not connect to ' + ctx.targetName + ': ' + (err as Error).message, { cause: err });
      process.nextTick(() => {
        if (this.state === 'connecting' && this.link === null) {
          this.state = 'disconnected';
          this.#attemptFailed(null);
        }
      });
      return;
    }
    link = opened;
    this.link = opened;
    const socket = opened.socket;
    socket.on(readyEvent(ctx.target), () => this.#onSocketOpen(opened));
    socket.on('error', (err: Error) => {
      if (!opened.detached && opened.socketError === null) opened.socketError = err;
    });
    socket.on('close', () => this.#onSocketClose(opened));
    const timeout = ctx.options.connectTimeout;
    if (timeout > 0) {
      this.#connectTimer = setTimeout(() => {
        this.#connectTimer = null;
        if (this.link !== opened || this.state === 'connected') return;
        this.#attemptError = new IPCError(ErrorCode.connectTimeout, 'Connecting to ' + ctx.targetName + ' timed out after ' + timeout + ' ms');
        socket.destroy();
      }, timeout);
    }
  }

  #onSocketOpen(link: Link): void {
    if (this.link !== link || this.state !== 'connecting') return;
    const socket = link.socket;
    if (this.#ctx.target.kind !== 'unix') socket.setNoDelay(true);
    const identityError = serverIdentityError(socket, this.#ctx.target, this.#ctx.targetName, this.#ctx.options.expectServerUid);
    if (identityError !== null) {
      // Nothing has been written yet: no credentials, no requests.
      this.#attemptError = identityError;
      socket.destroy();
      return;
    }
    const auth = this.#ctx.options.auth;
    if (auth === undefined || auth === null) {
      this.#onConnected();
      return;
    }
    // Credentials go first, before anything held; the connect completes on the answer.
    this.state = 'authenticating';
    const authId = 'auth' + ++this.#authCount;
    let line: string;
    try {
      line = requestLine(URI.auth, auth, authId, process.pid, this.#ctx.options.userAgent, false);
    } catch (err) {
      this.#attemptError = new IPCError(ErrorCode.access, 'The auth option cannot be encoded as JSON: ' + (err as Error).message);
      socket.destroy();
      return;
    }
    link.responses.authId = authId;
    socket.write(line);
  }

  /** How a link's response handler reaches the client. */
  #sinkFor(link: () => Link | null): ResponseSink {
    const ctx = this.#ctx;
    const calls = this.#calls;
    return {
      onPush: (message) => {
        const from = link();
        if (from === null) return;
        if (message.uri === GOAWAY_URI && message.ipcReqID === undefined) {
          const data = message.data as { reason?: unknown } | null | undefined;
          this.retire(from, 'the server is going away (' + String(data && data.reason ? data.reason : 'goaway') + ')');
        }
        if (message.code) from.lastServerError = message;
        if (message.code === ErrorCode.messageTooLarge) calls.learnLineLimit(message);
        ctx.emit('data', message);
      },
      onAuthAnswer: (message) => {
        const from = link();
        if (from !== null && from === this.link) this.#onAuthAnswer(from, message);
      },
      onAnswer: (entry, message) => calls.settle(entry, message),
      onPart: (entry, part, bytes) => calls.part(entry, part, bytes),
      onBadLine: (what, line) => this.#badLine(link(), what, line),
      onUnknownId: (id) => {
        ctx.logError(ErrorCode.badResponse, 'Response from ' + ctx.targetName + ' for unknown request id ' + JSON.stringify(id), { ipcReqID: id });
        const from = link();
        if (from !== null) from.countUnknownAnswer();
      },
    };
  }

  #onAuthAnswer(link: Link, message: ResponseMessageObject): void {
    if (authAccepted(message)) {
      this.#onConnected();
      return;
    }
    this.#attemptError = authRefusal(message, this.#ctx.targetName);
    link.socket.destroy();
  }

  #onConnected(): void {
    const ctx = this.#ctx;
    this.#clearConnectTimer();
    this.state = 'connected';
    this.#connectCount++;
    ctx.counters.connects++;
    this.#reconnectAttempts = 0;
    this.#wantReconnect = false;
    this.#calls.outbox.socket = this.link!.socket;
    this.#calls.connected();
    ctx.emit('connect');
    if (this.#connectCount > 1) ctx.emit('reconnect');
    this.#callConnectWaiters(null);
  }

  /** The attempt under way failed (its link is already detached). */
  #attemptFailed(link: Link | null): void {
    const ctx = this.#ctx;
    this.#clearConnectTimer();
    const cause = link ? link.socketError : null;
    let error = this.#attemptError;
    const serverError = link ? link.lastServerError : null;
    if (error === null && serverError && serverError.code) {
      // The server said why before closing (too_many_connections, auth_timeout...): that code is the most useful.
      const code = String(serverError.code);
      error = new IPCError(code, 'Could not connect to ' + ctx.targetName + ': refused by the server (' + code + ': ' + (serverError.message || '') + ')', { cause: cause || undefined });
    }
    if (error === null) {
      const hint = cause ? connectHint(ctx.target, cause) : null;
      const errno = cause && (cause as NodeJS.ErrnoException).code;
      let why = cause ? cause.message : 'the connection closed before it was ready';
      if (hint !== null) why = hint + (errno ? ' (' + errno + ')' : '');
      error = new IPCError(ErrorCode.connectFailed, 'Could not connect to ' + ctx.targetName + ': ' + why, { cause: cause || undefined });
    }
    ctx.counters.connectFailures++;
    ctx.logError(error.code, error.message, { target: ctx.targetName });
    // Held sends wait only for a connection that may still come.
    if (ctx.options.offlineQueue <= 0 || this.closedByUser || !(this.#wantReconnect || this.#calls.holdsWithoutConnection)) this.#calls.failQueued(error);
    ctx.emit('connect_failed', error);
    ctx.emitError(error);
    this.#callConnectWaiters(error);
    if (this.#wantReconnect) this.#scheduleReconnect(error);
  }

  /** The established connection ended without close() (its link is already detached). */
  #connectionLost(link: Link): void {
    const ctx = this.#ctx;
    const cause = link.socketError;
    const failure = link.failure;
    const code = failure !== null ? failure.code : ErrorCode.connectionClosed;
    let why: string;
    if (failure !== null) why = failure.why;
    else if (cause) why = cause.message;
    else if (link.lastServerError && link.lastServerError.code) why = 'closed by the server (' + link.lastServerError.code + ': ' + (link.lastServerError.message || '') + ')';
    else why = 'closed by the server';
    const reason = new IPCError(code, 'Connection to ' + ctx.targetName + ' lost: ' + why, { cause: cause || undefined });
    ctx.counters.disconnects++;
    // Set before any callback runs, so a close() from inside one wins.
    this.#wantReconnect = true;
    const lost = this.#calls.failWrittenOn(link, code, reason.message, cause);
    ctx.logError(code, reason.message, { target: ctx.targetName, inFlight: lost });
    ctx.emit('disconnect', reason);
    if (cause || failure !== null) ctx.emitError(reason);
    if (this.#wantReconnect) this.#scheduleReconnect(reason);
  }

  #onSocketClose(link: Link): void {
    if (link.detached) return; // let go by close(), or an old connection
    this.#detach(link);
    if (link.draining) {
      this.#draining.delete(link);
      // The server went away before answering these; they may have run.
      this.#calls.failWrittenOn(link, ErrorCode.connectionClosed, 'Connection to ' + this.#ctx.targetName + ' (going away) closed before the answer', link.socketError);
      return;
    }
    const previous = this.state;
    this.state = 'disconnected';
    if (previous === 'connected') this.#connectionLost(link);
    else this.#attemptFailed(link);
  }

  #detach(link: Link): void {
    if (this.link === link) {
      this.link = null;
      this.#calls.outbox.socket = null;
      this.#calls.outbox.take();
    }
    this.bytesIn += link.socket.bytesRead;
    this.bytesOut += link.socket.bytesWritten;
    link.detach();
  }

  /**
   * The client closed a link because of what the server sent (a line past
   * maxMessageSize, a broken line, answers nobody asked for, a dripping
   * line): logged now; its requests fail with the link's failure code when
   * its socket closes.
   */
  linkFailed(link: Link): void {
    const ctx = this.#ctx;
    const failure = link.failure!;
    if (link === this.link && this.state !== 'connected') {
      this.#attemptError = new IPCError(failure.code, 'Could not connect to ' + ctx.targetName + ': ' + failure.why);
    }
    ctx.logError(failure.code, 'Closing the connection to ' + ctx.targetName + ': ' + failure.why, { target: ctx.targetName });
  }

  /** A line that is not a JSON object: the connection's framing can no longer be trusted. */
  #badLine(link: Link | null, what: string, line: string): void {
    const preview = line.length > 200 ? line.slice(0, 200) + '...' : line;
    this.#ctx.logError(ErrorCode.badResponse, 'Bad response from ' + this.#ctx.targetName + ': ' + what, { line: preview });
    // Emitted as the reason the connection is lost.
    if (link !== null) link.fail(ErrorCode.badResponse, what);
  }

  // ---- the server going away, reconnecting ----

  /**
   * The server is going away (goaway, or a shutting_down answer): write
   * nothing more to this connection, keep reading its answers, and move to a
   * new connection at once; requests sent meanwhile wait for it.
   */
  retire(link: Link, why: string): void {
    const ctx = this.#ctx;
    if (link !== this.link || this.state !== 'connected') return;
    const outbox = this.#calls.outbox;
    // Lines already queued go to the old server: it answers them (or refuses them with shutting_down, and they come back).
    outbox.write();
    outbox.socket = null;
    this.link = null;
    link.draining = true;
    const remaining = this.#calls.countOn(link);
    link.remaining = remaining;
    this.#draining.add(link);
    if (remaining === 0) link.socket.end();
    this.state = 'disconnected';
    ctx.counters.disconnects++;
    const reason = new IPCError(ErrorCode.shuttingDown, 'Connection to ' + ctx.targetName + ' retired: ' + why);
    ctx.logDebug(5, reason.message, { target: ctx.targetName, inFlight: remaining });
    ctx.emit('disconnect', reason);
    if (!ctx.options.autoReconnect || this.closedByUser || this.state !== 'disconnected') return;
    this.#wantReconnect = true;
    // At once, unless the last move was very recent (a server that keeps saying goaway must not make us spin).
    const now = Date.now();
    if (now - this.#lastImmediateReconnectAt < IMMEDIATE_RECONNECT_QUIET_MS) {
      this.#scheduleReconnect(reason);
    } else {
      this.#lastImmediateReconnectAt = now;
      this.#reconnectNow();
    }
  }

  /** The retry strategy in force: the option's, or capped doubling from autoReconnect and maxReconnectDelay. */
  #retryStrategy(): RetryStrategy {
    const options = this.#ctx.options;
    const custom = options.retryStrategy;
    if (typeof custom === 'function') return custom;
    return cappedDoubling(options.autoReconnect, Number(options.maxReconnectDelay) || 0);
  }

  /**
   * Waits as the retry strategy says, then reconnects; `why` fails the queue
   * when the strategy gives up. The first attempt after a lost connection is
   * made at once (what was sent meanwhile waits for it), unless the previous
   * immediate attempt was very recent (a server that accepts and drops must
   * not make us spin), a retryStrategy option decides every delay, or
   * offlineQueue is 0 (the original client's timing).
   */
  #scheduleReconnect(why: IPCError): void {
    const ctx = this.#ctx;
    const options = ctx.options;
    if (!options.autoReconnect || this.closedByUser || this.#reconnectTimer !== null || this.state !== 'disconnected') return;
    const now = Date.now();
    const atOnce = this.#reconnectAttempts === 0 && options.offlineQueue > 0 && typeof options.retryStrategy !== 'function';
    if (atOnce && now - this.#lastImmediateReconnectAt >= IMMEDIATE_RECONNECT_QUIET_MS) {
      this.#lastImmediateReconnectAt = now;
      this.#reconnectTimer = setTimeout(() => {
        this.#reconnectTimer = null;
        this.#reconnectNow();
      }, 0);
      return;
    }
    this.#reconnectAttempts++;
    const delay = retryDelay(this.#retryStrategy(), this.#reconnectAttempts);
    if (delay === null) {
      this.#wantReconnect = false;
      ctx.logError(why.code, 'Stopped reconnecting to ' + ctx.targetName + ' after ' + (this.#reconnectAttempts - 1) + ' attempts (retryStrategy)', { target: ctx.targetName });
      this.#calls.failQueued(why);
      return;
    }
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      this.#reconnectNow();
    }, delay);
  }

  /** Reconnects through the client's connect(), so subclasses that override it (callback or async style) take part. */
  #reconnectNow(): void {
    if (this.closedByUser || this.state !== 'disconnected') return;
    let settled = false;
    const settle = (err: unknown): void => {
      if (settled) return;
      settled = true;
      if (err && this.#wantReconnect) this.#scheduleReconnect(err instanceof IPCError ? err : new IPCError(ErrorCode.connectFailed, String((err as Error)?.message || err)));
    };
    try {
      const result = this.#connectThroughClient(settle);
      if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
        (result as PromiseLike<unknown>).then(() => settle(null), (err) => settle(err || new Error('connect failed')));
      }
    } catch (err) {
      settle(err || new Error('connect failed'));
    }
  }

  #callConnectWaiters(err: IPCError | null): void {
    const waiters = this.#connectWaiters;
    if (!waiters.length) return;
    this.#connectWaiters = [];
    for (const waiter of waiters) {
      try {
        waiter(err);
      } catch (thrown) {
        rethrowLater(thrown);
      }
    }
  }

  #clearConnectTimer(): void {
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
  }

  // ---- closing ----

  /** close(): see IPCClient.close. */
  close(done: () => void): void {
    const ctx = this.#ctx;
    this.closedByUser = true;
    this.#wantReconnect = false;
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    this.#clearConnectTimer();
    const link = this.link;
    const socket = link ? link.socket : null;
    const previous = this.state;
    const tail = previous === 'connected' ? this.#calls.outbox.take() : '';
    this.state = 'disconnected';
    if (link) this.#detach(link);
    for (const old of this.#draining) {
      this.#detach(old);
      old.socket.destroy();
    }
    this.#draining.clear();
    const reason = new IPCError(ErrorCode.clientClosed, 'Client closed the connection to ' + ctx.targetName);
    this.#calls.closeAll(reason);
    if (previous === 'connecting' || previous === 'authenticating') this.#callConnectWaiters(reason);
    if (previous === 'connected') {
      ctx.counters.disconnects++;
      ctx.emit('disconnect', reason);
    }
    if (!socket || socket.destroyed) {
      process.nextTick(done);
      return;
    }
    socket.once('close', () => done());
    if (previous === 'connected') {
      // Hand what is queued to the kernel, then let go of the descriptor even if the peer never closes its side.
      const release = (): void => {
        socket.destroy();
      };
      if (tail) socket.end(tail, release);
      else socket.end(release);
    } else {
      socket.destroy();
    }
  }
}
