/**
 * Logs slow responses, at most `perSecond` lines in any one-second window:
 * a burst of slow requests (a stalled backend) must not flood the log. Lines
 * left out are counted and the count is given with the next line logged.
 */

/** How much of the uri a log line shows: the uri is the client's, of any length. */
export const URI_EXCERPT_CHARS = 120;

export interface SlowRequest {
  handler: string;
  uri: string;
  connectionId: number;
  ms: number;
}

export type SlowLogWriter = (message: string, data: Record<string, unknown>) => void;

/** The start of a uri, safe for one log line (control characters escaped). */
export function uriExcerpt(uri: string): string {
  const cut = uri.length > URI_EXCERPT_CHARS ? uri.slice(0, URI_EXCERPT_CHARS) + '…' : uri;
  // JSON escaping turns newlines and other control characters into visible escapes.
  return JSON.stringify(cut).slice(1, -1);
}

export class SlowRequestLog {
  /** Lines left out since startup. */
  suppressedTotal = 0;
  private windowStart = -Infinity;
  private loggedInWindow = 0;
  private suppressedSinceLast = 0;

  constructor(
    private readonly perSecond: number,
    private readonly write: SlowLogWriter,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reports one slow response; returns whether it was logged. */
  report(slow: SlowRequest): boolean {
    const now = this.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.loggedInWindow = 0;
    }
    if (this.loggedInWindow >= this.perSecond) {
      this.suppressedSinceLast++;
      this.suppressedTotal++;
      return false;
    }
    this.loggedInWindow++;
    const ms = Math.round(slow.ms * 1000) / 1000;
    const uri = uriExcerpt(slow.uri);
    const data: Record<string, unknown> = { handler: slow.handler, uri, connection: slow.connectionId, ms };
    let message = `Slow response: ${slow.handler} took ${ms} ms (connection ${slow.connectionId}, uri ${uri})`;
    if (this.suppressedSinceLast > 0) {
      data.suppressed = this.suppressedSinceLast;
      message += `; ${this.suppressedSinceLast} more slow responses not logged before this one`;
      this.suppressedSinceLast = 0;
    }
    this.write(message, data);
    return true;
  }
}
