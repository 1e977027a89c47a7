'use strict';
// Our server as users run it: a real pixl-server with the IPCServer component
// (the built package, `npx tsc -p .` first), serving its built-in echo endpoint.
// BENCH_CONFIG (JSON) holds a variant's IPCServer config overrides (bench/variants.js).
const path = require('path');
const PixlServer = require('pixl-server');
const { serveControl, announceListening } = require('./control');

const socketPath = process.env.BENCH_SOCKET;
const logDir = process.env.BENCH_LOG_DIR;
if (!socketPath || !logDir) throw new Error('BENCH_SOCKET and BENCH_LOG_DIR must be set');
const overrides = process.env.BENCH_CONFIG ? JSON.parse(process.env.BENCH_CONFIG) : {};

const server = new PixlServer({
  __name: 'PixlIPCBench',
  __version: '1.0',
  config: {
    foreground: true,
    log_dir: logDir,
    log_filename: 'bench.log',
    debug_level: 1,
    IPCServer: Object.assign({ socket_path: socketPath, log_stats_interval: false }, overrides),
  },
  components: [require(path.join(__dirname, '..'))],
});

server.startup(() => {
  announceListening();
  serveControl((done) => server.shutdown(done));
});
