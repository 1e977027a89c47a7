'use strict';
// The benchmark's method (bench/): intervals, verdicts, variants, retries and
// charts. Measuring itself is `npm run bench`; these check the arithmetic and
// decisions that turn measurements into a report.
const assert = require('assert');
const net = require('net');
const os = require('os');
const fs = require('fs');
const path = require('path');
const { bootstrapMedianInterval, coefficientOfVariation, median } = require('../../bench/stats');
const { Figures, verdict, analyze, label } = require('../../bench/analysis');
const { planVariants, FEATURES, alwaysOverrides } = require('../../bench/variants');
const { connectWithRetry } = require('../../bench/connect-retry');
const { asciiChart, svgChart } = require('../../bench/chart');

describe('bench method', function () {
  it('gives the same bootstrap interval every time (fixed seed), containing the median', function () {
    const ratios = [1.02, 1.10, 0.97, 1.05, 1.31, 1.04, 1.01];
    const a = bootstrapMedianInterval(ratios);
    const b = bootstrapMedianInterval(ratios);
    assert.deepStrictEqual(a, b);
    assert.ok(a[0] <= median(ratios) && median(ratios) <= a[1], `${a} should contain ${median(ratios)}`);
    assert.ok(a[0] >= Math.min(...ratios) && a[1] <= Math.max(...ratios));
    // An outlier repetition does not drag a median's interval to it.
    assert.ok(a[1] < 1.31, `upper bound ${a[1]} should stay below the outlier`);
  });

  it('judges a target met only when the whole interval is on its side', function () {
    const under = { ratio: 1.02, lo: 0.99, hi: 1.04, n: 7 };
    const straddling = { ratio: 1.02, lo: 0.98, hi: 1.12, n: 7 };
    const over = { ratio: 1.2, lo: 1.15, hi: 1.3, n: 7 };
    assert.strictEqual(verdict(under, { atMost: 1.05 }), 'met');
    assert.strictEqual(verdict(straddling, { atMost: 1.05 }), 'unclear');
    assert.strictEqual(verdict(over, { atMost: 1.05 }), 'missed');
    assert.strictEqual(verdict(over, { atLeast: 1.1 }), 'met');
    assert.strictEqual(verdict(straddling, { atLeast: 1.0 }), 'unclear');
  });

  it('pairs contender and baseline by repetition and flags a noisy baseline', function () {
    const records = [];
    const base = [100, 140, 90, 160, 100, 95, 150]; // the machine got slower and faster
    base.forEach((v, r) => {
      records.push({ w: 'latency', p: 1, c: 'raw', r, m: 'median', v });
      records.push({ w: 'latency', p: 1, c: 'srv', r, m: 'median', v: v * 1.1 }); // always 10% slower
    });
    const cmp = new Figures(records).compare('latency', 1, 'srv', 'raw', 'median');
    // Per-repetition ratios see through the drift: every one is 1.1.
    assert.ok(Math.abs(cmp.ratio - 1.1) < 1e-9 && Math.abs(cmp.lo - 1.1) < 1e-9 && Math.abs(cmp.hi - 1.1) < 1e-9, JSON.stringify(cmp));
    assert.strictEqual(cmp.n, 7);
    assert.ok(cmp.noisy, `baseline CV ${coefficientOfVariation(base)} should mark it noisy`);
  });

  it('judges our server\'s CPU with our client against the raw server fed by our client, when that was measured', function () {
    const records = [];
    for (let r = 0; r < 7; r++) {
      records.push({ w: 'latency', p: 1, c: 'raw', r, m: 'cpuPerMsg', v: 100 });
      records.push({ w: 'latency', p: 1, c: 'ours', r, m: 'cpuPerMsg', v: 108 });
    }
    const row = (list) => analyze(list).targets.find((t) => t.figure === 'one at a time: server CPU per request, 1 KiB' && t.who === label('ours'));
    // Only the raw baseline measured (older runs): judged against it.
    const alone = row(records);
    assert.strictEqual(alone.against, label('raw'));
    assert.strictEqual(alone.verdict, 'missed');
    // Our client's lines cost the raw server 6% more: the same input on both sides.
    const withSameInput = records.concat([...Array(7).keys()].map((r) => ({ w: 'latency', p: 1, c: 'rawours', r, m: 'cpuPerMsg', v: 106 })));
    const judged = row(withSameInput);
    assert.strictEqual(judged.against, 'raw server + our Node client');
    assert.ok(Math.abs(judged.cmp.ratio - 108 / 106) < 1e-9, JSON.stringify(judged.cmp));
    assert.strictEqual(judged.verdict, 'met');
  });

  it('skips feature variants whose config keys the server does not have, and composes the rest', function () {
    const keys = new Set(['auth_tokens']);
    const { variants, notes } = planVariants(null, keys);
    const names = variants.map((v) => v.name);
    assert.ok(names.includes('all-on') && names.includes('auth-off') && names.includes('deadlines-off'), names.join());
    assert.ok(!names.some((n) => n.startsWith('endpoint-stats')), 'endpoint-stats needs endpoint_stats');
    assert.match(notes.join(' '), /endpoint-stats \(needs endpoint_stats\)/);
    const allOn = variants.find((v) => v.name === 'all-on');
    assert.deepStrictEqual(allOn.server.auth_tokens, ['bench-token']);
    assert.strictEqual(allOn.client.requestTimeout, 120000);
    const deadlinesOff = variants.find((v) => v.name === 'deadlines-off');
    assert.strictEqual(deadlinesOff.client.requestTimeout, 0);
    assert.deepStrictEqual(deadlinesOff.server.auth_tokens, ['bench-token'], 'X-off keeps every other feature on');
    assert.throws(() => planVariants(['no-such-thing'], keys), /unknown variant/);
    const later = planVariants(['endpoint-stats-off'], keys);
    assert.strictEqual(later.variants.length, 0);
    assert.match(later.notes.join(' '), /endpoint-stats-off skipped/);
    assert.ok(FEATURES.every((f) => f.name && f.about && Array.isArray(f.requires)));
    // The identity policy line waits for both of its keys; once they exist it is measured.
    const withPolicy = planVariants(['policy-off'], new Set(['allow_users', 'policy', 'auth_tokens']));
    assert.deepStrictEqual(withPolicy.variants.map((v) => v.name), ['policy-off']);
    assert.strictEqual(withPolicy.variants[0].server.allow_users, undefined);
    assert.ok(planVariants(['all-on'], new Set(['allow_users', 'policy'])).variants[0].server.policy.length === 1);
    // A per-user connection cap is lifted for every benchmark server, where the server has one.
    assert.deepStrictEqual(alwaysOverrides(new Set(['max_connections_per_user'])), { max_connections_per_user: 0 });
    assert.deepStrictEqual(alwaysOverrides(new Set()), {});
  });

  it('retries a connect refused with EAGAIN, and gives up on other errors at once', async function () {
    let calls = 0;
    let retries = 0;
    const connected = await connectWithRetry(async () => {
      calls++;
      if (calls < 3) throw Object.assign(new Error('connect EAGAIN /tmp/x.sock'), { code: 'EAGAIN' });
      return 'client';
    }, { onRetry: () => retries++ });
    assert.strictEqual(connected, 'client');
    assert.strictEqual(retries, 2);
    let tries = 0;
    await assert.rejects(connectWithRetry(async () => {
      tries++;
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    }), /no such file/);
    assert.strictEqual(tries, 1);
    // An IPCError wrapping the socket's EAGAIN counts as transient too.
    let wrapped = 0;
    await connectWithRetry(async () => {
      if (wrapped++ === 0) throw Object.assign(new Error('Could not connect'), { code: 'connect_failed', cause: { code: 'EAGAIN' } });
      return 1;
    });
    assert.strictEqual(wrapped, 2);
  });

  it('rides out EAGAIN from a Unix socket whose listen backlog is full', async function () {
    this.timeout(20000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-retry-'));
    const socketPath = path.join(dir, 's.sock');
    // A server with a backlog of 1 that stops accepting for a while (its event loop is busy).
    const child = require('child_process').spawn(process.execPath, ['-e', `require('net').createServer(() => {}).listen({ path: ${JSON.stringify(socketPath)}, backlog: 1 }, () => {
        process.send('up'); const end = Date.now() + 800; while (Date.now() < end); });
        process.on('disconnect', () => process.exit(0));`], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const sockets = [];
    try {
      await new Promise((resolve, reject) => child.once('message', resolve).once('exit', reject));
      let retries = 0;
      const attempt = () => new Promise((resolve, reject) => {
        const s = net.connect(socketPath);
        s.once('connect', () => resolve(s)).once('error', reject);
      });
      const opened = await Promise.all(Array.from({ length: 40 }, () => connectWithRetry(attempt, { onRetry: () => retries++ })));
      sockets.push(...opened);
      assert.strictEqual(opened.length, 40);
      assert.ok(retries > 0, 'the full backlog should have refused some connects with EAGAIN');
    } finally {
      for (const s of sockets) s.destroy();
      child.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('draws every series of a chart, on log axes, as text and as SVG', function () {
    const series = [
      { name: 'raw', symbol: 'r', points: [{ x: 100, y: 10 }, { x: 1e6, y: 5000 }] },
      { name: 'ours', symbol: 'o', points: [{ x: 100, y: 12 }, { x: 1e6, y: 9000 }] },
    ];
    const text = asciiChart(series, { xLog: true, yLog: true, title: 'T' });
    assert.match(text, /r raw/);
    assert.match(text, /o ours/);
    assert.ok(text.split('\n').some((line) => line.includes('r') && line.includes('┤')));
    const svg = svgChart(series, { xLog: true, yLog: true, title: 'T' });
    assert.match(svg, /^<svg /);
    assert.strictEqual((svg.match(/<polyline/g) || []).length, 2);
  });
});
