'use strict';
// Starts a real pixl-server with the real IPCServer component on a socket in a
// fresh temporary directory, and cleans up after it.
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const PixlServer = require('pixl-server');

const tempDirs = [];

/** A new empty temporary directory, removed by cleanupTempDirs(). */
function makeTempDir(prefix = 'pixl-ipc-test-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

function cleanupTempDirs() {
  while (tempDirs.length) fs.rmSync(tempDirs.pop(), { recursive: true, force: true });
}

/** A socket path in a fresh temporary directory. */
function tmpSocketPath(name = 'ipc.sock') {
  return path.join(makeTempDir(), name);
}

/**
 * Start a server. `ipcConfig` is merged into the IPCServer config (socket_path
 * defaults to a fresh temp path); `hostConfig` into the pixl-server config.
 * Resolves to { server, ipc, socketPath, logDir, stop() }.
 */
function startServer(ipcConfig = {}, hostConfig = {}) {
  const logDir = makeTempDir('pixl-ipc-log-');
  const socketPath = ipcConfig.socket_path || path.join(logDir, 'ipc.sock');
  const config = Object.assign({
    debug: true,
    foreground: true,
    log_dir: logDir,
    log_filename: 'test.log',
    debug_level: 5,
    IPCServer: Object.assign({ socket_path: socketPath, log_stats_interval: false }, ipcConfig),
  }, hostConfig);
  const server = new PixlServer({
    __name: 'IPCTestServer',
    __version: '1.0',
    config,
    components: [require('pixl-ipc')],
  });
  return new Promise((resolve) => {
    server.startup(() => {
      resolve({
        server,
        ipc: server.IPCServer,
        socketPath,
        logDir,
        stop: () => stopServer(server),
      });
    });
  });
}

/** Shut a server down (pixl-server also detaches its signal handlers). */
function stopServer(server) {
  return new Promise((resolve) => {
    if (server.shut) return resolve();
    server.shutdown(() => resolve());
  });
}

/** A loopback TCP port that was free a moment ago: bind port 0, note it, close. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

module.exports = { startServer, stopServer, tmpSocketPath, makeTempDir, cleanupTempDirs, freePort };
