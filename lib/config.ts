/**
 * The IPCServer component's configuration: every key, its default, and the
 * checks that turn raw config values into typed settings.
 */

import { OWN_USER, parseOperationsAccess, type OperationsAccess } from './operations-access';
import type { Settings } from './config-types';
import { socketPathProblem } from './socket-path-limit';

export const MiB = 1024 * 1024;

/** Defaults, written once. `socket_path` has none: startup fails without it. */
export const defaultConfig = {
  socket_chmod: '600',
  exit_timeout: 2000,
  log_stats_interval: 'minute' as string | false,
  slow_threshold_ms: 20,
  max_message_size: 32 * MiB,
  max_connections: 4096,
  max_in_flight: 1024,
  max_output_buffer: 8 * MiB,
  max_message_size_before_auth: 16 * 1024,
  max_in_flight_bytes: 64 * MiB,
  max_input_total: 128 * MiB,
  max_output_total: 256 * MiB,
  line_timeout: 10000,
  tls_handshake_timeout: 5000,
  idle_timeout: 0,
  auth_tokens: [] as string[],
  auth_users_file: '',
  auth_timeout: 5000,
  listen_port: 0,
  listen_host: '127.0.0.1',
  tls_port: 0,
  tls_key: '',
  tls_cert: '',
  tls_ca: '',
  stats_endpoint: OWN_USER as OperationsAccess,
  monitor_endpoint: OWN_USER as OperationsAccess,
  monitor_events_per_second: 1000,
  endpoint_stats: true,
  slow_log_per_second: 10,
  metrics_endpoint: false,
  metrics_port: 0,
  metrics_host: '127.0.0.1',
  metrics_token: '',
  metrics_token_file: '',
  allow_users: [] as Array<string | number>,
  allow_groups: [] as Array<string | number>,
  allow_tcp: false,
  policy: [] as unknown[],
  max_connections_per_user: 256,
  auth_throttle_after: 5,
  auth_throttle_max_ms: 5000,
  handoff: false,
  handoff_watch: 1000,
};

export type { Settings };

export class ConfigError extends Error {
  readonly code = 'config';
}

function number(get: (key: string) => unknown, key: string, min: number): number {
  const value = get(key);
  const parsed = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < min) {
    throw new ConfigError(`IPCServer config: ${key} must be a number >= ${min} (got ${JSON.stringify(value)})`);
  }
  return parsed;
}

function text(get: (key: string) => unknown, key: string): string {
  const value = get(key);
  if (value === undefined || value === null || value === false) return '';
  if (typeof value !== 'string') throw new ConfigError(`IPCServer config: ${key} must be a string`);
  return value;
}

function list<T>(get: (key: string) => unknown, key: string): T[] {
  const value = get(key);
  if (value === undefined || value === null || value === false) return [];
  if (!Array.isArray(value)) throw new ConfigError(`IPCServer config: ${key} must be an array`);
  return value as T[];
}

function operationsAccess(get: (key: string) => unknown, key: string): OperationsAccess {
  const value = get(key);
  return parseOperationsAccess(value, () => {
    throw new ConfigError(`IPCServer config: ${key} must be true, false or "own_user" (got ${JSON.stringify(value)})`);
  });
}

/** File mode from a string of octal digits ("660"), a number (0o660), or false/"" for "leave as is". */
export function parseSocketMode(value: unknown): number | null {
  if (value === undefined || value === null || value === false || value === '') return null;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0o7777) return value;
  if (typeof value === 'string' && /^0?[0-7]{3,4}$/.test(value)) return parseInt(value, 8);
  throw new ConfigError(`IPCServer config: socket_chmod must be an octal mode such as "600" or "660" (got ${JSON.stringify(value)})`);
}

