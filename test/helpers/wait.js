'use strict';
// Waiting in tests: a promise-based sleep, and polling until a condition holds.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves once `check()` (which may be async) returns something truthy;
 * rejects with "timed out waiting for <what>" after `timeoutMs`.
 */
async function waitFor(check, what = 'condition', timeoutMs = 3000, pollMs = 5) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await sleep(pollMs);
  }
}

module.exports = { sleep, waitFor };
