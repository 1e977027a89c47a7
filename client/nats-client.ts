/**
 * The Node client's NATS mode: the same API as the socket client (connect,
 * send, stream, notify, flush, close, getStats, events), reaching the
 * handlers a cluster of daemons serves over NATS. `new IPCClient('nats://host:4222')`
 * (or the `nats` option) returns one of these.
 *
 *   const client = new IPCClient('nats://10.0.0.1:4222,nats://10.0.0.2:4222', null, { requestTimeout: 5000 });
 *   await client.connect();
 *   await client.send('/billing/charge', { amount: 5 });
 *
 * Every request gets exactly one outcome within its deadline: the answer,
 * the daemon's error code, or `no_responders` (no daemon serves the uri),
 * `request_timeout` (no answer in time: a daemon that died while running it
 * costs only that), `forbidden` (NATS permissions), `connection_closed`,
 * `client_closed`, `no_open_stream` (not connected), or an AbortError.
 * NATS itself reconnects to another server of the cluster when one goes away.
 */
import { EventEmitter } from 'events';
import type { NatsConnection } from 'nats';
import { NatsCallError, NatsCaller, type NatsAnswer } from '../lib/transports/nats-caller';
import type { NatsConnectOptions } from '../lib/transports/nats-connect-options';
import { connectOptions, loadNats, prefixOf, redactUrl, serverList } from '../lib/transports/nats-options';
import { ErrorCode, IPCError, abortError } from './errors';
import type { IPCClientOptions } from './options';
import { resolveOptions, type ResolvedOptions } from './options';
import { PartStream } from './part-stream';
import { answerError } from './response-handler';
import type { ClientStats, LoggerLike, RequestOptions, StreamOptions } from './types';

/** How to reach the cluster (the `nats` client option). */
export type NatsClientOptions = Partial<NatsConnectOptions>;

/** True for a `nats://` target (one URL or several, comma-separated). */
export function isNatsTarget(target: unknown): boolean {
  return typeof target === 'string' && /^nats:\/\//i.test(target.trim());
}

type Callback = (err: IPCError | Error | null, data?: any) => void;

export class NatsIPCClient extends EventEmitter {
  static readonly ErrorCode = ErrorCode;
  static readonly IPCError = IPCError;

