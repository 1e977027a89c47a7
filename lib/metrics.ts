/**
 * The server's figures as Prometheus metrics: which names, types, labels and
 * help texts. Labels are the endpoint (a handler's registered name) and the
 * transport, never anything a client chooses, so the series count is bounded.
 */
import type { EndpointCounters } from './endpoint-stats';
import { MetricsWriter } from './prometheus';
import type { ProcessFigures } from './stats-report';


export function processFigures(): ProcessFigures {
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    cpuUserMs: Math.round(cpu.user / 1000),
    cpuSystemMs: Math.round(cpu.system / 1000),
  };
}

/** Per transport: open connections now, and totals since startup. */
export interface TransportFigures {
  open: number;
  accepted: number;
  bytesIn: number;
  bytesOut: number;
}

export interface MetricsSnapshot {
  /** ms since epoch. */
  startedAt: number;
  inFlight: number;
  transports: Record<string, TransportFigures>;
  totals: {
    errors: number;
    slowResponses: number;
    droppedResponses: number;
    pushes: number;
    connectionsRejected: number;
    authFailures: number;
  };
  /** Each endpoint's totals since startup, by handler name. */
  endpoints: Array<[string, EndpointCounters]>;
  /** Error answers since startup: [handler name, error code, count]. */
  endpointErrors: Array<[string, string, number]>;
  /** The same for requests on transports other than the Unix socket: [transport, handler name, totals]. */
  transportEndpoints?: Array<[string, string, EndpointCounters]>;
  process: ProcessFigures;
}

const PREFIX = 'pixl_ipc_';

/** This package's version, from its package.json (shipped beside dist/). */
const PACKAGE_VERSION: string = (() => {
  try {
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

export function renderMetrics(snapshot: MetricsSnapshot): string {
  const out = new MetricsWriter();
  const endpoints = snapshot.endpoints;
  const byEndpoint = (pick: (counters: EndpointCounters) => number) =>
    endpoints.map(([endpoint, counters]) => [{ endpoint }, pick(counters)] as [{ endpoint: string }, number]);
  const transports = Object.entries(snapshot.transports);
  const byTransport = (pick: (figures: TransportFigures) => number) =>
    transports.map(([transport, figures]) => [{ transport }, pick(figures)] as [{ transport: string }, number]);
  const totals = snapshot.totals;
  const proc = snapshot.process;

  out.histogram(`${PREFIX}request_duration_seconds`, 'Time from reading a request to answering it, by handler name',
    endpoints.map(([endpoint, counters]) => [{ endpoint }, counters.latency]));
  out.counter(`${PREFIX}requests_total`, 'Requests answered, by handler name', byEndpoint((c) => c.requests));
  out.counter(`${PREFIX}request_errors_total`, 'Requests answered with an error, by handler name and error code',
    snapshot.endpointErrors.map(([endpoint, code, count]) => [{ endpoint, code }, count] as [{ endpoint: string; code: string }, number]));
  out.counter(`${PREFIX}request_received_bytes_total`, 'Bytes of request lines, by handler name', byEndpoint((c) => c.bytesIn));
  out.counter(`${PREFIX}response_sent_bytes_total`, 'Bytes of response lines, by handler name', byEndpoint((c) => c.bytesOut));

  const transportEndpoints = snapshot.transportEndpoints ?? [];
  if (transportEndpoints.length > 0) {
    const byBoth = (pick: (counters: EndpointCounters) => number) =>
      transportEndpoints.map(([transport, endpoint, counters]) => [{ transport, endpoint }, pick(counters)] as [{ transport: string; endpoint: string }, number]);
    out.histogram(`${PREFIX}transport_request_duration_seconds`, 'Time from reading a request to answering it, for transports other than the Unix socket, by transport and handler name',
      transportEndpoints.map(([transport, endpoint, counters]) => [{ transport, endpoint }, counters.latency]));
    out.counter(`${PREFIX}transport_requests_total`, 'Requests answered on transports other than the Unix socket, by transport and handler name', byBoth((c) => c.requests));
    out.counter(`${PREFIX}transport_request_errors_total`, 'Requests answered with an error on transports other than the Unix socket, by transport and handler name', byBoth((c) => c.errors));
  }

  out.gauge(`${PREFIX}connections`, 'Open client connections, by transport', byTransport((t) => t.open));
  out.counter(`${PREFIX}connections_accepted_total`, 'Client connections accepted, by transport', byTransport((t) => t.accepted));
  out.counter(`${PREFIX}received_bytes_total`, 'Bytes received from clients, by transport', byTransport((t) => t.bytesIn));
  out.counter(`${PREFIX}sent_bytes_total`, 'Bytes sent to clients, by transport', byTransport((t) => t.bytesOut));
  out.counter(`${PREFIX}connections_rejected_total`, 'Connections refused on arrival: max_connections, allow_users/allow_groups (access), max_connections_per_user', [[undefined, totals.connectionsRejected]]);
  out.gauge(`${PREFIX}requests_in_flight`, 'Requests read and not answered yet', [[undefined, snapshot.inFlight]]);
  out.counter(`${PREFIX}errors_total`, 'Error answers and refused lines', [[undefined, totals.errors]]);
  out.counter(`${PREFIX}slow_responses_total`, 'Responses slower than slow_threshold_ms', [[undefined, totals.slowResponses]]);
  out.counter(`${PREFIX}dropped_responses_total`, 'Responses not sent because the client had gone', [[undefined, totals.droppedResponses]]);
  out.counter(`${PREFIX}pushes_total`, 'Messages pushed to clients', [[undefined, totals.pushes]]);
  out.counter(`${PREFIX}auth_failures_total`, 'Failed authentications', [[undefined, totals.authFailures]]);

  out.gauge(`${PREFIX}build_info`, 'Always 1: the versions of pixl-ipc and Node.js serving', [[{ version: PACKAGE_VERSION, node_version: process.version }, 1]]);
  out.gauge(`${PREFIX}start_time_seconds`, 'When the server started, in seconds since the epoch', [[undefined, snapshot.startedAt / 1000]]);
  out.gauge(`${PREFIX}process_resident_memory_bytes`, 'Resident memory of the server process', [[undefined, proc.rss]]);
  out.gauge(`${PREFIX}process_heap_used_bytes`, 'V8 heap in use', [[undefined, proc.heapUsed]]);
  out.gauge(`${PREFIX}process_heap_total_bytes`, 'V8 heap allocated', [[undefined, proc.heapTotal]]);
  out.counter(`${PREFIX}process_cpu_seconds_total`, 'CPU time of the server process, by mode', [
    [{ mode: 'user' }, proc.cpuUserMs / 1000],
    [{ mode: 'system' }, proc.cpuSystemMs / 1000],
  ]);
  return out.toString();
}
