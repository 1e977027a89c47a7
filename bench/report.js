'use strict';
// The report of a run: markdown (targets, tables and text charts, every ratio
// with its 95% interval) and the SVG charts of the three cost curves.
const { label, NOISY_CV } = require('./analysis');
const { natsSection } = require('./nats');
const { asciiChart, svgChart } = require('./chart');
const { SIZES, LATENCY_POINTS, ONE_AT_A_TIME, formatBytes, pointName, KiB, MiB } = require('./messages');
const { IN_FLIGHT, VARIANT_SIZES, VARIANT_IN_FLIGHT, CONNECTIONS_IN_FLIGHT } = require('./orchestrator');

/** The original project's published round trips (ms on "a local ancient laptop"), by key count. */
const SEED_MS = { 1: 0.13, 5: 0.19, 10: 0.36, 20: 0.64, 100: 3.35 };

// ---- formatting ----

function fmtNumber(v) {
  if (!Number.isFinite(v)) return '–';
  if (v < 10) return v.toFixed(2);
  if (v < 1000) return v.toFixed(1);
  return Math.round(v).toLocaleString('en-US');
}

const fmtX = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : '–');

/** "1.04× [0.98–1.10]": the median ratio and its 95% interval. */
function fmtRatio(cmp) {
  if (!cmp || !Number.isFinite(cmp.ratio)) return '–';
  if (cmp.n < 2) return `${fmtX(cmp.ratio)} (1 rep, no interval)`;
  return `${fmtX(cmp.ratio)} [${cmp.lo.toFixed(2)}–${cmp.hi.toFixed(2)}]`;
}

/** A value and, after it, its ratio to the baseline with the interval. */
const withRatio = (cmp) => (cmp && Number.isFinite(cmp.value) ? `${fmtNumber(cmp.value)} · ${fmtRatio(cmp)}` : '–');

const fmtCv = (cv) => (Number.isFinite(cv) ? `${(cv * 100).toFixed(0)}%${cv > NOISY_CV ? ' (noisy)' : ''}` : '–');

const fmtKiB = (bytes) => (Number.isFinite(bytes) ? (bytes / KiB).toFixed(1) : '–');

