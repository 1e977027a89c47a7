'use strict';
// Turns the repetitions of a run into medians, ratios to the raw baseline, the
// issue's targets judged PASS/FAIL, and the markdown table.
const { median } = require('./stats');
const { SIZES, PINNED_JUDGE_MAX_KEYS } = require('./messages');

/** The original project's published round trips (ms on "a local ancient laptop"), by key count. */
const SEED_MS = { 1: 0.13, 5: 0.19, 10: 0.36, 20: 0.64, 100: 3.35 };

const LABELS = { raw: 'raw baseline', srv: 'our server + raw client', ours: 'our server + our client' };
const MIB = 1024 * 1024;

/** Replace every list of per-repetition figures by its median. */
function medians(node) {
  if (Array.isArray(node)) return median(node);
  if (node && typeof node === 'object') {
    const out = {};
    for (const [key, value] of Object.entries(node)) out[key] = medians(value);
    return out;
  }
  return node;
}

/** Medians of everything, plus the targets judged. */
function summarize(results) {
  const summary = medians(results.raw);
  summary.memory = results.raw.memory;
  summary.targets = judge(summary);
  return summary;
}

const get = (object, ...keys) => keys.reduce((node, key) => (node == null ? undefined : node[key]), object);
const ratio = (ours, base) => (Number.isFinite(ours) && Number.isFinite(base) && base > 0 ? ours / base : NaN);

/** Which run judges a size: pinned for small messages (when there is a pinned run). */
function judgingPin(summaryPart, keys) {
  return keys <= PINNED_JUDGE_MAX_KEYS && summaryPart && summaryPart.pinned ? 'pinned' : 'unpinned';
}

function verdict(values, test) {
  const known = values.filter((v) => Number.isFinite(v.ratio));
  if (!known.length) return 'n/a';
  return known.every((v) => test(v.ratio)) ? 'PASS' : 'FAIL';
}

function describe(values, bad) {
  const known = values.filter((v) => Number.isFinite(v.ratio));
  if (!known.length) return 'not measured';
  const failing = known.filter((v) => bad(v.ratio));
  const shown = failing.length ? failing : known;
  return (failing.length ? 'fails at ' : '') + shown.map((v) => `${v.at}: ${fmtRatio(v.ratio)}`).join(', ');
}

function judge(s) {
  const targets = [];
  const add = (figure, who, target, values, ok) => {
    targets.push({ figure, who, target, result: verdict(values, ok), detail: describe(values, (r) => !ok(r)), values });
  };
  const atMost = (limit) => (r) => r <= limit;
  const atLeast = (limit) => (r) => r >= limit;
  for (const who of ['srv', 'ours']) {
    const label = LABELS[who];
    add('sequential latency, every size', label, '≤ 1.10 × raw', SIZES.map((keys) => {
      const pin = judgingPin(s.latency, keys);
      return { at: `${keys}k ${pin === 'pinned' ? 'pin' : 'unpin'}`, ratio: ratio(get(s.latency, pin, who, keys, 'median'), get(s.latency, pin, 'raw', keys, 'median')) };
    }), atMost(1.10));
    const pin1 = judgingPin(s.latency, 1);
    add('p99 sequential latency at 1K', label, '≤ 1.25 × raw', [{ at: `1k ${pin1 === 'pinned' ? 'pin' : 'unpin'}`, ratio: ratio(get(s.latency, pin1, who, 1, 'p99'), get(s.latency, pin1, 'raw', 1, 'p99')) }], atMost(1.25));
    add('pipelined throughput, 16 and 256 in flight', label, '≥ 1.0 × raw', [16, 256].map((w) => ({ at: `${w} in flight`, ratio: ratio(get(s.pipelined, who, w, 'perSecond'), get(s.pipelined, 'raw', w, 'perSecond')) })), atLeast(1.0));
    add('server CPU per message, pipelined', label, '≤ 1.0 × raw', [1, 16, 256].map((w) => ({ at: `${w} in flight`, ratio: ratio(get(s.pipelined, who, w, 'cpuPerMsg'), get(s.pipelined, 'raw', w, 'cpuPerMsg')) })), atMost(1.0));
    add('100 connections aggregate throughput', label, '≥ 1.0 × raw', [{ at: '100×16', ratio: ratio(get(s.connections, who, 'perSecond'), get(s.connections, 'raw', 'perSecond')) }], atLeast(1.0));
  }
  add('PHP client sequential latency', 'our PHP client', '≤ 1.10 × plain PHP loop', SIZES.map((keys) => {
    const pin = judgingPin(s.php, keys);
    return { at: `${keys}k ${pin === 'pinned' ? 'pin' : 'unpin'}`, ratio: ratio(get(s.php, pin, 'client', keys, 'median'), get(s.php, pin, 'loop', keys, 'median')) };
  }), atMost(1.10));
  const memory = get(s.memory, 'ours');
  const growth = memory ? (memory.idleConnections - memory.idle) / MIB : NaN;
  targets.push({
    figure: 'RSS, 1,000 idle connections', who: 'our server', target: '≤ 64 MiB above idle',
    result: Number.isFinite(growth) ? (growth <= 64 ? 'PASS' : 'FAIL') : 'n/a',
    detail: Number.isFinite(growth) ? `+${growth.toFixed(1)} MiB` : 'not measured',
  });
  return targets;
}

