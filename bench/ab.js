#!/usr/bin/env node
'use strict';
// A/B of server builds: the same raw client drives several servers in turn
// (A B C A B C ..., order rotated each round), one connection each, every
// process pinned to one CPU, and reports each server's round trip and CPU per
// message as a ratio to the first one named. For checking whether a change to
// the request path is worth keeping: the full `npm run bench` cannot tell 2%
// apart on this machine, interleaved rounds of one process pair can.
//
//   node bench/ab.js [options] name=SERVER_SCRIPT ...
//
// SERVER_SCRIPT is a bench server: bench/raw-server.js, or bench/ipc-server.js
// of this checkout or of another one (a `git worktree` of the commit to compare
// against, built with `npx tsc -p .`). The first server is the reference.
// Options:
//   --mode=seq|pipe    sequential 1 KiB round trips (default), or pipelined small requests
//   --keys=N           seq: message of N keys of 1 KiB (default 1)
//   --in-flight=N      pipe: requests outstanding (default 1: server CPU per message at 1 in flight)
//   --rounds=N         rounds (default 30); each server runs one slice per round
//   --per=N            seq: round trips per slice (default 1500); pipe: --slice-ms (default 150)
//   --warm=N           round trips per server before measuring (default 5000: past V8's compiling)
//   --config-NAME=JSON IPCServer config overrides for the server named NAME
//   --trace            also print every round's latency ratio (to see warm-up)
// Each figure: median over rounds of the per-round ratio to the reference
// [lowest-highest], and the ratio of the 10th percentiles (noise only ever
// adds time, so the quicker rounds are the steadiest view).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { RawClient } = require('./raw-client');
const { messageFor, smallMessage, ECHO_URI } = require('./messages');
const { sequential, pipelined } = require('./workloads');
const { median, quantile } = require('./stats');

function parseArgs(argv) {
  const options = { mode: 'seq', keys: 1, inFlight: 1, rounds: 30, per: 1500, sliceMs: 150, warm: 5000, trace: false, configs: {} };
  const servers = [];
  for (const arg of argv) {
    const option = /^--([\w-]+)(?:=(.*))?$/.exec(arg);
    if (!option) {
      const eq = arg.indexOf('=');
      if (eq < 1) throw new Error(`expected name=SERVER_SCRIPT or an option, got ${arg} (try --help)`);
      servers.push({ name: arg.slice(0, eq), script: path.resolve(arg.slice(eq + 1)) });
      continue;
    }
    const [, name, value] = option;
    if (name === 'help') {
      console.log(fs.readFileSync(__filename, 'utf8').split('\n').filter((l) => l.startsWith('//')).join('\n').replace(/^\/\/ ?/gm, ''));
      process.exit(0);
    } else if (name.startsWith('config-')) options.configs[name.slice(7)] = JSON.parse(value);
    else if (name === 'mode') options.mode = value;
    else if (name === 'trace') options.trace = true;
    else if (name === 'in-flight') options.inFlight = Number(value);
    else if (name === 'slice-ms') options.sliceMs = Number(value);
    else if (['keys', 'rounds', 'per', 'warm'].includes(name)) options[name] = Number(value);
    else throw new Error(`unknown option --${name} (try --help)`);
  }
  if (servers.length < 2) throw new Error('name at least two servers: the first is the reference');
  if (!['seq', 'pipe'].includes(options.mode)) throw new Error('--mode is seq or pipe');
  return { options, servers };
}

/** Starts a bench server pinned to CPU 0; resolves once it listens. */
function startServer(server, config) {
  server.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixl-ipc-ab-'));
  server.socketPath = path.join(server.dir, 'ab.sock');
  const env = Object.assign({}, process.env, {
    BENCH_SOCKET: server.socketPath,
    BENCH_LOG_DIR: server.dir,
    BENCH_CONFIG: JSON.stringify(Object.assign({ max_connections_per_user: 0 }, config)),
  });
  server.child = spawn('taskset', ['-c', '0', process.execPath, server.script], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    server.child.once('message', () => resolve());
    server.child.once('exit', (code) => reject(new Error(`${server.name} exited (${code}) before listening`)));
  });
}

/** The server's CPU time so far (µs), from its control channel. */
function cpuMicros(server) {
  return new Promise((resolve) => {
    server.child.once('message', (m) => resolve(m.cpu.user + m.cpu.system));
    server.child.send({ cmd: 'stats', id: 0 });
  });
}

