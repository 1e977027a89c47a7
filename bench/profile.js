#!/usr/bin/env node
'use strict';
// `npm run bench:profile`: where the time of a round trip goes, on the 1 KiB
// and 1 MiB paths, for our server, our Node client and our PHP client, each
// next to the raw baseline doing the same work. Options:
//   --sizes=1,1024     message sizes in keys of 1 KiB (default 1 and 1024)
//   --count=N          round trips per profile (default: 20000 at 1 KiB, 300 at 1 MiB)
//   --save             also write the summary to bench/results/profile.md (committed)
//   --pin=on|off       pin server and client to one CPU, as the benchmark does (default on)
//   --interval=N       sampling interval in µs (default 100)
// It runs, per size: our server + our Node client and the raw server + raw
// client, all four under `node --cpu-prof`, a fixed number of sequential
// round trips; then bench/php-profile.php (phase timings: php has no sampling
// profiler). Writes bench/results/runs/<stamp>-profile/ (the .cpuprofile
// files, which Chrome DevTools or speedscope open, and profile.md) and prints
// profile.md: self time per round trip by category and the top functions.
// `node bench/profile.js DIR` summarizes the .cpuprofile files already in DIR.
const fs = require('fs');
const path = require('path');
const processes = require('./processes');
const { newRunDir, markLatest, stampOf } = require('./results-store');

const ROOT = path.join(__dirname, '..');

/**
 * Self time in ms per function, sorted, from one profile; with `window`
 * ([start, end] in µs of the monotonic clock), only samples taken inside it
 * (so start-up and module loading do not count).
 */
function selfTimes(profile, window = null) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const perNode = new Map();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] || 0;
    at += delta;
    if (window && (at < window[0] || at > window[1])) continue;
    perNode.set(profile.samples[i], (perNode.get(profile.samples[i]) || 0) + delta);
  }
  const perFunction = new Map();
  let total = 0;
  for (const [id, micros] of perNode) {
    const frame = byId.get(id).callFrame;
    const key = `${frame.functionName || '(anonymous)'}\t${frame.url}\t${frame.lineNumber + 1}`;
    perFunction.set(key, (perFunction.get(key) || 0) + micros);
    total += micros;
  }
  const rows = [...perFunction].map(([key, micros]) => {
    const [name, url, line] = key.split('\t');
    return { name, url, line: Number(line), ms: micros / 1000 };
  });
  rows.sort((a, b) => b.ms - a.ms);
  return { rows, totalMs: total / 1000 };
}

