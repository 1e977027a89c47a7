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
import { requestLine, requestLineOpen, URI } from '../lib/protocol';
import { connectHint, wrongServerUserHint } from './connect-hints';
import { readyEvent } from './connector';
import {
  ErrorCode,
  ErrorCodeValue as ErrorCodeValueType,
  IPCError as IPCErrorClass,
  abortError,
} from './errors';
import { Link } from './link';
import { OfflineQueue } from './offline-queue';
import {
  IPCClientOptions,
  MessageTransform as MessageTransformType,
  ResolvedOptions,
  ResponseMessageObject,
  resolveOptions,
} from './options';
import { Outbox } from './outbox';
import { PartStream } from './part-stream';
import { peerCredentialsProblem, readPeerCredentials } from './peer';
import { PendingRequest, PendingTable, ResponseCallback as ResponseCallbackType } from './pending';
import { PushMessageObject, ResponseHandler, ResponseSink, answerError, authAccepted, authRefusal } from './response-handler';
import { RetryStrategy as RetryStrategyType, cappedDoubling, retryDelay } from './retry';
import { Target, describeTarget, parseTarget } from './target';
import { ClientStats, ConnectCallbackType, LoggerLike, RequestOptions, StreamOptions } from './types';
import { GOAWAY_URI, cancelLine, closeWithTimeout, lineLimitFrom, requestLineBytes, withStreamFlag } from './wire';

/** A retired connection that keeps saying goaway gets the retry strategy's delays, not immediate reconnects. */
const RETIRE_QUIET_MS = 1000;

/** A deadline_exceeded answer this close to the request's own deadline is its timeout, seen by the server first. */
const DEADLINE_SLACK_MS = 20;

