#!/usr/bin/env node
'use strict';
// `npm run bench`: measures our server and clients against a raw baseline in the
// same run and writes the table to stdout, bench/results/latest.md and
// bench/results/<date>.json. Options:
//   --quick            short run (well under a minute)
//   --reps=N           repetitions of every measurement (default 3, quick 1)
//   --only=a,b         workloads: latency, pipelined, connections, php, memory
//   --raw-vs-raw       stand the raw server and client in for ours (measures the noise floor)
//   --profile          run our server under `node --cpu-prof` and print where its time goes
//                      (figures from a profiled run are not saved as results)
const fs = require('fs');
const os = require('os');
const path = require('path');
const processes = require('./processes');
const { SIZES } = require('./messages');
const { summarize, renderMarkdown } = require('./report');
const { summarizeProfiles } = require('./profile');

const ROOT = path.join(__dirname, '..');
const RESULTS_DIR = path.join(__dirname, 'results');
const WORKLOADS = ['latency', 'pipelined', 'connections', 'php', 'memory'];

/** Who serves and who asks, for each column of the tables. */
const COMBOS = [
  { id: 'raw', server: 'raw', client: 'raw' },
  { id: 'srv', server: 'ipc', client: 'raw' },
  { id: 'ours', server: 'ipc', client: 'ipc' },
];

function parseArgs(argv) {
  const args = { quick: false, reps: null, only: WORKLOADS, rawVsRaw: false, profile: false };
  for (const arg of argv) {
    const [name, value] = arg.split('=');
    if (name === '--quick') args.quick = true;
    else if (name === '--reps') args.reps = Number(value);
    else if (name === '--only') args.only = value.split(',');
    else if (name === '--raw-vs-raw') args.rawVsRaw = true;
    else if (name === '--profile') args.profile = true;
    else if (name === '--help' || name === '-h') {
      console.log(fs.readFileSync(__filename, 'utf8').split('\n').filter((l) => l.startsWith('//')).join('\n').replace(/^\/\/ ?/gm, ''));
      process.exit(0);
    } else throw new Error(`unknown option ${arg} (try --help)`);
  }
  for (const name of args.only) if (!WORKLOADS.includes(name)) throw new Error(`unknown workload ${name}`);
  if (args.reps === null) args.reps = args.quick ? 1 : 3;
  if (!(args.reps >= 1)) throw new Error('--reps must be at least 1');
  return args;
}

/** How long each measurement runs. */
function settings(quick) {
  return quick
    ? { warmupMs: 50, warmupMin: 5, budgetMs: 100, minCount: 10, maxCount: 1000, pipeWarmupMs: 100, pipeMs: 250, idleConnections: 1000, floodCount: 200000, stallMs: 500 }
    : { warmupMs: 150, warmupMin: 20, budgetMs: 400, minCount: 50, maxCount: 4000, pipeWarmupMs: 300, pipeMs: 1000, idleConnections: 1000, floodCount: 1000000, stallMs: 1500 };
}

