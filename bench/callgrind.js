#!/usr/bin/env node
'use strict';
// Instructions per request, counted by valgrind's callgrind: each server runs
// under callgrind, the raw client (the bench's agent) sends round trips one at
// a time, and only the measured ones are counted (counters zeroed after the
// warm-up, dumped after the last). Unlike timings, the count barely moves with
// the machine's load, so a change of 1-2% on the request path shows, even on
// a busy machine. It counts every thread of the server (GC and compiler
// threads included, shown apart from the JavaScript thread) but not the kernel's work.
//
//   node bench/callgrind.js [options] name=SERVER_SCRIPT ...
//
// SERVER_SCRIPT as for bench/ab.js (bench/raw-server.js, bench/ipc-server.js
// of this or another checkout). Options:
//   --sizes=LIST       messages: small (a ~100-byte request line) or a number
//                      of 1 KiB keys; default small,1,10
//   --requests=N       measured round trips per size (default 2000)
//   --warm=N           round trips of every size before counting (default 4000:
//                      V8 compiles the hot code in the first few thousand)
//   --runs=N           counts per size and server (default 1), to see the spread
//   --client=raw|ipc   the client that sends the round trips: the raw one (default) or our
//                      Node client (its requests carry pid and userAgent, as in production)
//   --config-NAME=JSON IPCServer config overrides for the server named NAME
//   --keep             keep the callgrind dumps (callgrind_annotate them), and say where
//   --node-args=ARGS   flags for the servers' node, space-separated (--perf-basic-prof
//                      writes the map that names JIT code in the dumps)
// Prints, per size, instructions per request for each server and the ratio to
// the first one named.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const processes = require('./processes');
const { median } = require('./stats');

function parseArgs(argv) {
  const options = { sizes: ['small', '1', '10'], requests: 2000, warm: 4000, runs: 1, client: 'raw', keep: false, nodeArgs: [], configs: {} };
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
    else if (name === 'sizes') options.sizes = value.split(',');
    else if (name === 'client') {
      if (!['raw', 'ipc'].includes(value)) throw new Error('--client is raw or ipc');
      options.client = value;
    }
    else if (name === 'keep') options.keep = true;
    else if (name === 'node-args') options.nodeArgs = value.split(' ').filter(Boolean);
    else if (['requests', 'warm', 'runs'].includes(name)) options[name] = Number(value);
    else throw new Error(`unknown option --${name} (try --help)`);
  }
  if (servers.length < 1) throw new Error('name at least one server (the first is the reference)');
  if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('valgrind is not installed (Debian: apt-get install valgrind)');
  return { options, servers };
}

function specOf(size) {
  return size === 'small' ? { small: true } : { keys: Number(size) };
}

function labelOf(size) {
  return size === 'small' ? '~100 B' : `${size} KiB`;
}

/**
 * Runs `callgrind_control` on the server. Callgrind reads its commands only
 * while the program runs, so the (idle) server is woken through its control
 * channel until the command is done.
 */
async function control(server, flag) {
  const child = spawn('callgrind_control', [flag, String(server.process.pid)], { stdio: 'ignore' });
  const done = new Promise((resolve) => child.once('exit', resolve));
  let finished = false;
  done.then(() => { finished = true; });
  while (!finished) {
    await Promise.race([server.process.stats(), done]);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const code = await done;
  if (code !== 0) throw new Error(`callgrind_control ${flag} failed (${code})`);
}

/**
 * The instruction totals of the newest dump in `dir` (one file per thread):
 * { main: the JavaScript thread's, all: every thread's (GC helpers and the
 * optimizing compiler too), files }.
 */
function newestTotals(dir, seen) {
  const files = fs.readdirSync(dir).filter((f) => f.startsWith('callgrind.out') && !seen.has(f));
  if (files.length === 0) throw new Error(`no new callgrind dump in ${dir}`);
  let main = 0;
  let all = 0;
  for (const file of files) {
    seen.add(file);
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const match = /^(?:totals|summary):\s*(\d+)/m.exec(text);
    if (!match) throw new Error(`no totals in ${file}`);
    all += Number(match[1]);
    if (/-0*1$/.test(file)) main = Number(match[1]);
  }
  return { main, all, files: files.map((f) => path.join(dir, f)) };
}

/** `count` round trips of `size`, one at a time. */
function roundTrips(agent, size, count) {
  const command = { spec: specOf(size), warmupMs: 0, warmupMin: 0, budgetMs: 0, minCount: count, maxCount: count };
  return agent.call('latency', command, { timeoutMs: 1800000 });
}

async function measure(server, options) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pixl-ipc-callgrind-${server.name}-`));
  const launcher = ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--separate-threads=yes', `--callgrind-out-file=${path.join(dir, 'callgrind.out')}`];
  const config = Object.assign({ max_connections_per_user: 0 }, options.configs[server.name] || {});
  server.process = await processes.startServer(server.name, { script: server.script, config, label: server.name, launcher, nodeArgs: options.nodeArgs, startMs: 300000 });
  const agent = processes.startAgent({ label: server.name });
  const seen = new Set(fs.readdirSync(dir));
  try {
    await agent.call('connect', { kind: options.client, socketPath: server.process.socketPath, connections: 1, clientOptions: {} });
    // Every size first, so that code compiled for a later size is not counted against an earlier one.
    for (const size of options.sizes) await roundTrips(agent, size, options.warm);
    for (const size of options.sizes) {
      const counts = [];
      for (let run = 0; run < options.runs; run++) {
        await roundTrips(agent, size, Math.min(options.warm, 500));
        await control(server, '-z');
        await roundTrips(agent, size, options.requests);
        await control(server, '-d');
        const { main, all, files } = newestTotals(dir, seen);
        // The agent's own one-round-trip warm-up is counted too.
        counts.push({ main: main / (options.requests + 1), all: all / (options.requests + 1) });
        if (options.keep) console.log(`  ${server.name} ${labelOf(size)} run ${run + 1} (pid ${server.process.pid}): ${files.join(' ')}`);
      }
      server.counts[size] = counts;
    }
  } finally {
    await agent.exit();
    await server.process.stop();
    if (!options.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const { options, servers } = parseArgs(process.argv.slice(2));
  for (const server of servers) {
    server.counts = {};
    await measure(server, options);
  }
  const [reference] = servers;
  console.log(`Instructions per request (callgrind), ${options.requests} round trips after ${options.warm} from the ${options.client} client; the JavaScript thread, then all threads; ratios to ${reference.name}.`);
  for (const size of options.sizes) {
    const cells = [];
    for (const which of ['main', 'all']) {
      const ref = median(reference.counts[size].map((c) => c[which]));
      for (const server of servers) {
        const counts = server.counts[size].map((c) => c[which]);
        const value = median(counts);
        const spread = counts.length > 1 ? ` [${Math.round(Math.min(...counts) / 1000)}k-${Math.round(Math.max(...counts) / 1000)}k]` : '';
        cells.push(`${server.name} ${which === 'main' ? 'JS thread' : 'all'} ${Math.round(value / 1000)}k${spread} ${(value / ref).toFixed(3)}x`);
      }
    }
    console.log(`${labelOf(size).padEnd(8)} ${cells.join(' | ')}`);
  }
}

process.on('exit', processes.cleanup);
main().then(() => process.exit(0), (err) => {
  console.error('callgrind failed:', (err && err.stack) || err);
  process.exit(1);
});
