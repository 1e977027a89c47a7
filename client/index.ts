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
 * - Sends made while a connect is under way, or while the client reconnects
 *   after losing a connection, wait for it (up to `offlineQueue`, then
 *   `queue_full`), each within its own deadline. Sends made with no
 *   connection and none coming fail at once with `no_open_stream`.
 * - A lost connection fails every written request at once (`connection_closed`,
 *   or the reason the client closed it: `message_too_large`, `bad_response`),
 *   then, with autoReconnect, reconnects through this.connect(): at once, then
 *   after the delays the retry strategy gives (retry.ts) until it succeeds,
 *   the strategy gives up, or close() is called.
 * - close() fails whatever is waiting with `client_closed`.
 *
 * This file is the public API. The work is done by session.ts (the
 * connection: connect, auth, the identity check, goaway and draining links,
 * reconnecting, close) and calls.ts (the requests: encoding, deadlines,
 * cancel, sending again, outcomes, delivery, flush). Around them: link.ts is
 * one socket with its own line reader (link-reader.ts), connector.ts opens
 * it, response-handler.ts decodes what the server sends, outbox.ts batches
 * what is written, offline-queue.ts holds what waits for a connection,
 * pending.ts the requests waiting for answers and their deadlines.
 */

import { EventEmitter } from 'events';
import { Calls } from './calls';
import { connectHint, diagnoseConnectFailure, renderConnectHint } from './connect-hints';
import type { ConnectSituation as ConnectSituationType } from './connect-hints';
import { ClientContext, ConnectionState, newCounters, rethrowLater } from './context';
import { ErrorCode, ErrorCodeValue as ErrorCodeValueType, IPCError as IPCErrorClass } from './errors';
import { IPCClientOptions, MessageTransform as MessageTransformType, ResolvedOptions, ResponseMessageObject, resolveOptions } from './options';
import type { PartStream } from './part-stream';
import type { ResponseCallback as ResponseCallbackType } from './pending';
import type { PushMessageObject } from './response-handler';
import type { RetryStrategy as RetryStrategyType } from './retry';
import { Session } from './session';
import { describeTarget, parseTarget } from './target';
import { ClientStats, ConnectCallbackType, LoggerLike, RequestOptions, StreamOptions } from './types';
import { NatsIPCClient, isNatsTarget } from './nats-client';

class IPCClient extends EventEmitter {
  /** Every error code a client user may see. */
  static readonly ErrorCode = ErrorCode;
  /** The class of every error the client produces. */
  static readonly IPCError = IPCErrorClass;
  /** The client of a NATS cluster (what `new IPCClient('nats://...')` returns): see docs/nats.md. */
  static readonly NatsClient = NatsIPCClient;
  /**
   * What to check when a connect fails: `connectHint(target, err)` gives the
   * hint for a socket error (null when none fits), the same text as the CLI
   * and the PHP client; `diagnoseConnectFailure` and `renderConnectHint` are
   * its two steps.
   */
  static readonly connectHint = (target: string, err: unknown): string | null => connectHint(parseTarget(target), err);
  static readonly diagnoseConnectFailure = (target: string, err: unknown): ConnectSituationType | null => diagnoseConnectFailure(parseTarget(target), err);
  static readonly renderConnectHint = renderConnectHint;

  /** The target as given: a Unix socket path, `tcp://host:port` or `tls://host:port`. */
  readonly socketPath: string;
  /** pixl-logger shaped logger, or null for a silent client. */
  logger: LoggerLike | null;
  /** Options with defaults applied; most are read at the moment they are used, so changes take effect. */
  options: ResolvedOptions;

  readonly #ctx: ClientContext;
  readonly #session: Session;
  readonly #calls: Calls;
  #statsTimer: NodeJS.Timeout | null = null;

