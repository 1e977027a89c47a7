'use strict';
// A scripted stand-in for a pixl-ipc server (not the real one): a Unix socket
// server that reads request lines and lets a test decide every answer. For
// client behaviour the real server does not offer yet, or cannot be made to
// show on demand (a goaway at a chosen moment, a late answer).
const net = require('net');
const { onLines } = require('./raw');

class ScriptedConnection {
  constructor(socket, server) {
    this.socket = socket;
    this.server = server;
    this.requests = [];
    this.ended = false;
    this.closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('end', () => { this.ended = true; });
    socket.on('error', () => {});
  }

  /** Writes one message as a JSON line; resolves when the kernel took it (or at once if it is full: see `drained`). */
  send(message) {
    return this.socket.write(JSON.stringify(message) + '\n');
  }

  /** Resolves once the socket's write buffer has drained. */
  drained() {
    return this.socket.writableLength === 0 ? Promise.resolve() : new Promise((resolve) => this.socket.once('drain', resolve));
  }

  destroy() { this.socket.destroy(); }
}

/**
 * Listens on `socketPath`. `onRequest(request, connection)` is called for every
 * line (parsed); what it returns, if not undefined, is sent as the answer's data.
 */
function scriptedServer(socketPath, onRequest) {
  const connections = [];
  const lines = [];
  const server = net.createServer((socket) => {
    const connection = new ScriptedConnection(socket, server);
    connections.push(connection);
    onLines(socket, (request) => {
      lines.push(request);
      connection.requests.push(request);
      const data = onRequest(request, connection);
      if (data !== undefined && request.ipcReqID !== undefined && !request.noReply) connection.send({ ipcReqID: request.ipcReqID, data });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve({
      server,
      socketPath,
      connections,
      /** Every request line read, on any connection. */
      lines,
      close: () => new Promise((done) => { connections.forEach((c) => c.destroy()); server.close(() => done()); }),
    }));
  });
}

module.exports = { scriptedServer };
