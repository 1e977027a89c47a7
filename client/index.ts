/**
 * The Node client for a pixl-ipc server.
 *
 *   const IPCClient = require('pixl-ipc/client');
 *   const client = new IPCClient('/var/run/my.sock', logger, { requestTimeout: 5000 });
 *   await client.connect();
 *   const answer = await client.send('/myapi/test', { hello: 1 });
 *
 * Programs written for the original JavaScript client run unchanged: callback
 * styles, bare-string error comparisons (`err == 'request_timeout'`), `data`
 * events for server pushes, the same log lines, and subclasses that override
 * connect() or send().
 *
 * Behaviour in short:
 * - Sends made while a connect is under way wait for it (and for the auth
 *   answer). Sends made with no connection and no connect under way fail at
 *   once with `no_open_stream`, unless `offlineQueue` > 0 holds them for the
 *   next connection (`queue_full` past that bound).
 * - A lost connection fails every written request at once (`connection_closed`,
 *   or `message_too_large` when a response passed maxMessageSize), then, with
 *   autoReconnect, reconnects through this.connect() after the delays the
 *   retry strategy gives (retry.ts) until it succeeds, the strategy gives up,
 *   or close() is called.
 * - close() fails whatever is waiting with `client_closed`.
 *
 * This file keeps the connection state machine and the public API. The jobs
 * around it: connector.ts opens the socket, response-handler.ts decodes what
 * the server sends, outbox.ts batches what is written, offline-queue.ts holds
 * what waits for a connection, pending.ts the requests waiting for answers and
 * their deadlines.
 */

import { EventEmitter } from 'events';
import type * as net from 'net';
import { LineReader } from '../lib/framing';
import { requestLine, URI } from '../lib/protocol';
import { openSocket, readyEvent } from './connector';
import {
  ErrorCode,
  ErrorCodeValue as ErrorCodeValueType,
  IPCError as IPCErrorClass,
} from './errors';
import { OfflineQueue } from './offline-queue';
import {
  IPCClientOptions,
  MessageTransform as MessageTransformType,
  ResolvedOptions,
  ResponseMessageObject,
  resolveOptions,
} from './options';
import { Outbox } from './outbox';
import { PendingRequest, PendingTable, ResponseCallback as ResponseCallbackType } from './pending';
import { PushMessageObject, ResponseHandler, ResponseSink, answerError, authAccepted, authRefusal } from './response-handler';
import { RetryStrategy as RetryStrategyType, cappedDoubling, retryDelay } from './retry';
import { Target, describeTarget, parseTarget } from './target';

/** What the client needs from a logger (pixl-logger has both). */
interface LoggerLike {
  debug(level: number, msg: string, data?: unknown): void;
  error(code: string, msg: string, data?: unknown): void;
}

/** Counters returned by getStats() and written by logStats(). */
interface ClientStats {
  /** Requests written to a connection. */
  requestsSent: number;
  /** notify() messages written to a connection. */
  notifiesSent: number;
  /** Responses matched to a waiting request. */
  responses: number;
  /** Requests that ended in an error other than a timeout (error responses, disconnects, no connection...). */
  errors: number;
  /** Requests that ended with `request_timeout`. */
  timeouts: number;
  /** Responses that arrived after their request timed out (dropped quietly). */
  lateResponses: number;
  /** Responses whose id matched nothing (logged as errors). */
  unknownResponses: number;
  /** Messages without an ipcReqID (pushes, connection-level error lines), emitted as `data`. */
  pushes: number;
  /** Bytes read from and written to connections, over the client's lifetime. */
  bytesIn: number;
  bytesOut: number;
  /** Requests waiting for an outcome right now (same as requestCount). */
  inFlight: number;
  /** Sends and notifies held until a connection opens. */
  queued: number;
  /** Successful connects, lost connections, failed connect attempts. */
  connects: number;
  disconnects: number;
  connectFailures: number;
  /** Whether a connection is open and ready now. */
  connected: boolean;
}

type ConnectCallbackType = (err: IPCErrorClass | null) => void;

type ConnectionState = 'disconnected' | 'connecting' | 'authenticating' | 'connected';

interface FlushWaiter {
  /** Waits for everything with a smaller seq. */
  seq: number;
  done: () => void;
}

function rethrowLater(err: unknown): void {
  process.nextTick(() => {
    throw err;
  });
}