  /** The target as given (the server list, for a `nats://` target). */
  readonly socketPath: string;
  logger: LoggerLike | null;
  options: ResolvedOptions;
  /** The NATS settings in use: servers, credentials, prefix. */
  readonly nats: NatsConnectOptions;
  readonly #prefix: string;
  #nc: NatsConnection | null = null;
  #caller: NatsCaller | null = null;
  #connecting: Promise<void> | null = null;
  #closedByUser = false;
  #inFlight = 0;
  #flushWaiters: Array<() => void> = [];
  readonly #stats = {
    requestsSent: 0, notifiesSent: 0, responses: 0, errors: 0, timeouts: 0, lateResponses: 0, unknownResponses: 0,
    pushes: 0, parts: 0, cancelled: 0, resent: 0, connects: 0, disconnects: 0, connectFailures: 0,
  };

  /**
   * @param target `nats://host:port` (several comma-separated), or '' when `options.nats.servers` says where.
   * @param options The socket client's options (requestTimeout, codeToErr, userAgent...) plus `nats`: credentials, TLS, prefix.
   */
  constructor(target: string, logger?: LoggerLike | null, options?: IPCClientOptions | null) {
    super();
    const natsOptions = { ...(options?.nats ?? {}) } as NatsClientOptions;
    if (isNatsTarget(target)) natsOptions.servers = serverList(target, 'IPCClient nats');
    if (natsOptions.servers === undefined) throw new TypeError('IPCClient: a NATS client needs servers: a nats://host:port target or options.nats.servers');
    this.nats = natsOptions as NatsConnectOptions;
    this.#prefix = prefixOf(natsOptions, 'IPCClient nats');
    this.socketPath = target || serverList(natsOptions.servers, 'IPCClient nats').join(',');
    this.logger = logger || null;
    this.options = resolveOptions(options);
  }

  get requestCount(): number {
    return this.#inFlight;
  }

  get isConnected(): boolean {
    return this.#nc !== null && !this.#nc.isClosed();
  }

  get connectionState(): 'disconnected' | 'connecting' | 'connected' {
    if (this.isConnected) return 'connected';
    return this.#connecting ? 'connecting' : 'disconnected';
  }

  /** Connects to the cluster (the first server that answers; NATS reconnects across the cluster afterwards). */
  connect(callback?: (err: IPCError | null) => void): Promise<void> | void {
    const done = this.#connect();
    if (typeof callback !== 'function') return done;
    done.then(() => callback(null), (err: IPCError) => callback(err));
  }

  #connect(): Promise<void> {
    if (this.isConnected) return Promise.resolve();
    if (this.#connecting) return this.#connecting;
    this.#closedByUser = false;
    const attempt = (async () => {
      let nats;
      let options;
      try {
        nats = loadNats();
        options = connectOptions(nats, this.nats, 'IPCClient nats');
      } catch (err) {
        throw new IPCError(ErrorCode.connectFailed, (err as Error).message, { cause: err });
      }
      options.name ??= `pixl-ipc client pid ${process.pid}`;
      options.maxReconnectAttempts = -1;
      options.reconnectTimeWait = 250;
      if (this.options.connectTimeout > 0) options.timeout = this.options.connectTimeout;
      let nc: NatsConnection;
      try {
        nc = await nats.connect(options);
      } catch (err) {
        this.#stats.connectFailures++;
        const described = this.nats.servers ? serverList(this.nats.servers, 'nats').map(redactUrl).join(', ') : '';
        const error = new IPCError((err as { code?: string }).code === 'CONNECTION_TIMEOUT' ? ErrorCode.connectTimeout : ErrorCode.connectFailed,
          `Cannot connect to NATS (${described}): ${(err as Error).message}`, { cause: err });
        this.#logError(error.code, error.message);
        this.emit('connect_failed', error);
        throw error;
      }
      this.#nc = nc;
      this.#caller = new NatsCaller(nc, this.#prefix);
      this.#stats.connects++;
      void this.#watch(nc);
      this.emit('connect');
    })();
    this.#connecting = attempt;
    attempt.then(() => { this.#connecting = null; }, () => { this.#connecting = null; });
    return attempt;
  }

  async #watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.#stats.disconnects++;
        this.emit('disconnect', new IPCError(ErrorCode.connectionClosed, `Lost the NATS server ${redactUrl(String(status.data))}; reconnecting to the cluster`));
      } else if (status.type === 'reconnect') {
        this.#stats.connects++;
        this.emit('reconnect');
      } else if (status.type === 'error' && status.permissionContext?.operation === 'publish') {
        this.#caller?.publishRefused(status.permissionContext.subject);
      }
    }
    this.#caller?.connectionClosed();
  }

  send(uri: string, data?: unknown, options?: RequestOptions | Callback, callback?: Callback): Promise<any> | void {
    if (typeof options === 'function') {
      callback = options;
      options = undefined;
    } else if (options === undefined && callback === undefined && typeof data === 'function') {
      callback = data as Callback;
      data = undefined;
    }
    const opts = options && typeof options === 'object' ? options : undefined;
    const outcome = this.#call(uri, data, opts, undefined).then((answer) => this.#outcome(uri, answer));
    if (typeof callback !== 'function') return outcome;
    const cb = callback;
    outcome.then((value) => cb(null, value), (err) => cb(err));
  }

  /** A streamed answer: an async iterator of parts (NATS carries them as they come; there is no backpressure from a slow consumer). */
  stream<T = any>(uri: string, data?: unknown, options?: StreamOptions): PartStream<T> {
    const controller = new AbortController();
    const signal = options?.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    const stream = new PartStream<T>(options?.highWaterMark ?? this.options.streamHighWaterMark, {
      cancel: () => {
        this.#stats.cancelled++;
        controller.abort(new IPCError(ErrorCode.cancelled, 'The stream was left before its end'));
      },
      hold: () => {},
      release: () => {},
    });
    this.#call(uri, data, { timeout: options?.timeout, signal }, (part) => {
      this.#stats.parts++;
      stream.push(part as T);
    }).then((answer) => stream.end(this.#outcome(uri, answer)), (err) => stream.fail(err));
    return stream;
  }

  /** Fire-and-forget (published without a reply subject). False when not connected or the data is not JSON. */
  notify(uri: string, data?: unknown): boolean {
    if (!this.#caller || !this.isConnected) {
      this.#logError(ErrorCode.noOpenStream, 'Notify to ' + uri + ' not sent: not connected to NATS');
      return false;
    }
    try {
      this.#caller.notify(uri, data, { pid: process.pid, userAgent: this.options.userAgent });
      this.#stats.notifiesSent++;
      return true;
    } catch (err) {
      this.#logError(ErrorCode.badRequest, 'Notify to ' + uri + ' not sent: ' + (err as Error).message);
      return false;
    }
  }

  /** Resolves once every request sent before it has an outcome. */
  flush(callback?: (err: null) => void): Promise<void> | void {
    const done = this.#inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.#flushWaiters.push(resolve));
    if (typeof callback !== 'function') return done;
    done.then(() => callback(null));
  }

  /** Closes the NATS connection; requests still waiting fail with `client_closed`. */
  close(callback?: (err: null) => void): Promise<void> | void {
    this.#closedByUser = true;
    const nc = this.#nc;
    this.#nc = null;
    const done = nc ? nc.close().catch(() => {}).then(() => this.#caller?.connectionClosed()) : Promise.resolve();
    if (typeof callback !== 'function') return done;
    done.then(() => callback(null));
  }

  getStats(): ClientStats {
    const stats = this.#nc?.stats();
    return { ...this.#stats, bytesIn: stats?.inBytes ?? 0, bytesOut: stats?.outBytes ?? 0, inFlight: this.#inFlight, queued: 0, connected: this.isConnected };
  }

  logStats(): void {
    if (this.logger) this.logger.debug(2, 'PixlIPC Stats', this.getStats());
  }

  /** One request's way to its outcome: an answer, or an IPCError/AbortError. */
  async #call(uri: string, data: unknown, options: RequestOptions | undefined, onPart: ((part: unknown) => void) | undefined): Promise<NatsAnswer> {
    const caller = this.#caller;
    if (!caller || !this.isConnected) {
      this.#stats.errors++;
      throw new IPCError(this.#closedByUser ? ErrorCode.clientClosed : ErrorCode.noOpenStream, `Not connected to NATS: call connect() first (sending ${uri})`, { uri });
    }
    const timeoutMs = options?.timeout !== undefined ? Number(options.timeout) || 0 : this.options.requestTimeout;
    const signal = options?.signal;
    if (signal?.aborted) throw abortError(signal, 'The request to ' + uri);
    this.#inFlight++;
    this.#stats.requestsSent++;
    try {
      const answer = await caller.call(uri, data, { timeoutMs, signal, onPart, fields: { pid: process.pid, userAgent: this.options.userAgent } });
      this.#stats.responses++;
      return answer;
    } catch (err) {
      if (signal?.aborted && err === signal.reason) {
        this.#stats.cancelled++;
        throw abortError(signal, 'The request to ' + uri);
      }
      if (err instanceof NatsCallError) {
        if (err.code === ErrorCode.requestTimeout) this.#stats.timeouts++;
        else this.#stats.errors++;
        const code = err.code === ErrorCode.connectionClosed && this.#closedByUser ? ErrorCode.clientClosed : err.code;
        throw new IPCError(code, err.message, { uri, cause: err.cause });
      }
      this.#stats.errors++;
      throw err;
    } finally {
      this.#inFlight--;
      if (this.#inFlight === 0 && this.#flushWaiters.length > 0) {
        const waiters = this.#flushWaiters;
        this.#flushWaiters = [];
        for (const wake of waiters) wake();
      }
    }
  }

  /** The answer's data, or the error it carries (codeToErr and messageTransform as in the socket client). */
  #outcome(uri: string, answer: NatsAnswer): any {
    const transform = this.options.messageTransform;
    if (transform) {
      const [err, value] = transform(answer);
      if (err) throw err;
      return value;
    }
    const error = answerError(answer, this.options.codeToErr, uri);
    if (error) {
      this.#stats.errors++;
      throw error;
    }
    return answer.data;
  }

  #logError(code: string, message: string): void {
    if (this.logger) this.logger.error(code, message);
  }
}
