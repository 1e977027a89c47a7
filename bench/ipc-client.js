'use strict';
// Our Node client as users run it (the built package, `npx tsc -p .` first).
const path = require('path');

/** A real IPCClient for the Unix socket at `socketPath` (not connected yet). */
function createIpcClient(socketPath) {
  const IPCClient = require(path.join(__dirname, '..', 'dist', 'client'));
  // No reconnecting: a benchmark connection that drops is an error, not something to hide.
  return new IPCClient(socketPath, null, { autoReconnect: false });
}

module.exports = { createIpcClient };