/** bench/results/profiles, emptied of older profiles (git ignores its contents). */
function freshProfileDir() {
  const dir = path.join(RESULTS_DIR, 'profiles');
  fs.mkdirSync(dir, { recursive: true });
  for (const file of fs.readdirSync(dir)) if (file.endsWith('.cpuprofile')) fs.rmSync(path.join(dir, file));
  return dir;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The list grows one entry per repetition. */
function pushTo(object, keys, value) {
  let node = object;
  for (const key of keys.slice(0, -1)) node = node[key] || (node[key] = {});
  const last = keys[keys.length - 1];
  (node[last] || (node[last] = [])).push(value);
}

/** Rotate a list by `n`, so no combination always runs first. */
const rotate = (list, n) => list.map((_, i) => list[(i + n) % list.length]);

class Bench {
  constructor(args) {
    this.args = args;
    this.cfg = settings(args.quick);
    this.pinModes = processes.hasTaskset() ? ['unpinned', 'pinned'] : ['unpinned'];
    this.raw = { latency: {}, pipelined: {}, connections: {}, php: {}, memory: {} };
    this.notes = [];
    this.profileDir = args.profile ? freshProfileDir() : null;
    this.profileCount = 0;
    if (this.pinModes.length === 1) this.notes.push('taskset is missing: the pinned runs were skipped and the targets are judged on the unpinned run.');
    if (args.rawVsRaw) this.notes.push('--raw-vs-raw: the raw server and client stood in for ours, so every ratio shows measurement noise only.');
  }

  serverKind(kind) {
    return this.args.rawVsRaw ? 'raw' : kind;
  }

  clientKind(kind) {
    return this.args.rawVsRaw ? 'raw' : kind;
  }

  async startServer(kind, workload, pinned = false) {
    const actual = this.serverKind(kind);
    const nodeArgs = [];
    if (this.profileDir && actual === 'ipc') {
      nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${this.profileDir}`, `--cpu-prof-name=${workload}-${++this.profileCount}.cpuprofile`);
    }
    return processes.startServer(actual, { pinned, nodeArgs });
  }

  /** Run a client job to its result. */
  async client(job, pinned = false) {
    const child = processes.startClient(job, { pinned });
    const { result } = await processes.waitForMessage(child, 'result');
    await child.exited;
    return result;
  }

  /** Run a client job whose measured window the server's CPU time is taken around. */
  async measuredClient(server, job) {
    const child = processes.startClient(job);
    await processes.waitForMessage(child, 'ready');
    const before = await server.stats();
    const resultMessage = processes.waitForMessage(child, 'result');
    child.send({ cmd: 'go' });
    const { result } = await resultMessage;
    const after = await server.stats();
    await child.exited;
    const cpuMicros = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
    return { perSecond: result.perSecond, cpuPerMsg: cpuMicros / result.completed, completed: result.completed };
  }

  async latency(rep) {
    const job = { name: 'latency', sizes: SIZES, warmupMs: this.cfg.warmupMs, warmupMin: this.cfg.warmupMin, budgetMs: this.cfg.budgetMs, minCount: this.cfg.minCount, maxCount: this.cfg.maxCount };
    for (const pin of this.pinModes) {
      const pinned = pin === 'pinned';
      for (const serverKind of rotate(['raw', 'ipc'], rep)) {
        const server = await this.startServer(serverKind, 'latency', pinned);
        try {
          for (const combo of rotate(COMBOS.filter((c) => c.server === serverKind), rep)) {
            const result = await this.client(Object.assign({}, job, { kind: this.clientKind(combo.client), socketPath: server.socketPath }), pinned);
            for (const size of result.sizes) {
              pushTo(this.raw.latency, [pin, combo.id, size.keys, 'median'], size.median);
              pushTo(this.raw.latency, [pin, combo.id, size.keys, 'p99'], size.p99);
            }
            this.progress(`latency ${pin} ${combo.id}`);
          }
        } finally {
          await server.stop();
        }
      }
    }
  }

  async pipelined(rep, workload) {
    for (const serverKind of rotate(['raw', 'ipc'], rep)) {
      const server = await this.startServer(serverKind, workload);
      try {
        for (const combo of rotate(COMBOS.filter((c) => c.server === serverKind), rep)) {
          const base = { name: 'pipelined', kind: this.clientKind(combo.client), socketPath: server.socketPath, warmupMs: this.cfg.pipeWarmupMs, durationMs: this.cfg.pipeMs };
          if (workload === 'pipelined') {
            for (const inFlight of [1, 16, 256]) {
              const figures = await this.measuredClient(server, Object.assign({ connections: 1, inFlight }, base));
              pushTo(this.raw.pipelined, [combo.id, inFlight, 'perSecond'], figures.perSecond);
              pushTo(this.raw.pipelined, [combo.id, inFlight, 'cpuPerMsg'], figures.cpuPerMsg);
            }
          } else {
            const figures = await this.measuredClient(server, Object.assign({ connections: 100, inFlight: 16 }, base));
            pushTo(this.raw.connections, [combo.id, 'perSecond'], figures.perSecond);
            pushTo(this.raw.connections, [combo.id, 'cpuPerMsg'], figures.cpuPerMsg);
          }
          this.progress(`${workload} ${combo.id}`);
        }
      } finally {
        await server.stop();
      }
    }
  }

  async php(rep) {
    if (!processes.hasPhp()) {
      this.raw.php.skipped = 'php is not installed';
      return;
    }
    const cfg = this.cfg;
    const phpArgs = (socketPath) => [`--socket=${socketPath}`, `--sizes=${SIZES.join(',')}`, `--warmup_ms=${cfg.warmupMs}`, `--warmup_min=${cfg.warmupMin}`,
      `--budget_ms=${cfg.budgetMs}`, `--min_count=${cfg.minCount}`, `--max_count=${cfg.maxCount}`];
    const scripts = { loop: 'php-raw.php', client: this.args.rawVsRaw ? 'php-raw.php' : 'php-client.php' };
    for (const pin of this.pinModes) {
      const pinned = pin === 'pinned';
      const server = await this.startServer('ipc', 'php', pinned);
      try {
        for (const which of rotate(['loop', 'client'], rep)) {
          const run = await processes.runCommand('php', [path.join(__dirname, scripts[which]), ...phpArgs(server.socketPath)], { pinned });
          if (run.code !== 0) throw new Error(`${scripts[which]} failed (${run.code}): ${run.stderr.trim() || run.stdout.trim()}`);
          const result = JSON.parse(run.stdout.trim().split('\n').pop());
          if (result.skipped) {
            this.raw.php.skipped = result.skipped;
            continue;
          }
          for (const size of result.sizes) {
            pushTo(this.raw.php, [pin, which, size.keys, 'median'], size.median);
            pushTo(this.raw.php, [pin, which, size.keys, 'p99'], size.p99);
          }
          this.progress(`php ${pin} ${which}`);
        }
      } finally {
        await server.stop();
      }
    }
  }

  /** Highest RSS seen until `done` settles, sampled every 20 ms. */
  async peakRss(server, done) {
    let peak = server.rss();
    let finished = false;
    done.then(() => { finished = true; }, () => { finished = true; });
    while (!finished) {
      peak = Math.max(peak, server.rss());
      await sleep(20);
    }
    return Math.max(peak, server.rss());
  }

  /** Waits until the server has used less than 5 ms of CPU in 200 ms (at most `maxMs`). */
  async untilIdle(server, maxMs) {
    const deadline = Date.now() + maxMs;
    let before = await server.stats();
    while (Date.now() < deadline) {
      await sleep(200);
      const now = await server.stats();
      const used = now.cpu.user + now.cpu.system - before.cpu.user - before.cpu.system;
      if (used < 5000) return;
      before = now;
    }
  }

  async memory() {
    for (const kind of ['raw', 'ipc']) {
      const id = kind === 'raw' ? 'raw' : 'ours';
      // Idle, then 1,000 idle connections.
      let server = await this.startServer(kind, 'memory');
      try {
        await sleep(300);
        const idle = server.rss();
        const child = processes.startClient({ name: 'idle', socketPath: server.socketPath, connections: this.cfg.idleConnections });
        await processes.waitForMessage(child, 'ready');
        await this.untilIdle(server, 3000);
        const withIdle = server.rss();
        child.send({ cmd: 'go' });
        await processes.waitForMessage(child, 'result');
        await child.exited;
        this.raw.memory[id] = { idle, idleConnections: withIdle, idleConnectionCount: this.cfg.idleConnections };
      } finally {
        await server.stop();
      }
      // A fresh server, flooded by a client that never reads.
      server = await this.startServer(kind, 'memory');
      try {
        await sleep(300);
        const idle = server.rss();
        const child = processes.startClient({ name: 'flood', socketPath: server.socketPath, count: this.cfg.floodCount, batch: 1000, stallMs: this.cfg.stallMs });
        const flooded = processes.waitForMessage(child, 'flooded', 300000);
        const settled = flooded.then(() => this.untilIdle(server, 20000));
        const peak = await this.peakRss(server, settled);
        const { written, stalled } = await flooded;
        child.send({ cmd: 'go' });
        await processes.waitForMessage(child, 'result');
        await child.exited;
        Object.assign(this.raw.memory[id], { floodIdle: idle, floodPeak: peak, floodWritten: written, floodStalled: stalled, floodCount: this.cfg.floodCount });
      } finally {
        await server.stop();
      }
      this.progress(`memory ${id}`);
    }
  }

  progress(what) {
    process.stderr.write(`  [${((Date.now() - this.started) / 1000).toFixed(1)}s] ${what}\n`);
  }

  async run() {
    this.started = Date.now();
    const only = this.args.only;
    for (let rep = 0; rep < this.args.reps; rep++) {
      process.stderr.write(`repetition ${rep + 1} of ${this.args.reps}\n`);
      if (only.includes('latency')) await this.latency(rep);
      if (only.includes('pipelined')) await this.pipelined(rep, 'pipelined');
      if (only.includes('connections')) await this.pipelined(rep, 'connections');
      if (only.includes('php')) await this.php(rep);
    }
    if (only.includes('memory')) await this.memory();
    return { seconds: (Date.now() - this.started) / 1000 };
  }
}

function machine() {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cpuModel: (cpus[0] && cpus[0].model) || 'unknown',
    cpuCount: cpus.length,
    node: process.version,
    php: processes.hasPhp() ? require('child_process').execFileSync('php', ['-r', 'echo PHP_VERSION;']).toString() : null,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverage: os.loadavg(),
  };
}

function ourCodeIsBuilt() {
  return fs.existsSync(path.join(ROOT, 'dist', 'lib', 'index.js')) && fs.existsSync(path.join(ROOT, 'dist', 'client', 'index.js'));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!args.rawVsRaw && !ourCodeIsBuilt()) {
    throw new Error('dist/lib/index.js or dist/client/index.js is missing: build first (npx tsc -p .), or use --raw-vs-raw to measure the baseline alone');
  }
  const bench = new Bench(args);
  const loadBefore = os.loadavg()[0];
  if (loadBefore > 0.3) bench.notes.push(`The machine was not idle when the run started (load average ${loadBefore.toFixed(2)}): other work competes with the benchmark for the CPUs.`);
  const { seconds } = await bench.run();
  const results = Object.assign({ meta: Object.assign(machine(), { quick: args.quick, reps: args.reps, only: args.only, rawVsRaw: args.rawVsRaw, profile: args.profile, seconds }) },
    { raw: bench.raw, notes: bench.notes });
  results.summary = summarize(results);
  const markdown = renderMarkdown(results);
  console.log(markdown);
  if (args.profile) {
    console.log(summarizeProfiles(bench.profileDir, ROOT));
    console.log('(profiled run: figures are slowed by the profiler and were not saved)');
    return;
  }
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, 'latest.md'), markdown + '\n');
  const stamp = results.meta.date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  fs.writeFileSync(path.join(RESULTS_DIR, `${stamp}.json`), JSON.stringify(results, null, 2) + '\n');
  process.stderr.write(`wrote bench/results/latest.md and bench/results/${stamp}.json\n`);
}

process.on('exit', processes.cleanup);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    processes.cleanup();
    process.exit(130);
  });
}
main().catch((err) => {
  console.error('bench failed:', (err && err.stack) || err);
  processes.cleanup();
  process.exit(1);
});
