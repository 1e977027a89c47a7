#!/usr/bin/env node
'use strict';
// `npm run bench`: our server and clients against a raw baseline, in the same
// run, contenders interleaved, every ratio with a 95% interval. Writes the
// report to stdout and to bench/results/runs/<stamp>/ (not committed;
// bench/results/runs/latest points at it). Options:
//   --quick            smoke test in under a minute: 3 repetitions, short windows, fewer points (labelled QUICK)
//   --reps=N           repetitions (default 7, quick 3)
//   --curve-reps=N     repetitions of the cost curves: sizes, connections, memory (default 3, quick 2)
//   --only=a,b         workloads: latency, pipelined, php, sizes, connections, memory (default all)
//   --variants=a,b     feature variants of our server/client (bench/variants.js): base, all-on,
//                      <feature>-on, <feature>-off; "none" for none. Default: all-on and every
//                      <feature>-off whose config keys exist (quick: none)
//   --pin=on|off       pin every process to one CPU with taskset (default on when taskset works)
//   --cpu=N            the CPU to pin to (default 0)
//   --save             also replace the committed bench/results/latest.md, latest.json, charts/,
//                      the summary in docs/performance.md and the figures in README.md's Performance section
//   --raw-vs-raw       the raw server and client stand in for ours (every ratio should be 1 within its interval)
//   --report=FILE      measure nothing: render the report again from a run's results.json (with --save: commit it)
// Profiles of the 1 KiB and 1 MiB paths: `npm run bench:profile` (bench/profile.js).
const fs = require('fs');
const os = require('os');
const path = require('path');
const processes = require('./processes');
const { Orchestrator } = require('./orchestrator');
const { analyze } = require('./analysis');
const { render, renderReadmeSummary, renderReadmeBrief } = require('./report');
const { planVariants, alwaysOverrides } = require('./variants');
const { storeRun, stampOf } = require('./results-store');
const { CURVE_BYTES, QUICK_CURVE_BYTES } = require('./messages');
const nats = require('./nats');

const ROOT = path.join(__dirname, '..');
const WORKLOADS = ['latency', 'pipelined', 'php', 'sizes', 'connections', 'memory'];

function usage() {
  return fs.readFileSync(__filename, 'utf8').split('\n').filter((l) => l.startsWith('//')).join('\n').replace(/^\/\/ ?/gm, '');
}

function parseArgs(argv) {
  const args = { quick: false, reps: null, curveReps: null, only: WORKLOADS, variants: null, pin: null, cpu: 0, save: false, rawVsRaw: false, report: null };
  for (const arg of argv) {
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const value = eq === -1 ? undefined : arg.slice(eq + 1);
    if (name === '--quick') args.quick = true;
    else if (name === '--reps') args.reps = Number(value);
    else if (name === '--curve-reps') args.curveReps = Number(value);
    else if (name === '--only') args.only = value.split(',');
    else if (name === '--variants') args.variants = value === 'none' ? [] : value.split(',');
    else if (name === '--pin') args.pin = value !== 'off';
    else if (name === '--cpu') args.cpu = Number(value);
    else if (name === '--save') args.save = true;
    else if (name === '--raw-vs-raw') args.rawVsRaw = true;
    else if (name === '--report') args.report = value;
    else if (name === '--help' || name === '-h') {
      console.log(usage());
      process.exit(0);
    } else throw new Error(`unknown option ${arg} (try --help)`);
  }
  for (const w of args.only) if (!WORKLOADS.includes(w)) throw new Error(`unknown workload ${w} (known: ${WORKLOADS.join(', ')})`);
  if (args.reps === null) args.reps = args.quick ? 3 : 7;
  if (!(Number.isInteger(args.reps) && args.reps >= 1)) throw new Error('--reps must be a whole number, at least 1');
  if (args.curveReps === null) args.curveReps = Math.min(args.reps, args.quick ? 2 : 3);
  if (!(Number.isInteger(args.curveReps) && args.curveReps >= 1)) throw new Error('--curve-reps must be a whole number, at least 1');
  if (!(Number.isInteger(args.cpu) && args.cpu >= 0)) throw new Error('--cpu must be a CPU number');
  if (args.variants === null && args.quick) args.variants = [];
  return args;
}

