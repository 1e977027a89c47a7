/**
 * Client options and their defaults. Every default is written here, once.
 */

import type { ConnectionOptions as TlsConnectionOptions } from 'tls';
import type { RetryStrategy } from './retry';

/** A response message as the server sent it, handed to `messageTransform`. */
export interface ResponseMessageObject {
  ipcReqID?: string | number | null;
  data?: unknown;
  code?: string;
  message?: string;
  [field: string]: unknown;
}

/**
 * Decides the outcome of a response: `[err, data]`. A truthy `err` fails the
 * request with it (as given); otherwise the request succeeds with `data`.
 */
export type MessageTransform = (message: ResponseMessageObject) => [unknown, unknown];

/** What the constructor accepts. Every field is optional. */
export interface IPCClientOptions {
  /** ms before a request fails with `request_timeout`. Default 10000. */
  requestTimeout?: number;
  /** ms a timed-out request's id is remembered, so its late response is dropped quietly. Default 10000. */
  expireRequest?: number;
  /** Sent with every request. Default `"Node/IPCClient" + process.cwd()`. */
  userAgent?: string;
  /**
   * Reconnecting after an unexpected disconnect: the first attempt is made at
   * once (unless offlineQueue is 0 or a retryStrategy is given), later ones
   * after this many ms, doubling up to maxReconnectDelay; `0` or `false`
   * disables reconnecting. Default 1000.
   */
  autoReconnect?: number | false;
  /** Cap, in ms, for the reconnect delay, which doubles after each failed attempt. Default 30000. */
  maxReconnectDelay?: number;
  /**
   * `(attempt) => ms | null`: the delay before reconnect attempt number
   * `attempt` (1, 2, ... since the connection was lost), or null to stop
   * reconnecting. Replaces the default: autoReconnect ms doubling up to
   * maxReconnectDelay, each delay drawn from its upper half so that many
   * clients do not reconnect in lockstep. autoReconnect false still turns
   * reconnecting off.
   */
  retryStrategy?: RetryStrategy | null;
  /** ms before a connect attempt (socket open plus authentication) fails with `connect_timeout`; 0 disables. Default 5000. */
  connectTimeout?: number;
  /** Also turn a response whose `data.code` is truthy into an error with that code and `data.message` (a top-level `code` is always an error). Default false. */
  codeToErr?: boolean;
  /** `(msg) => [err, data]` applied to every response; overrides `codeToErr`. Default none. */
  messageTransform?: MessageTransform | null;
  /** ms between `debug(2, 'PixlIPC Stats', stats)` lines; 0 disables. Default 0. */
  logStatsInterval?: number;
  /** Credentials sent to `/ipcserver/auth` on every connect, before anything else. Default none. */
  auth?: unknown;
  /** Options handed to `tls.connect` for `tls://` targets (for example `ca`). Default none. */
  tls?: TlsConnectionOptions;
  /** Longest response line accepted, in bytes. Default 128 MiB. */
  maxMessageSize?: number;
  /**
   * How many sends and notifies may wait for a connection: while one is being
   * opened, and while the client reconnects after losing one (a restart, a
   * goaway, a refusal that closed it); each still fails by its own deadline.
   * Past the bound a send fails with `queue_full`. Given explicitly, sends
   * made while no connection is expected (before connect(), or with
   * autoReconnect off) wait too. 0 is the original client's behaviour: a send
   * with no connection fails at once with `no_open_stream`, and reconnects
   * wait autoReconnect ms. Default 1000.
   */
  offlineQueue?: number;
  /** Accepted for compatibility with the original client and ignored: one timer tracks every deadline. */
  expirationFrequency?: number;
  /** Parts of one streamed answer buffered before the client stops reading the connection. Default 256. */
  streamHighWaterMark?: number;
  /**
   * Unix sockets only: the uid the server must run as, read from the kernel
   * (SO_PEERCRED) before anything is written. A server running as anyone else
   * is refused with `server_identity`: no credentials, no requests. Default none.
   */
  expectServerUid?: number | null;
  /**
   * Reach a NATS cluster instead of a socket (see docs/nats.md): `servers`,
   * credentials (`user`/`pass`, `token`, `nkey`/`nkey_file` or `creds_file`),
   * `tls`, `prefix` (default `ipc`). A `nats://host:port` target is the short form.
   */
  nats?: {
    servers?: string | string[];
    user?: string;
    pass?: string;
    token?: string;
    nkey?: string;
    nkey_file?: string;
    creds_file?: string;
    tls?: boolean | { ca_file?: string; cert_file?: string; key_file?: string };
    prefix?: string;
    name?: string;
  } | null;
}

/** Options after defaults are applied. */
export interface ResolvedOptions {
  requestTimeout: number;
  expireRequest: number;
  userAgent: string;
  autoReconnect: number;
  maxReconnectDelay: number;
  retryStrategy: RetryStrategy | null;
  connectTimeout: number;
  codeToErr: boolean;
  messageTransform: MessageTransform | null;
  logStatsInterval: number;
  auth: unknown;
  tls: TlsConnectionOptions | undefined;
  maxMessageSize: number;
  offlineQueue: number;
  expirationFrequency: number;
  streamHighWaterMark: number;
  expectServerUid: number | null;
}

/** The defaults, in one place. */
export function defaultOptions(): ResolvedOptions {
  return {
    requestTimeout: 10000,
    expireRequest: 10000,
    userAgent: 'Node/IPCClient' + process.cwd(),
    autoReconnect: 1000,
    maxReconnectDelay: 30000,
    retryStrategy: null,
    connectTimeout: 5000,
    codeToErr: false,
    messageTransform: null,
    logStatsInterval: 0,
    auth: undefined,
    tls: undefined,
    maxMessageSize: 128 * 1024 * 1024,
    offlineQueue: 1000,
    expirationFrequency: 5000,
    streamHighWaterMark: 256,
    expectServerUid: null,
  };
}

/** Defaults overlaid with the caller's options (undefined fields keep their default). */
export function resolveOptions(options: IPCClientOptions | null | undefined): ResolvedOptions {
  const resolved = defaultOptions() as unknown as Record<string, unknown>;
  if (options) {
    for (const [key, value] of Object.entries(options)) {
      if (value !== undefined) resolved[key] = value;
    }
  }
  const result = resolved as unknown as ResolvedOptions;
  // `false` and negative numbers mean "off" for the millisecond switches.
  result.autoReconnect = toNonNegative(result.autoReconnect);
  result.connectTimeout = toNonNegative(result.connectTimeout);
  result.logStatsInterval = toNonNegative(result.logStatsInterval);
  result.offlineQueue = toNonNegative(result.offlineQueue);
  return result;
}

function toNonNegative(value: unknown): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
