/**
 * The shapes of the figures the server reports: getStats(), the stats uri,
 * the per-endpoint report. Types only, so the public declarations need
 * nothing from the classes that count (stats.ts, endpoint-stats.ts,
 * histogram.ts, metrics.ts).
 */

export interface LatencySummary {
  count: number;
  /** Sum of every duration, in ms. */
  sum: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface EndpointFigures {
  requests: number;
  errors: number;
  bytesIn: number;
  bytesOut: number;
  latencyMs: LatencySummary;
}

export interface EndpointReport {
  totals: EndpointFigures;
  interval: EndpointFigures;
  last: EndpointFigures;
}

export interface ProcessFigures {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  cpuUserMs: number;
  cpuSystemMs: number;
}

/** The counts of one stats interval (the last completed one is in getStats()). */
export interface IntervalStats {
  requests: number;
  clientOpen: number;
  clientClose: number;
  /** The most connections open at once during the interval. */
  maxConnections: number;
  slowResponses: number;
  errors: number;
  /** Length of the interval in ms (set when it is cycled). */
  duration: number;
}

export interface TotalStats {
  requests: number;
  /** Requests answered with data (sent or not); error answers count in `errors`. */
  responses: number;
  /** Fire-and-forget requests run. */
  notifications: number;
  errors: number;
  slowResponses: number;
  /** Responses that could not be sent because the client had gone. */
  droppedResponses: number;
  bytesIn: number;
  bytesOut: number;
  connectionsAccepted: number;
  connectionsRejected: number;
  authFailures: number;
  /** Credential checks made to wait their turn after repeated failures from the same peer. */
  authThrottled: number;
  pushes: number;
  /** Pushes and broadcasts not sent because the client was more than max_output_buffer behind. */
  pushesDropped: number;
  /** Connections refused or cut off to keep the server-wide input or output budget. */
  overloadRefusals: number;
  /** Connections closed because a line was not complete within line_timeout. */
  lineTimeouts: number;
  /** Requests the caller cancelled while they ran. */
  cancelled: number;
  /** Requests answered `deadline_exceeded`. */
  deadlinesExceeded: number;
  /** Handler answers that came after their request was cancelled, timed out or abandoned (dropped). */
  lateAnswers: number;
  /** Requests refused `over_budget`, and collected answers cut off for the same reason. */
  overBudget: number;
}

/** What getStats() returns. */
export interface IPCServerStats extends IntervalStats {
  /** Connections open now. */
  connections: number;
  /** Registered URI handlers (2 on a fresh server: the built-in test uris). */
  handlers: number;
  /** Requests running now. */
  inFlight: number;
  /** Ms since startup. */
  uptime: number;
  /** Since startup. */
  totals: TotalStats & {
    /** Log lines the host's logger could not write. */
    logWriteFailures: number;
  };
  /** Bytes of unfinished request lines held across all connections. */
  bufferedInput: number;
  /** Bytes charged to the memory budgets for requests in flight (what parsed requests hold, estimated). */
  inFlightBytes: number;
  /** Bytes of answers queued for clients that fell behind. */
  queuedOutput: number;
  process: ProcessFigures;
  /** Per handler name (unmatched uris under `(unmatched)`). */
  endpoints: Record<string, EndpointReport>;
}
