'use strict';
// Our Node client as users run it (the built package, `npx tsc -p .` first).
const path = require('path');

/** A real IPCClient for the Unix socket at `socketPath` (not connected yet), with a variant's options on top. */
function createIpcClient(socketPath, options = {}) {
  const IPCClient = require(path.join(__dirname, '..', 'dist', 'client'));
  // No reconnecting: a benchmark connection that drops is an error, not something to hide.
  // A long request timeout: on a loaded machine a 32 MiB round trip can take more than the default 10 s.
  return new IPCClient(socketPath, null, Object.assign({ autoReconnect: false, requestTimeout: 120000 }, options));
}

module.exports = { createIpcClient };