/** How often one request is written again after shutting_down answers before that answer is delivered. */
const MAX_RESENDS = 3;

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
  /** The current connection (socket, reader, response handler); a new one per connection. */
  #link: Link | null = null;
  /** Connections the server is taking away (goaway): still read, never written. */
  readonly #draining = new Set<Link>();
  #state: ConnectionState = 'disconnected';
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
  /** When the last reconnect made without waiting started (after a goaway, or a lost connection). */
  #lastImmediateReconnectAt = 0;
  /** The server's max_message_size, once a message_too_large answer said it. */
  #serverLineLimit: number | null = null;
  /** The caller set offlineQueue: held sends also wait while no connection is expected (the option's first meaning). */
  readonly #offlineQueueExplicit: boolean;
  /** Set when an established connection was lost; cleared by a connect or close(). */
  #wantReconnect = false;
  #closedByUser = false;
  #connectCount = 0;
  /** Why the current attempt failed, when we know better than the socket (timeout, refused auth). */
  #attemptError: IPCErrorClass | null = null;
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
    parts: 0,
    cancelled: 0,
    resent: 0,
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
    this.#offlineQueueExplicit = options !== null && options !== undefined && options.offlineQueue !== undefined;
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
   * response, or an error (`request_timeout`, `no_open_stream`,
   * `connection_closed`, `client_closed`, a server code..., or an AbortError
   * when `options.signal` aborts).
   * `options.timeout` overrides requestTimeout for this request.
   */
  send(uri: string, data?: unknown, options?: RequestOptions): Promise<any>;
  send(uri: string, data: unknown, callback: ResponseCallbackType): void;
  send(uri: string, data: unknown, options: RequestOptions | undefined, callback: ResponseCallbackType): void;
  send(uri: string, callback: ResponseCallbackType): void;
  send(uri: string, data?: unknown, options?: RequestOptions | ResponseCallbackType, callback?: ResponseCallbackType): Promise<any> | void {
    if (typeof options === 'function') {
      callback = options;
      options = undefined;
    } else if (options === undefined && callback === undefined && typeof data === 'function') {
      callback = data as ResponseCallbackType;
      data = undefined;
    }
    const opts = options === null || typeof options !== 'object' ? undefined : options;
    const entry = this.#newEntry(uri, opts);
    if (typeof callback === 'function') {
      entry.callback = callback;
      this.#request(entry, data, opts);
      return;
    }
    return new Promise((resolve, reject) => {
      entry.resolve = resolve;
      entry.reject = reject;
      this.#request(entry, data, opts);
    });
  }

  /**
   * Sends a request that accepts a streamed answer and returns an async
   * iterator of its parts:
   *
   *   for await (const part of client.stream('/log/tail', { n: 100 })) console.log(part);
   *
   * Errors (the request's, or the connection's) reject the iteration; leaving
   * the loop early cancels the request on the server. The final answer's data
   * is `stream.result` once the loop has ended. A server that does not stream
   * answers once: the loop then sees no parts and `result` is that answer.
   */
  stream<T = any>(uri: string, data?: unknown, options?: StreamOptions): PartStream<T> {
    const opts = options === null || typeof options !== 'object' ? undefined : options;
    const entry = this.#newEntry(uri, opts);
    const highWaterMark = opts && opts.highWaterMark ? opts.highWaterMark : this.options.streamHighWaterMark;
    const stream = new PartStream<T>(highWaterMark, {
      cancel: () => this.#cancel(entry, null),
      hold: () => {
        if (entry.link !== null) entry.link.hold();
      },
      release: () => {
        if (entry.link !== null) entry.link.release();
      },
    });
    entry.stream = stream;
    this.#request(entry, data, opts);
    return stream;
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
    const socket = this.#link ? this.#link.socket : null;
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
    // The sink reads `link` when lines arrive, after it is set.
    let link: Link | null = null;
    const responses = new ResponseHandler(this.#pending, this.#stats, this.#sinkFor(() => link));
    const outbox = this.#outbox;
    let opened: Link;
    try {
      opened = new Link(this.#target, responses, {
        maxMessageSize: this.options.maxMessageSize,
        tls: this.options.tls,
        beginDelivery: () => outbox.beginDelivery(),
        // What the response callbacks sent goes out now, without a trip through process.nextTick.
        endDelivery: () => outbox.endDelivery(),
        onOverflow: (failed) => this.#onLinkFailed(failed),
        onNonsense: (failed) => this.#onLinkFailed(failed),
      });
    } catch (err) {
      // Bad tls options and the like: fail like a refused connection, asynchronously.
      this.#attemptError = new IPCErrorClass(ErrorCode.connectFailed, 'Could not connect to ' + this.#targetName + ': ' + (err as Error).message, { cause: err });
      process.nextTick(() => {
        if (this.#state === 'connecting' && this.#link === null) {
          this.#state = 'disconnected';
          this.#attemptFailed(null);
        }
      });
      return;
    }
    link = opened;
    this.#link = opened;
    const socket = opened.socket;
    socket.on(readyEvent(this.#target), () => this.#onSocketOpen(opened));
    socket.on('error', (err: Error) => {
      if (!opened.detached && opened.socketError === null) opened.socketError = err;
    });
    socket.on('close', () => this.#onSocketClose(opened));
    const timeout = this.options.connectTimeout;
    if (timeout > 0) {
      this.#connectTimer = setTimeout(() => {
        this.#connectTimer = null;
        if (this.#link !== opened || this.#state === 'connected') return;
        this.#attemptError = new IPCErrorClass(ErrorCode.connectTimeout, 'Connecting to ' + this.#targetName + ' timed out after ' + timeout + ' ms');
        socket.destroy();
      }, timeout);
    }
  }

  #onSocketOpen(link: Link): void {
    if (this.#link !== link || this.#state !== 'connecting') return;
    const socket = link.socket;
    if (this.#target.kind !== 'unix') socket.setNoDelay(true);
    const identityError = this.#checkServerIdentity(socket);
    if (identityError !== null) {
      // Nothing has been written yet: no credentials, no requests.
      this.#attemptError = identityError;
      socket.destroy();
      return;
    }
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
    link.responses.authId = authId;
    socket.write(line);
  }

  /** With expectServerUid: an error unless the kernel says the server runs as that uid. */
  #checkServerIdentity(socket: net.Socket): IPCErrorClass | null {
    const expected = this.options.expectServerUid;
    if (expected === null || expected === undefined) return null;
    if (this.#target.kind !== 'unix') {
      return new IPCErrorClass(ErrorCode.serverIdentity, 'expectServerUid needs a Unix socket target; ' + this.#targetName + ' is not one');
    }
    const peer = readPeerCredentials(socket);
    if (peer === null) {
      const why = peerCredentialsProblem() || 'the kernel did not say';
      return new IPCErrorClass(ErrorCode.serverIdentity, 'Cannot read the uid of the server at ' + this.#targetName + ' (' + why + '), and expectServerUid is set: nothing was sent to it');
    }
    if (peer.uid !== Number(expected)) {
      return new IPCErrorClass(ErrorCode.serverIdentity, wrongServerUserHint(this.#targetName, peer.uid, Number(expected)) + ' (expectServerUid)');
    }
    return null;
  }

  /** How a link's response handler reaches the client. */
  #sinkFor(link: () => Link | null): ResponseSink {
    return {
      onPush: (message) => {
        const from = link();
        if (from === null) return;
        if (message.uri === GOAWAY_URI && message.ipcReqID === undefined) {
          this.#retire(from, 'the server is going away (' + String(message.data && message.data.reason ? message.data.reason : 'goaway') + ')');
        }
        if (message.code) from.lastServerError = message;
        if (message.code === ErrorCode.messageTooLarge) this.#learnLineLimit(message);
        this.#emitSafely('data', message);
      },
      onAuthAnswer: (message) => {
        const from = link();
        if (from !== null && from === this.#link) this.#onAuthAnswer(from, message);
      },
      onAnswer: (entry, message) => this.#settle(entry, message),
      onPart: (entry, part) => entry.stream!.push(part),
      onBadLine: (what, line) => this.#badLine(link(), what, line),
      onUnknownId: (id) => {
        this.#logError(ErrorCode.badResponse, 'Response from ' + this.#targetName + ' for unknown request id ' + JSON.stringify(id), { ipcReqID: id });
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
    this.#attemptError = authRefusal(message, this.#targetName);
    link.socket.destroy();
  }

  #onConnected(): void {
    this.#clearConnectTimer();
    this.#state = 'connected';
    this.#connectCount++;
    this.#stats.connects++;
    this.#reconnectAttempts = 0;
    this.#wantReconnect = false;
    this.#outbox.socket = this.#link!.socket;
    const now = Date.now();
    for (const item of this.#queue.takeAll()) {
      const entry = item.entry;
      if (entry) {
        if (entry.done) continue;
        this.#writeRequest(entry, now);
      } else {
        this.#stats.notifiesSent++;
        this.#outbox.add(item.line);
      }
    }
    this.#emitSafely('connect');
    if (this.#connectCount > 1) this.#emitSafely('reconnect');
    this.#callConnectWaiters(null);
    if (this.#flushWaiters.length) this.#checkFlushWaiters();
  }

  /** The attempt under way failed (its link is already detached). */
  #attemptFailed(link: Link | null): void {
    this.#clearConnectTimer();
    const cause = link ? link.socketError : null;
    let error = this.#attemptError;
    const serverError = link ? link.lastServerError : null;
    if (error === null && serverError && serverError.code) {
      // The server said why before closing (too_many_connections, auth_timeout...): that code is the most useful.
      const code = String(serverError.code);
      error = new IPCErrorClass(code, 'Could not connect to ' + this.#targetName + ': refused by the server (' + code + ': ' + (serverError.message || '') + ')', { cause: cause || undefined });
    }
    if (error === null) {
      const hint = cause ? connectHint(this.#target, cause) : null;
      const errno = cause && (cause as NodeJS.ErrnoException).code;
      let why = cause ? cause.message : 'the connection closed before it was ready';
      if (hint !== null) why = hint + (errno ? ' (' + errno + ')' : '');
      error = new IPCErrorClass(ErrorCode.connectFailed, 'Could not connect to ' + this.#targetName + ': ' + why, { cause: cause || undefined });
    }
    this.#stats.connectFailures++;
    this.#logError(error.code, error.message, { target: this.#targetName });
    // Held sends wait only for a connection that may still come.
    if (this.options.offlineQueue <= 0 || this.#closedByUser || !(this.#wantReconnect || this.#offlineQueueExplicit)) this.#failQueued(error);
    this.#emitSafely('connect_failed', error);
    this.#emitError(error);
    this.#callConnectWaiters(error);
    if (this.#wantReconnect) this.#scheduleReconnect(error);
  }

  /** The established connection ended without close() (its link is already detached). */
  #connectionLost(link: Link): void {
    const cause = link.socketError;
    const failure = link.failure;
    const code = failure !== null ? failure.code : ErrorCode.connectionClosed;
    let why: string;
    if (failure !== null) why = failure.why;
    else if (cause) why = cause.message;
    else if (link.lastServerError && link.lastServerError.code) why = 'closed by the server (' + link.lastServerError.code + ': ' + (link.lastServerError.message || '') + ')';
    else why = 'closed by the server';
    const reason = new IPCErrorClass(code, 'Connection to ' + this.#targetName + ' lost: ' + why, { cause: cause || undefined });
    this.#stats.disconnects++;
    // Set before any callback runs, so a close() from inside one wins.
    this.#wantReconnect = true;
    const lost = this.#failWrittenOn(link, code, reason.message, cause);
    this.#logError(code, reason.message, { target: this.#targetName, inFlight: lost });
    this.#emitSafely('disconnect', reason);
    if (cause || failure !== null) this.#emitError(reason);
    if (this.#wantReconnect) this.#scheduleReconnect(reason);
  }

  /** Fails every request written to `link` that still waits; returns how many. */
  #failWrittenOn(link: Link, code: string, why: string, cause: unknown): number {
    const lost = this.#pending.removeWhere((entry) => entry.link === link);
    for (const entry of lost) {
      this.#complete(entry, new IPCErrorClass(code, 'Request to ' + entry.uri + ' failed: ' + why, { uri: entry.uri, ipcReqID: entry.id, cause: cause || undefined }), undefined);
    }
    return lost.length;
  }

  #onSocketClose(link: Link): void {
    if (link.detached) return; // let go by close(), or an old connection
    this.#detach(link);
    if (link.draining) {
      this.#draining.delete(link);
      // The server went away before answering these; they may have run.
      this.#failWrittenOn(link, ErrorCode.connectionClosed, 'Connection to ' + this.#targetName + ' (going away) closed before the answer', link.socketError);
      return;
    }
    const previous = this.#state;
    this.#state = 'disconnected';
    if (previous === 'connected') this.#connectionLost(link);
    else this.#attemptFailed(link);
  }

  #detach(link: Link): void {
    if (this.#link === link) {
      this.#link = null;
      this.#outbox.socket = null;
      this.#outbox.take();
    }
    this.#bytesIn += link.socket.bytesRead;
    this.#bytesOut += link.socket.bytesWritten;
    link.detach();
  }

  /**
   * The server is going away (goaway, or a shutting_down answer): write
   * nothing more to this connection, keep reading its answers, and move to a
   * new connection at once; requests sent meanwhile wait for it.
   */
  #retire(link: Link, why: string): void {
    if (link !== this.#link || this.#state !== 'connected') return;
    // Lines already queued go to the old server: it answers them (or refuses them with shutting_down, and they come back).
    this.#outbox.write();
    this.#outbox.socket = null;
    this.#link = null;
    link.draining = true;
    let remaining = 0;
    this.#pending.forEach((entry) => {
      if (entry.link === link) remaining++;
    });
    link.remaining = remaining;
    this.#draining.add(link);
    if (remaining === 0) link.socket.end();
    this.#state = 'disconnected';
    this.#stats.disconnects++;
    const reason = new IPCErrorClass(ErrorCode.shuttingDown, 'Connection to ' + this.#targetName + ' retired: ' + why);
    this.#logDebug(5, reason.message, { target: this.#targetName, inFlight: remaining });
    this.#emitSafely('disconnect', reason);
    if (!this.options.autoReconnect || this.#closedByUser || this.#state !== 'disconnected') return;
    this.#wantReconnect = true;
    // At once, unless the last move was very recent (a server that keeps saying goaway must not make us spin).
    const now = Date.now();
    const recently = now - this.#lastImmediateReconnectAt < RETIRE_QUIET_MS;
    if (!recently) this.#lastImmediateReconnectAt = now;
    if (recently) this.#scheduleReconnect(reason);
    else this.#reconnectNow();
  }

  /** A request written to a draining link has its outcome (or is sent elsewhere): close the link once none is left. */
  #leaveLink(entry: PendingRequest): void {
    const link = entry.link;
    entry.link = null;
    if (link !== null && link.draining && --link.remaining === 0 && !link.detached) link.socket.end();
  }

  /** The retry strategy in force: the option's, or capped doubling from autoReconnect and maxReconnectDelay. */
  #retryStrategy(): RetryStrategyType {
    const custom = this.options.retryStrategy;
    if (typeof custom === 'function') return custom;
    return cappedDoubling(this.options.autoReconnect, Number(this.options.maxReconnectDelay) || 0);
  }

  /**
   * Waits as the retry strategy says, then reconnects; `why` fails the queue
   * when the strategy gives up. The first attempt after a lost connection is
   * made at once (what was sent meanwhile waits for it), unless the previous
   * immediate attempt was very recent (a server that accepts and drops must
   * not make us spin), a retryStrategy option decides every delay, or
   * offlineQueue is 0 (the original client's timing).
   */
  #scheduleReconnect(why: IPCErrorClass): void {
    if (!this.options.autoReconnect || this.#closedByUser || this.#reconnectTimer !== null || this.#state !== 'disconnected') return;
    const now = Date.now();
    if (this.#reconnectAttempts === 0 && this.options.offlineQueue > 0 && typeof this.options.retryStrategy !== 'function' && now - this.#lastImmediateReconnectAt >= RETIRE_QUIET_MS) {
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
    const link = this.#link;
    const socket = link ? link.socket : null;
    const previous = this.#state;
    const tail = previous === 'connected' ? this.#outbox.take() : '';
    this.#state = 'disconnected';
    if (link) this.#detach(link);
    for (const old of this.#draining) {
      this.#detach(old);
      old.socket.destroy();
    }
    this.#draining.clear();
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

  /**
   * Whether a send or notify made now may wait for a connection instead of
   * failing: while a connect is under way, or a reconnect is coming (a lost
   * connection, autoReconnect on), up to offlineQueue. An offlineQueue given
   * explicitly also holds while no connection is expected (as it always did).
   */
  #canHold(): boolean {
    const limit = this.options.offlineQueue;
    if (this.#state === 'connecting' || this.#state === 'authenticating') return !this.#queue.isFull(limit);
    if (this.#state === 'connected' || this.#closedByUser || limit <= 0) return false;
    if (!this.#offlineQueueExplicit && !this.#reconnectExpected()) return false;
    return !this.#queue.isFull(limit);
  }

  /** A lost connection will be reconnected by the client itself. */
  #reconnectExpected(): boolean {
    return this.#wantReconnect && Boolean(this.options.autoReconnect) && !this.#closedByUser;
  }

  /** Called when a message could not be held: was that because the offline queue is full? */
  #queueFull(): boolean {
    const limit = this.options.offlineQueue;
    return limit > 0 && !this.#closedByUser && this.#queue.isFull(limit);
  }

  #noConnectionMessage(what: string): string {
    if (this.#queueFull()) {
      return 'Offline queue full (' + this.options.offlineQueue + '); ' + what + ' not sent to ' + this.#targetName;
    }
    return 'No open connection to ' + this.#targetName + '; ' + what + ' not sent';
  }

  /** Starts a request (send or stream); its outcome goes to the entry's callback, promise or stream. */
  #request(entry: PendingRequest, data: unknown, options: RequestOptions | undefined): void {
    const uri = entry.uri;
    let line: string;
    try {
      if (typeof uri !== 'string') throw new TypeError('uri must be a string, not ' + typeof uri);
      line = requestLineOpen(uri, data, entry.id, process.pid, this.options.userAgent);
    } catch (err) {
      this.#failLater(entry, new IPCErrorClass(ErrorCode.badRequest, 'Request to ' + String(uri) + ' not sent: ' + (err as Error).message, { uri: String(uri), ipcReqID: entry.id, cause: err }));
      return;
    }
    entry.openLine = entry.stream !== null ? withStreamFlag(line) : line;
    const limit = this.#requestLimit();
    const bytes = requestLineBytes(entry.openLine, entry.timeoutMs, limit);
    if (bytes > limit) {
      // Refused here: the server would refuse it and close the connection, failing everything else on it.
      const whose = this.#serverLineLimit === limit ? "the server's limit (max_message_size, learned from its message_too_large answer)" : 'maxMessageSize';
      this.#failLater(entry, new IPCErrorClass(ErrorCode.messageTooLarge, 'Request to ' + uri + ' not sent: its line is ' + bytes + ' bytes, over ' + whose + ' of ' + limit + ' bytes', { uri, ipcReqID: entry.id }));
      return;
    }
    entry.line = entry.openLine + '}\n';
    const signal = options !== undefined ? options.signal : undefined;
    if (signal) {
      if (signal.aborted) {
        this.#stats.cancelled++;
        entry.done = true;
        const err = abortError(signal, 'Request to ' + uri);
        setImmediate(() => this.#deliver(entry, err, undefined));
        return;
      }
      entry.signal = signal;
      entry.onAbort = () => this.#cancel(entry, abortError(signal, 'Request to ' + uri));
      signal.addEventListener('abort', entry.onAbort, { once: true });
    }
    if (this.#state === 'connected') {
      this.#pending.add(entry);
      this.#writeRequest(entry, 0);
      return;
    }
    if (this.#canHold()) {
      this.#pending.add(entry);
      this.#queue.push(entry.seq, entry.line, entry);
      return;
    }
    const code = this.#queueFull() ? ErrorCode.queueFull : ErrorCode.noOpenStream;
    const message = this.#noConnectionMessage('request to ' + uri);
    this.#logError(code, message, { uri });
    this.#failLater(entry, new IPCErrorClass(code, message, { uri, ipcReqID: entry.id }));
  }

  /** The longest request line the server accepts, as far as the client knows. */
  #requestLimit(): number {
    const own = this.options.maxMessageSize;
    return this.#serverLineLimit !== null && this.#serverLineLimit < own ? this.#serverLineLimit : own;
  }

  /** A message_too_large from the server: remember its limit, so larger requests are refused here. */
  #learnLineLimit(message: { limit?: unknown; message?: unknown }): void {
    const limit = lineLimitFrom(message);
    if (limit !== null) this.#serverLineLimit = limit;
  }

  /** A new request entry: id, place in the order of sends, deadline. */
  #newEntry(uri: string, options: RequestOptions | undefined): PendingRequest {
    const id = 'rq' + this.#nextId++;
    let timeout = this.options.requestTimeout;
    if (options !== undefined && options.timeout !== undefined && options.timeout !== null) timeout = Number(options.timeout) || 0;
    if (!(timeout > 0)) timeout = 0;
    const entry = new PendingRequest(id, this.#nextSeq++, uri, timeout > 0 ? Date.now() + timeout : Infinity);
    entry.timeoutMs = timeout;
    return entry;
  }

  /**
   * Writes a request to the current connection with its deadline: the whole
   * timeout when written as it is sent (`now` 0), else the time it has left.
   */
  #writeRequest(entry: PendingRequest, now: number): void {
    entry.written = true;
    entry.link = this.#link;
    this.#stats.requestsSent++;
    const timeout = entry.timeoutMs;
    if (timeout === 0) {
      this.#outbox.add(entry.line!);
      return;
    }
    const left = now === 0 ? timeout : Math.max(1, Math.ceil(entry.deadline - now));
    this.#outbox.add(closeWithTimeout(entry.openLine!, left));
  }

  /**
   * Callbacks never run inside send(). A failure found at once is delivered on
   * the next turn of the event loop (not process.nextTick), so a caller that
   * retries in a loop cannot starve the timers that would reconnect it.
   */
  #failLater(entry: PendingRequest, err: IPCErrorClass): void {
    setImmediate(() => this.#complete(entry, err, undefined));
  }

  /**
   * The caller gave up (AbortSignal, or a stream left early; `err` null): the
   * outcome is delivered now, the server is told to stop, and its answer
   * (`cancelled`, or a late one) is dropped when it comes.
   */
  #cancel(entry: PendingRequest, err: unknown): void {
    if (entry.done) return;
    this.#stats.cancelled++;
    this.#pending.remove(entry);
    const link = entry.link;
    if (entry.written && link !== null) {
      this.#pending.rememberAbandoned(entry.id);
      const line = cancelLine(entry.id, this.options.userAgent);
      if (link === this.#link && this.#state === 'connected') this.#outbox.add(line);
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
    if (queued) this.#queue.dropSettled();
  }

  // ---- receiving ----

  /** Turns a response into the request's outcome (messageTransform, else answerError's rules). */
  #settle(entry: PendingRequest, message: ResponseMessageObject): void {
    const code = message.code;
    if (code !== undefined) {
      if (code === ErrorCode.shuttingDown && this.#sendAgain(entry)) return;
      if (code === ErrorCode.messageTooLarge) this.#learnLineLimit(message);
      // The server's deadline is the same timeout, started a little later: whichever side sees it
      // first, the caller gets request_timeout.
      if (code === ErrorCode.deadlineExceeded && entry.timeoutMs > 0 && Date.now() >= entry.deadline - DEADLINE_SLACK_MS) {
        // Counted once, as the timeout it is, not also as a response.
        this.#stats.responses--;
        this.#timedOut(entry, ', deadline_exceeded from the server');
        if (this.#flushWaiters.length) this.#checkFlushWaiters();
        return;
      }
    }
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

  /**
   * A `shutting_down` answer: the server never ran the request. Unless it
   * already streamed parts, or came back too often, it waits for the next
   * connection, and the stopping one is retired. Returns false when the
   * answer should be delivered as it is.
   */
  #sendAgain(entry: PendingRequest): boolean {
    const link = entry.link;
    if (link === null || entry.resends >= MAX_RESENDS) return false;
    if (entry.stream !== null && entry.stream.partsSeen > 0) return false;
    if (!this.options.autoReconnect || this.#closedByUser) return false;
    if (link.draining) {
      this.#leaveLink(entry);
    } else {
      // Not counted among the link's remaining requests: it has left the table already.
      entry.link = null;
      this.#retire(link, 'the server answered shutting_down');
    }
    entry.resends++;
    entry.written = false;
    this.#stats.resent++;
    this.#pending.add(entry);
    if (this.#state === 'connected') this.#writeRequest(entry, Date.now());
    else this.#queue.push(entry.seq, entry.line!, entry);
    return true;
  }

  /**
   * The client closed a link because of what the server sent (a line past
   * maxMessageSize, a broken line, answers nobody asked for): logged and
   * emitted now; its requests fail with the link's failure code when its socket closes.
   */
  #onLinkFailed(link: Link): void {
    const failure = link.failure!;
    const err = new IPCErrorClass(failure.code, 'Closing the connection to ' + this.#targetName + ': ' + failure.why);
    if (link === this.#link && this.#state !== 'connected') {
      this.#attemptError = new IPCErrorClass(failure.code, 'Could not connect to ' + this.#targetName + ': ' + failure.why);
    }
    this.#logError(err.code, err.message, { target: this.#targetName });
  }

  /** A line that is not a JSON object: the connection's framing can no longer be trusted. */
  #badLine(link: Link | null, what: string, line: string): void {
    const preview = line.length > 200 ? line.slice(0, 200) + '...' : line;
    const err = new IPCErrorClass(ErrorCode.badResponse, 'Bad response from ' + this.#targetName + ': ' + what);
    this.#logError(err.code, err.message, { line: preview });
    // Emitted as the reason the connection is lost.
    if (link !== null) link.fail(ErrorCode.badResponse, what);
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
        link.fail(ErrorCode.badResponse, 'a line has been arriving for ' + (now - link.reader.heldSince) + ' ms (' + link.reader.heldBytes + ' bytes so far) and a request timed out waiting', (failed) => this.#onLinkFailed(failed));
      }
    }
    if (queuedExpired) this.#queue.dropSettled();
    if (this.#flushWaiters.length) this.#checkFlushWaiters();
  }

  /** Fails a request with request_timeout (its deadline passed here, or the server said so first). */
  #timedOut(entry: PendingRequest, by: string): void {
    const message = 'Request to ' + entry.uri + ' timed out after ' + entry.timeoutMs + ' ms (' + this.#targetName + by + ')';
    this.#stats.timeouts++;
    this.#logError(ErrorCode.requestTimeout, message, { uri: entry.uri, ipcReqID: entry.id });
    this.#complete(entry, new IPCErrorClass(ErrorCode.requestTimeout, message, { uri: entry.uri, ipcReqID: entry.id }), undefined, 'timeout');
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
    if (err && kind === 'error') this.#stats.errors++;
    this.#deliver(entry, err, data);
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

  #deliver(entry: PendingRequest, err: unknown, data: unknown): void {
    const stream = entry.stream;
    if (stream !== null) {
      if (err) stream.fail(err);
      else stream.end(data);
      return;
    }
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
    const link = this.#link;
    if (link === null || this.#state !== 'connected') {
      process.nextTick(fn);
      return;
    }
    const socket = link.socket;
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

  #logDebug(level: number, message: string, data: unknown): void {
    if (this.logger) this.logger.debug(level, message, data);
  }
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
  /** Per-request options of send(): timeout, signal. */
  export type SendOptions = RequestOptions;
  /** Options of stream(): timeout, signal, highWaterMark. */
  export type StreamRequestOptions = StreamOptions;
  /** What stream() returns: an async iterator of parts. */
  export type Stream<T = any> = PartStream<T>;
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