// ---- formatting ----

function fmtRatio(r) {
  return Number.isFinite(r) ? r.toFixed(2) + '×' : '–';
}

function fmtNumber(v) {
  if (!Number.isFinite(v)) return '–';
  if (v < 10) return v.toFixed(2);
  if (v < 1000) return v.toFixed(1);
  return Math.round(v).toLocaleString('en-US');
}

const fmtMiB = (bytes) => (Number.isFinite(bytes) ? (bytes / MIB).toFixed(1) : '–');

/** "value (ratio)" for one of ours next to its baseline. */
const withRatio = (v, base) => (Number.isFinite(v) ? `${fmtNumber(v)} (${fmtRatio(ratio(v, base))})` : '–');

function table(header, rows) {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function latencySection(s, pinModes) {
  const out = [];
  for (const pin of pinModes) {
    const part = get(s.latency, pin);
    if (!part) continue;
    out.push(`### Sequential latency, µs per round trip, ${pin === 'pinned' ? 'both processes pinned to CPU 0 (taskset -c 0)' : 'unpinned'}`);
    out.push('Median (ratio to the raw baseline), then p99. The seed column is the original project\'s published figure (another machine).');
    out.push('');
    out.push(table(['keys', 'seed', 'raw median', 'our server + raw client', 'our server + our client', 'raw p99', 'our server p99', 'our stack p99'],
      SIZES.map((keys) => {
        const raw = get(part, 'raw', keys) || {};
        const srv = get(part, 'srv', keys) || {};
        const ours = get(part, 'ours', keys) || {};
        return [keys, SEED_MS[keys] ? fmtNumber(SEED_MS[keys] * 1000) : '', fmtNumber(raw.median), withRatio(srv.median, raw.median), withRatio(ours.median, raw.median),
          fmtNumber(raw.p99), withRatio(srv.p99, raw.p99), withRatio(ours.p99, raw.p99)];
      })));
    out.push('');
  }
  return out;
}

function throughputSection(s) {
  if (!s.pipelined && !s.connections) return [];
  const rows = [];
  for (const w of [1, 16, 256]) {
    if (!get(s.pipelined, 'raw', w)) continue;
    const f = (who, key) => get(s.pipelined, who, w, key);
    rows.push([`1 conn × ${w}`, fmtNumber(f('raw', 'perSecond')), withRatio(f('srv', 'perSecond'), f('raw', 'perSecond')), withRatio(f('ours', 'perSecond'), f('raw', 'perSecond')),
      fmtNumber(f('raw', 'cpuPerMsg')), withRatio(f('srv', 'cpuPerMsg'), f('raw', 'cpuPerMsg')), withRatio(f('ours', 'cpuPerMsg'), f('raw', 'cpuPerMsg'))]);
  }
  if (get(s.connections, 'raw')) {
    const f = (who, key) => get(s.connections, who, key);
    rows.push(['100 conns × 16', fmtNumber(f('raw', 'perSecond')), withRatio(f('srv', 'perSecond'), f('raw', 'perSecond')), withRatio(f('ours', 'perSecond'), f('raw', 'perSecond')),
      fmtNumber(f('raw', 'cpuPerMsg')), withRatio(f('srv', 'cpuPerMsg'), f('raw', 'cpuPerMsg')), withRatio(f('ours', 'cpuPerMsg'), f('raw', 'cpuPerMsg'))]);
  }
  return ['### Throughput, ~100-byte messages, unpinned', 'Messages per second (higher is better) and server CPU µs per message (lower is better), ratio to the raw baseline.', '',
    table(['in flight', 'raw msg/s', 'our server + raw client', 'our server + our client', 'raw server CPU µs/msg', 'our server CPU (raw client)', 'our server CPU (our client)'], rows), ''];
}

function phpSection(s, pinModes) {
  if (!s.php) return [];
  if (s.php.skipped) return ['### PHP client', `Skipped: ${s.php.skipped}.`, ''];
  const out = [];
  for (const pin of pinModes) {
    const part = get(s.php, pin);
    if (!part) continue;
    out.push(`### PHP sequential latency against our server, µs, ${pin === 'pinned' ? 'pinned to CPU 0' : 'unpinned'}`);
    out.push('');
    out.push(table(['keys', 'plain PHP loop median', 'our PHP client median', 'plain loop p99', 'our PHP client p99'], SIZES.map((keys) => {
      const loop = get(part, 'loop', keys) || {};
      const client = get(part, 'client', keys) || {};
      return [keys, fmtNumber(loop.median), withRatio(client.median, loop.median), fmtNumber(loop.p99), withRatio(client.p99, loop.p99)];
    })));
    out.push('');
  }
  return out;
}

function memorySection(s) {
  const raw = get(s.memory, 'raw');
  const ours = get(s.memory, 'ours');
  if (!raw && !ours) return [];
  const row = (label, f) => {
    const a = raw ? f(raw) : NaN;
    const b = ours ? f(ours) : NaN;
    return [label, fmtMiB(a), fmtMiB(b), fmtRatio(ratio(b, a))];
  };
  const any = ours || raw;
  const flood = (m) => `${m.floodWritten.toLocaleString('en-US')} of ${m.floodCount.toLocaleString('en-US')}${m.floodStalled ? ' (writes stalled: the server stopped reading)' : ''}`;
  return ['### Server memory (RSS, MiB)', '',
    table(['figure', 'raw server', 'our server', 'ratio'], [
      row('idle', (m) => m.idle),
      row(`${any.idleConnectionCount.toLocaleString('en-US')} idle connections`, (m) => m.idleConnections),
      row('growth for those connections', (m) => m.idleConnections - m.idle),
      row('peak while one client floods requests it never reads', (m) => m.floodPeak),
      row('flood growth above idle', (m) => m.floodPeak - m.floodIdle),
    ]),
    '',
    `Flood requests the socket accepted: raw server ${raw ? flood(raw) : '–'}; our server ${ours ? flood(ours) : '–'}.`, ''];
}

function targetsSection(s) {
  return ['### Targets', 'Judged on the pinned run for sizes up to 20 keys, unpinned above; medians of the repetitions.', '',
    table(['figure', 'who', 'target', 'measured', 'result'], s.targets.map((t) => [t.figure, t.who, t.target, t.detail, `**${t.result}**`])), ''];
}

/** The whole report as markdown. */
function renderMarkdown(results) {
  const { meta, summary: s, notes } = results;
  const pinModes = ['pinned', 'unpinned'];
  const lines = [
    '## pixl-ipc benchmark',
    '',
    `${meta.date} · ${meta.cpuModel} × ${meta.cpuCount} · Node ${meta.node}${meta.php ? ' · PHP ' + meta.php : ''} · ${meta.platform}`,
    `${meta.quick ? 'quick run' : 'full run'}, ${meta.reps} repetition(s), medians across repetitions, ${meta.seconds.toFixed(0)} s.`,
    '',
    ...notes.map((n) => `> ${n}`),
    ...(notes.length ? [''] : []),
    ...targetsSection(s),
    ...latencySection(s, pinModes),
    ...throughputSection(s),
    ...phpSection(s, pinModes),
    ...memorySection(s),
  ];
  return lines.join('\n').trimEnd();
}

module.exports = { summarize, renderMarkdown, judge };
