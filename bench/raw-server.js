'use strict';
// The raw baseline server: newline-delimited JSON echo over a Unix socket in
// plain Node (net, JSON.parse, JSON.stringify), one write per response. It
// answers every request with {ipcReqID, data} like the real echo endpoint, so
// every client can run against both servers unchanged.
const fs = require('fs');
const net = require('net');
const { onLines } = require('./raw-lines');
const { serveControl, announceListening } = require('./control');

const socketPath = process.env.BENCH_SOCKET;
if (!socketPath) throw new Error('BENCH_SOCKET is not set');

const server = net.createServer((socket) => {
  socket.on('error', () => {});
  onLines(socket, (line) => {
    let request;
    try {
      request = JSON.parse(line);
    } catch {
      socket.write('{"ipcReqID":null,"code":"bad_json","message":"bad JSON"}\n');
      return;
    }
    socket.write(JSON.stringify({ ipcReqID: request.ipcReqID, data: request.data }) + '\n');
  });
});

fs.rmSync(socketPath, { force: true });
server.listen(socketPath, announceListening);
serveControl((done) => {
  server.close(done);
  // Sockets still open would keep close() waiting.
  setTimeout(done, 200).unref();
});
