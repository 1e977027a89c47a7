'use strict';
// A bare socket client for protocol tests: writes raw bytes, reads lines.
const net = require('net');

/**
 * Calls `onMessage` with each newline-terminated line `stream` delivers, parsed
 * as JSON (a line split across chunks, even inside a UTF-8 character, is
 * joined first). `skipBlank`: ignore lines of only whitespace, as clients must
 * (the server may send "\n" to a client that half-closed).
 */
function onLines(stream, onMessage, { skipBlank = false } = {}) {
  let buffer = Buffer.alloc(0);
  stream.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk]);
    let nl;
    while ((nl = buffer.indexOf(10)) !== -1) {
      const line = buffer.subarray(0, nl).toString('utf8');
      buffer = buffer.subarray(nl + 1);
      if (skipBlank && line.trim() === '') continue;
      onMessage(JSON.parse(line));
    }
  });
}

class RawClient {
  constructor(socket) {
    this.socket = socket;
    this.lines = [];
    this.waiters = [];
    this.ended = false;
    this.closed = new Promise((resolve) => socket.once('close', resolve));
    onLines(socket, (message) => {
      this.lines.push(message);
      this.wake();
    });
    socket.on('end', () => { this.ended = true; this.wake(); });
    socket.on('error', () => {});
  }

  wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Writes a string, a Buffer, or an object (as one JSON line). */
  write(data) {
    if (typeof data === 'object' && !Buffer.isBuffer(data)) data = JSON.stringify(data) + '\n';
    return new Promise((resolve) => this.socket.write(data, resolve));
  }

  /** The next message, or rejects after `ms` / at end of stream. */
  next(ms = 3000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message within ' + ms + ' ms')), ms);
      const check = () => {
        if (this.lines.length) { clearTimeout(timer); resolve(this.lines.shift()); }
        else if (this.ended) { clearTimeout(timer); reject(new Error('stream ended')); }
        else this.waiters.push(check);
      };
      check();
    });
  }

  /** Collects `count` messages. */
  async take(count, ms = 5000) {
    const out = [];
    for (let i = 0; i < count; i++) out.push(await this.next(ms));
    return out;
  }

  /** Resolves when the server has ended the stream. */
  waitEnd(ms = 3000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('stream did not end within ' + ms + ' ms')), ms);
      const check = () => {
        if (this.ended) { clearTimeout(timer); resolve(); } else this.waiters.push(check);
      };
      check();
    });
  }

  destroy() { this.socket.destroy(); }
}

/** Connects to a Unix socket path or {port, host}. */
function rawConnect(target) {
  return new Promise((resolve, reject) => {
    const socket = typeof target === 'string' ? net.connect(target) : net.connect(target.port, target.host || '127.0.0.1');
    socket.once('connect', () => resolve(new RawClient(socket)));
    socket.once('error', reject);
  });
}

module.exports = { rawConnect, RawClient, onLines };