function where(row) {
  if (!row.url) return '';
  const file = row.url.replace(/^file:\/\//, '');
  return (file.startsWith(ROOT) ? path.relative(ROOT, file) : file) + ':' + row.line;
}

/** Is this frame in the package's own code (lib/, client/; built or not)? */
function isOurs(row) {
  const file = row.url.replace(/^file:\/\//, '');
  return file.startsWith(ROOT) && !file.includes('node_modules') && /\/(lib|client)\//.test(file);
}

/** A coarse category for a frame: what kind of work the time was. */
function category(row) {
  if (row.name === '(idle)') return 'idle';
  if (row.name === '(garbage collector)') return 'garbage collection';
  if (!row.url && /^(parse|JSONParse)$/.test(row.name)) return 'JSON.parse';
  if (!row.url && /^(stringify|JSONStringify)$/.test(row.name)) return 'JSON.stringify';
  if (!row.url && /^(writev|writeUtf8String|writeBuffer|writeLatin1String|writeAsciiString)$/.test(row.name)) return 'socket write (syscall)';
  if (/stream_base_commons|net\.js|onStreamRead/.test(row.url + row.name) && /read/i.test(row.name)) return 'socket read';
  if (/^(slice|toString|utf8Slice|latin1Slice|_copyActual|concat|copy|from|utf8Write|byteLength)$/.test(row.name) && (!row.url || row.url === 'node:buffer')) return 'Buffer copies and decoding (node:buffer)';
  // JSON.parse and JSON.stringify show up as their caller's self time.
  if (isOurs(row)) return 'our code (lib/, client/), with the JSON.parse/stringify it calls';
  if (row.url.includes('/bench/')) return 'baseline or harness code (bench/), with the JSON.parse/stringify it calls';
  if (row.url.startsWith('node:')) return 'Node internals (streams, events, timers)';
  if (row.name === '(program)') return 'VM and syscalls outside JS ((program))';
  return 'other';
}

/** { category: ms } and the busy total of one profile (inside `window`, when given). */
function byCategory(profile, window = null) {
  const { rows } = selfTimes(profile, window);
  const totals = {};
  let busy = 0;
  for (const row of rows) {
    const c = category(row);
    totals[c] = (totals[c] || 0) + row.ms;
    if (c !== 'idle') busy += row.ms;
  }
  return { totals, busy, rows: rows.filter((r) => r.name !== '(idle)') };
}

const fmt = (v) => (Number.isFinite(v) ? (v < 10 ? v.toFixed(2) : v < 1000 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US')) : '–');

/** Markdown comparing two profiles (ours and the raw one) per round trip, by category, then the top functions of ours. */
function compareProfiles(title, oursRun, rawRun, who) {
  const load = (run) => byCategory(JSON.parse(fs.readFileSync(path.join(run.dir, `${run.tag}-${who}.cpuprofile`), 'utf8')), run.window);
  const ours = load(oursRun);
  const raw = load(rawRun);
  const roundTrips = oursRun.count;
  // µs per round trip; the raw run did as many round trips.
  const per = (ms) => (ms * 1000) / roundTrips;
  const categories = [...new Set([...Object.keys(ours.totals), ...Object.keys(raw ? raw.totals : {})])].filter((c) => c !== 'idle');
  categories.sort((a, b) => (ours.totals[b] || 0) - (ours.totals[a] || 0));
  const out = [`#### ${title}`, '', `Self time in µs per round trip over the measured window (${roundTrips.toLocaleString('en-US')} round trips after ${Math.ceil(roundTrips / 5).toLocaleString('en-US')} of warm-up; sampled every ${oursRun.intervalUs} µs, so small figures are rough).`, '',
    '| category | ours | raw | difference |', '| --- | ---: | ---: | ---: |'];
  for (const c of categories) {
    const a = per(ours.totals[c] || 0);
    const b = raw ? per(raw.totals[c] || 0) : NaN;
    out.push(`| ${c} | ${fmt(a)} | ${fmt(b)} | ${raw ? (a - b >= 0 ? '+' : '') + fmt(a - b) : '–'} |`);
  }
  out.push(`| **busy total** | **${fmt(per(ours.busy))}** | **${raw ? fmt(per(raw.busy)) : '–'}** | **${raw ? (ours.busy >= raw.busy ? '+' : '') + fmt(per(ours.busy - raw.busy)) : '–'}** |`, '');
  out.push('Top functions of ours by self time:', '', '| µs per round trip | function | where |', '| ---: | --- | --- |');
  for (const r of ours.rows.slice(0, 12)) out.push(`| ${fmt(per(r.ms))} | ${r.name} | ${where(r)} |`);
  out.push('');
  return out.join('\n');
}

/** A markdown summary of every .cpuprofile in `dir` (top self time), for profiles made elsewhere. */
function summarizeProfiles(dir, top = 20) {
  const out = ['## CPU profiles', ''];
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort() : [];
  if (!files.length) return out.concat('No .cpuprofile files here.').join('\n');
  for (const file of files) {
    const { rows, busy } = byCategory(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
    out.push(`### ${file}`, `busy ${busy.toFixed(0)} ms`, '', '| self ms | % of busy | function | where |', '| ---: | ---: | --- | --- |');
    for (const r of rows.slice(0, top)) out.push(`| ${r.ms.toFixed(1)} | ${((100 * r.ms) / busy).toFixed(1)} | ${r.name} | ${where(r)} |`);
    out.push('');
  }
  return out.join('\n');
}

async function profileNode(dir, keys, count, side, { pinned, intervalUs }) {
  const tag = `${side}-${keys === 1024 ? '1mib' : keys + 'kib'}`;
  // Sample every 100 µs by default (the default 1 ms sees too little of a 20 µs round trip).
  const prof = (who) => ['--cpu-prof', `--cpu-prof-interval=${intervalUs}`, `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${tag}-${who}.cpuprofile`];
  const server = await processes.startServer(side === 'ours' ? 'ipc' : 'raw', { pinned, nodeArgs: prof('server'), label: `${side} profiled` });
  const agent = processes.startAgent({ pinned, nodeArgs: prof('client'), label: `${side} profiled` });
  try {
    await agent.call('connect', { kind: side === 'ours' ? 'ipc' : 'raw', socketPath: server.socketPath, connections: 1, clientOptions: {} });
    // Warm-up round trips first (JIT), then the window the profiles are cut to.
    const result = await agent.call('latency', { spec: { keys }, warmupMs: 0, warmupMin: Math.ceil(count / 5), budgetMs: 0, minCount: count, maxCount: count }, { timeoutMs: 600000 });
    return { dir, tag, medianUs: result.median, count, window: result.window, intervalUs };
  } finally {
    await agent.exit();
    await server.stop();
  }
}

async function profilePhp(keys, count) {
  if (!processes.hasPhp()) return null;
  const server = await processes.startServer('ipc', { label: 'php profiled' });
  try {
    const run = await processes.runCommand('php', [path.join(__dirname, 'php-profile.php'), `--socket=${server.socketPath}`, `--keys=${keys}`, `--count=${count}`]);
    if (run.code !== 0) throw new Error(`php-profile.php failed (${run.code}): ${run.stderr.trim() || run.stdout.trim()}`);
    return JSON.parse(run.stdout.trim().split('\n').pop());
  } finally {
    await server.stop();
  }
}

function phpTable(php) {
  const out = ['#### PHP client (phase timings, median µs per round trip)', '',
    'Plain loop: json_encode of the whole request, fwrite, fgets (waiting for the server, then reading), json_decode.',
    'Our client: its encode() and writeRequest() timed from a subclass; the rest of send() is waiting, reading and decoding.', '',
    '| phase | plain loop | our client |', '| --- | ---: | ---: |',
    `| encode | ${fmt(php.loop.encode)} | ${fmt(php.client.encode)} |`,
    `| write | ${fmt(php.loop.write)} | ${fmt(php.client.write)} |`,
    `| wait + read + decode | ${fmt(php.loop.wait_and_read + php.loop.decode)} (decode alone ${fmt(php.loop.decode)}) | ${fmt(php.client.wait_read_and_decode)} |`,
    `| **total** | **${fmt(php.loop.total)}** | **${fmt(php.client.total)}** |`, ''];
  return out.join('\n');
}

function parseArgs(argv) {
  const args = { sizes: [1, 1024], count: null, dir: null, save: false, pin: true, intervalUs: 100 };
  for (const arg of argv) {
    const [name, value] = arg.split('=');
    if (name === '--sizes') args.sizes = value.split(',').map(Number);
    else if (name === '--count') args.count = Number(value);
    else if (name === '--save') args.save = true;
    else if (name === '--pin') args.pin = value !== 'off';
    else if (name === '--interval') args.intervalUs = Number(value);
    else if (name === '--help' || name === '-h') {
      console.log(fs.readFileSync(__filename, 'utf8').split('\n').filter((l) => l.startsWith('//')).join('\n').replace(/^\/\/ ?/gm, ''));
      process.exit(0);
    } else if (!name.startsWith('--')) args.dir = name;
    else throw new Error(`unknown option ${arg} (try --help)`);
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.dir) {
    console.log(summarizeProfiles(args.dir));
    return;
  }
  const dir = newRunDir(stampOf(new Date().toISOString()), '-profile');
  markLatest(dir, 'latest-profile');
  const pinned = args.pin && processes.hasTaskset();
  if (pinned) processes.setPinCpu(0);
  const how = pinned
    ? 'server and client pinned to one CPU, as in the benchmark, so a round trip is their work one after the other'
    : 'unpinned (server and client may run at the same time on two CPUs; a native write\'s self time then includes waking the reader)';
  const sections = ['## Profiles of the round trip', '', `Written to ${path.relative(ROOT, dir)}/ (open the .cpuprofile files in Chrome DevTools or speedscope). Sampled under \`node --cpu-prof\` every ${args.intervalUs} µs, ${how}; absolute figures are slowed by the profiler, compare ours with raw. "(program)" is time in the VM and in system calls outside JavaScript.`, '',
    `${new Date().toISOString()} · Node ${process.version} · load average ${require('os').loadavg().map((l) => l.toFixed(2)).join(' / ')} at the start.`, ''];
  for (const keys of args.sizes) {
    const count = args.count || (keys >= 100 ? 300 : 20000);
    const name = keys === 1024 ? '1 MiB' : `${keys} KiB`;
    process.stderr.write(`profiling ${name}: ${count} round trips, ours then raw\n`);
    const how = { pinned, intervalUs: args.intervalUs };
    const ours = await profileNode(dir, keys, count, 'ours', how);
    const raw = await profileNode(dir, keys, count, 'raw', how);
    sections.push(`### ${name} (median round trip under the profiler: ours ${fmt(ours.medianUs)} µs, raw ${fmt(raw.medianUs)} µs)`, '');
    sections.push(compareProfiles(`Server: our server against the raw server (${name})`, ours, raw, 'server'));
    sections.push(compareProfiles(`Node client: our client against the raw client (${name})`, ours, raw, 'client'));
    process.stderr.write(`profiling ${name}: php\n`);
    const php = await profilePhp(keys, Math.min(count, keys >= 100 ? 300 : 5000));
    if (php) {
      fs.writeFileSync(path.join(dir, `php-${ours.tag.replace('ours-', '')}.json`), JSON.stringify(php, null, 2) + '\n');
      sections.push(phpTable(php));
    } else sections.push('PHP: skipped (php is not installed).', '');
  }
  const markdown = sections.join('\n');
  fs.writeFileSync(path.join(dir, 'profile.md'), markdown + '\n');
  if (args.save) fs.writeFileSync(path.join(__dirname, 'results', 'profile.md'), markdown.replace(/Written to \S+ \(open/, 'The .cpuprofile files stay in bench/results/runs/ (open') + '\n');
  console.log(markdown);
  process.stderr.write(`wrote ${path.relative(ROOT, dir)}/\n`);
}

module.exports = { selfTimes, summarizeProfiles, byCategory, category };

if (require.main === module) {
  process.on('exit', processes.cleanup);
  main().catch((err) => {
    console.error('profile failed:', (err && err.stack) || err);
    processes.cleanup();
    process.exit(1);
  });
}