function connect(server) {
  const client = new RawClient(server.socketPath);
  return new Promise((resolve, reject) => client.connect((err) => (err ? reject(err) : resolve(client))));
}

/** One slice against one server: { perMessage (µs: median round trip, or elapsed per message), cpu (µs per message) }. */
async function slice(server, options, data) {
  const before = await cpuMicros(server);
  let count;
  let perMessage;
  if (options.mode === 'pipe') {
    const result = await pipelined([server.client], smallMessage(), options.inFlight, options.sliceMs);
    count = result.completed;
    perMessage = (result.elapsedMs * 1000) / count;
  } else {
    const samples = new Float64Array(options.per);
    count = await sequential(server.client, data, { maxCount: options.per, minCount: options.per, budgetMs: 0, samples });
    perMessage = median(samples);
  }
  return { perMessage, cpu: ((await cpuMicros(server)) - before) / count };
}

function summary(values, reference) {
  const ratios = values.map((v, i) => v / reference[i]);
  return {
    median: median(values),
    ratio: median(ratios),
    low: Math.min(...ratios),
    high: Math.max(...ratios),
    p10: quantile(values, 0.1),
    p10Ratio: quantile(values, 0.1) / quantile(reference, 0.1),
  };
}

/** Runs this script again pinned to CPU 0 (like its servers) unless it already is; returns true when it did. */
function pinSelf() {
  if (process.env.PIXL_AB_PINNED) return false;
  const { spawnSync } = require('child_process');
  const run = spawnSync('taskset', ['-c', '0', process.execPath, __filename, ...process.argv.slice(2)], { stdio: 'inherit', env: Object.assign({}, process.env, { PIXL_AB_PINNED: '1' }) });
  if (run.error) throw new Error(`taskset is needed to pin the processes: ${run.error.message}`);
  process.exit(run.status === null ? 1 : run.status);
  return true;
}

async function main() {
  if (pinSelf()) return;
  const { options, servers } = parseArgs(process.argv.slice(2));
  try {
    for (const server of servers) await startServer(server, options.configs[server.name] || {});
    for (const server of servers) server.client = await connect(server);
    const data = messageFor({ keys: options.keys });
    for (const server of servers) await sequential(server.client, data, { maxCount: options.warm, minCount: options.warm, budgetMs: 0 });
    for (const server of servers) server.rounds = { perMessage: [], cpu: [] };
    for (let round = 0; round < options.rounds; round++) {
      const order = servers.map((_, i) => servers[(i + round) % servers.length]);
      for (const server of order) {
        const figures = await slice(server, options, data);
        server.rounds.perMessage.push(figures.perMessage);
        server.rounds.cpu.push(figures.cpu);
      }
    }
    const [reference] = servers;
    const what = options.mode === 'pipe' ? `pipelined, ${options.inFlight} in flight: µs per message` : `sequential ${options.keys} KiB: median round trip`;
    console.log(`${options.rounds} rounds, ${what}; server CPU µs per message. Ratios to ${reference.name}: median of per-round ratios [lowest-highest]; p10 ratio.`);
    for (const server of servers) {
      const time = summary(server.rounds.perMessage, reference.rounds.perMessage);
      const cpu = summary(server.rounds.cpu, reference.rounds.cpu);
      console.log(`${server.name.padEnd(12)} time ${time.median.toFixed(1)} µs ${time.ratio.toFixed(3)}x [${time.low.toFixed(2)}-${time.high.toFixed(2)}] p10 ${time.p10Ratio.toFixed(3)}x`
        + ` | cpu ${cpu.median.toFixed(2)} µs ${cpu.ratio.toFixed(3)}x [${cpu.low.toFixed(2)}-${cpu.high.toFixed(2)}] p10 ${cpu.p10Ratio.toFixed(3)}x`);
      if (options.trace && server !== reference) {
        console.log(`  per round: ${server.rounds.perMessage.map((v, i) => (v / reference.rounds.perMessage[i]).toFixed(2)).join(' ')}`);
      }
    }
  } finally {
    for (const server of servers) {
      if (server.client) server.client.close();
      if (server.child) server.child.kill();
      if (server.dir) fs.rmSync(server.dir, { recursive: true, force: true });
    }
  }
}

main().then(() => process.exit(0), (err) => {
  console.error('ab failed:', (err && err.stack) || err);
  process.exit(1);
});