class IPCClient extends EventEmitter {
  /** Every error code a client user may see. */
  static readonly ErrorCode = ErrorCode;
  /** The class of every error the client produces. */
  static readonly IPCError = IPCErrorClass;

  /** The target as given: a Unix socket path, `tcp://host:port` or `tls://host:port`. */
  readonly socketPath: string;
  /** pixl-logger shaped logger, or null for a silent client. */
  logger: LoggerLike | null;
  /** Options with defaults applied; most are read at the moment they are used, so changes take effect. */
  options: ResolvedOptions;

  readonly #target: Target;
  readonly #targetName: string;
  readonly #pending: PendingTable;
  /** Reads the current connection's lines; a new one per connection, so nothing of an old stream leaks into the next. */
  #reader: LineReader | null = null;
  /** Decodes the current connection's lines (also one per connection). */
  #responses: ResponseHandler | null = null;
  #state: ConnectionState = 'disconnected';
  #socket: net.Socket | null = null;
  readonly #outbox: Outbox;
  readonly #queue = new OfflineQueue();
  #nextId = 0;
  #nextSeq = 0;
  #connectWaiters: ConnectCallbackType[] = [];
  #flushWaiters: FlushWaiter[] = [];
  #connectTimer: NodeJS.Timeout | null = null;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #statsTimer: NodeJS.Timeout | null = null;
  /** Reconnect attempts since the connection was lost (the retry strategy's argument is this plus one). */
  #reconnectAttempts = 0;
  /** Set when an established connection was lost; cleared by a connect or close(). */
  #wantReconnect = false;
  #closedByUser = false;
  #connectCount = 0;
  /** Why the current attempt failed, when we know better than the socket (timeout, refused auth). */
  #attemptError: IPCErrorClass | null = null;
  #socketError: Error | null = null;
  /** The last connection-level error line from the server (e.g. idle_timeout), to explain a close. */
  #lastServerError: PushMessageObject | null = null;
  #overflowed = false;
  #authCount = 0;
  #bytesIn = 0;
  #bytesOut = 0;
  readonly #stats = {
    requestsSent: 0,
    notifiesSent: 0,
    responses: 0,
    errors: 0,
    timeouts: 0,
    lateResponses: 0,
    unknownResponses: 0,
    pushes: 0,
    connects: 0,
    disconnects: 0,
    connectFailures: 0,
  };

  /**
   * @param socketPath A Unix socket path, `tcp://host:port` or `tls://host:port`.
   * @param logger Optional pixl-logger (or anything with `debug(level, msg, data)` and `error(code, msg, data)`).
   * @param options See IPCClient.Options; every field is optional.
   */
  constructor(socketPath: string, logger?: LoggerLike | null, options?: IPCClientOptions | null) {
    super();
    this.#target = parseTarget(socketPath);
    this.#targetName = describeTarget(this.#target);
    this.socketPath = socketPath;
    this.logger = logger || null;
    this.options = resolveOptions(options);
    this.#pending = new PendingTable(
      (expired) => this.#onExpired(expired),
      () => this.options.expireRequest,
    );
    this.#outbox = new Outbox(() => this.#pending.size);
  }

  /** Requests waiting for an outcome (in flight, or held for a connection). Back to 0 once all are answered or failed. */
  get requestCount(): number {
    return this.#pending.size;
  }

  /** True while a connection is open and ready for requests. */
  get isConnected(): boolean {
    return this.#state === 'connected';
  }

  /** 'disconnected', 'connecting', 'authenticating' or 'connected'. */
  get connectionState(): ConnectionState {
    return this.#state;
  }

  /**
   * Opens the connection (and authenticates when the `auth` option is set).
   * With a callback, calls `callback(err)`; without one, returns a promise.
   * Already connected: succeeds at once. A connect already under way: waits for it.
   * Fails with `connect_failed`, `connect_timeout`, `access`, or the code the
   * server gave before closing (e.g. `too_many_connections`), logging one error.
   * A failed first connect is not retried; only a lost connection is (autoReconnect).
   */
  connect(): Promise<void>;
  connect(callback: ConnectCallbackType): void;
  connect(callback?: ConnectCallbackType): Promise<void> | void {
    if (typeof callback !== 'function') {
      return new Promise<void>((resolve, reject) => {
        this.#connect((err) => (err ? reject(err) : resolve()));
      });
    }
    this.#connect(callback);
  }

  /**
   * Sends a request. With a callback, calls `callback(err, data)`; without one,
   * returns a promise of `data`. Every request gets exactly one outcome: the
   * response, or an IPCError (`request_timeout`, `no_open_stream`,
   * `connection_closed`, `client_closed`, a server code...).
   */
  send(uri: string, data?: unknown): Promise<any>;
  send(uri: string, data: unknown, callback: ResponseCallbackType): void;
  send(uri: string, callback: ResponseCallbackType): void;
  send(uri: string, data?: unknown, callback?: ResponseCallbackType): Promise<any> | void {
    if (callback === undefined && typeof data === 'function') {
      callback = data as ResponseCallbackType;
      data = undefined;
    }
    if (typeof callback === 'function') {
      this.#request(uri, data, callback, null, null);
      return;
    }
    return new Promise((resolve, reject) => {
      this.#request(uri, data, null, resolve, reject);
    });
  }

  /**
   * Fire-and-forget: the server runs the request and answers nothing (the line
   * carries `"noReply": true` and no ipcReqID). Returns true when the message
   * was written or queued, false when it was dropped because there is no
   * connection (logged like a send without a connection) or its data is not JSON.
   */
  notify(uri: string, data?: unknown): boolean {
    let line: string;
    try {
      if (typeof uri !== 'string') throw new TypeError('uri must be a string');
      line = requestLine(uri, data, undefined, process.pid, this.options.userAgent, true);
    } catch (err) {
      this.#logError(ErrorCode.badRequest, 'Notify to ' + String(uri) + ' not sent: ' + (err as Error).message, { uri });
      return false;
    }
    const seq = this.#nextSeq++;
    if (this.#state === 'connected') {
      this.#stats.notifiesSent++;
      this.#outbox.add(line);
      return true;
    }
    if (this.#canHold()) {
      this.#queue.push(seq, line, null);
      return true;
    }
    this.#logError(this.#queueFull() ? ErrorCode.queueFull : ErrorCode.noOpenStream, this.#noConnectionMessage('notify to ' + uri), { uri });
    return false;
  }

  /**
   * Resolves once everything sent before it has been answered or failed, and
   * notifies sent before it have been handed to the operating system (or
   * dropped). Never rejects. With a callback, calls `callback(null)` instead.
   */
  flush(): Promise<void>;
  flush(callback: (err: null) => void): void;
  flush(callback?: (err: null) => void): Promise<void> | void {
    const seq = this.#nextSeq;
    if (typeof callback === 'function') {
      this.#flushWaiters.push({ seq, done: () => callback(null) });
      this.#checkFlushWaiters();
      return;
    }
    return new Promise<void>((resolve) => {
      this.#flushWaiters.push({ seq, done: resolve });
      this.#checkFlushWaiters();
    });
  }

  /**
   * Ends the connection, stops reconnecting and every timer, so the process
   * can exit. Requests still waiting fail at once with code `client_closed`
   * (a disconnect the client did not ask for uses `connection_closed`).
   * Lines queued before close() are still written. Emits `disconnect` when a
   * connection was open. Completes when the socket is closed; connect() may be
   * called again afterwards.
   */
  close(): Promise<void>;
  close(callback: (err: null) => void): void;
  close(callback?: (err: null) => void): Promise<void> | void {
    if (typeof callback === 'function') {
      this.#close(() => callback(null));
      return;
    }
    return new Promise<void>((resolve) => this.#close(resolve));
  }

  /** Counters since the client was created (see IPCClient.Stats). */
  getStats(): ClientStats {
    const socket = this.#socket;
    return {
      ...this.#stats,
      bytesIn: this.#bytesIn + (socket ? socket.bytesRead : 0),
      bytesOut: this.#bytesOut + (socket ? socket.bytesWritten : 0),
      inFlight: this.#pending.size,
      queued: this.#queue.length,
      connected: this.#state === 'connected',
    };
  }

  /** Writes the stats to the logger now, as `debug(2, 'PixlIPC Stats', stats)`. */
  logStats(): void {
    if (this.logger) this.logger.debug(2, 'PixlIPC Stats', this.getStats());
  }

  /** Typed listeners: connect, reconnect, disconnect(err), connect_failed(err), error(err), data(message). */
  override on(event: 'connect' | 'reconnect', listener: () => void): this;
  override on(event: 'disconnect' | 'connect_failed' | 'error', listener: (err: IPCErrorClass) => void): this;
  override on(event: 'data', listener: (message: PushMessageObject) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.on(event, listener);
  }

  /** Like on(), once. */
  override once(event: 'connect' | 'reconnect', listener: () => void): this;
  override once(event: 'disconnect' | 'connect_failed' | 'error', listener: (err: IPCErrorClass) => void): this;
  override once(event: 'data', listener: (message: PushMessageObject) => void): this;
  override once(event: string | symbol, listener: (...args: any[]) => void): this;
  override once(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.once(event, listener);
  }

  // ---- connecting ----

  #connect(callback: ConnectCallbackType): void {
    this.#closedByUser = false;
    this.#startStatsTimer();
    if (this.#state === 'connected') {
      process.nextTick(callback, null);
      return;
    }
    this.#connectWaiters.push(callback);
    if (this.#state !== 'disconnected') return;
    if (this.#reconnectTimer !== null) {
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = null;
    }
    this.#startAttempt();
  }

  #startAttempt(): void {
    this.#state = 'connecting';
    this.#attemptError = null;
    this.#socketError = null;
    this.#lastServerError = null;
    this.#overflowed = false;
    // The reader comes first: the socket's read callback feeds it. Lines still being scanned
    // from a chunk when this socket is let go (say close() inside a callback) are dropped.
    let socket: net.Socket | null = null;
    const responses = new ResponseHandler(this.#pending, this.#stats, this.#sink);
    const reader = new LineReader(this.options.maxMessageSize, {
      onLine: (line) => {
        if (socket !== null && this.#socket === socket) responses.handleLine(line);
      },
      onOverflow: () => {
        if (socket !== null && this.#socket === socket) this.#onOverflow();
      },
    });
    const outbox = this.#outbox;
    const deliver = (chunk: Buffer): void => {
      if (socket === null || this.#socket !== socket) return;
      outbox.beginDelivery();
      try {
        reader.push(chunk);
      } finally {
        // What the response callbacks sent goes out now, without a trip through process.nextTick.
        outbox.endDelivery();
      }
    };
    try {
      socket = openSocket(this.#target, { tls: this.options.tls, heldBytes: () => reader.bufferedBytes, deliver });
    } catch (err) {
      // Bad tls options and the like: fail like a refused connection, asynchronously.
      this.#attemptError = new IPCErrorClass(ErrorCode.connectFailed, 'Could not connect to ' + this.#targetName + ': ' + (err as Error).message, { cause: err });
      process.nextTick(() => {
        if (this.#state === 'connecting' && this.#socket === null) {
          this.#state = 'disconnected';
          this.#attemptFailed();
        }
      });
      return;
    }
    this.#socket = socket;
    this.#reader = reader;
    this.#responses = responses;
    const opened = socket;
    socket.on(readyEvent(this.#target), () => this.#onSocketOpen(opened));
    socket.on('error', (err: Error) => {
      if (this.#socket === opened && this.#socketError === null) this.#socketError = err;
    });
    socket.on('close', () => this.#onSocketClose(opened));
    const timeout = this.options.connectTimeout;
    if (timeout > 0) {
      this.#connectTimer = setTimeout(() => {
        this.#connectTimer = null;
        if (this.#socket !== opened || this.#state === 'connected') return;
        this.#attemptError = new IPCErrorClass(ErrorCode.connectTimeout, 'Connecting to ' + this.#targetName + ' timed out after ' + timeout + ' ms');
        opened.destroy();
      }, timeout);
    }
  }

  #onSocketOpen(socket: net.Socket): void {
    if (this.#socket !== socket || this.#state !== 'connecting') return;
    if (this.#target.kind !== 'unix') socket.setNoDelay(true);
    const auth = this.options.auth;
    if (auth === undefined || auth === null) {
      this.#onConnected();
      return;
    }
    // Credentials go first, before anything held; the connect completes on the answer.
    this.#state = 'authenticating';
    const authId = 'auth' + ++this.#authCount;
    let line: string;
    try {
      line = requestLine(URI.auth, auth, authId, process.pid, this.options.userAgent, false);
    } catch (err) {
      this.#attemptError = new IPCErrorClass(ErrorCode.access, 'The auth option cannot be encoded as JSON: ' + (err as Error).message);
      socket.destroy();
      return;
    }
    this.#responses!.authId = authId;
    socket.write(line);
  }

  /** How the response handler reaches the client. */
  readonly #sink: ResponseSink = {
    onPush: (message) => {
      if (message.code) this.#lastServerError = message;
      this.#emitSafely('data', message);
    },
    onAuthAnswer: (message) => this.#onAuthAnswer(message),
    onAnswer: (entry, message) => this.#settle(entry, message),
    onBadLine: (what, line) => this.#badLine(what, line),
    onUnknownId: (id) => {
      this.#logError(ErrorCode.badResponse, 'Response from ' + this.#targetName + ' for unknown request id ' + JSON.stringify(id), { ipcReqID: id });
    },
  };

  #onAuthAnswer(message: ResponseMessageObject): void {
    if (authAccepted(message)) {
      this.#onConnected();
      return;
    }
    this.#attemptError = authRefusal(message, this.#targetName);
    if (this.#socket) this.#socket.destroy();
  }

  #onConnected(): void {
    this.#clearConnectTimer();
    this.#state = 'connected';
    this.#connectCount++;
    this.#stats.connects++;
    this.#reconnectAttempts = 0;
    this.#wantReconnect = false;
    this.#outbox.socket = this.#socket;
    for (const item of this.#queue.takeAll()) {
      const entry = item.entry;
      if (entry) {
        if (entry.done) continue;
        entry.written = true;
        entry.line = null;
        this.#stats.requestsSent++;
      } else {
        this.#stats.notifiesSent++;
      }
      this.#outbox.add(item.line);
    }
    this.#emitSafely('connect');
    if (this.#connectCount > 1) this.#emitSafely('reconnect');
    this.#callConnectWaiters(null);
    if (this.#flushWaiters.length) this.#checkFlushWaiters();
  }

  /** The attempt under way failed (its socket is already detached). */
  #attemptFailed(): void {
    this.#clearConnectTimer();
    const cause = this.#socketError;
    let error = this.#attemptError;
    const serverError = this.#lastServerError;
    if (error === null && serverError && serverError.code) {
      // The server said why before closing (too_many_connections, auth_timeout...): that code is the most useful.
      const code = String(serverError.code);
      error = new IPCErrorClass(code, 'Could not connect to ' + this.#targetName + ': refused by the server (' + code + ': ' + (serverError.message || '') + ')', { cause: cause || undefined });
    }
    if (error === null) {
      const why = cause ? cause.message : 'the connection closed before it was ready';
      error = new IPCErrorClass(ErrorCode.connectFailed, 'Could not connect to ' + this.#targetName + ': ' + why, { cause: cause || undefined });
    }
    this.#stats.connectFailures++;
    this.#logError(error.code, error.message, { target: this.#targetName });
    if (this.options.offlineQueue <= 0 || this.#closedByUser) this.#failQueued(error);
    this.#emitSafely('connect_failed', error);
    this.#emitError(error);
    this.#callConnectWaiters(error);
    if (this.#wantReconnect) this.#scheduleReconnect(error);
  }

  /** An established connection ended without close() (its socket is already detached). */
  #connectionLost(): void {
    const cause = this.#socketError;
    const code = this.#overflowed ? ErrorCode.messageTooLarge : ErrorCode.connectionClosed;
    let why: string;
    if (this.#overflowed) why = 'a response was longer than maxMessageSize (' + this.options.maxMessageSize + ' bytes)';
    else if (cause) why = cause.message;
    else if (this.#lastServerError && this.#lastServerError.code) why = 'closed by the server (' + this.#lastServerError.code + ': ' + (this.#lastServerError.message || '') + ')';
    else why = 'closed by the server';
    const reason = new IPCErrorClass(code, 'Connection to ' + this.#targetName + ' lost: ' + why, { cause: cause || undefined });
    this.#stats.disconnects++;
    // Set before any callback runs, so a close() from inside one wins.
    this.#wantReconnect = true;
    const lost = this.#pending.removeWhere(isWritten);
    this.#logError(code, reason.message, { target: this.#targetName, inFlight: lost.length });
    for (const entry of lost) {
      this.#complete(entry, new IPCErrorClass(code, 'Request to ' + entry.uri + ' failed: ' + reason.message, { uri: entry.uri, ipcReqID: entry.id, cause: cause || undefined }), undefined);
    }
    this.#emitSafely('disconnect', reason);
    if (cause || this.#overflowed) this.#emitError(reason);
    if (this.#wantReconnect) this.#scheduleReconnect(reason);
  }

  #onSocketClose(socket: net.Socket): void {
    if (this.#socket !== socket) return; // detached by close(), or an old connection
    this.#detachSocket(socket);
    const previous = this.#state;
    this.#state = 'disconnected';
    if (previous === 'connected') this.#connectionLost();
    else this.#attemptFailed();
  }

  #detachSocket(socket: net.Socket): void {
    this.#socket = null;
    this.#bytesIn += socket.bytesRead;
    this.#bytesOut += socket.bytesWritten;
    this.#outbox.socket = null;
    this.#outbox.take();
    if (this.#responses !== null) this.#responses.authId = null;
    this.#responses = null;
    // Stops the scan of the current chunk at once when called from inside a line handler.
    if (this.#reader !== null) this.#reader.pause();
    this.#reader = null;
  }

  /** The retry strategy in force: the option's, or capped doubling from autoReconnect and maxReconnectDelay. */
  #retryStrategy(): RetryStrategyType {
    const custom = this.options.retryStrategy;
    if (typeof custom === 'function') return custom;
    return cappedDoubling(this.options.autoReconnect, Number(this.options.maxReconnectDelay) || 0);
  }

  /** Waits as the retry strategy says, then reconnects; `why` is the error that stops the queue when the strategy gives up. */
  #scheduleReconnect(why: IPCErrorClass): void {
    if (!this.options.autoReconnect || this.#closedByUser || this.#reconnectTimer !== null || this.#state !== 'disconnected') return;
    this.#reconnectAttempts++;
    const delay = retryDelay(this.#retryStrategy(), this.#reconnectAttempts);
    if (delay === null) {
      this.#wantReconnect = false;
      this.#logError(why.code, 'Stopped reconnecting to ' + this.#targetName + ' after ' + (this.#reconnectAttempts - 1) + ' attempts (retryStrategy)', { target: this.#targetName });
      this.#failQueued(why);
      return;
    }
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      this.#reconnectNow();
    }, delay);
  }

  /** Reconnects through this.connect(), so subclasses that override it (callback or async style) take part. */
  #reconnectNow(): void {
    if (this.#closedByUser || this.#state !== 'disconnected') return;
    let settled = false;
    const settle = (err: unknown): void => {
      if (settled) return;
      settled = true;
      if (err && this.#wantReconnect) this.#scheduleReconnect(err instanceof IPCErrorClass ? err : new IPCErrorClass(ErrorCode.connectFailed, String((err as Error)?.message || err)));
    };
    try {
      const result: unknown = (this.connect as (cb: ConnectCallbackType) => unknown)(settle);
      if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
        (result as PromiseLike<unknown>).then(() => settle(null), (err) => settle(err || new Error('connect failed')));
      }
    } catch (err) {
      settle(err || new Error('connect failed'));
    }
  }

  #callConnectWaiters(err: IPCErrorClass | null): void {
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

  #startStatsTimer(): void {
    const interval = this.options.logStatsInterval;
    if (interval > 0 && this.#statsTimer === null) {
      this.#statsTimer = setInterval(() => this.logStats(), interval);
      this.#statsTimer.unref();
    }
  }

  #close(done: () => void): void {
    this.#closedByUser = true;
    this.#wantReconnect = false;
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    if (this.#statsTimer !== null) clearInterval(this.#statsTimer);
    this.#statsTimer = null;
    this.#clearConnectTimer();
    const socket = this.#socket;
    const previous = this.#state;
    const tail = previous === 'connected' ? this.#outbox.take() : '';
    this.#state = 'disconnected';
    if (socket) this.#detachSocket(socket);
    const reason = new IPCErrorClass(ErrorCode.clientClosed, 'Client closed the connection to ' + this.#targetName);
    const waiting = this.#pending.removeWhere(() => true);
    this.#pending.stop();
    this.#queue.takeAll(); // notifies still queued are dropped
    for (const entry of waiting) {
      this.#complete(entry, new IPCErrorClass(ErrorCode.clientClosed, 'Request to ' + entry.uri + ' failed: ' + reason.message, { uri: entry.uri, ipcReqID: entry.id }), undefined);
    }
    if (previous === 'connecting' || previous === 'authenticating') this.#callConnectWaiters(reason);
    if (previous === 'connected') {
      this.#stats.disconnects++;
      this.#emitSafely('disconnect', reason);
    }
    const flushWaiters = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const waiter of flushWaiters) waiter.done();
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

  // ---- sending ----

  /** Whether a send or notify made now may wait for a connection instead of failing. */
  #canHold(): boolean {
    const limit = this.options.offlineQueue;
    if (this.#state === 'connecting' || this.#state === 'authenticating') return !this.#queue.isFull(limit);
    if (this.#state === 'connected' || this.#closedByUser) return false;
    return limit > 0 && !this.#queue.isFull(limit);
  }

  /** Called when a message could not be held: was that because the offline queue is full? */
  #queueFull(): boolean {
    return this.options.offlineQueue > 0 && !this.#closedByUser;
  }

  #noConnectionMessage(what: string): string {
    if (this.#queueFull()) {
      return 'Offline queue full (' + this.options.offlineQueue + '); ' + what + ' not sent to ' + this.#targetName;
    }
    return 'No open connection to ' + this.#targetName + '; ' + what + ' not sent';
  }

  #request(uri: string, data: unknown, callback: ResponseCallbackType | null, resolve: ((data: any) => void) | null, reject: ((err: unknown) => void) | null): void {
    const id = 'rq' + this.#nextId++;
    const timeout = this.options.requestTimeout;
    const entry = new PendingRequest(id, this.#nextSeq++, uri, timeout > 0 ? Date.now() + timeout : Infinity);
    entry.callback = callback;
    entry.resolve = resolve;
    entry.reject = reject;
    let line: string;
    try {
      if (typeof uri !== 'string') throw new TypeError('uri must be a string, not ' + typeof uri);
      line = requestLine(uri, data, id, process.pid, this.options.userAgent, false);
    } catch (err) {
      this.#failLater(entry, new IPCErrorClass(ErrorCode.badRequest, 'Request to ' + String(uri) + ' not sent: ' + (err as Error).message, { uri: String(uri), ipcReqID: id, cause: err }));
      return;
    }
    if (this.#state === 'connected') {
      entry.written = true;
      this.#pending.add(entry);
      this.#stats.requestsSent++;
      this.#outbox.add(line);
      return;
    }
    if (this.#canHold()) {
      entry.line = line;
      this.#pending.add(entry);
      this.#queue.push(entry.seq, line, entry);
      return;
    }
    const code = this.#queueFull() ? ErrorCode.queueFull : ErrorCode.noOpenStream;
    const message = this.#noConnectionMessage('request to ' + uri);
    this.#logError(code, message, { uri });
    this.#failLater(entry, new IPCErrorClass(code, message, { uri, ipcReqID: id }));
  }

  /**
   * Callbacks never run inside send(). A failure found at once is delivered on
   * the next turn of the event loop (not process.nextTick), so a caller that
   * retries in a loop cannot starve the timers that would reconnect it.
   */
  #failLater(entry: PendingRequest, err: IPCErrorClass): void {
    setImmediate(() => this.#complete(entry, err, undefined));
  }

  // ---- receiving ----

  /** Turns a response into the request's outcome (messageTransform, else answerError's rules). */
  #settle(entry: PendingRequest, message: ResponseMessageObject): void {
    const transform = this.options.messageTransform;
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
    const err = answerError(message, this.options.codeToErr, entry.uri, entry.id);
    if (err !== null) this.#complete(entry, err, undefined);
    else this.#complete(entry, null, message.data);
  }

  /** A response passed maxMessageSize: drop the connection; in-flight requests fail with message_too_large. */
  #onOverflow(): void {
    this.#overflowed = true;
    const socket = this.#socket;
    if (this.#state !== 'connected') {
      this.#attemptError = new IPCErrorClass(ErrorCode.messageTooLarge, 'A line from ' + this.#targetName + ' passed maxMessageSize (' + this.options.maxMessageSize + ' bytes) while connecting');
    }
    if (socket) socket.destroy();
  }

  #badLine(what: string, line: string): void {
    const preview = line.length > 200 ? line.slice(0, 200) + '...' : line;
    const err = new IPCErrorClass(ErrorCode.badResponse, 'Bad response from ' + this.#targetName + ': ' + what);
    this.#logError(err.code, err.message, { line: preview });
    this.#emitError(err);
  }

  #onExpired(expired: PendingRequest[]): void {
    let queuedExpired = false;
    for (const entry of expired) {
      if (!entry.written) queuedExpired = true;
      const message = 'Request to ' + entry.uri + ' timed out after ' + this.options.requestTimeout + ' ms (' + this.#targetName + ')';
      this.#stats.timeouts++;
      this.#logError(ErrorCode.requestTimeout, message, { uri: entry.uri, ipcReqID: entry.id });
      this.#complete(entry, new IPCErrorClass(ErrorCode.requestTimeout, message, { uri: entry.uri, ipcReqID: entry.id }), undefined, true);
    }
    if (queuedExpired) this.#queue.dropSettled();
    if (this.#flushWaiters.length) this.#checkFlushWaiters();
  }

  // ---- outcomes ----

  /** Delivers a request's one outcome. A callback that throws does not disturb the client: the error is rethrown on the next tick. */
  #complete(entry: PendingRequest, err: unknown, data: unknown, isTimeout = false): void {
    if (entry.done) return;
    entry.done = true;
    entry.line = null;
    if (err && !isTimeout) this.#stats.errors++;
    const callback = entry.callback;
    if (callback !== null) {
      try {
        if (err) callback(err);
        else callback(null, data);
      } catch (thrown) {
        rethrowLater(thrown);
      }
    } else if (err) {
      entry.reject!(err);
    } else {
      entry.resolve!(data);
    }
    if (this.#flushWaiters.length && !isTimeout) this.#checkFlushWaiters();
  }

  /** Fails requests waiting for a connection, and drops waiting notifies. */
  #failQueued(error: IPCErrorClass): void {
    const queued = this.#queue.takeAll();
    if (!queued.length) return;
    for (const item of queued) {
      const entry = item.entry;
      if (!entry || entry.done) continue;
      this.#pending.remove(entry);
      this.#complete(entry, new IPCErrorClass(error.code, 'Request to ' + entry.uri + ' not sent: ' + error.message, { uri: entry.uri, ipcReqID: entry.id, cause: error.cause }), undefined);
    }
    if (this.#flushWaiters.length) this.#checkFlushWaiters();
  }

  #checkFlushWaiters(): void {
    const oldest = Math.min(this.#pending.oldestSeq(), this.#queue.oldestSeq());
    const waiters = this.#flushWaiters;
    let ready = 0;
    while (ready < waiters.length && waiters[ready].seq <= oldest) ready++;
    if (ready === 0) return;
    const due = waiters.splice(0, ready);
    this.#afterWritten(() => {
      for (const waiter of due) waiter.done();
    });
  }

  /** Runs `fn` once every line queued so far has been handed to the operating system (at once if not connected). */
  #afterWritten(fn: () => void): void {
    const socket = this.#socket;
    if (socket === null || this.#state !== 'connected') {
      process.nextTick(fn);
      return;
    }
    this.#outbox.write();
    if (socket.writableLength === 0) process.nextTick(fn);
    else socket.write('', () => fn());
  }

  // ---- events and logging ----

  #emitSafely(event: string, arg?: unknown): void {
    try {
      if (arg === undefined) this.emit(event);
      else this.emit(event, arg);
    } catch (thrown) {
      rethrowLater(thrown);
    }
  }

  /** `error` is emitted only when someone listens, so a client never crashes a program with an unhandled error event. */
  #emitError(err: IPCErrorClass): void {
    if (this.listenerCount('error') > 0) this.#emitSafely('error', err);
  }

  #logError(code: string, message: string, data: unknown): void {
    if (this.logger) this.logger.error(code, message, data);
  }
}

function isWritten(entry: PendingRequest): boolean {
  return entry.written;
}

// eslint-disable-next-line @typescript-eslint/no-namespace
namespace IPCClient {
  /** Constructor options (all optional). */
  export type Options = IPCClientOptions;
  /** The error class of every client error; `err == err.code` is true. */
  export type IPCError = IPCErrorClass;
  /** One of the codes in IPCClient.ErrorCode. */
  export type ErrorCodeValue = ErrorCodeValueType;
  /** `(err, data) => void` for callback-style sends. */
  export type ResponseCallback = ResponseCallbackType;
  /** `(err) => void` for callback-style connects. */
  export type ConnectCallback = ConnectCallbackType;
  /** `(attempt) => ms | null` for the retryStrategy option. */
  export type RetryStrategy = RetryStrategyType;
  /** `(msg) => [err, data]`. */
  export type MessageTransform = MessageTransformType;
  /** A response as received, handed to messageTransform. */
  export type ResponseMessage = ResponseMessageObject;
  /** A message without an ipcReqID, emitted as `data`. */
  export type PushMessage = PushMessageObject;
  /** What getStats() returns. */
  export type Stats = ClientStats;
  /** The logger shape the client uses. */
  export type Logger = LoggerLike;
}

export = IPCClient;
