/**
 * What `pixl-ipc top` shows, computed from two successive answers of the
 * stats uri: rates are differences between samples divided by the time
 * between them, so any server with the stats endpoint works, and whatever it
 * does not report (process, endpoints, the connection list) shows as absent.
 */
import { describePeer, connectionCounter, idleMs, latency, recentPeriod, endpointPeriod } from '../describe';
import { StatsAnswer, connectionCount, connectionList, endpointFigures } from '../stats-source';

/** One answer of the stats uri and when it arrived (ms since epoch). */
export interface Sample {
  stats: StatsAnswer;
  at: number;
}

export interface Header {
  uptimeMs: number | null;
  rssBytes: number | null;
  heapUsedBytes: number | null;
  heapTotalBytes: number | null;
  /** CPU time used per wall-clock time between samples, in percent of one core. */
  cpuPercent: number | null;
  connections: number | null;
  inFlight: number | null;
  requestsPerSec: number | null;
  bytesInPerSec: number | null;
  bytesOutPerSec: number | null;
  errorsPerSec: number | null;
  slowResponses: number | null;
  slowPerSec: number | null;
}

export interface EndpointRow {
  name: string;
  requestsPerSec: number | null;
  requests: number | null;
  errors: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface ConnectionRow {
  id: number | null;
  transport: string;
  peer: string;
  userAgent: string;
  inFlight: number | null;
  requestsPerSec: number | null;
  requests: number | null;
  bytesIn: number | null;
  bytesOut: number | null;
  idleMs: number | null;
}

export interface TopView {
  at: number;
  header: Header;
  /** null: the server does not report per-endpoint figures. */
  endpoints: EndpointRow[] | null;
  /** null: the server does not list connections. */
  connections: ConnectionRow[] | null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** (now - before) per second, or null when either is unknown or the clock did not move. A counter that went down (a restart) gives null. */
export function perSecond(now: unknown, before: unknown, ms: number): number | null {
  const a = num(now);
  const b = num(before);
  if (a === null || b === null || ms <= 0 || a < b) return null;
  return ((a - b) * 1000) / ms;
}

/** The view for the `current` sample; `previous` (the sample before, or null for the first) gives the rates. */
export function buildView(current: Sample, previous: Sample | null): TopView {
  const stats = current.stats;
  const before = previous?.stats ?? null;
  const ms = previous ? current.at - previous.at : 0;
  const totals = stats.totals && typeof stats.totals === 'object' ? stats.totals : {};
  const totalsBefore = before?.totals && typeof before.totals === 'object' ? before.totals : {};
  const proc = stats.process && typeof stats.process === 'object' ? stats.process : null;
  const procBefore = before?.process && typeof before.process === 'object' ? before.process : null;
  const cpuNow = proc ? (num(proc.cpuUserMs) ?? 0) + (num(proc.cpuSystemMs) ?? 0) : null;
  const cpuBefore = procBefore ? (num(procBefore.cpuUserMs) ?? 0) + (num(procBefore.cpuSystemMs) ?? 0) : null;
  const cpuRate = previous && cpuNow !== null && cpuBefore !== null ? perSecond(cpuNow, cpuBefore, ms) : null;

  const header: Header = {
    uptimeMs: num(stats.uptime),
    rssBytes: num(proc?.rss),
    heapUsedBytes: num(proc?.heapUsed),
    heapTotalBytes: num(proc?.heapTotal),
    cpuPercent: cpuRate === null ? null : cpuRate / 10,
    connections: connectionCount(stats),
    inFlight: num(stats.inFlight),
    requestsPerSec: previous ? perSecond(totals.requests, totalsBefore.requests, ms) : null,
    bytesInPerSec: previous ? perSecond(totals.bytesIn, totalsBefore.bytesIn, ms) : null,
    bytesOutPerSec: previous ? perSecond(totals.bytesOut, totalsBefore.bytesOut, ms) : null,
    errorsPerSec: previous ? perSecond(totals.errors, totalsBefore.errors, ms) : null,
    slowResponses: num(totals.slowResponses),
    slowPerSec: previous ? perSecond(totals.slowResponses, totalsBefore.slowResponses, ms) : null,
  };
  return { at: current.at, header, endpoints: endpointRows(stats, before, ms), connections: connectionRows(stats, before, current.at, ms) };
}

function endpointRows(stats: StatsAnswer, before: StatsAnswer | null, ms: number): EndpointRow[] | null {
  const endpoints = endpointFigures(stats);
  if (!endpoints) return null;
  const endpointsBefore = before ? endpointFigures(before) ?? {} : null;
  return Object.keys(endpoints).map((name) => {
    const totals = endpointPeriod(endpoints[name], 'totals');
    const totalsBefore = endpointsBefore ? endpointPeriod(endpointsBefore[name], 'totals') : null;
    const recent = recentPeriod(endpoints[name]);
    let rate: number | null = null;
    // An endpoint first seen in this sample had 0 requests in the last one.
    if (endpointsBefore) rate = perSecond(totals?.requests, totalsBefore ? totalsBefore.requests : 0, ms);
    return {
      name,
      requestsPerSec: rate,
      requests: num(totals?.requests),
      errors: num(totals?.errors),
      p50Ms: latency(recent, 'p50'),
      p99Ms: latency(recent, 'p99'),
    };
  });
}

function connectionRows(stats: StatsAnswer, before: StatsAnswer | null, now: number, ms: number): ConnectionRow[] | null {
  const list = connectionList(stats);
  if (!list) return null;
  const requestsBefore = new Map<unknown, number | null>();
  for (const c of (before && connectionList(before)) || []) requestsBefore.set(c.id, connectionCounter(c, 'requests'));
  return list.map((c) => {
    const requests = connectionCounter(c, 'requests');
    // A connection that opened since the last sample had made 0 requests then.
    const previous = before ? (requestsBefore.has(c.id) ? requestsBefore.get(c.id) : 0) : null;
    return {
      id: num(c.id),
      transport: typeof c.transport === 'string' ? c.transport : '-',
      peer: describePeer(c),
      userAgent: typeof c.userAgent === 'string' && c.userAgent !== '' ? c.userAgent : '-',
      inFlight: num(c.inFlight),
      requestsPerSec: previous === null || previous === undefined ? null : perSecond(requests, previous, ms),
      requests,
      bytesIn: connectionCounter(c, 'bytesIn'),
      bytesOut: connectionCounter(c, 'bytesOut'),
      idleMs: idleMs(c, now),
    };
  });
}