function table(header, rows) {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const sizeName = pointName;

function targetText(target) {
  if (target.absolute) return target.absolute;
  const main = target.atMost !== undefined ? `≤ ${target.atMost.toFixed(2)}×` : `≥ ${target.atLeast.toFixed(2)}×`;
  return target.aim ? `${main} (aim ${target.aim.toFixed(2)}×)` : main;
}

/** How many targets each verdict got: { met, missed, unclear }. */
function verdictCounts(targets) {
  const counts = { met: 0, missed: 0, unclear: 0 };
  for (const t of targets) if (counts[t.verdict] !== undefined) counts[t.verdict]++;
  return counts;
}

const VERDICT = { met: '**met**', missed: '**missed**', unclear: 'unclear (interval straddles the target)', 'n/a': 'n/a' };

// ---- sections ----

function header(results) {
  const { meta } = results;
  const pin = meta.pinned ? `every process pinned to CPU ${meta.cpu} (taskset)` : 'processes not pinned';
  return [
    '## pixl-ipc benchmark',
    '',
    `${meta.date} · ${meta.cpuModel} × ${meta.cpuCount} · Node ${meta.node}${meta.php ? ' · PHP ' + meta.php : ''} · ${meta.platform}`,
    '',
    `**${meta.quick ? 'QUICK RUN (few repetitions, short windows: rough figures, for a smoke test only)' : 'Full run'}**: ${meta.reps} repetitions (the cost curves: ${meta.curveReps || meta.reps}), ${meta.seconds.toFixed(0)} s, ${pin}; load average ${meta.loadAverage.map((l) => l.toFixed(2)).join(' / ')} at the start, ${meta.loadAverageEnd.map((l) => l.toFixed(2)).join(' / ')} at the end.`,
    '',
    'How to read it: in every repetition the contenders take turns point by point (order rotated), so a',
    'change in the machine\'s load hits them alike. A ratio is the **median over repetitions of the',
    'per-repetition ratio** to the baseline, followed by its **95% interval** in brackets (percentile',
    'bootstrap over repetitions, fixed seed). "Baseline spread" is the baseline\'s own coefficient of',
    `variation across repetitions; above ${(NOISY_CV * 100).toFixed(0)}% the figure is marked noisy. A target is **met** only when the`,
    'whole interval is on its side; **missed** when the whole interval is on the other side; otherwise',
    'the run cannot tell (unclear).',
    '',
  ];
}

function noiseBanner(results) {
  const { noise } = results.analysis;
  const out = [];
  if (noise.noisy) {
    out.push(`> **NOISY RUN**: the baseline's spread passed ${(NOISY_CV * 100).toFixed(0)}% for ${noise.noisyTargets} of the judged figures (worst ${(noise.worstBaselineCv * 100).toFixed(0)}%). Intervals are wide; read verdicts of "unclear" as "not measurable here", not as regressions.`);
  }
  for (const note of results.notes) out.push(`> ${note}`);
  return out.length ? [...out, ''] : [];
}

function targetsSection(results) {
  const rows = results.analysis.targets.map((t) => [t.figure, t.who, t.against, targetText(t.target),
    t.absolute || fmtRatio(t.cmp), t.cmp ? fmtCv(t.cmp.baseCv) : '', VERDICT[t.verdict]]);
  const counts = verdictCounts(results.analysis.targets);
  return ['### Targets', '',
    `${counts.met} met, ${counts.missed} missed, ${counts.unclear} unclear. Each ratio is to the contender in the "against" column.`, '',
    table(['figure', 'who', 'against', 'target', 'ratio [95% interval]', 'baseline spread', 'verdict'], rows), ''];
}

function latencySection(f, results) {
  const allOn = results.meta.variants.some((v) => v.name === 'all-on') ? 'v:all-on' : null;
  const rows = LATENCY_POINTS.map((point) => {
    const raw = f.value('latency', point, 'raw', 'median');
    const rawP99 = f.value('latency', point, 'raw', 'p99');
    return [sizeName(point), SEED_MS[point] ? fmtNumber(SEED_MS[point] * 1000) : '', fmtNumber(raw.value), fmtCv(raw.cv),
      withRatio(f.compare('latency', point, 'srv', 'raw', 'median')), withRatio(f.compare('latency', point, 'ours', 'raw', 'median')),
      allOn ? withRatio(f.compare('latency', point, allOn, 'raw', 'median')) : '',
      fmtNumber(rawP99.value), withRatio(f.compare('latency', point, 'srv', 'raw', 'p99')), withRatio(f.compare('latency', point, 'ours', 'raw', 'p99'))];
  });
  if (!rows.some((r) => r[2] !== '–')) return [];
  const cpuRows = LATENCY_POINTS.map((point) => {
    const raw = f.value('latency', point, 'raw', 'cpuPerMsg');
    return [sizeName(point), fmtNumber(raw.value), fmtCv(raw.cv),
      withRatio(f.compare('latency', point, 'srv', 'raw', 'cpuPerMsg')), withRatio(f.compare('latency', point, 'ours', 'raw', 'cpuPerMsg')),
      allOn ? withRatio(f.compare('latency', point, allOn, 'raw', 'cpuPerMsg')) : '',
      withRatio(f.compare('latency', point, 'rawours', 'raw', 'cpuPerMsg')), fmtRatio(f.compare('latency', point, 'ours', 'rawours', 'cpuPerMsg'))];
  }).filter((r) => r[1] !== '–');
  const out = [`### Sequential round trips (one at a time), µs (${results.meta.pinned ? 'pinned' : 'unpinned'})`,
    '100 B: a message whose JSON is 100 bytes; the others: messages of N keys of 1,024 characters. Each cell: median µs · ratio to the raw baseline [95% interval]. The seed column is the original pixl-ipc\'s published figure (another machine).', '',
    table(['size', 'seed', 'raw median', 'raw spread', 'our server + raw client', 'our server + our client', 'everything on', 'raw p99', 'our server p99', 'our stack p99'], rows), ''];
  if (cpuRows.length) {
    out.push('Server CPU µs per request during those round trips (from each server\'s own process.cpuUsage(), around the measured round trips), and its ratio to the raw server\'s (with the raw client). The last two columns, at the one-at-a-time sizes: the raw server fed by our Node client (whose lines cost any server more to parse), and our server against it, both with our client: the same input on both sides.', '',
      table(['size', 'raw server CPU µs', 'raw spread', 'our server (raw client)', 'our server (our client)', 'everything on', 'raw server (our client)', 'our server against raw server, both with our client'], cpuRows), '');
  }
  return out;
}

function pipelinedSection(f) {
  const rows = IN_FLIGHT.map((w) => {
    const raw = f.value('pipelined', w, 'raw', 'perSecond');
    const rawCpu = f.value('pipelined', w, 'raw', 'cpuPerMsg');
    return [`1 conn × ${w}`, fmtNumber(raw.value), fmtCv(raw.cv), withRatio(f.compare('pipelined', w, 'srv', 'raw', 'perSecond')), withRatio(f.compare('pipelined', w, 'ours', 'raw', 'perSecond')),
      fmtNumber(rawCpu.value), withRatio(f.compare('pipelined', w, 'srv', 'raw', 'cpuPerMsg')), withRatio(f.compare('pipelined', w, 'ours', 'raw', 'cpuPerMsg'))];
  }).filter((r) => r[1] !== '–');
  if (!rows.length) return [];
  const sameInput = f.compare('pipelined', 1, 'ours', 'rawours', 'cpuPerMsg');
  const note = Number.isFinite(sameInput.ratio) ? ` At 1 in flight, our server's CPU with our client against the raw server's fed by our client (the same lines): ${fmtRatio(sameInput)}.` : '';
  return ['### Pipelined ~100-byte messages, one connection', `Messages per second (higher is better) and the server's CPU µs per message (lower is better).${note}`, '',
    table(['in flight', 'raw msg/s', 'raw spread', 'our server + raw client', 'our server + our client', 'raw server CPU µs/msg', 'our server CPU (raw client)', 'our server CPU (our client)'], rows), ''];
}

function phpSection(f) {
  const rows = SIZES.map((keys) => {
    const loop = f.value('php', keys, 'loop', 'median');
    const loopP99 = f.value('php', keys, 'loop', 'p99');
    return [sizeName(keys), fmtNumber(loop.value), fmtCv(loop.cv), withRatio(f.compare('php', keys, 'client', 'loop', 'median')), fmtNumber(loopP99.value), withRatio(f.compare('php', keys, 'client', 'loop', 'p99'))];
  }).filter((r) => r[1] !== '–');
  if (!rows.length) return [];
  return ['### PHP round trips against our server, µs', 'Median µs · ratio to a plain PHP stream-socket loop (json_encode, fwrite, fgets, json_decode) [95% interval].', '',
    table(['size', 'plain loop median', 'loop spread', 'our PHP client', 'plain loop p99', 'our PHP client p99'], rows), ''];
}

function variantsSection(f, results) {
  const variants = results.meta.variants;
  const out = ['### Feature switches (cost of each, on and off)'];
  if (!variants.length) {
    return out.concat('', 'No variants were measured in this run (`--variants`; see bench/variants.js).', '');
  }
  out.push('Each variant is our server with config overrides and our Node client with options (bench/variants.js), measured in the same repetitions as the rest. "vs base" is the ratio to our server and client with defaults (above 1 = the variant costs more); "vs raw" to the raw baseline.', '');
  const rows = variants.map((v) => {
    const c = `v:${v.name}`;
    const cells = [];
    for (const keys of VARIANT_SIZES) cells.push(fmtRatio(f.compare('latency', keys, c, 'ours', 'median')), fmtRatio(f.compare('latency', keys, c, 'raw', 'median')));
    for (const w of VARIANT_IN_FLIGHT) {
      const m = w === 1 ? 'cpuPerMsg' : 'perSecond';
      cells.push(fmtRatio(f.compare('pipelined', w, c, 'ours', m)), fmtRatio(f.compare('pipelined', w, c, 'raw', m)));
    }
    return [v.name, v.about, ...cells];
  });
  const sizeHeads = VARIANT_SIZES.flatMap((point) => [`${sizeName(point)} round trip vs base`, 'vs raw']);
  out.push(table(['variant', 'what', ...sizeHeads, 'server CPU/msg, 1 in flight, vs base', 'vs raw', 'msg/s, 64 in flight, vs base', 'vs raw'], rows), '');
  return out;
}

const SERIES_STYLE = {
  raw: { symbol: 'r', color: '#444', name: 'raw baseline' },
  srv: { symbol: 's', color: '#d62728', name: 'our server + raw client' },
  ours: { symbol: 'o', color: '#1f77b4', name: 'our server + our client' },
};

/**
 * The point of a curve where a contender's ratio to the baseline has moved
 * furthest the wrong way from the curve's first point (judged by the
 * interval's near end), with that growth.
 */
function worstGrowth(f, w, points, c, m, higherIsWorse = true) {
  let worst = null;
  for (const p of points.slice(1)) {
    const g = Object.assign(f.growth(w, points[0], p, c, 'raw', m), { at: p });
    if (!Number.isFinite(g.ratio)) continue;
    const key = higherIsWorse ? g.lo : -g.hi;
    if (!worst || key > worst.key) worst = Object.assign(g, { key });
  }
  return worst;
}

function growthText(g, what, { higherIsWorse = true } = {}) {
  if (!g || !Number.isFinite(g.ratio)) return null;
  const worse = higherIsWorse ? g.lo > 1 && g.ratio > 1.05 : g.hi < 1 && g.ratio < 0.95;
  const interval = g.n > 1 ? ` [${g.lo.toFixed(2)}–${g.hi.toFixed(2)}]` : '';
  return `${worse ? '**FLAG: grows faster than the baseline.** ' : ''}${what}: ${fmtX(g.ratio)}${interval} ${worse ? '' : '(not shown to grow faster than the baseline)'}`.trim();
}

function sizeCurve(f, results, charts) {
  const bytesList = results.meta.curveBytes;
  if (!f.value('sizes', bytesList[0], 'raw', 'median').n) return [];
  const rows = bytesList.map((b) => {
    const raw = f.value('sizes', b, 'raw', 'median');
    return [formatBytes(b), fmtNumber(raw.value), fmtCv(raw.cv), withRatio(f.compare('sizes', b, 'srv', 'raw', 'median')), withRatio(f.compare('sizes', b, 'ours', 'raw', 'median')),
      Number.isFinite(raw.value) ? fmtNumber((b / MiB) / (raw.value / 1e6)) : '–'];
  });
  const series = ['raw', 'srv', 'ours'].map((c) => Object.assign({}, SERIES_STYLE[c], { points: bytesList.map((b) => ({ x: b, y: f.value('sizes', b, c, 'median').value })) }));
  const opts = { title: 'Round trip vs message size', xLabel: 'message data size', yLabel: 'median round trip, µs', xLog: true, yLog: true, xFormat: formatBytes, yFormat: fmtNumber };
  charts['size-curve.svg'] = svgChart(series, opts);
  const flags = ['srv', 'ours'].map((c) => {
    const g = worstGrowth(f, 'sizes', bytesList, c, 'median');
    return g && growthText(g, `${label(c)}: ratio to the baseline at ${formatBytes(g.at)} over the ratio at ${formatBytes(bytesList[0])} (the size where it grows most)`);
  }).filter(Boolean);
  return ['#### (a) Round trip against message size, 100 B to 32 MiB', `One string of the given size as the request data, echoed back; sequential, ${results.meta.pinned ? 'pinned' : 'unpinned'}; ${results.meta.curveReps || results.meta.reps} repetitions. Median µs · ratio [95% interval]. The last size is 32 MiB less 4 KiB (room for the envelope under max_message_size).`, '',
    table(['data size', 'raw µs', 'raw spread', 'our server + raw client', 'our server + our client', 'raw MiB/s (each way)'], rows), '',
    ...flags.map((t) => `- ${t}`), '', '```text', asciiChart(series, opts), '```', '', '![round trip vs size](charts/size-curve.svg)', ''];
}

function connectionCurve(f, results, charts) {
  const counts = results.meta.connectionCounts;
  if (!f.value('connections', counts[0], 'raw', 'perSecond').n) return [];
  const rows = counts.map((n) => {
    const raw = f.value('connections', n, 'raw', 'perSecond');
    const rawCpu = f.value('connections', n, 'raw', 'cpuPerMsg');
    return [`${n.toLocaleString('en-US')} × ${CONNECTIONS_IN_FLIGHT}`, fmtNumber(raw.value), fmtCv(raw.cv), withRatio(f.compare('connections', n, 'srv', 'raw', 'perSecond')), withRatio(f.compare('connections', n, 'ours', 'raw', 'perSecond')),
      fmtNumber(rawCpu.value), withRatio(f.compare('connections', n, 'srv', 'raw', 'cpuPerMsg')), withRatio(f.compare('connections', n, 'ours', 'raw', 'cpuPerMsg'))];
  });
  const series = ['raw', 'srv', 'ours'].map((c) => Object.assign({}, SERIES_STYLE[c], { points: counts.map((n) => ({ x: n, y: f.value('connections', n, c, 'perSecond').value })) }));
  const opts = { title: `Throughput vs connections (each pipelining ${CONNECTIONS_IN_FLIGHT})`, xLabel: 'connections', yLabel: 'messages per second', xLog: true, yLog: false, xFormat: (n) => n.toLocaleString('en-US'), yFormat: fmtNumber };
  charts['connections-curve.svg'] = svgChart(series, opts);
  const flags = [];
  for (const c of ['srv', 'ours']) {
    const t = worstGrowth(f, 'connections', counts, c, 'perSecond', false);
    if (t) flags.push(growthText(t, `${label(c)}: throughput ratio at ${t.at} connections over the ratio at ${counts[0]} (where it falls most)`, { higherIsWorse: false }));
    const u = worstGrowth(f, 'connections', counts, c, 'cpuPerMsg');
    if (u) flags.push(growthText(u, `${label(c)}: server CPU per message ratio at ${u.at} connections over the ratio at ${counts[0]} (where it grows most)`));
  }
  return [`#### (b) Throughput against connections, each pipelining ${CONNECTIONS_IN_FLIGHT} ~100-byte messages`, `Messages per second (higher is better) and server CPU µs per message (lower is better) · ratio to the raw baseline [95% interval]; ${results.meta.curveReps || results.meta.reps} repetitions. All connections of a contender come from one client process.`, '',
    table(['connections', 'raw msg/s', 'raw spread', 'our server + raw client', 'our server + our client', 'raw CPU µs/msg', 'our server CPU (raw client)', 'our server CPU (our client)'], rows), '',
    ...flags.filter(Boolean).map((t) => `- ${t}`), '', '```text', asciiChart(series, opts), '```', '', '![throughput vs connections](charts/connections-curve.svg)', ''];
}

function memoryCurve(f, results, charts) {
  const counts = results.meta.memoryCounts;
  if (!f.value('memory', counts[0], 'raw', 'idlePerConn').n) return [];
  const rows = counts.map((n) => {
    const cell = (c, m) => f.value('memory', n, c, m).value;
    return [n.toLocaleString('en-US'), fmtKiB(cell('raw', 'idlePerConn')), fmtKiB(cell('srv', 'idlePerConn')), fmtX(cell('srv', 'idlePerConn') / cell('raw', 'idlePerConn')),
      fmtKiB(cell('raw', 'idleHeapPerConn')), fmtKiB(cell('srv', 'idleHeapPerConn')),
      fmtKiB(cell('raw', 'busyPerConn')), fmtKiB(cell('srv', 'busyPerConn')), fmtX(cell('srv', 'busyPerConn') / cell('raw', 'busyPerConn'))];
  });
  const points = (c, m) => counts.map((n) => ({ x: n, y: f.value('memory', n, c, m).value / KiB }));
  const series = [
    { name: 'raw, idle', symbol: 'r', color: '#444', points: points('raw', 'idlePerConn') },
    { name: 'ours, idle', symbol: 'o', color: '#1f77b4', points: points('srv', 'idlePerConn') },
    { name: 'raw, busy', symbol: 'R', color: '#444', dashed: true, points: points('raw', 'busyPerConn') },
    { name: 'ours, busy', symbol: 'O', color: '#1f77b4', dashed: true, points: points('srv', 'busyPerConn') },
  ];
  const opts = { title: 'Server memory per connection', xLabel: 'connections', yLabel: 'RSS growth per connection, KiB', xLog: true, yLog: false, xFormat: (n) => n.toLocaleString('en-US'), yFormat: fmtNumber };
  charts['memory-curve.svg'] = svgChart(series, opts);
  const last = counts[counts.length - 1];
  const flags = [];
  for (const m of ['idlePerConn', 'busyPerConn']) {
    const ours = f.value('memory', last, 'srv', m).value;
    const raw = f.value('memory', last, 'raw', m).value;
    const what = m === 'idlePerConn' ? 'idle' : 'busy';
    if (ours > raw * 1.25 && ours - raw > 2 * KiB) flags.push(`**FLAG: more memory per ${what} connection than the baseline** at ${last.toLocaleString('en-US')} connections: ${fmtKiB(ours)} KiB against ${fmtKiB(raw)} KiB.`);
    else flags.push(`Per ${what} connection at ${last.toLocaleString('en-US')} connections: ${fmtKiB(ours)} KiB (raw ${fmtKiB(raw)} KiB): no more than the baseline's, give or take 25%.`);
  }
  return ['#### (c) Server memory per connection', `A fresh server per point, the raw client on both, medians of ${results.meta.memoryReps} repetition(s). Idle: N connections that each answered one request, RSS (and JS heap) after a full GC, less the same before they connected, over N. Busy: peak RSS while all N pipeline ${CONNECTIONS_IN_FLIGHT} (garbage included, as the kernel sees it), less RSS before, over N. Small N are dominated by heap growth steps.`, '',
    table(['connections', 'raw idle KiB/conn', 'our idle KiB/conn', 'ratio', 'raw idle JS heap KiB/conn', 'our idle JS heap KiB/conn', 'raw busy KiB/conn', 'our busy KiB/conn', 'ratio'], rows), '',
    ...flags.map((t) => `- ${t}`), '', '```text', asciiChart(series, opts), '```', '', '![memory per connection](charts/memory-curve.svg)', ''];
}

function floodSection(f, results) {
  const count = results.meta.floodCount;
  const raw = f.value('flood', count, 'raw', 'growth');
  const ours = f.value('flood', count, 'srv', 'growth');
  if (!raw.n && !ours.n) return [];
  const written = (c) => f.value('flood', count, c, 'written').value;
  const stalled = (c) => f.value('flood', count, c, 'stalled').value > 0;
  const describe = (c) => `${fmtNumber(written(c))} of ${count.toLocaleString('en-US')} requests accepted${stalled(c) ? ' (then writes stalled: the server stopped reading)' : ''}`;
  return ['#### A client that floods requests and never reads', '',
    table(['server', 'RSS growth, MiB', 'what the socket took'], [
      ['raw baseline', Number.isFinite(raw.value) ? (raw.value / MiB).toFixed(1) : '–', describe('raw')],
      ['our server', Number.isFinite(ours.value) ? (ours.value / MiB).toFixed(1) : '–', describe('srv')],
    ]), ''];
}

/** The markdown report and the SVG charts ({ file name: svg text }). */
function render(results) {
  const f = results.analysis.figures;
  const charts = {};
  const curves = [...sizeCurve(f, results, charts), ...connectionCurve(f, results, charts), ...memoryCurve(f, results, charts), ...floodSection(f, results)];
  const lines = [
    ...header(results),
    ...noiseBanner(results),
    ...targetsSection(results),
    ...latencySection(f, results),
    ...pipelinedSection(f),
    ...natsSection(f, { fmtNumber, fmtRatio, table }),
    ...phpSection(f),
    ...variantsSection(f, results),
    ...(curves.length ? ['### How cost grows', '', ...curves] : []),
  ];
  return { markdown: lines.join('\n').trimEnd() + '\n', charts };
}

/**
 * The short version for docs/performance.md (between its bench-table markers): the
 * run's conditions, the targets with their intervals, and one line per curve.
 */
function renderReadmeSummary(results) {
  const { meta } = results;
  const f = results.analysis.figures;
  const counts = verdictCounts(results.analysis.targets);
  const lines = [
    `Latest saved run (\`npm run bench -- --save\`, ${meta.date.slice(0, 10)}, ${meta.cpuModel} × ${meta.cpuCount}, Node ${meta.node.replace(/^v/, '')}${meta.php ? ', PHP ' + meta.php : ''};`,
    `${meta.reps} repetitions${meta.pinned ? ', every process pinned to one CPU' : ''}; load average ${meta.loadAverage[0].toFixed(1)} at the start${results.analysis.noise.noisy ? `: a **noisy run**, the baseline's own spread across repetitions passed 10% (worst ${(100 * results.analysis.noise.worstBaselineCv).toFixed(0)}%)` : ''}).`,
    `Each ratio is to the contender in the "against" column (the raw baseline is the raw server and client; PHP's, a plain PHP loop), the median of per-repetition ratios with its 95% interval; a target is met only when the whole interval is on its side. ${counts.met} met, ${counts.missed} missed, ${counts.unclear} unclear:`,
    '',
    // Cautions added to a saved run travel with its figures.
    ...results.notes.filter((n) => n.startsWith('Caution')).flatMap((n) => [`> ${n}`, '']),
    table(['figure', 'who', 'against', 'target', 'ratio [95% interval]', 'verdict'],
      results.analysis.targets.map((t) => [t.figure, t.who, t.against, targetText(t.target), t.absolute || fmtRatio(t.cmp), t.verdict])),
    '',
  ];
  const curve = (w, points, m, name, fmtPoint) => {
    if (!f.value(w, points[0], 'raw', m).n) return null;
    const parts = points.map((p) => `${fmtPoint(p)} ${fmtX(f.compare(w, p, 'ours', 'raw', m).ratio)}`);
    return `- ${name} (our server + our Node client, ratio to raw): ${parts.join(', ')}.`;
  };
  const curves = [
    curve('sizes', meta.curveBytes, 'median', 'Round trip against message size', formatBytes),
    curve('connections', meta.connectionCounts, 'perSecond', `Throughput against connections (each pipelining ${CONNECTIONS_IN_FLIGHT})`, (n) => n.toLocaleString('en-US')),
  ].filter(Boolean);
  const last = meta.memoryCounts[meta.memoryCounts.length - 1];
  const idle = f.value('memory', last, 'srv', 'idlePerConn').value;
  const idleRaw = f.value('memory', last, 'raw', 'idlePerConn').value;
  const busy = f.value('memory', last, 'srv', 'busyPerConn').value;
  const busyRaw = f.value('memory', last, 'raw', 'busyPerConn').value;
  if (Number.isFinite(idle)) curves.push(`- Memory per connection at ${last.toLocaleString('en-US')} connections: ${fmtKiB(idle)} KiB idle (raw ${fmtKiB(idleRaw)}), ${fmtKiB(busy)} KiB busy (raw ${fmtKiB(busyRaw)}).`);
  if (curves.length) lines.push('How cost grows:', '', ...curves, '');
  lines.push('The whole report, with every table, the feature switches and the charts, is bench/results/latest.md in the repository.');
  return lines.join('\n');
}

/**
 * The few lines README.md shows (between its bench-readme markers, replaced
 * by --save): the one-request-at-a-time round trip per size with each client
 * and everything on, the server's CPU per request, and the headline figures
 * elsewhere, each a ratio to the raw baseline with its interval.
 */
function renderReadmeBrief(results) {
  const { meta } = results;
  const f = results.analysis.figures;
  const allOn = meta.variants.some((v) => v.name === 'all-on') ? 'v:all-on' : null;
  const latency = (point, c, m = 'median') => fmtRatio(f.compare('latency', point, c, 'raw', m));
  const sameInput = (point) => fmtRatio(f.compare('latency', point, 'ours', 'rawours', 'cpuPerMsg'));
  const rows = ONE_AT_A_TIME.map((point) => [sizeName(point), latency(point, 'srv'), latency(point, 'ours'), allOn ? latency(point, allOn) : '–', latency(point, 'srv', 'cpuPerMsg'), sameInput(point)]);
  const counts = verdictCounts(results.analysis.targets);
  const headline = [
    `pipelined ~100 B requests, 64 in flight: ${fmtRatio(f.compare('pipelined', 64, 'ours', 'raw', 'perSecond'))} the raw server's throughput`,
    `100 KiB round trip ${fmtRatio(f.compare('latency', 100, 'ours', 'raw', 'median'))}, 1 MiB ${fmtRatio(f.compare('latency', 1024, 'ours', 'raw', 'median'))}`,
  ];
  const php = f.compare('php', 1, 'client', 'loop', 'median');
  if (Number.isFinite(php.ratio)) headline.push(`the PHP client's 1 KiB round trip ${fmtRatio(php)} a plain PHP loop's`);
  return [
    `One request at a time (a PHP page, a CLI, a service awaiting each call): round trip as a ratio to a raw newline-JSON echo server and client in plain Node, the median of ${meta.reps} per-repetition ratios [95% interval], every process pinned to one CPU (\`npm run bench -- --save\`, ${meta.date.slice(0, 10)}, ${meta.cpuModel} × ${meta.cpuCount}, Node ${meta.node.replace(/^v/, '')}${results.analysis.noise.noisy ? '; a noisy run' : ''}):`,
    '',
    table(['message', 'our server, raw client', 'our server and Node client', 'everything on', 'server CPU per request, raw client', 'server CPU per request, Node client (against the raw server fed by it)'], rows),
    '',
    `Elsewhere (our server and Node client): ${headline.join('; ')}. Of the benchmark's ${counts.met + counts.missed + counts.unclear} targets, ${counts.met} met, ${counts.missed} missed, ${counts.unclear} unclear: [docs/performance.md](docs/performance.md) has them all and how to read them.`,
  ].join('\n');
}

module.exports = { render, renderReadmeSummary, renderReadmeBrief, fmtRatio };
