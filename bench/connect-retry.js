'use strict';
// Connecting with retries. A Unix socket whose listen backlog is full refuses
// a non-blocking connect with EAGAIN; on a loaded machine that happens while
// hundreds of benchmark connections open at once. It says "try again", so we
// do, after a growing, jittered pause, rather than failing the run.

const TRANSIENT = new Set(['EAGAIN', 'EWOULDBLOCK', 'ECONNREFUSED', 'ETIMEDOUT', 'connect_timeout']);
const ATTEMPTS = 10;
const FIRST_DELAY_MS = 5;
const MAX_DELAY_MS = 1000;

/** The error code of a connect failure, looking through an IPCError's cause. */
function codeOf(err) {
  if (!err) return undefined;
  if (TRANSIENT.has(err.code)) return err.code;
  if (err.cause && TRANSIENT.has(err.cause.code)) return err.cause.code;
  const match = /\b(EAGAIN|EWOULDBLOCK|ECONNREFUSED)\b/.exec(String(err.message));
  return match ? match[1] : err.code;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `attempt()` (which resolves to a connected client or rejects) until it
 * succeeds, retrying transient failures with exponential backoff and jitter.
 * `onRetry(code)` counts retries for the report.
 */
async function connectWithRetry(attempt, { attempts = ATTEMPTS, onRetry = () => {} } = {}) {
  let delay = FIRST_DELAY_MS;
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (err) {
      const code = codeOf(err);
      if (!TRANSIENT.has(code) || tried >= attempts) throw err;
      onRetry(code);
      await sleep(delay * (0.5 + Math.random()));
      delay = Math.min(MAX_DELAY_MS, delay * 2);
    }
  }
}

module.exports = { connectWithRetry, codeOf };
