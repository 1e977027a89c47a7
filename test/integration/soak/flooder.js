'use strict';
// A raw client for the flood test: writes small numbered echo requests and
// reads nothing until told to; then it checks each request is answered once.
const net = require('net');

const ECHO = '/ipcserver/test/echo';
const FLOOD_PAD = 'p'.repeat(64);
let nextMarkerPid = 999000001;

/** Bytes of the server's answers to the first `count` flood requests. */
function answerBytes(count) {
  let bytes = 0;
  for (let i = 0; i < count; i++) bytes += JSON.stringify({ ipcReqID: i, data: { i, p: FLOOD_PAD } }).length + 1;
  return bytes;
}

class Flooder {
  /** Connects to a Unix socket; resolves to a Flooder that will send `total` requests. */
  static connect(socketPath, total) {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(socketPath);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        resolve(new Flooder(socket, total));
      });
    });
  }

  constructor(socket, total) {
    this.socket = socket;
    this.total = total;
    /** Requests handed to the socket so far. */
    this.written = 0;
    /** Correct answers read so far. */
    this.received = 0;
    this.answers = new Uint8Array(total);
    /** The first few wrong, unreadable or repeated answers. */
    this.problems = [];
    this.error = null;
    /** A made-up pid sent with the first request: it tells this connection apart in the server's connection list. */
    this.pid = nextMarkerPid++;
    socket.pause(); // read nothing: the kernel buffer fills, then the server's output queue
    socket.on('error', (err) => { this.error = err; });
  }

  /** Request lines `from` .. `from + count - 1`. */
  lines(from, count) {
    let text = '';
    if (from === 0) text = `{"ipcReqID":0,"uri":"${ECHO}","data":{"i":0,"p":"${FLOOD_PAD}"},"pid":${this.pid}}\n`;
    for (let i = Math.max(from, 1); i < from + count; i++) text += `{"ipcReqID":${i},"uri":"${ECHO}","data":{"i":${i},"p":"${FLOOD_PAD}"}}\n`;
    return text;
  }

  /**
   * Writes the requests in batches of 1000, waiting for the socket to drain.
   * Resolves 'done' when all are written, or 'stalled' when the socket has not
   * drained for `stallMs` (the server stopped reading). Call again to go on.
   */
  async pump(stallMs = Infinity) {
    while (this.written < this.total) {
      const count = Math.min(1000, this.total - this.written);
      const more = this.socket.write(this.lines(this.written, count));
      this.written += count;
      if (!more && !(await this.drained(stallMs))) return 'stalled';
    }
    return 'done';
  }

  /** true on drain, false after `ms`; rejects if the connection closes. */
  drained(ms) {
    return new Promise((resolve, reject) => {
      let timer = null;
      const finish = (result) => {
        if (timer) clearTimeout(timer);
        this.socket.removeListener('drain', onDrain);
        this.socket.removeListener('close', onClose);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const onDrain = () => finish(true);
      const onClose = () => finish(new Error('flooder connection closed: ' + (this.error && this.error.message)));
      this.socket.on('drain', onDrain);
      this.socket.on('close', onClose);
      if (ms !== Infinity) timer = setTimeout(() => finish(false), ms);
    });
  }

  /** Starts reading and checking the answers. */
  read() {
    let rest = '';
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      for (const line of lines) this.check(line);
    });
    this.socket.resume();
  }

  check(line) {
    let message = null;
    try {
      message = JSON.parse(line);
    } catch (err) {
      // reported below
    }
    const id = message && message.ipcReqID;
    if (!message || !message.data || message.data.i !== id || message.data.p !== FLOOD_PAD || !(id >= 0 && id < this.total)) {
      if (this.problems.length < 5) this.problems.push('wrong answer: ' + line.slice(0, 200));
      return;
    }
    if (this.answers[id]++ > 0) {
      if (this.problems.length < 5) this.problems.push('answered twice: ' + id);
      return;
    }
    this.received++;
  }

  /** How many requests have no answer yet. */
  unanswered() {
    let count = 0;
    for (let i = 0; i < this.total; i++) if (this.answers[i] === 0) count++;
    return count;
  }

  destroy() {
    this.socket.destroy();
  }
}

module.exports = { Flooder, answerBytes };
