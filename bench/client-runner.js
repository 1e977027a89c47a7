'use strict';
// A benchmark client process (an "agent"). bench/run.js starts one per
// contender and keeps it for a whole repetition, sending it commands over the
// Node IPC channel: connect, then measure one point at a time, so contenders
// can take turns point by point (A B A B) instead of running back to back.
// Measurements that need the server's CPU time taken around a window stop at a
// checkpoint: they report "ready" and wait for "go".
const net = require('net');
const { messageFor, smallMessage, ECHO_URI } = require('./messages');
const { sequential, pipelined } = require('./workloads');
const { RawClient } = require('./raw-client');
const { connectWithRetry } = require('./connect-retry');
const { quantile, median } = require('./stats');

/** Connections are opened this many at a time, to stay near the listen backlog. */
const CONNECT_BATCH = 50;

let clients = [];
let kind = 'raw';
let retries = 0;
const goWaiters = new Map();

process.on('message', (message) => {
  if (!message || typeof message !== 'object') return;
  if (message.cmd === 'go') {
    const resume = goWaiters.get(message.id);
    goWaiters.delete(message.id);
    if (resume) resume();
    return;
  }
  if (message.cmd === 'exit') {
    closeAll();
    process.exit(0);
  }
  run(message);
});
process.on('disconnect', () => process.exit(0));

function checkpoint(id, details = {}) {
  return new Promise((resolve) => {
    goWaiters.set(id, resolve);
    process.send(Object.assign({ type: 'ready', id }, details));
  });
}

function newClient(socketPath, options) {
  if (kind === 'raw') return new RawClient(socketPath);
  return require('./ipc-client').createIpcClient(socketPath, options);
}

function connectOnce(socketPath, options) {
  const client = newClient(socketPath, options);
  return new Promise((resolve, reject) => client.connect((err) => {
    if (!err) return resolve(client);
    try { client.close(); } catch { /* never opened */ }
    reject(err);
  }));
}

async function connectMany(socketPath, count, options) {
  const connected = [];
  const onRetry = () => { retries++; };
  while (connected.length < count) {
    const batch = [];
    for (let i = 0; i < CONNECT_BATCH && connected.length + batch.length < count; i++) {
      batch.push(connectWithRetry(() => connectOnce(socketPath, options), { onRetry }));
    }
    connected.push(...(await Promise.all(batch)));
  }
  return connected;
}

function closeAll() {
  for (const client of clients) {
    try { client.close(); } catch { /* already closed */ }
  }
  clients = [];
}

function sendOnce(client, data) {
  return new Promise((resolve, reject) => client.send(ECHO_URI, data, (err, reply) => (err ? reject(err) : resolve(reply))));
}

/** The echo must really echo: a benchmark of wrong answers measures nothing. */
async function checkEcho(client, data) {
  const reply = await sendOnce(client, data);
  if (JSON.stringify(reply) !== JSON.stringify(data)) throw new Error('the server did not echo the message unchanged');
}

/** Which message specs each connection has already echoed correctly (checked once, not per slice). */
const checked = new WeakMap();

/** The last message built, kept: building a 32 MiB one for every command would dominate. */
let cachedSpec = null;
let cachedData = null;
function dataFor(spec) {
  const key = JSON.stringify(spec);
  if (key !== cachedSpec) {
    cachedData = messageFor(spec);
    cachedSpec = key;
  }
  return cachedData;
}

