#!/usr/bin/env node
'use strict';
// A/B of server builds: the raw client drives several servers in turn
// (A B C A B C ..., order rotated each round), one connection and one client
// agent each, every server and agent pinned to one CPU, and reports each
// server's round trip and CPU per message as a ratio to the first one named.
// For checking whether a change to the request path is worth keeping: the full
// `npm run bench` cannot tell 2% apart on this machine, interleaved rounds of
// one process pair can. Servers and agents are the benchmark's own
// (processes.js, client-runner.js).
//
//   node bench/ab.js [options] name=SERVER_SCRIPT ...
//
// SERVER_SCRIPT is a bench server: bench/raw-server.js, or bench/ipc-server.js
// of this checkout or of another one (a `git worktree` of the commit to compare
// against, built with `npx tsc -p .`). The first server is the reference.
// Options:
//   --mode=seq|pipe    sequential round trips (default), or pipelined small requests
//   --keys=N           seq: message of N keys of 1 KiB (default 1)
//   --small            seq: the small message instead (a request line of about 100 bytes)
//   --bytes=N          seq: data whose JSON is N bytes (the full bench's "100 B" point is --bytes=100)
//   --in-flight=N      pipe: requests outstanding (default 1: server CPU per message at 1 in flight)
//   --rounds=N         rounds (default 30); each server runs one slice per round
//   --per=N            seq: round trips per slice (default 1500)
//   --slice-ms=N       pipe: length of a slice (default 150)
//   --warm-ms=N        steady state first: ms of round trips per server before measuring (default 1000)
//   --config-NAME=JSON IPCServer config overrides for the server named NAME
//   --client-NAME=raw|ipc  the client that drives the server named NAME: the raw
//                      one (default) or our Node client (to compare whole stacks)
//   --trace            also print every round's ratio (to see warm-up; try --warm-ms=0)
// Each figure: median over rounds of the per-round ratio to the reference
// [lowest-highest], and the ratio of the 10th percentiles (noise only ever
// adds time, so the quicker rounds are the steadiest view).
const fs = require('fs');
const path = require('path');
const processes = require('./processes');
const { median, quantile } = require('./stats');

function parseArgs(argv) {
  const options = { mode: 'seq', keys: 1, small: false, bytes: 0, inFlight: 1, rounds: 30, per: 1500, sliceMs: 150, warmMs: 1000, trace: false, configs: {}, clients: {} };
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
    else if (name.startsWith('client-')) {
      if (!['raw', 'ipc'].includes(value)) throw new Error(`--${name} is raw or ipc`);
      options.clients[name.slice(7)] = value;
    }
    else if (name === 'mode') options.mode = value;
    else if (name === 'trace') options.trace = true;
    else if (name === 'small') options.small = true;
    else if (name === 'in-flight') options.inFlight = Number(value);
    else if (name === 'slice-ms') options.sliceMs = Number(value);
    else if (name === 'warm-ms') options.warmMs = Number(value);
    else if (['keys', 'bytes', 'rounds', 'per'].includes(name)) options[name] = Number(value);
    else throw new Error(`unknown option --${name} (try --help)`);
  }
  if (servers.length < 2) throw new Error('name at least two servers: the first is the reference');
  if (!['seq', 'pipe'].includes(options.mode)) throw new Error('--mode is seq or pipe');
  if (!processes.hasTaskset()) throw new Error('taskset is needed to pin the processes to one CPU');
  return { options, servers };
}

/** The server's CPU time so far (µs). */
async function cpuMicros(server) {
  const { cpu } = await server.process.stats();
  return cpu.user + cpu.system;
}

/** The message of a sequential slice. */
function messageSpec(options) {
  if (options.bytes) return { bytes: options.bytes };
  return options.small ? { small: true } : { keys: options.keys };
}

/** One slice against one server: { perMessage (µs: median round trip, or elapsed per message), cpu (µs per message) }. */
async function slice(server, options) {
  if (options.mode === 'pipe') {
    let before = 0;
    // The agent stops at its checkpoint after its own warm-up: CPU is taken around the measured window only.
    const result = await server.agent.call('pipelined', { inFlight: options.inFlight, warmupMs: 0, durationMs: options.sliceMs }, {
      onReady: async () => { before = await cpuMicros(server); },
    });
    const cpu = (await cpuMicros(server)) - before;
    return { perMessage: (result.elapsedMs * 1000) / result.completed, cpu: cpu / result.completed };
  }
  const before = await cpuMicros(server);
  const result = await server.agent.call('latency', { spec: messageSpec(options), warmupMs: 0, warmupMin: 0, budgetMs: 0, minCount: options.per, maxCount: options.per });
  // The one round trip the agent's (empty) warm-up still makes is counted too.
  return { perMessage: result.median, cpu: ((await cpuMicros(server)) - before) / (result.count + 1) };
}

function summary(values, reference) {
  const ratios = values.map((v, i) => v / reference[i]);
  return {
    median: median(values),
    ratio: median(ratios),
    low: Math.min(...ratios),
    high: Math.max(...ratios),
    p10Ratio: quantile(values, 0.1) / quantile(reference, 0.1),
  };
}

async function main() {
  const { options, servers } = parseArgs(process.argv.slice(2));
  for (const server of servers) {
    const config = Object.assign({ max_connections_per_user: 0 }, options.configs[server.name] || {});
    server.process = await processes.startServer(server.name, { pinned: true, script: server.script, config, label: server.name });
    server.agent = processes.startAgent({ pinned: true, label: server.name });
    await server.agent.call('connect', { kind: options.clients[server.name] || 'raw', socketPath: server.process.socketPath, connections: 1 });
  }
  if (options.warmMs > 0) {
    for (const server of servers) await server.agent.call('warmup', { specs: [messageSpec(options), { small: true }], ms: options.warmMs });
  }
  for (const server of servers) server.rounds = { perMessage: [], cpu: [] };
  for (let round = 0; round < options.rounds; round++) {
    const order = servers.map((_, i) => servers[(i + round) % servers.length]);
    for (const server of order) {
      const figures = await slice(server, options);
      server.rounds.perMessage.push(figures.perMessage);
      server.rounds.cpu.push(figures.cpu);
    }
  }
  const [reference] = servers;
  const what = options.mode === 'pipe' ? `pipelined, ${options.inFlight} in flight: µs per message` : `sequential ${options.bytes ? options.bytes + ' B' : options.small ? '~100 B' : options.keys + ' KiB'}: median round trip`;
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
  await Promise.all(servers.map((server) => server.agent.exit()));
  await Promise.all(servers.map((server) => server.process.stop()));
}

process.on('exit', processes.cleanup);
main().then(() => process.exit(0), (err) => {
  console.error('ab failed:', (err && err.stack) || err);
  process.exit(1);
});
