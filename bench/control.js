'use strict';
// The control channel between a benchmarked server process and bench/run.js:
// the Node IPC channel of the child process, so measuring never touches the
// socket being measured. Both servers (raw and ours) answer it the same way.

/**
 * Answer the orchestrator's control messages. `stop(done)` shuts the server
 * down; the process then exits, so `--cpu-prof` can write its profile.
 */
function serveControl(stop) {
  if (!process.send) throw new Error('bench servers are started by bench/run.js (they need its IPC channel)');
  process.on('message', (message) => {
    if (!message || typeof message !== 'object') return;
    if (message.cmd === 'stats') {
      // With --expose-gc, `gc: true` collects garbage first: what stays is what connections hold.
      if (message.gc && typeof global.gc === 'function') global.gc();
      const memory = process.memoryUsage();
      process.send({ type: 'stats', id: message.id, cpu: process.cpuUsage(), rss: memory.rss, heapUsed: memory.heapUsed });
    } else if (message.cmd === 'shutdown') {
      stop(() => process.exit(0));
    }
  });
  // The orchestrator died: never outlive it.
  process.on('disconnect', () => process.exit(0));
}

/** Tell the orchestrator the server accepts connections. */
function announceListening() {
  process.send({ type: 'listening', pid: process.pid });
}

module.exports = { serveControl, announceListening };
