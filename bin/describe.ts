/**
 * One readable cell per field of a connection or endpoint, as the stats uri
 * reports them. Shared by `connections`, `handlers` and `top`, and tolerant of
 * servers that report fewer fields (anything missing shows as "-").
 */
import { formatDuration, printable } from './format';

type Json = Record<string, any>;

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * Who is on the other end: the kernel's answer (user or uid, and pid) when
 * the server has it; else the pid the client itself reported, marked "?"
 * because a client can claim any pid.
 */
export function describePeer(connection: Json): string {
  const peer = connection.peer;
  if (peer && typeof peer === 'object') {
    const who = typeof peer.user === 'string' ? printable(peer.user) : numberOrNull(peer.uid) !== null ? `uid ${peer.uid}` : '';
    const pid = numberOrNull(peer.pid);
    return [who, pid !== null && pid > 0 ? `pid ${pid}` : ''].filter(Boolean).join(' ') || '-';
  }
  const reported = numberOrNull(connection.pid);
  return reported !== null ? `pid ${reported}?` : '-';
}

/** A counter from connection.counters (bytesOut may also sit at the top level on some servers). */
export function connectionCounter(connection: Json, name: string): number | null {
  const counters = connection.counters && typeof connection.counters === 'object' ? connection.counters : {};
  return numberOrNull(counters[name]) ?? numberOrNull(connection[name]);
}

/** How long since the connection last sent anything, as of `now` (ms since epoch). */
export function idleMs(connection: Json, now: number): number | null {
  const last = numberOrNull(connection.lastActivity);
  return last === null ? null : Math.max(0, now - last);
}

/** How long the connection has been open, as of `now`. */
export function ageMs(connection: Json, now: number): number | null {
  const since = numberOrNull(connection.connectedAt);
  return since === null ? null : Math.max(0, now - since);
}

/** A duration cell: "1m 5s", or "-" when unknown. */
export function durationCell(ms: number | null): string {
  return ms === null ? '-' : formatDuration(ms);
}

/** The user agent as sent, made printable, or "-". */
export function userAgentCell(connection: Json): string {
  return typeof connection.userAgent === 'string' && connection.userAgent !== '' ? printable(connection.userAgent) : '-';
}

/** One endpoint period's figures (`totals`, `interval` or `last`), or null. */
export function endpointPeriod(endpoint: Json | undefined, period: 'totals' | 'interval' | 'last'): Json | null {
  const figures = endpoint && typeof endpoint === 'object' ? endpoint[period] : null;
  return figures && typeof figures === 'object' ? figures : null;
}

/** The latency percentile `key` (p50, p99, ...) from one period's figures, in ms, or null. */
export function latency(figures: Json | null, key: string): number | null {
  const latencyMs = figures?.latencyMs;
  if (!latencyMs || typeof latencyMs !== 'object' || !numberOrNull(latencyMs.count)) return null;
  return numberOrNull(latencyMs[key]);
}

/** The most recent latency figures worth showing: the current interval if it has requests, else the last one. */
export function recentPeriod(endpoint: Json | undefined): Json | null {
  const current = endpointPeriod(endpoint, 'interval');
  if (current && numberOrNull(current.latencyMs?.count)) return current;
  return endpointPeriod(endpoint, 'last') ?? current;
}
