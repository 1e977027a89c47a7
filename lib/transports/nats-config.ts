/**
 * The IPCServer `nats` config block, checked: how to reach the cluster (see
 * nats-options.ts), and what this daemon does there.
 */
import type { NatsConnectOptions } from './nats-connect-options';
import { prefixOf, serverList } from './nats-options';

export interface NatsSettings {
  /** The block as written, for connectOptions() (credentials stay in here and are never logged). */
  connect: NatsConnectOptions;
  servers: string[];
  prefix: string;
  /** Serve this daemon's handlers to NATS requests (false: only forward). */
  serve: boolean;
  /** The queue group the daemons serving the same handlers share. */
  queue: string;
  /** The NATS service name ($SRV.PING/INFO/STATS). */
  serviceName: string;
  /** Requests taken from NATS and not answered yet, beyond which new ones are answered `overloaded`. */
  maxPending: number;
  /** Bytes of those requests. */
  maxPendingBytes: number;
  /** Uri patterns (regular expressions) this daemon sends on to the cluster instead of handling. */
  forward: RegExp[];
  /** Deadline of a forwarded request whose caller set none (ms). */
  forwardTimeout: number;
}

export const NATS_DEFAULTS = {
  prefix: 'ipc',
  serve: true,
  queue: 'pixl-ipc',
  service_name: 'pixl-ipc',
  max_pending: 4096,
  max_pending_bytes: 64 * 1024 * 1024,
  forward: [] as string[],
  forward_timeout: 30000,
};

function positive(value: unknown, key: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 1) throw new TypeError(`IPCServer config: nats.${key} must be a number >= 1 (got ${JSON.stringify(value)})`);
  return n;
}

/** Reads the block; null when NATS is not configured. Throws a TypeError naming the key. */
export function readNatsSettings(value: unknown): NatsSettings | null {
  if (value === undefined || value === null || value === false) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError('IPCServer config: nats must be an object like { "servers": ["nats://127.0.0.1:4222"] }');
  const block = value as Record<string, unknown>;
  const servers = serverList(block.servers, 'IPCServer config: nats');
  const prefix = prefixOf(block, 'IPCServer config: nats');
  const queue = block.queue === undefined ? NATS_DEFAULTS.queue : block.queue;
  if (typeof queue !== 'string' || !/^[A-Za-z0-9_\-.]+$/.test(queue)) throw new TypeError('IPCServer config: nats.queue must be a queue group name of letters, digits, ".", "_" or "-"');
  const serviceName = block.service_name === undefined ? NATS_DEFAULTS.service_name : block.service_name;
  if (typeof serviceName !== 'string' || !/^[A-Za-z0-9_-]+$/.test(serviceName)) throw new TypeError('IPCServer config: nats.service_name must be letters, digits, "_" or "-"');
  const forwardList = block.forward === undefined ? [] : block.forward;
  if (!Array.isArray(forwardList) || forwardList.some((p) => typeof p !== 'string' || p === '')) {
    throw new TypeError('IPCServer config: nats.forward must be a list of uri patterns (regular expressions), like ["^/billing/"]');
  }
  const forward = forwardList.map((pattern: string, index: number) => {
    try {
      return new RegExp(pattern);
    } catch (err) {
      throw new TypeError(`IPCServer config: nats.forward[${index}] is not a valid regular expression: ${(err as Error).message}`);
    }
  });
  return {
    connect: block as unknown as NatsConnectOptions,
    servers,
    prefix,
    serve: block.serve !== false,
    queue,
    serviceName,
    maxPending: positive(block.max_pending, 'max_pending', NATS_DEFAULTS.max_pending),
    maxPendingBytes: positive(block.max_pending_bytes, 'max_pending_bytes', NATS_DEFAULTS.max_pending_bytes),
    forward,
    forwardTimeout: positive(block.forward_timeout, 'forward_timeout', NATS_DEFAULTS.forward_timeout),
  };
}