const commands = {
  /** Opens `connections` connections (closing any earlier ones). */
  async connect(cmd) {
    closeAll();
    kind = cmd.kind;
    retries = 0;
    clients = await connectMany(cmd.socketPath, cmd.connections || 1, cmd.clientOptions || {});
    return { connections: clients.length, connectRetries: retries };
  },

  /**
   * Sequential round trips of one message on the first connection: median and
   * p99 µs, and with `samples: true` every round trip's µs (so the caller can
   * pool several short slices of a measurement).
   */
  async latency(cmd) {
    const client = clients[0];
    const data = dataFor(cmd.spec);
    if (!checked.has(client)) checked.set(client, new Set());
    if (!checked.get(client).has(cachedSpec)) {
      await checkEcho(client, data);
      checked.get(client).add(cachedSpec);
    }
    await sequential(client, data, { maxCount: cmd.maxCount, minCount: cmd.warmupMin, budgetMs: cmd.warmupMs });
    // With `checkpoint`, the caller reads the server's CPU time here, around the measured round trips only.
    if (cmd.checkpoint) await checkpoint(cmd.id);
    const samples = new Float64Array(cmd.maxCount);
    // The window on the monotonic clock V8's profiler also uses (µs), so a profile can be cut to it.
    const windowStart = Number(process.hrtime.bigint() / 1000n);
    const count = await sequential(client, data, { maxCount: cmd.maxCount, minCount: cmd.minCount, budgetMs: cmd.budgetMs, samples });
    const windowEnd = Number(process.hrtime.bigint() / 1000n);
    const measured = samples.subarray(0, count);
    return { count, median: median(measured), p99: quantile(measured, 0.99), window: [windowStart, windowEnd], samples: cmd.samples ? Array.from(measured) : undefined };
  },

  /** `inFlight` small requests outstanding on every connection: messages per second. */
  async pipelined(cmd) {
    const data = smallMessage();
    if (!checked.has(clients[0])) checked.set(clients[0], new Set());
    if (!checked.get(clients[0]).has('small')) {
      await checkEcho(clients[0], data);
      checked.get(clients[0]).add('small');
    }
    await pipelined(clients, data, cmd.inFlight, cmd.warmupMs);
    await checkpoint(cmd.id);
    const { completed, elapsedMs } = await pipelined(clients, data, cmd.inFlight, cmd.durationMs);
    return { completed, elapsedMs, perSecond: completed / (elapsedMs / 1000) };
  },

  /**
   * Brings a fresh server (and this client) to steady state: sequential round
   * trips of each spec in turn for `ms` each, nothing recorded. Resolves to
   * the number of round trips.
   */
  async warmup(cmd) {
    const client = clients[0];
    let total = 0;
    for (const spec of cmd.specs) {
      const data = messageFor(spec);
      total += await sequential(client, data, { maxCount: Infinity, minCount: 1, budgetMs: cmd.ms });
    }
    return { roundTrips: total };
  },

  /** Every connection answers one small request, so the server holds the state of a used connection. */
  async touch() {
    await Promise.all(clients.map((client) => sendOnce(client, smallMessage())));
    return { connections: clients.length };
  },

  async close() {
    closeAll();
    return {};
  },

  /** Writes small requests as fast as the socket takes them and never reads a response. */
  async flood(cmd) {
    const socket = await connectWithRetry(() => new Promise((resolve, reject) => {
      const s = net.connect(cmd.socketPath);
      s.once('connect', () => resolve(s)).once('error', reject);
    }));
    socket.pause();
    socket.on('error', () => {});
    const data = JSON.stringify(smallMessage());
    let written = 0;
    let stalled = false;
    while (written < cmd.count) {
      let batch = '';
      const end = Math.min(cmd.count, written + cmd.batch);
      for (let id = written + 1; id <= end; id++) batch += '{"ipcReqID":' + id + ',"uri":"' + ECHO_URI + '","data":' + data + '}\n';
      written = end;
      if (socket.write(batch)) continue;
      const drained = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), cmd.stallMs);
        socket.once('drain', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (!drained) {
        stalled = true;
        break;
      }
    }
    // Held open (unread) until the orchestrator has measured the server.
    await checkpoint(cmd.id, { written, stalled });
    socket.destroy();
    return { written, stalled };
  },
};

async function run(cmd) {
  try {
    const command = commands[cmd.cmd];
    if (!command) throw new Error(`unknown command ${cmd.cmd}`);
    const result = await command(cmd);
    process.send({ type: 'result', id: cmd.id, result });
  } catch (err) {
    process.send({ type: 'error', id: cmd.id, message: String((err && err.stack) || err) });
  }
}
