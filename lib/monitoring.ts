/**
 * What the server records for monitoring beyond its plain counters: each
 * answered request's endpoint figures, slow responses (counted and logged,
 * rate-limited), per-transport connection totals; and the two views of them,
 * getStats()'s `endpoints`/`process` and the Prometheus text.
 */
import type { Call } from './call';
import type { Connection } from './connection';
import { EndpointStats } from './endpoint-stats';
import { MetricsSnapshot, processFigures, renderMetrics, TransportFigures } from './metrics';
import { SlowLogWriter, SlowRequestLog } from './slow-log';
import type { ServerStats } from './stats';
import type { Transport } from './types';

export interface MonitoringSettings {
  /** Per-endpoint figures on (the bench turns them off to measure their cost). */
  endpointStats: boolean;
  /** Most slow responses logged in any one second. */
  slowLogPerSecond: number;
}

/** How a slow call refused before routing (auth gate, shutdown) is named in the log. */
const NO_HANDLER = '(no handler)';

const TRANSPORTS: readonly Transport[] = ['unix', 'tcp', 'tls', 'nats'];


export class Monitoring {
  readonly endpoints = new EndpointStats();
  readonly slowLog: SlowRequestLog;
  readonly endpointStats: boolean;
  private readonly accepted = new Map<Transport, number>();
  /**
   * The same per-endpoint figures again for requests that came over a
   * transport other than the Unix socket (TCP, TLS, NATS), by transport; the
   * Unix socket's share is the difference (this way its requests cost no extra lookup).
   */
  readonly byTransport = new Map<Transport, EndpointStats>();

  constructor(settings: MonitoringSettings, writeSlow: SlowLogWriter) {
    this.endpointStats = settings.endpointStats;
    this.slowLog = new SlowRequestLog(settings.slowLogPerSecond, writeSlow);
    for (const transport of TRANSPORTS) this.accepted.set(transport, 0);
  }

  /**
   * One call answered after `ms`: counted under its handler's name (calls
   * answered at a gate, before routing, have none), and logged if slow.
   */
  settled(call: Call, isError: boolean, ms: number, answerLength: number, slow: boolean, errorCode: string | null = null): void {
    const name = call.handlerName;
    if (name !== null && this.endpointStats) {
      this.endpoints.get(name).record(ms, isError, call.lineBytes, answerLength, errorCode);
      const transport = call.connection.transport;
      if (transport !== 'unix') {
        let stats = this.byTransport.get(transport);
        if (!stats) this.byTransport.set(transport, (stats = new EndpointStats()));
        stats.get(name).record(ms, isError, call.lineBytes, answerLength, errorCode);
      }
    }
    if (slow) this.slowLog.report({ handler: name ?? NO_HANDLER, uri: call.request.uri, connectionId: call.connection.id, ms });
  }

  connectionOpened(transport: Transport): void {
    this.accepted.set(transport, this.accepted.get(transport)! + 1);
  }

  /** Ends the current stats interval of every endpoint. */
  cycle(): void {
    this.endpoints.cycle();
    for (const stats of this.byTransport.values()) stats.cycle();
  }

  /** Per transport: open connections, accepted, and bytes (counted in ServerStats as they pass). */
  transportFigures(open: Iterable<Connection>, stats: ServerStats): Record<string, TransportFigures> {
    const figures: Record<string, TransportFigures> = {};
    for (const [transport, accepted] of this.accepted) {
      // A transport that never had a connection (usually: not listening) is left out.
      if (accepted === 0 && transport !== 'unix') continue;
      const bytes = stats.transportBytes(transport);
      figures[transport] = { open: 0, accepted, bytesIn: bytes.bytesIn, bytesOut: bytes.bytesOut };
    }
    for (const connection of open) figures[connection.transport].open++;
    return figures;
  }

  /** The Prometheus text exposition. */
  render(snapshot: Omit<MetricsSnapshot, 'endpoints' | 'endpointErrors' | 'transportEndpoints' | 'transports' | 'process'>, open: Iterable<Connection>, stats: ServerStats): string {
    const endpoints: MetricsSnapshot['endpoints'] = [];
    const endpointErrors: MetricsSnapshot['endpointErrors'] = [];
    for (const stat of this.endpoints.values()) {
      endpoints.push([stat.name, stat.totals()]);
      for (const [code, count] of stat.errorCodes) endpointErrors.push([stat.name, code, count]);
    }
    const transportEndpoints: MetricsSnapshot['transportEndpoints'] = [];
    for (const [transport, byName] of this.byTransport) {
      for (const stat of byName.values()) transportEndpoints.push([transport, stat.name, stat.totals()]);
    }
    return renderMetrics({ ...snapshot, endpoints, endpointErrors, transportEndpoints, transports: this.transportFigures(open, stats), process: processFigures() });
  }
}
