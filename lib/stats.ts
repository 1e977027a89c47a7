/**
 * Server counters: an interval that is cycled (by the host's timer event or
 * logIntervalStats()), the last completed cycle, and running totals. The one
 * place server-wide counts live: connections report here as things happen,
 * so nothing is summed from live connections and a closed one loses nothing.
 */
import type { IntervalStats, TotalStats } from './stats-report';


/** Bytes read and written on the connections of one transport, since startup. */
export interface TransportBytes {
  bytesIn: number;
  bytesOut: number;
}

/** What became of an answer: sent, not wanted (noReply), or dropped (the client had gone). */
export type AnswerDelivery = 'sent' | 'noReply' | 'dropped';



function newInterval(): IntervalStats {
  return { requests: 0, clientOpen: 0, clientClose: 0, maxConnections: 0, slowResponses: 0, errors: 0, duration: 0 };
}

export class ServerStats {
  interval: IntervalStats = newInterval();
  lastCycle: IntervalStats = newInterval();
  readonly totals: TotalStats = {
    requests: 0,
    responses: 0,
    notifications: 0,
    errors: 0,
    slowResponses: 0,
    droppedResponses: 0,
    bytesIn: 0,
    bytesOut: 0,
    connectionsAccepted: 0,
    connectionsRejected: 0,
    authFailures: 0,
    authThrottled: 0,
    pushes: 0,
    pushesDropped: 0,
    overloadRefusals: 0,
    overBudget: 0,
    lineTimeouts: 0,
    cancelled: 0,
    deadlinesExceeded: 0,
    lateAnswers: 0,
  };
  readonly startedAt = Date.now();
  private readonly byTransport = new Map<string, TransportBytes>();
  private intervalStart = Date.now();

  request(): void {
    this.interval.requests++;
    this.totals.requests++;
  }

  /**
   * A request got its single answer: an error or data, and whether the line
   * was sent, not wanted (noReply) or dropped (the client had gone).
   */
  answered(isError: boolean, delivery: AnswerDelivery): void {
    if (isError) this.error();
    else this.totals.responses++;
    if (delivery === 'noReply') this.totals.notifications++;
    else if (delivery === 'dropped') this.totals.droppedResponses++;
  }

  /** An error answer or a refused line. */
  error(): void {
    this.interval.errors++;
    this.totals.errors++;
  }

  push(): void {
    this.totals.pushes++;
  }

  pushDropped(): void {
    this.totals.pushesDropped++;
  }

  overBudget(): void {
    this.totals.overBudget++;
  }

  overloadRefusal(): void {
    this.totals.overloadRefusals++;
  }

  lineTimeout(): void {
    this.totals.lineTimeouts++;
  }

  cancelled(): void {
    this.totals.cancelled++;
  }

  deadlineExceeded(): void {
    this.totals.deadlinesExceeded++;
  }

  lateAnswer(): void {
    this.totals.lateAnswers++;
  }

  /** Bytes read from a client; `transport` carries the same count per transport. */
  bytesIn(count: number, transport: TransportBytes): void {
    this.totals.bytesIn += count;
    transport.bytesIn += count;
  }

  bytesOut(count: number, transport: TransportBytes): void {
    this.totals.bytesOut += count;
    transport.bytesOut += count;
  }

  /** The byte totals of one transport (a connection keeps the one for its transport). */
  transportBytes(transport: string): TransportBytes {
    let bytes = this.byTransport.get(transport);
    if (!bytes) {
      bytes = { bytesIn: 0, bytesOut: 0 };
      this.byTransport.set(transport, bytes);
    }
    return bytes;
  }

  authFailure(): void {
    this.totals.authFailures++;
  }

  authThrottled(): void {
    this.totals.authThrottled++;
  }

  rejected(): void {
    this.totals.connectionsRejected++;
  }

  slow(): void {
    this.interval.slowResponses++;
    this.totals.slowResponses++;
  }

  opened(openNow: number): void {
    this.interval.clientOpen++;
    this.totals.connectionsAccepted++;
    if (openNow > this.interval.maxConnections) this.interval.maxConnections = openNow;
  }

  closed(): void {
    this.interval.clientClose++;
  }

  /** Ends the current interval; its figures become lastCycle. */
  cycle(openNow: number, now = Date.now()): IntervalStats {
    this.lastCycle = this.interval;
    this.lastCycle.duration = Math.max(1, now - this.intervalStart);
    this.interval = newInterval();
    this.interval.maxConnections = openNow;
    this.intervalStart = now;
    return this.lastCycle;
  }
}
