'use strict';
// The server for the soak and flood tests, in its own process so a test can
// stop it with SIGTERM, start it again on the same socket and read its memory.
// Run with --expose-gc so /soak/memory can measure the heap after a full GC.
// Usage: node --expose-gc server.js '<IPCServer config JSON>' <logDir>
// Prints "READY <pid>" once listening, and "STATS <json>" after a clean shutdown.
const PixlServer = require('pixl-server');

const ipcConfig = JSON.parse(process.argv[2] || '{}');
const server = new PixlServer({
  __name: 'IPCSoakServer',
  __version: '1.0',
  config: {
    foreground: true,
    echo: false,
    debug_level: 1,
    log_dir: process.argv[3],
    log_filename: 'soak-server.log',
    IPCServer: ipcConfig,
  },
  components: [require('pixl-ipc')],
});

/** Sums of what this process saw, for the test to compare with its clients' counts. */
let peakConnections = 0;
let hangups = 0;

function summary(ipc) {
  const clients = ipc.getConnections().map((connection) => connection.toJSON());
  return Object.assign({}, ipc.getStats(), { peakConnections, hangups, clients });
}

server.startup(() => {
  const ipc = server.IPCServer;
  ipc.on('connect', () => {
    peakConnections = Math.max(peakConnections, ipc.getConnections().length);
  });
  // Echo after a short wait, so some requests are still running when the server is told to stop.
  ipc.addURIHandler('/soak/slow', 'slow', (request, callback) => {
    setTimeout(() => callback(request.data), request.data.delay);
  });
  // Drops the connection the request came on; the answer has nowhere to go.
  ipc.addURIHandler('/soak/hangup', 'hangup', (request, callback) => {
    hangups++;
    request.connection.destroy('server');
    callback(request.data);
  });
  // Memory after a full collection (when gc is exposed), plus the server's counters.
  ipc.addURIHandler('/soak/memory', 'memory', (request, callback) => {
    if (typeof global.gc === 'function') {
      global.gc();
      global.gc();
    }
    callback(Object.assign({ memory: process.memoryUsage(), gcExposed: typeof global.gc === 'function' }, summary(ipc)));
  });
  server.on('shutdown', () => process.stdout.write('STATS ' + JSON.stringify(summary(ipc)) + '\n'));
  process.stdout.write('READY ' + process.pid + '\n');
});