/** Reads and checks every key; throws ConfigError with a message that names the key. */
export function readSettings(get: (key: string) => unknown): Settings {
  const socketPath = get('socket_path');
  if (typeof socketPath !== 'string' || socketPath === '') {
    throw new ConfigError('IPCServer config: socket_path is required (the path of the Unix socket to listen on)');
  }
  const tooLong = socketPathProblem(socketPath);
  if (tooLong) throw new ConfigError(`IPCServer config: socket_path ${socketPath}: ${tooLong}`);
  const tokens = get('auth_tokens') ?? [];
  if (!Array.isArray(tokens) || tokens.some((token) => typeof token !== 'string' || token === '')) {
    throw new ConfigError('IPCServer config: auth_tokens must be an array of non-empty strings');
  }
  const logStatsInterval = get('log_stats_interval');
  const settings: Settings = {
    socketPath,
    socketMode: parseSocketMode(get('socket_chmod')),
    exitTimeout: number(get, 'exit_timeout', 0),
    logStatsInterval: typeof logStatsInterval === 'string' && logStatsInterval !== '' ? logStatsInterval : false,
    slowThresholdMs: number(get, 'slow_threshold_ms', 0),
    maxMessageSize: number(get, 'max_message_size', 1),
    maxConnections: number(get, 'max_connections', 1),
    maxInFlight: number(get, 'max_in_flight', 1),
    maxOutputBuffer: number(get, 'max_output_buffer', 1),
    maxMessageSizeBeforeAuth: number(get, 'max_message_size_before_auth', 64),
    maxInFlightBytes: number(get, 'max_in_flight_bytes', 1),
    maxInputTotal: number(get, 'max_input_total', 1),
    maxOutputTotal: number(get, 'max_output_total', 1),
    lineTimeout: number(get, 'line_timeout', 0),
    tlsHandshakeTimeout: number(get, 'tls_handshake_timeout', 1),
    idleTimeout: number(get, 'idle_timeout', 0),
    authTokens: tokens as string[],
    authUsersFile: text(get, 'auth_users_file'),
    authTimeout: number(get, 'auth_timeout', 1),
    listenPort: number(get, 'listen_port', 0),
    listenHost: text(get, 'listen_host') || '127.0.0.1',
    tlsPort: number(get, 'tls_port', 0),
    tlsKey: text(get, 'tls_key'),
    tlsCert: text(get, 'tls_cert'),
    tlsCa: text(get, 'tls_ca'),
    statsEndpoint: operationsAccess(get, 'stats_endpoint'),
    monitorEndpoint: operationsAccess(get, 'monitor_endpoint'),
    monitorEventsPerSecond: number(get, 'monitor_events_per_second', 1),
    endpointStats: get('endpoint_stats') !== false,
    slowLogPerSecond: number(get, 'slow_log_per_second', 0),
    metricsEndpoint: get('metrics_endpoint') === true,
    metricsPort: number(get, 'metrics_port', 0),
    metricsHost: text(get, 'metrics_host') || '127.0.0.1',
    allowUsers: list(get, 'allow_users'),
    allowGroups: list(get, 'allow_groups'),
    allowTcp: get('allow_tcp') === true,
    policy: list(get, 'policy'),
    maxConnectionsPerUser: number(get, 'max_connections_per_user', 0),
    authThrottleAfter: number(get, 'auth_throttle_after', 0),
    authThrottleMaxMs: number(get, 'auth_throttle_max_ms', 1),
    handoff: get('handoff') === true,
    handoffWatch: number(get, 'handoff_watch', 0),
    metricsToken: text(get, 'metrics_token'),
    metricsTokenFile: text(get, 'metrics_token_file'),
  };
  if (settings.metricsToken && settings.metricsTokenFile) {
    throw new ConfigError('IPCServer config: set metrics_token or metrics_token_file, not both');
  }
  if (settings.tlsPort && (!settings.tlsKey || !settings.tlsCert)) {
    throw new ConfigError('IPCServer config: tls_port needs tls_key and tls_cert (paths to PEM files)');
  }
  return settings;
}
