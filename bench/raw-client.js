'use strict';
// The raw baseline client: plain net + JSON, one write per request, responses
// matched to callbacks by ipcReqID. Same send(uri, data, callback) shape as the
// real client, so the workloads drive both with the same code.
const net = require('net');
const { onLines } = require('./raw-lines');

class RawClient {
  /** A client for the Unix socket at `socketPath` (not connected yet). */
  constructor(socketPath) {
    this.socketPath = socketPath;
    this.socket = null;
    this.nextId = 1;
    this.pending = new Map();
  }

  /** Connect; `callback(err)` once connected. */
  connect(callback) {
    const socket = net.connect(this.socketPath);
    this.socket = socket;
    let connecting = true;
    socket.once('connect', () => {
      connecting = false;
      callback(null);
    });
    socket.on('error', (err) => {
      if (connecting) {
        connecting = false;
        callback(err);
      }
      this.failAll(err);
    });
    socket.on('close', () => this.failAll(new Error('connection closed')));
    onLines(socket, (line) => {
      const response = JSON.parse(line);
      const done = this.pending.get(response.ipcReqID);
      if (!done) return;
      this.pending.delete(response.ipcReqID);
      if (response.code) done(new Error(response.code + ': ' + response.message));
      else done(null, response.data);
    });
  }

  /** Send one request; `callback(err, data)` with the response. */
  send(uri, data, callback) {
    const id = this.nextId++;
    this.pending.set(id, callback);
    this.socket.write(JSON.stringify({ ipcReqID: id, uri, data }) + '\n');
  }

  /** Close the connection. */
  close() {
    if (this.socket) this.socket.end();
  }

  failAll(err) {
    const pending = this.pending;
    this.pending = new Map();
    for (const done of pending.values()) done(err);
  }
}

module.exports = { RawClient };
