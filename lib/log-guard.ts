/**
 * Keeps logging from ending the daemon. pixl-server's logger appends to its
 * file synchronously, so a full disk (ENOSPC), a file-size limit (EFBIG) or
 * running out of descriptors (EMFILE) throws out of whatever was logging, which
 * can be a socket callback, and so out of the process. The guard wraps the
 * host logger's `print` once: a failed write is counted and reported on stderr
 * at most once per burst, and the line is lost instead of the process.
 */

/** The part of pixl-logger the guard touches. */
interface PrintingLogger {
  print(args: Record<string, unknown>): void;
  [key: string]: unknown;
}

export interface LogGuardStats {
  /** Log lines that could not be written. */
  failedWrites: number;
  /** The last write error's code (ENOSPC, EMFILE, ...), or null. */
  lastError: string | null;
}

/** How long after a reported failure further failures stay quiet. */
const REPORT_EVERY_MS = 10_000;

const GUARDED = Symbol.for('pixl-ipc.logGuard');

/**
 * Wraps `logger.print` so that it never throws. Idempotent: a logger shared by
 * several components (or guarded again after a restart) is wrapped once, and
 * every caller gets the same stats object.
 */
export function guardLogger(logger: unknown, report: (message: string) => void = (m) => process.stderr.write(m + '\n')): LogGuardStats | null {
  if (!logger || typeof (logger as PrintingLogger).print !== 'function') return null;
  const target = logger as PrintingLogger & { [GUARDED]?: LogGuardStats };
  if (target[GUARDED]) return target[GUARDED];
  const stats: LogGuardStats = { failedWrites: 0, lastError: null };
  const print = target.print;
  let lastReport = 0;
  let quiet = 0;
  target.print = function guardedPrint(this: PrintingLogger, args: Record<string, unknown>): void {
    try {
      print.call(this, args);
    } catch (err) {
      stats.failedWrites++;
      stats.lastError = (err as NodeJS.ErrnoException).code ?? String((err as Error).message ?? err);
      const now = Date.now();
      if (now - lastReport >= REPORT_EVERY_MS) {
        const suppressed = quiet > 0 ? ` (${quiet} more since the last report)` : '';
        lastReport = now;
        quiet = 0;
        try {
          report(`pixl-ipc: a log line could not be written: ${(err as Error).message ?? err}${suppressed}; the daemon keeps running`);
        } catch {
          // stderr may be gone too; nothing else to tell.
        }
      } else {
        quiet++;
      }
    }
  };
  Object.defineProperty(target, GUARDED, { value: stats, enumerable: false });
  return stats;
}
