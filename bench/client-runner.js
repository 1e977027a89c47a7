'use strict';
// A benchmark client process. bench/run.js starts it with a job over the Node
// IPC channel, and this process connects to the server under test, runs the
// job's loops and sends back a summary. Jobs that need the server measured
// around a window stop at a checkpoint: they report "ready" and wait for "go".
const net = require('net');
const { sizedMessage, smallMessage, ECHO_URI } = require('./messages');
const { sequential, pipelined } = require('./workloads');
const { RawClient } = require('./raw-client');
const { quantile, median } = require('./stats');

/** Connections are opened this many at a time, to stay within the listen backlog. */
const CONNECT_BATCH = 50;

let waitingForGo = null;
process.on('message', (message) => {
  if (message.cmd === 'job') runJob(message.job);
  else if (message.cmd === 'go' && waitingForGo) {
    const resume = waitingForGo;
    waitingForGo = null;
    resume();
  }
});
process.on('disconnect', () => process.exit(0));

function checkpoint(name, details) {
  return new Promise((resolve) => {
    waitingForGo = resolve;
    process.send(Object.assign({ type: name }, details));
  });
}

function newClient(kind, socketPath) {
  if (kind === 'raw') return new RawClient(socketPath);
  return require('./ipc-client').createIpcClient(socketPath);
}

function connect(client) {
  return new Promise((resolve, reject) => client.connect((err) => (err ? reject(err) : resolve(client))));
}

async function connectMany(kind, socketPath, count) {
  const clients = [];
  while (clients.length < count) {
    const batch = [];
    for (let i = 0; i < CONNECT_BATCH && clients.length + batch.length < count; i++) batch.push(connect(newClient(kind, socketPath)));
    clients.push(...(await Promise.all(batch)));
  }
  return clients;
}

function sendOnce(client, data) {
  return new Promise((resolve, reject) => client.send(ECHO_URI, data, (err, reply) => (err ? reject(err) : resolve(reply))));
}

/** The echo must really echo: a benchmark of wrong answers measures nothing. */
async function checkEcho(client, data) {
  const reply = await sendOnce(client, data);
  if (JSON.stringify(reply) !== JSON.stringify(data)) throw new Error('the server did not echo the message unchanged');
}

const jobs = {
  /** Sequential round trips per message size: median and p99 µs. */
  async latency(job) {
    const [client] = await connectMany(job.kind, job.socketPath, 1);
    const results = [];
    for (const keys of job.sizes) {
      const data = sizedMessage(keys);
      await checkEcho(client, data);
      await sequential(client, data, { maxCount: job.maxCount, minCount: job.warmupMin, budgetMs: job.warmupMs });
      const samples = new Float64Array(job.maxCount);
      const count = await sequential(client, data, { maxCount: job.maxCount, minCount: job.minCount, budgetMs: job.budgetMs, samples });
      const measured = samples.subarray(0, count);
      results.push({ keys, count, median: median(measured), p99: quantile(measured, 0.99) });
    }
    return { sizes: results, clients: [client] };
  },

  /** Many requests in flight on each of `connections` connections: messages per second. */
  async pipelined(job) {
    const clients = await connectMany(job.kind, job.socketPath, job.connections);
    const data = smallMessage();
    await checkEcho(clients[0], data);
    await pipelined(clients, data, job.inFlight, job.warmupMs);
    await checkpoint('ready');
    const { completed, elapsedMs } = await pipelined(clients, data, job.inFlight, job.durationMs);
    return { completed, elapsedMs, perSecond: completed / (elapsedMs / 1000), clients };
  },

  /** Connections that each answer one request and then sit idle until released. */
  async idle(job) {
    const clients = await connectMany('raw', job.socketPath, job.connections);
    await Promise.all(clients.map((client) => sendOnce(client, smallMessage())));
    await checkpoint('ready', { connections: clients.length });
    return { connections: clients.length, clients };
  },

  /** Writes small requests as fast as the socket takes them and never reads a response. */
  async flood(job) {
    const socket = net.connect(job.socketPath);
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.pause();
    socket.on('error', () => {});
    const data = JSON.stringify(smallMessage());
    let written = 0;
    let stalled = false;
    while (written < job.count) {
      let batch = '';
      const end = Math.min(job.count, written + job.batch);
      for (let id = written + 1; id <= end; id++) batch += '{"ipcReqID":' + id + ',"uri":"' + ECHO_URI + '","data":' + data + '}\n';
      written = end;
      if (socket.write(batch)) continue;
      const drained = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), job.stallMs);
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
    await checkpoint('flooded', { written, stalled });
    return { written, stalled, clients: [{ close: () => socket.destroy() }] };
  },
};

async function runJob(job) {
  try {
    const { clients, ...result } = await jobs[job.name](job);
    for (const client of clients) client.close();
    process.send({ type: 'result', result }, () => process.exit(0));
  } catch (err) {
    process.send({ type: 'error', message: String((err && err.stack) || err) }, () => process.exit(1));
  }
}