/** How long each measurement runs, and at which points. */
function settings(quick) {
  return quick
    ? {
      warmupMs: 100,
      latency: { warmupMs: 20, warmupMin: 3, budgetMs: 60, minCount: 6, maxCount: 1000, slices: 2, rewarmMin: 2 },
      pipelined: { warmupMs: 50, durationMs: 150, slices: 1 },
      sizes: { warmupMs: 0, warmupMin: 1, budgetMs: 30, minCount: 2, maxCount: 200, slices: 2, rewarmMin: 0 },
      curveBytes: QUICK_CURVE_BYTES,
      connectionCounts: [1, 100, 1000],
      memory: { counts: [1000], busyMs: 200, flood: false, floodCount: 0, stallMs: 0 },
    }
    : {
      warmupMs: 700,
      latency: { warmupMs: 100, warmupMin: 8, budgetMs: 400, minCount: 12, maxCount: 4000, slices: 4, rewarmMin: 2 },
      pipelined: { warmupMs: 200, durationMs: 600, slices: 3 },
      sizes: { warmupMs: 0, warmupMin: 1, budgetMs: 300, minCount: 2, maxCount: 2000, slices: 2, rewarmMin: 0 },
      curveBytes: CURVE_BYTES,
      connectionCounts: [1, 10, 100, 1000],
      memory: { counts: [10, 100, 1000], busyMs: 500, flood: true, floodCount: 1000000, stallMs: 1500 },
    };
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

/** Analysis, report and files from a run's meta, notes and records. */
function finish(meta, notes, records, save) {
  const results = { meta, notes, analysis: analyze(records, { variants: meta.variants }) };
  const { markdown, charts } = render(results);
  const readme = renderReadmeSummary(results);
  const brief = renderReadmeBrief(results);
  const { targets, noise } = results.analysis;
  const json = { meta, notes, targets, noise, records };
  process.stdout.write(markdown);
  const written = storeRun(stampOf(meta.date), { markdown, charts, json, readme, brief }, { save });
  process.stderr.write(`wrote ${written.join(', ')}${save ? '' : ' (not committed; --save replaces bench/results/latest.md)'}\n`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.report) {
    const saved = JSON.parse(fs.readFileSync(args.report, 'utf8'));
    finish(saved.meta, saved.notes, saved.records, args.save);
    return;
  }
  if (!args.rawVsRaw && !ourCodeIsBuilt()) {
    throw new Error('dist/lib/index.js or dist/client/index.js is missing: build first (npx tsc -p .), or use --raw-vs-raw to measure the baseline alone');
  }
  processes.setPinCpu(args.cpu);
  const canPin = processes.hasTaskset();
  const pinned = args.pin === null ? canPin : args.pin && canPin;
  const notes = [];
  if (args.pin !== false && !canPin) notes.push(`taskset cannot pin to CPU ${args.cpu} here: every process ran unpinned.`);
  if (args.rawVsRaw) notes.push('--raw-vs-raw: the raw server and client stood in for ours, so every ratio shows measurement noise only (each should be 1.00 within its interval).');
  const { variants, notes: variantNotes } = planVariants(args.variants);
  notes.push(...variantNotes);
  const always = alwaysOverrides();
  if (Object.keys(always).length) notes.push(`Every one of our benchmark servers runs with ${JSON.stringify(always)}: all benchmark connections come from one user.`);
  const s = settings(args.quick);
  const meta = Object.assign(machine(), {
    quick: args.quick, reps: args.reps, curveReps: args.curveReps, only: args.only, rawVsRaw: args.rawVsRaw, pinned, cpu: args.cpu,
    variants: variants.map((v) => ({ name: v.name, about: v.about, server: v.server, client: v.client })),
    curveBytes: s.curveBytes, connectionCounts: s.connectionCounts, memoryCounts: s.memory.counts, memoryReps: args.curveReps, floodCount: s.memory.floodCount,
  });
  const started = Date.now();
  const progress = (what) => process.stderr.write(`  [${((Date.now() - started) / 1000).toFixed(1)}s] ${what}\n`);
  // The NATS contender (bench/nats.js), when nats-server and the nats package are here.
  const natsMissing = args.rawVsRaw ? 'not with --raw-vs-raw' : nats.unavailable();
  const natsServer = natsMissing ? null : await nats.startNatsServer();
  if (natsMissing) notes.push(`No NATS round trip measured: ${natsMissing}.`);
  const orchestrator = new Orchestrator({ settings: s, reps: args.reps, curveReps: args.curveReps, only: args.only, variants, pinned, rawVsRaw: args.rawVsRaw, natsUrl: natsServer && natsServer.url }, progress);
  try {
    await orchestrator.run();
  } finally {
    if (natsServer) natsServer.stop();
  }
  meta.seconds = (Date.now() - started) / 1000;
  meta.loadAverageEnd = os.loadavg();
  finish(meta, notes.concat(orchestrator.notes), orchestrator.records, args.save);
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
