'use strict';
// A bounded fuzz of the live server. Two real servers run in child processes
// (test/fixtures/daemon.js): one with a roomy max_message_size, one with a
// 64 KiB limit. Many raw connections at once throw garbage at them: random
// bytes, invalid UTF-8, truncated JSON, 100k-deep nesting, lines over the
// limit, odd-but-valid requests, partial lines and hang-ups, bursts of
// connections opened and dropped. Every input is drawn from a seeded PRNG.
//
// Checked: neither server process dies; every line a server sends is JSON
// with data or a code and answers an id we sent (or null); requests whose
// answer is known get exactly that answer; a connection we end gracefully
// gets all its answers and is closed; afterwards the servers serve fresh
// connections, count 0 fuzz connections, and their memory (after a full GC)
// is back near where it was after a warm-up round.
//
// PIXL_IPC_FUZZ_SECONDS=60 runs longer; PIXL_IPC_FUZZ_SEED=<n> replays a seed
// (printed on every run): each worker sends the same inputs again, though
// the interleaving of the connections still depends on timing.
const assert = require('assert');
const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { startServer, makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { rawConnect } = require('../helpers/raw');

const DAEMON = path.join(__dirname, 'fixtures', 'daemon.js');
const ECHO = '/ipcserver/test/echo';
const DELAY = '/ipcserver/test/delay';
const KiB = 1024;
const MiB = 1024 * KiB;
const SMALL_LIMIT = 64 * KiB;
const MAIN_LIMIT = 4 * MiB;
const FUZZ_MS = Math.max(0.5, Number(process.env.PIXL_IPC_FUZZ_SECONDS) || 5) * 1000;
const SEED = process.env.PIXL_IPC_FUZZ_SEED !== undefined && process.env.PIXL_IPC_FUZZ_SEED !== ''
  ? Number(process.env.PIXL_IPC_FUZZ_SEED) >>> 0
  : crypto.randomBytes(4).readUInt32LE(0);
const WORKERS_PER_SERVER = 10;
const DEEP = 100000;
/** How long the server may take to close a connection we have ended, or that it refused. */
const CLOSE_WITHIN_MS = 10000;
/** The warm-up round before memory is measured (see the test for why). */
const WARM_UP_MS = 1500;
/*
 * Memory is checked three ways, each after a full GC in the server, with
 * every fuzz connection closed:
 * - live JS heap: at most HEAP_SLACK above the end of the warm-up. After the
 *   warm-up it holds little more than compiled code, so objects kept per
 *   request or per connection (thousands of each) show up here.
 * - ArrayBuffer memory (Buffers: socket chunks, partial and refused lines):
 *   at most BUFFER_SLACK above the end of the warm-up; it is ~0 when idle.
 * - RSS: at most RSS_SLACK above the highest RSS seen during the warm-up.
 *   Generous on purpose: V8 keeps grown heap spaces and malloc keeps freed
 *   pages for reuse, so an idle RSS does not drop back to where it began, and
 *   how high it stays depends on how many multi-MiB lines happened to be in
 *   memory at once. This catches native memory the other two do not see.
 */
const HEAP_SLACK_BYTES = 8 * MiB;
const BUFFER_SLACK_BYTES = 16 * MiB;
const RSS_SLACK_BYTES = 64 * MiB;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** mulberry32: small, fast, and the same sequence for the same seed on every platform. */
function makeRandom(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng = {
    next,
    /** An integer in [min, max]. */
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (list) => list[Math.floor(next() * list.length)],
    bytes: (n) => {
      const out = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
    /** Chooses among [weight, value] pairs. */
    weighted: (table) => {
      let total = 0;
      for (const [weight] of table) total += weight;
      let roll = next() * total;
      for (const [weight, value] of table) {
        roll -= weight;
        if (roll < 0) return value;
      }
      return table[table.length - 1][1];
    },
  };
  return rng;
}

/** Sets a property as an own property, even `__proto__`. */
function put(object, key, value) {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  return object;
}

const ODD_KEYS = ['__proto__', 'constructor', 'prototype', 'toJSON', 'hasOwnProperty', 'valueOf', '', ' ', 'ipcReqID', 'uri', 'data', 'connection', '\u0000', 'ключ', '🔑', 'a.b', '$ref'];
const ODD_STRINGS = ['', ' ', '\n', '\r\n', '\\', '"', '\u0000', '\u2028\u2029', '\ud83d\ude00', 'naïve café', '日本語', '\ud800', 'null', '{}', '[', '"quoted"', '</script>', '%s%n', 'a'.repeat(300)];
const ODD_NUMBERS = [0, -0, 1, -1, 0.1, 1e21, -1e-7, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), 1.7976931348623157e308, 5e-324, 123456789012345678901234567890];

/** A random JSON value up to `depth` levels deep, with the awkward corners over-represented. */
function randomValue(rng, depth) {
  const kind = depth <= 0 ? rng.int(0, 3) : rng.int(0, 5);
  switch (kind) {
    case 0: return rng.pick([null, true, false]);
    case 1: return rng.chance(0.5) ? rng.pick(ODD_NUMBERS) : (rng.next() - 0.5) * 10 ** rng.int(0, 30);
    case 2: return rng.chance(0.5) ? rng.pick(ODD_STRINGS) : randomText(rng, rng.int(0, 40));
    case 3: return rng.int(-1000000, 1000000);
    case 4: return Array.from({ length: rng.int(0, 6) }, () => randomValue(rng, depth - 1));
    default: {
      const object = {};
      for (let i = rng.int(0, 6); i > 0; i--) put(object, rng.chance(0.4) ? rng.pick(ODD_KEYS) : randomText(rng, rng.int(1, 8)), randomValue(rng, depth - 1));
      return object;
    }
  }
}

/** Random text mixing ASCII, control characters, multi-byte characters and lone surrogates. */
function randomText(rng, length) {
  let text = '';
  for (let i = 0; i < length; i++) {
    const roll = rng.next();
    if (roll < 0.6) text += String.fromCharCode(rng.int(32, 126));
    else if (roll < 0.7) text += String.fromCharCode(rng.int(0, 31));
    else if (roll < 0.9) text += String.fromCharCode(rng.int(0x80, 0xd7ff));
    else if (roll < 0.97) text += String.fromCodePoint(rng.int(0x10000, 0x10ffff));
    else text += String.fromCharCode(rng.int(0xd800, 0xdfff));
  }
  return text;
}

/** Resident memory of a process in bytes, from Linux /proc (NaN elsewhere; only used for the printed peak). */
function rssOf(pid) {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** A server in its own process, so a crash shows up as an exit and its RSS is its own. */
class ChildServer {
  constructor(name, ipcConfig) {
    this.name = name;
    this.dir = makeTempDir('pixl-ipc-fuzz-');
    this.socketPath = path.join(this.dir, 'fuzz.sock');
    this.config = { socket_path: this.socketPath, stats_endpoint: true, log_stats_interval: false, ...ipcConfig };
    this.output = '';
    this.errors = '';
    this.exit = null;
    this.stopping = false;
  }

  /** Spawns the daemon and resolves once it says READY. */
  start() {
    // The daemon, plus a way to ask it for a full garbage collection and its
    // process.memoryUsage() afterwards (SIGUSR2, answered with a line on stderr).
    // Collected twice, a moment apart: Buffer memory is released by a
    // background sweeper after the first collection. It also exits when its
    // stdin closes, so it does not outlive a test process that was killed.
    const preamble = [
      "process.on('SIGUSR2', () => {",
      '  global.gc();',
      "  setTimeout(() => { global.gc(); process.stderr.write('FUZZ-MEMORY ' + JSON.stringify(process.memoryUsage()) + '\\n'); }, 100);",
      '});',
      "process.stdin.on('end', () => process.exit(1)).on('error', () => process.exit(1)).resume().unref();",
      'require(process.argv[1]);',
    ].join('\n');
    this.child = spawn(process.execPath, ['--expose-gc', '-e', preamble, DAEMON, JSON.stringify(this.config), this.dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    // Keep only the tails of what it prints (it echoes its log), for the failure message.
    const keep = (chunk) => { this.output = (this.output + chunk.toString('utf8')).slice(-8000); };
    let errText = '';
    this.child.stderr.on('data', (chunk) => {
      this.errors = (this.errors + chunk.toString('utf8').replace(/^FUZZ-MEMORY .*\n/gm, '')).slice(-4000);
      errText += chunk.toString('utf8');
      let nl;
      while ((nl = errText.indexOf('\n')) !== -1) {
        const lineText = errText.slice(0, nl);
        errText = errText.slice(nl + 1);
        if (lineText.startsWith('FUZZ-MEMORY ') && this.onMemory) this.onMemory(JSON.parse(lineText.slice(12)));
      }
    });
    this.child.on('exit', (code, signal) => { this.exit = { code, signal, expected: this.stopping }; });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not start: ${this.output}`)), 10000);
      const onData = (chunk) => {
        keep(chunk);
        if (/READY \d+/.test(this.output)) {
          clearTimeout(timer);
          this.pid = this.child.pid;
          resolve(this);
        }
      };
      this.child.stdout.on('data', onData);
      this.child.once('exit', () => { clearTimeout(timer); reject(new Error(`${this.name} exited during startup: ${this.output}`)); });
    });
  }

  get alive() {
    return this.exit === null;
  }

  rss() {
    return rssOf(this.pid);
  }

  /** The server's process.memoryUsage() right after a full garbage collection. */
  memoryAfterGc() {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not report its memory`)), 5000);
      this.onMemory = (usage) => { clearTimeout(timer); this.onMemory = null; resolve(usage); };
      this.child.kill('SIGUSR2');
    });
  }

  /** One request on a fresh connection; resolves to the response message. */
  request(uri, data, target = this.socketPath) {
    return new Promise((resolve, reject) => {
      const socket = typeof target === 'string' ? net.connect(target) : net.connect(target.port, '127.0.0.1');
      let text = '';
      const timer = setTimeout(() => { socket.destroy(); reject(new Error(`${this.name}: no answer to ${uri}`)); }, 5000);
      socket.setEncoding('utf8');
      socket.on('connect', () => socket.write(JSON.stringify({ ipcReqID: 'check', uri, data }) + '\n'));
      socket.on('data', (chunk) => {
        text += chunk;
        if (text.includes('\n')) {
          clearTimeout(timer);
          socket.destroy();
          try { resolve(JSON.parse(text.slice(0, text.indexOf('\n')))); } catch (err) { reject(err); }
        }
      });
      socket.on('error', (err) => { clearTimeout(timer); reject(err); });
    });
  }

  async stats() {
    const reply = await this.request('/ipcserver/stats');
    return reply.data;
  }

  /** SIGTERM (a graceful pixl-server shutdown), SIGKILL if it lingers. */
  async stop() {
    if (!this.child || !this.alive) return;
    this.stopping = true;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** Key for an id, so "5" and 5 stay distinct. */
const idKey = (id) => typeof id + ':' + String(id);

/**
 * One raw fuzz connection: writes bytes, reads the server's lines and checks
 * each at once. Problems are collected, not thrown, so one run reports them all.
 */
class FuzzConnection {
  constructor(socket, where, report) {
    this.socket = socket;
    this.where = where;
    this.report = report;
    this.chunks = [];
    this.sent = new Map(); // idKey -> expectation
    this.answered = new Set();
    this.refusedTooLarge = null;
    this.sentWithoutId = false;
    this.linesIn = 0;
    this.ended = false;
    this.closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('end', () => { this.ended = true; });
    socket.on('error', () => {}); // EPIPE / ECONNRESET after a refusal or our own destroy
  }

  static open(target, where, report) {
    return new Promise((resolve, reject) => {
      const socket = typeof target === 'string' ? net.connect(target) : net.connect(target.port, '127.0.0.1');
      socket.once('connect', () => resolve(new FuzzConnection(socket, where, report)));
      socket.once('error', reject);
    });
  }

  problem(what, detail) {
    this.report(`${this.where}: ${what}${detail === undefined ? '' : ' ' + String(detail).slice(0, 300)}`);
  }

  /** Registers a request id we are sending and what its answer must be. */
  expect(id, expectation) {
    this.sent.set(idKey(id), expectation);
  }

  /** Writes bytes, sometimes in several pieces so lines and characters split across reads. */
  async write(bytes, rng) {
    if (this.socket.destroyed || this.socket.writableEnded) return false;
    const pieces = rng && rng.chance(0.2) ? rng.int(2, 6) : 1;
    let offset = 0;
    for (let i = 0; i < pieces && !this.socket.destroyed; i++) {
      const end = i === pieces - 1 ? bytes.length : Math.min(bytes.length, offset + rng.int(1, Math.max(1, Math.floor(bytes.length / 2))));
      if (end > offset && !this.socket.write(bytes.subarray(offset, end))) {
        await new Promise((resolve) => {
          const done = () => { this.socket.off('drain', done); this.socket.off('close', done); resolve(); };
          this.socket.on('drain', done);
          this.socket.on('close', done);
        });
      }
      offset = end;
      if (pieces > 1) await new Promise((resolve) => setImmediate(resolve));
    }
    return !this.socket.destroyed;
  }

  onData(chunk) {
    let start = 0;
    let nl = chunk.indexOf(10);
    while (nl !== -1) {
      this.chunks.push(chunk.subarray(start, nl));
      this.checkLine(Buffer.concat(this.chunks));
      this.chunks = [];
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) this.chunks.push(chunk.subarray(start));
  }

  checkLine(bytes) {
    // A blank line is allowed both ways (PROTOCOL.md): the server sends one to
    // a client that ended its side while requests run, to notice if it has gone.
    if (bytes.length === 0) return;
    this.linesIn++;
    let message;
    try {
      message = JSON.parse(bytes.toString('utf8'));
    } catch {
      this.problem('sent a line that is not JSON:', bytes.toString('utf8', 0, 200));
      return;
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      this.problem('sent a JSON value that is not an object:', bytes.toString('utf8', 0, 200));
      return;
    }
    if (!Object.prototype.hasOwnProperty.call(message, 'ipcReqID')) {
      this.problem('sent a line without ipcReqID (no pushes were asked for):', bytes.toString('utf8', 0, 200));
      return;
    }
    const hasData = Object.prototype.hasOwnProperty.call(message, 'data');
    const hasCode = typeof message.code === 'string' && message.code !== '';
    if (hasCode && (hasData || typeof message.message !== 'string')) this.problem('sent an error line with data or without a message:', bytes.toString('utf8', 0, 200));
    if (message.code === 'message_too_large') this.refusedTooLarge = message;
    const id = message.ipcReqID;
    if (id === null) {
      // Without an id: a refusal, or the answer to a request we sent without one.
      if (!hasCode && !this.sentWithoutId) this.problem('answered with ipcReqID null and no error code:', bytes.toString('utf8', 0, 200));
      return;
    }
    const key = idKey(id);
    if (!this.sent.has(key)) {
      this.problem('answered an id it was never sent:', bytes.toString('utf8', 0, 200));
      return;
    }
    if (this.answered.has(key)) {
      this.problem('answered one request twice:', key);
      return;
    }
    this.answered.add(key);
    const expected = this.sent.get(key);
    if (expected.neverAnswered) this.problem('answered a noReply request', key);
    if (!hasData && !hasCode && !expected.mayBeEmpty) {
      this.problem('answered with neither data nor a code:', bytes.toString('utf8', 0, 200));
    }
    if (expected.echo !== undefined) {
      if (!hasData) this.problem(`echo ${key} failed:`, bytes.toString('utf8', 0, 200));
      else if (JSON.stringify(message.data) !== expected.echo) this.problem(`echo ${key} came back different:`, bytes.toString('utf8', 0, 200));
    }
    if (expected.code !== undefined && message.code !== expected.code) {
      this.problem(`expected ${expected.code} for ${key}, got:`, bytes.toString('utf8', 0, 200));
    }
  }

  /** After a graceful end: every request that must be answered was. */
  checkAllAnswered() {
    for (const [key, expected] of this.sent) {
      if (!expected.optional && !this.answered.has(key)) this.problem('never answered', key);
    }
  }

  /** Resolves true when closed within `ms`. */
  async closedWithin(ms) {
    let timer;
    const closed = await Promise.race([
      this.closed.then(() => true),
      new Promise((resolve) => { timer = setTimeout(() => resolve(false), ms); }),
    ]);
    clearTimeout(timer);
    return closed;
  }
}

/** Builds one request line; `fields` are written in order, `__proto__` included. */
function line(fields) {
  const object = {};
  for (const [key, value] of fields) if (value !== undefined) put(object, key, value);
  return JSON.stringify(object) + '\n';
}

/**
 * The things a fuzz session can send. Each writes to the connection and
 * registers what it expects; returning 'closes' means the server will end the
 * connection (the session stops sending).
 */
function actionsFor(server) {
  const small = server.config.max_message_size === SMALL_LIMIT;
  const limit = server.config.max_message_size;
  const table = [
    [10, 'echo-odd-data', async (c, rng, id) => {
      const data = randomValue(rng, rng.int(0, 8));
      const text = line([['ipcReqID', id], ['uri', ECHO], ['data', data], ['pid', rng.chance(0.5) ? rng.int(1, 99999) : undefined]]);
      c.expect(id, { echo: JSON.stringify(JSON.parse(text).data) });
      await c.write(Buffer.from(text), rng);
    }],
    [6, 'odd-fields', async (c, rng, id) => {
      // A well-formed echo wrapped in strange extra fields: they must not change the answer.
      const fields = [['ipcReqID', id], ['uri', ECHO], ['data', randomValue(rng, 3)]];
      for (let i = rng.int(1, 4); i > 0; i--) {
        const key = rng.pick(['__proto__', 'constructor', 'pid', 'userAgent', 'connection', 'toString', 'noReply', 'extra']);
        let value = randomValue(rng, 2);
        if (key === 'noReply' && value === true) value = false;
        fields.push([key, value]);
      }
      const text = line(fields);
      const parsed = JSON.parse(text);
      c.expect(id, { echo: JSON.stringify(parsed.data), mayBeEmpty: parsed.data === undefined, optional: !!parsed.noReply });
      await c.write(Buffer.from(text), rng);
    }],
    [5, 'uri-wrong-type', async (c, rng, id) => {
      const uri = rng.pick([42, -1.5, true, false, [], ['/ipcserver/test/echo'], { path: ECHO }, 1e308]);
      c.expect(id, { code: 'bad_request' });
      await c.write(Buffer.from(line([['ipcReqID', id], ['uri', uri], ['data', randomValue(rng, 2)]])), rng);
    }],
    [3, 'uri-missing', async (c, rng, id) => {
      c.expect(id, { code: 'no_uri' });
      await c.write(Buffer.from(line([['ipcReqID', id], ['uri', rng.pick([undefined, null, ''])], ['data', 1]])), rng);
    }],
    [4, 'id-wrong-type', async (c, rng) => {
      // Refused with ipcReqID null; the line checker insists null-id lines carry a code.
      const id = rng.pick([{}, { ipcReqID: 'x' }, [], [1, 2], true, false, { __proto__: null }]);
      await c.write(Buffer.from(line([['ipcReqID', id], ['uri', ECHO], ['data', 'x']])), rng);
    }],
    [4, 'random-object', async (c, rng, id) => {
      // Anything at all; only the shape of whatever comes back is checked.
      const object = randomValue(rng, 4);
      if (object && typeof object === 'object' && !Array.isArray(object)) {
        // Our own id, or none: a random id could collide with another request's.
        if (rng.chance(0.5) || Object.prototype.hasOwnProperty.call(object, 'ipcReqID')) put(object, 'ipcReqID', rng.chance(0.8) ? id : null);
        if (object.ipcReqID !== id) c.sentWithoutId = true;
        if (rng.chance(0.5)) put(object, 'uri', rng.pick([ECHO, DELAY, '/ipcserver/auth', '/ipcserver/stats', '/no/such', '__proto__', '/ipcserver/test/echoXX']));
      }
      c.expect(id, { optional: true, mayBeEmpty: true });
      await c.write(Buffer.from(JSON.stringify(object) + '\n'), rng);
    }],
    [5, 'random-bytes', async (c, rng) => {
      await c.write(Buffer.concat([rng.bytes(rng.int(1, rng.chance(0.1) ? 20000 : 600)), Buffer.from('\n')]), rng);
    }],
    [4, 'invalid-utf8-in-string', async (c, rng, id) => {
      // Bytes that are not UTF-8 inside a JSON string: decoded with U+FFFD, echoed as such.
      // Every byte has its high bit set, so none is a newline, quote or backslash.
      const bad = rng.bytes(rng.int(1, 40)).map((b) => b | 0x80);
      const bytes = Buffer.concat([Buffer.from(`{"ipcReqID":${JSON.stringify(id)},"uri":"${ECHO}","data":"`), bad, Buffer.from('"}\n')]);
      c.expect(id, { echo: JSON.stringify(JSON.parse(bytes.toString('utf8')).data) });
      await c.write(bytes, rng);
    }],
    [5, 'truncated', async (c, rng, id) => {
      const text = line([['ipcReqID', id], ['uri', ECHO], ['data', randomValue(rng, 4)]]).slice(0, -1);
      // Always cut before the closing brace, so it cannot parse.
      await c.write(Buffer.from(text.slice(0, rng.int(1, text.length - 1)) + '\n'), rng);
    }],
    [2, 'blank-and-crlf', async (c, rng, id) => {
      c.expect(id, { echo: '"crlf"' });
      await c.write(Buffer.from(`\n  \r\n\t\n{"ipcReqID":${JSON.stringify(id)},"uri":"${ECHO}","data":"crlf"}\r\n`), rng);
    }],
    [3, 'delay', async (c, rng, id) => {
      const delay = rng.pick([0, 1, 5, 20, '7', -1, -0.5, 'soon', 1e400, 2 ** 31, null, true, [3], { ms: 1 }]);
      const text = `{"ipcReqID":${JSON.stringify(id)},"uri":"${DELAY}","data":{"delay":${delay === 1e400 ? '1e400' : JSON.stringify(delay)}}}\n`;
      if (typeof delay === 'number' && delay >= 0 && delay < 2 ** 31) c.expect(id, { echo: JSON.stringify({ delay }) });
      else if (delay === '7') c.expect(id, { echo: '{"delay":7}' });
      else if (delay === null) c.expect(id, { echo: '{"delay":0}' });
      else c.expect(id, { code: 'bad_delay' });
      await c.write(Buffer.from(text), rng);
    }],
    [2, 'notify', async (c, rng, id) => {
      // noReply: nothing may come back for this id.
      c.expect(id, { optional: true, neverAnswered: true });
      await c.write(Buffer.from(line([['ipcReqID', id], ['uri', rng.pick([ECHO, '/no/such', DELAY])], ['data', randomValue(rng, 2)], ['noReply', true]])), rng);
    }],
  ];
  if (!small) {
    table.push(
      [1, 'deep-bare', async (c, rng) => {
        const depth = rng.chance(0.5) ? DEEP : rng.int(1000, DEEP);
        const open = rng.chance(0.5) ? '[' : '{"a":';
        const close = open === '[' ? ']' : '}';
        // Sometimes unterminated, sometimes whole.
        const tail = rng.chance(0.3) ? '' : close.repeat(depth);
        await c.write(Buffer.from(open.repeat(depth) + (open === '[' ? '' : '1') + tail + '\n'), rng);
      }],
      [1, 'deep-data', async (c, rng, id) => {
        // Parses fine, but cannot be serialized back: the server must answer with an error, not die.
        const depth = rng.chance(0.5) ? DEEP : rng.int(20000, DEEP);
        const uri = rng.pick([ECHO, DELAY, '/no/such']);
        const data = uri === DELAY ? '{"delay":' + '['.repeat(depth) + ']'.repeat(depth) + '}' : '['.repeat(depth) + ']'.repeat(depth);
        c.expect(id, {});
        await c.write(Buffer.from(`{"ipcReqID":${JSON.stringify(id)},"uri":"${uri}","data":${data}}\n`), rng);
      }],
      [1, 'large-echo', async (c, rng, id) => {
        const size = rng.int(64 * KiB, MiB);
        const block = randomText(rng, 64).replace(/[\u0000-\u001f"\\\ud800-\udfff]/g, 'x').repeat(Math.ceil(size / 64)).slice(0, size);
        c.expect(id, { echo: JSON.stringify(block) });
        await c.write(Buffer.from(line([['ipcReqID', id], ['uri', ECHO], ['data', block]])), rng);
      }],
    );
  }
  // Lines over the limit end the connection: the last thing a session sends.
  table.push([small ? 4 : 1, 'too-large', async (c, rng, id) => {
    const size = limit + rng.int(1, small ? 4 * MiB : MiB);
    const head = Buffer.from(`{"ipcReqID":${JSON.stringify(id)},"uri":"${ECHO}","data":"`);
    c.expect(id, { code: 'message_too_large' });
    await c.write(head, rng);
    const piece = Buffer.alloc(64 * KiB, rng.pick(['a', 'é', '\u00ff']));
    for (let sent = head.length; sent < size && !c.socket.destroyed && !c.ended; sent += piece.length) await c.write(piece);
    if (rng.chance(0.7)) await c.write(Buffer.from('"}\n'));
    return 'closes';
  }]);
  if (small) {
    table.push([3, 'at-the-limit', async (c, rng, id) => {
      // Lines of exactly limit-2 .. limit+2 bytes (without the newline): up to the limit they are served.
      const delta = rng.int(-2, 2);
      const head = `{"ipcReqID":${JSON.stringify(id)},"uri":"${ECHO}","data":"`;
      const filler = 'f'.repeat(limit + delta - Buffer.byteLength(head) - 2);
      const bytes = Buffer.from(head + filler + '"}\n');
      assert.strictEqual(bytes.length - 1, limit + delta);
      c.expect(id, delta <= 0 ? { echo: JSON.stringify(filler) } : { code: 'message_too_large' });
      await c.write(bytes, rng);
      return delta > 0 ? 'closes' : undefined;
    }]);
  }
  return table;
}

/**
 * A request id unique on its connection (`n` is), in the shapes clients
 * really use and some they might: plain and non-ASCII strings, escaped
 * quotes, negative, fractional and exponent numbers.
 */
function requestId(rng, n) {
  return rng.weighted([
    [4, () => 'r' + n],
    [4, () => n],
    [1, () => 'ключ-é-' + n],
    [1, () => 'quote"\\' + n],
    [1, () => -(n + 1)],
    [1, () => n + 0.5],
    [1, () => (n + 1) * 1e21],
  ])();
}

/** One connection's life: a few actions pipelined, then one of several ways to leave. */
async function runSession(server, rng, where, report, counters) {
  const target = server.config.listen_port && rng.chance(0.3) ? { port: server.config.listen_port } : server.socketPath;
  let c;
  try {
    c = await FuzzConnection.open(target, where, report);
  } catch (err) {
    report(`${where}: could not connect: ${err.message}`);
    return;
  }
  counters.connections++;
  const actions = actionsFor(server);
  let nextId = 0;
  let serverCloses = false;
  for (let n = rng.int(1, 25); n > 0 && !serverCloses; n--) {
    const [, name, act] = rng.weighted(actions.map((entry) => [entry[0], entry]));
    const id = requestId(rng, nextId++);
    counters.actions++;
    counters.byAction[name] = (counters.byAction[name] || 0) + 1;
    serverCloses = (await act(c, rng, id)) === 'closes';
    if (c.socket.destroyed) break;
    if (rng.chance(0.1)) await sleep(rng.int(0, 5));
  }
  if (serverCloses) {
    if (!(await c.closedWithin(CLOSE_WITHIN_MS))) c.problem('did not close a connection after refusing a line that was too long');
    else if (!c.refusedTooLarge) c.problem('closed after a line that was too long without saying message_too_large');
    if (c.chunks.length) c.problem('closed the connection in the middle of a line');
    c.socket.destroy();
    counters.linesChecked += c.linesIn;
    return;
  }
  const ending = rng.pick(['end', 'end', 'end', 'partial-end', 'destroy', 'partial-destroy']);
  if (ending.startsWith('partial')) {
    const partial = `{"ipcReqID":"partial","uri":"${ECHO}","data":"${'p'.repeat(rng.int(0, 5000))}`;
    await c.write(Buffer.from(partial.slice(0, rng.int(1, partial.length))), rng);
  }
  if (ending.endsWith('destroy')) {
    if (rng.chance(0.5)) await sleep(rng.int(0, 10));
    c.socket.destroy();
  } else {
    // Graceful: the server answers everything in flight, then closes.
    c.socket.end();
    if (!(await c.closedWithin(CLOSE_WITHIN_MS))) c.problem(`did not close within ${CLOSE_WITHIN_MS} ms after the client ended (${ending})`);
    else c.checkAllAnswered();
    if (c.chunks.length) c.problem('closed the connection in the middle of a line');
    c.socket.destroy();
  }
  counters.linesChecked += c.linesIn;
}

/**
 * Many connections at once: dropped before or right after connecting,
 * half-closed with or without a request, or cut off after a partial line.
 * Answers are read and thrown away.
 */
async function runBurst(server, rng, where, report, counters) {
  const count = rng.int(5, 30);
  const done = [];
  for (let i = 0; i < count; i++) {
    done.push(new Promise((resolve) => {
      const socket = net.connect(server.socketPath);
      const timer = setTimeout(() => {
        report(`${where}: a connection the client ended was not closed within ${CLOSE_WITHIN_MS} ms`);
        socket.destroy();
      }, CLOSE_WITHIN_MS);
      socket.on('error', () => {});
      socket.resume();
      socket.once('close', () => { clearTimeout(timer); resolve(); });
      const how = rng.int(0, 4);
      if (how === 0) { socket.destroy(); return; } // before the connect completes
      socket.once('connect', () => {
        counters.connections++;
        if (how === 1) socket.destroy();
        else if (how === 2) socket.end();
        else if (how === 3) socket.end(`{"uri":"${ECHO}","data":"burst"}\n`);
        else { socket.write(`{"uri":"${DELAY}","data":{"delay":20}}\n{"uri":"${ECHO}"`); setTimeout(() => socket.destroy(), rng.int(0, 15)); }
      });
    }));
  }
  await Promise.all(done);
}

/** Polls the stats endpoint until only the asking connection is open. */
async function waitForNoConnections(server, ms) {
  const deadline = Date.now() + ms;
  let stats;
  for (;;) {
    stats = await server.stats();
    if (stats.connections === 1 || Date.now() > deadline) return stats;
    await sleep(50);
  }
}

describe('fuzz: garbage from many connections at once', function () {
  this.timeout(FUZZ_MS + 90000);
  const servers = [];

  before(async function () {
    console.log(`      fuzz seed ${SEED} for ${FUZZ_MS / 1000} s (replay with PIXL_IPC_FUZZ_SEED=${SEED}; longer with PIXL_IPC_FUZZ_SECONDS=60)`);
    const tcpPort = await new Promise((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address();
        probe.close(() => resolve(port));
      });
    });
    servers.push(new ChildServer('main server', { max_message_size: MAIN_LIMIT, listen_port: tcpPort }));
    servers.push(new ChildServer('64 KiB server', { max_message_size: SMALL_LIMIT }));
    await Promise.all(servers.map((server) => server.start()));
  });

  after(async function () {
    await Promise.all(servers.map((server) => server.stop()));
    cleanupTempDirs();
  });

  it('survives, answers only in JSON, releases its connections and memory, and serves afterwards', async function () {
    const problems = [];
    const report = (text) => { if (problems.length < 200) problems.push(text); };
    const counters = { connections: 0, actions: 0, linesChecked: 0, byAction: {} };
    const mb = (bytes) => (bytes / MiB).toFixed(1) + ' MiB';

    // One PRNG per worker, kept across both rounds, so a seed replays the same traffic.
    const workers = [];
    servers.forEach((server, s) => {
      for (let w = 0; w < WORKERS_PER_SERVER; w++) {
        workers.push({ server, w, rng: makeRandom((SEED ^ Math.imul(s * 1000 + w + 1, 0x9e3779b1)) >>> 0), session: 0 });
      }
    });
    const fuzzFor = (ms) => {
      const deadline = Date.now() + ms;
      return Promise.all(workers.map(async (worker) => {
        const { server, w, rng } = worker;
        while (Date.now() < deadline && server.alive) {
          const where = `${server.name} worker ${w} session ${worker.session++}`;
          if (rng.chance(0.1)) await runBurst(server, rng, where, report, counters);
          else await runSession(server, rng, where, report, counters);
        }
      }));
    };
    const settle = async () => {
      for (const server of servers) {
        assert.ok(server.alive, `${server.name} died (${JSON.stringify(server.exit)}); seed ${SEED}; stderr:\n${server.errors}\nlast log lines:\n${server.output.slice(-2000)}`);
        const stats = await waitForNoConnections(server, 10000);
        assert.strictEqual(stats.connections, 1, `${server.name}: ${stats.connections - 1} fuzz connections still open (seed ${SEED})`);
        assert.strictEqual(stats.inFlight, 1, 'nothing in flight but the stats request itself');
      }
    };

    for (const server of servers) {
      server.fresh = await server.memoryAfterGc();
      server.rssPeak = server.fresh.rss;
    }
    const sampler = setInterval(() => {
      for (const server of servers) if (server.alive) server.rssPeak = Math.max(server.rssPeak, server.rss() || 0);
    }, 100);
    try {
      // A warm-up round first: the first multi-MiB lines and thousands of
      // requests grow V8's heap spaces and malloc's pools to their working
      // size, and that high-water mark is kept, not leaked. Growth is measured
      // from there, over the main round.
      await fuzzFor(WARM_UP_MS);
      await settle();
      for (const server of servers) {
        server.warm = await server.memoryAfterGc();
        server.warmPeak = server.rssPeak;
      }
      await fuzzFor(FUZZ_MS);
    } finally {
      clearInterval(sampler);
    }
    await settle();
    assert.deepStrictEqual(problems.slice(0, 20), [], `${problems.length} problems with seed ${SEED}`);

    for (const server of servers) {
      // A fresh connection is served normally, on every listener.
      assert.deepStrictEqual(await server.request(ECHO, { after: 'fuzz' }), { ipcReqID: 'check', data: { after: 'fuzz' } });
      if (server.config.listen_port) {
        assert.deepStrictEqual(await server.request(ECHO, 'tcp', { port: server.config.listen_port }), { ipcReqID: 'check', data: 'tcp' });
      }
      const stats = await server.stats();
      const end = await server.memoryAfterGc();
      console.log(`      ${server.name}: ${stats.totals.requests} requests, ${stats.totals.errors} errors; ` +
        `rss ${mb(server.fresh.rss)} fresh, warm-up peak ${mb(server.warmPeak)}, peak ${mb(server.rssPeak)}, end ${mb(end.rss)}; ` +
        `heap used ${mb(server.warm.heapUsed)} -> ${mb(end.heapUsed)}; buffers ${mb(server.warm.arrayBuffers)} -> ${mb(end.arrayBuffers)}`);
      const grew = (what, by) => `${server.name}: ${what} grew by ${mb(by)} (seed ${SEED})`;
      assert.ok(end.heapUsed - server.warm.heapUsed < HEAP_SLACK_BYTES, grew('live heap', end.heapUsed - server.warm.heapUsed));
      assert.ok(end.arrayBuffers - server.warm.arrayBuffers < BUFFER_SLACK_BYTES, grew('Buffer memory', end.arrayBuffers - server.warm.arrayBuffers));
      assert.ok(end.rss - server.warmPeak < RSS_SLACK_BYTES, grew('RSS (over its warm-up peak)', end.rss - server.warmPeak));
    }
    console.log(`      ${counters.connections} connections, ${counters.actions} actions, ${counters.linesChecked} response lines checked`);
    // The run really exercised the cases it claims to (not just a handful of echoes).
    for (const name of ['random-bytes', 'truncated', 'too-large', 'echo-odd-data', 'uri-wrong-type', 'invalid-utf8-in-string', 'deep-data', 'at-the-limit']) {
      assert.ok(counters.byAction[name] > 0, `no ${name} case ran`);
    }
    assert.ok(counters.linesChecked > 100, `only ${counters.linesChecked} response lines`);
  });
});

// Inputs the fuzz found mishandled, replayed exactly. A line over the limit
// is refused naming its request: the id must be the one sent, or null when
// it cannot be read whole, never a different request's id.
describe('fuzz findings: the id in a refusal of a line that is too long', function () {
  let h;
  before(async function () { h = await startServer({ max_message_size: SMALL_LIMIT }); });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  /** Sends `pieces` (pausing between them, so the server reads each on its own), then enough to pass the limit. */
  async function refusalFor(pieces) {
    const client = await rawConnect(h.socketPath);
    try {
      for (const piece of pieces) {
        await client.write(piece);
        await sleep(30);
      }
      await client.write(Buffer.alloc(SMALL_LIMIT + 10, 'a'));
      await client.write('"}\n');
      const reply = await client.next();
      assert.strictEqual(reply.code, 'message_too_large');
      return reply.ipcReqID;
    } finally {
      client.destroy();
    }
  }

  it('an id split between two reads is read whole (17, not 1)', async function () {
    assert.strictEqual(await refusalFor(['{"ipcReqI', 'D":1', '7,"uri":"/ipcserver/test/echo","data":"']), 17);
    assert.strictEqual(await refusalFor(['{"ipcReqID":"spl', 'it","uri":"/ipcserver/test/echo","data":"']), 'split');
  });

  it('fractional, exponent and non-ASCII ids come back as sent', async function () {
    for (const id of [1.5, -2, 3e21, 'ключ-é', 'a"b\\c']) {
      assert.deepStrictEqual(await refusalFor([`{"ipcReqID":${JSON.stringify(id)},"uri":"/ipcserver/test/echo","data":"`]), id);
    }
  });

  it('a number cut off by the end of the 256-byte head gives null, not its first digits', async function () {
    const before = '{"pad":"';
    const after = '","ipcReqID":';
    // The id's digits start at byte 253, so the head ends after "123".
    const pad = 'p'.repeat(253 - before.length - after.length);
    assert.strictEqual(await refusalFor([before + pad + after + '123456,"uri":"/ipcserver/test/echo","data":"']), null);
  });
});