  /**
   * @param socketPath A Unix socket path, `tcp://host:port` or `tls://host:port`.
   * @param logger Optional pixl-logger (or anything with `debug(level, msg, data)` and `error(code, msg, data)`).
   * @param options See IPCClient.Options; every field is optional.
   */
  constructor(socketPath: string, logger?: LoggerLike | null, options?: IPCClientOptions | null) {
    super();
    const nats = isNatsTarget(socketPath) || Boolean(options && options.nats);
    const target = nats ? { kind: 'unix' as const, path: socketPath } : parseTarget(socketPath);
    this.socketPath = socketPath;
    this.logger = logger || null;
    this.options = resolveOptions(options);
    const client = this;
    this.#ctx = {
      get options(): ResolvedOptions {
        return client.options;
      },
      target,
      targetName: describeTarget(target),
      counters: newCounters(),
      logError: (code, message, data) => {
        if (this.logger) this.logger.error(code, message, data);
      },
      logDebug: (level, message, data) => {
        if (this.logger) this.logger.debug(level, message, data);
      },
      emit: (event, arg) => {
        try {
          if (arg === undefined) this.emit(event);
          else this.emit(event, arg);
        } catch (thrown) {
          rethrowLater(thrown);
        }
      },
      emitError: (err) => {
        if (this.listenerCount('error') > 0) this.#ctx.emit('error', err);
      },
    };
    const offlineQueueExplicit = options !== null && options !== undefined && options.offlineQueue !== undefined;
    this.#calls = new Calls(this.#ctx, offlineQueueExplicit);
    this.#session = new Session(this.#ctx, this.#calls, (callback) => (this.connect as (cb: ConnectCallbackType) => unknown)(callback));
    this.#calls.session = this.#session;
    // A NATS target (or the nats option): the same API, served by the NATS client.
    if (nats) return new NatsIPCClient(socketPath, logger, options) as unknown as IPCClient;
  }

  /** Requests waiting for an outcome (in flight, or held for a connection). Back to 0 once all are answered or failed. */
  get requestCount(): number {
    return this.#calls.pending.size;
  }

  /** True while a connection is open and ready for requests. */
  get isConnected(): boolean {
    return this.#session.state === 'connected';
  }

  /** 'disconnected', 'connecting', 'authenticating' or 'connected'. */
  get connectionState(): ConnectionState {
    return this.#session.state;
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

  #connect(callback: ConnectCallbackType): void {
    this.#startStatsTimer();
    this.#session.connect(callback);
  }

  /**
   * Sends a request. With a callback, calls `callback(err, data)`; without one,
   * returns a promise of `data`. Every request gets exactly one outcome: the
   * response, or an error (`request_timeout`, `no_open_stream`,
   * `connection_closed`, `client_closed`, a server code..., or an AbortError
   * when `options.signal` aborts).
   * `options.timeout` overrides requestTimeout for this request.
   */
  send<T = unknown>(uri: string, data?: unknown, options?: RequestOptions): Promise<T>;
  send<T = unknown>(uri: string, data: unknown, callback: ResponseCallbackType<T>): void;
  send<T = unknown>(uri: string, data: unknown, options: RequestOptions | undefined, callback: ResponseCallbackType<T>): void;
  send<T = unknown>(uri: string, callback: ResponseCallbackType<T>): void;
  send<T = unknown>(uri: string, data?: unknown, options?: RequestOptions | ResponseCallbackType<T>, callback?: ResponseCallbackType<T>): Promise<T> | void {
    if (typeof options === 'function') {
      callback = options;
      options = undefined;
    } else if (options === undefined && callback === undefined && typeof data === 'function') {
      callback = data as ResponseCallbackType<T>;
      data = undefined;
    }
    const opts = options === null || typeof options !== 'object' ? undefined : options;
    return this.#calls.send<T>(uri, data, opts, callback);
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
  stream<T = unknown, R = unknown>(uri: string, data?: unknown, options?: StreamOptions): PartStream<T, R> {
    const opts = options === null || typeof options !== 'object' ? undefined : options;
    return this.#calls.stream<T, R>(uri, data, opts);
  }

  /**
   * Fire-and-forget: the server runs the request and answers nothing (the line
   * carries `"noReply": true` and no ipcReqID). Returns true when the message
   * was written or queued, false when it was dropped because there is no
   * connection (logged like a send without a connection) or its data is not JSON.
   */
  notify(uri: string, data?: unknown): boolean {
    return this.#calls.notify(uri, data);
  }

  /**
   * Resolves once everything sent before it has been answered or failed, and
   * notifies sent before it have been handed to the operating system (or
   * dropped). Never rejects. With a callback, calls `callback(null)` instead.
   */
  flush(): Promise<void>;
  flush(callback: (err: null) => void): void;
  flush(callback?: (err: null) => void): Promise<void> | void {
    if (typeof callback === 'function') {
      this.#calls.flush(() => callback(null));
      return;
    }
    return new Promise<void>((resolve) => this.#calls.flush(resolve));
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

  #close(done: () => void): void {
    if (this.#statsTimer !== null) clearInterval(this.#statsTimer);
    this.#statsTimer = null;
    this.#session.close(done);
  }

  /** Counters since the client was created (see IPCClient.Stats). */
  getStats(): ClientStats {
    const session = this.#session;
    const socket = session.link ? session.link.socket : null;
    return {
      ...this.#ctx.counters,
      bytesIn: session.bytesIn + (socket ? socket.bytesRead : 0),
      bytesOut: session.bytesOut + (socket ? socket.bytesWritten : 0),
      inFlight: this.#calls.pending.size,
      queued: this.#calls.queue.length,
      connected: session.state === 'connected',
    };
  }

  /** Writes the stats to the logger now, as `debug(2, 'PixlIPC Stats', stats)`. */
  logStats(): void {
    if (this.logger) this.logger.debug(2, 'PixlIPC Stats', this.getStats());
  }

  /** Typed listeners: connect, reconnect, disconnect(err), connect_failed(err), error(err), data(message). */
  override on(event: 'connect' | 'reconnect', listener: () => void): this;
  override on(event: 'disconnect' | 'connect_failed' | 'error', listener: (err: IPCErrorClass) => void): this;
  override on<T = unknown>(event: 'data', listener: (message: PushMessageObject<T>) => void): this;
  override on(event: string | symbol, listener: (...args: never[]) => void): this;
  override on(event: string | symbol, listener: (...args: never[]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  /** Like on(), once. */
  override once(event: 'connect' | 'reconnect', listener: () => void): this;
  override once(event: 'disconnect' | 'connect_failed' | 'error', listener: (err: IPCErrorClass) => void): this;
  override once<T = unknown>(event: 'data', listener: (message: PushMessageObject<T>) => void): this;
  override once(event: string | symbol, listener: (...args: never[]) => void): this;
  override once(event: string | symbol, listener: (...args: never[]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }

  #startStatsTimer(): void {
    const interval = this.options.logStatsInterval;
    if (interval > 0 && this.#statsTimer === null) {
      this.#statsTimer = setInterval(() => this.logStats(), interval);
      this.#statsTimer.unref();
    }
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
  /** `(err, data) => void` for callback-style sends; `data` is `T` (`unknown` unless given). */
  export type ResponseCallback<T = unknown> = ResponseCallbackType<T>;
  /** `(err) => void` for callback-style connects. */
  export type ConnectCallback = ConnectCallbackType;
  /** Per-request options of send(): timeout, signal. */
  export type SendOptions = RequestOptions;
  /** Options of stream(): timeout, signal, highWaterMark. */
  export type StreamRequestOptions = StreamOptions;
  /** What stream() returns: an async iterator of parts (`T`), with the final answer's data (`R`) as `result`. */
  export type Stream<T = unknown, R = unknown> = PartStream<T, R>;
  /** `(attempt) => ms | null` for the retryStrategy option. */
  export type RetryStrategy = RetryStrategyType;
  /** `(msg) => [err, data]`. */
  export type MessageTransform = MessageTransformType;
  /** A response as received, handed to messageTransform. */
  export type ResponseMessage = ResponseMessageObject;
  /** A message without an ipcReqID, emitted as `data`; its `data` is `T` (`unknown` unless given). */
  export type PushMessage<T = unknown> = PushMessageObject<T>;
  /** What getStats() returns. */
  export type Stats = ClientStats;
  /** The logger shape the client uses. */
  export type Logger = LoggerLike;
  /** What went wrong when a connect failed, with the facts its hint shows (see IPCClient.diagnoseConnectFailure). */
  export type ConnectSituation = ConnectSituationType;
}

export = IPCClient;
