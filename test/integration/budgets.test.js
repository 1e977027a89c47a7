'use strict';
// Issue 24: every byte a client can make the daemon hold is charged to a
// budget before it is held. These tests run the daemon in its own process
// (with --expose-gc, so its heap can be read after a full collection) and
// compare what requests really hold with what they were charged; the figures
// are printed. PIXL_IPC_AMPLIFICATION_RUNS sets how many generated shapes
// the property test tries (npm run test:soak tries more).
const assert = require('assert');
const fs = require('fs');
const fc = require('fast-check');
const { cleanupTempDirs } = require('../helpers/harness');
const { startDaemon, stopDaemons } = require('../helpers/hostile-daemon');
const { otherUser, runAs } = require('../helpers/other-user');
const { rawConnect } = require('../helpers/raw');
const { sleep, waitFor } = require('../helpers/wait');
const { heldBytesOf } = require('../../dist/lib/held-size');

const MiB = 1024 * 1024;
const mib = (bytes) => (bytes / MiB).toFixed(1) + ' MiB';
const RUNS = Number(process.env.PIXL_IPC_AMPLIFICATION_RUNS || 6);

/** The most heap a request may hold per byte it was charged: the charge is an upper bound. */
const HELD_PER_CHARGED = 1.0;
/**
 * What two readings of the heap after a full collection may differ by with
 * nothing held in between (code compiled, caches, the reading's own request):
 * allowed on top of the bound, and measured at the start of each test.
 */
const MEASURING_SLACK = 1 * MiB;

/** A line of `count` copies of `unit` in an array, as one request. */
function requestLine(id, uri, unit, count, extra = '') {
  return `{"ipcReqID":${JSON.stringify(id)},"uri":${JSON.stringify(uri)},"data":{"delay":60000,"p":[${new Array(count).fill(unit).join(',')}]}${extra}}\n`;
}

/** What a line will be charged: the server's own estimate (dist/lib/held-size.js). */
const chargeOf = (line) => heldBytesOf(line.slice(0, -1), Buffer.byteLength(line));

/**
 * Sends `lines` on one connection to a handler that holds them, and measures
 * the daemon's heap after a full collection against the bytes charged.
 */
async function measureHeld(d, lines, { uri = '/ipcserver/test/delay', expectRunning = lines.length } = {}) {
  const before = await d.memory();
  const c = await rawConnect(d.socketPath);
  for (const line of lines) await c.write(line);
  await waitFor(async () => (await d.memory()).stats.inFlight >= before.stats.inFlight + expectRunning, `${expectRunning} requests to run on ${uri}`, 30000, 50);
  const during = await d.memory();
  c.destroy();
  await waitFor(async () => (await d.memory()).stats.inFlight <= before.stats.inFlight, 'the requests to be released', 30000, 50);
  const held = during.heapUsed - before.heapUsed;
  const charged = during.stats.inFlightBytes - before.stats.inFlightBytes;
  const wire = lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0);
  return { held, charged, wire, ratio: held / charged };
}

/** A shape as fast-check reports it: its kind, not its (long) text. */
const shape = (kind, unit) => ({ kind, unit, [fc.toStringMethod]: () => kind });

/** The generated shapes: one element of the array each request repeats. */
const unitArbitrary = fc.oneof(
  fc.integer({ min: 1, max: 40 }).map((depth) => shape(`arrays nested ${depth} deep`, '['.repeat(depth) + ']'.repeat(depth))),
  fc.constantFrom('{}', '[]', '0', '-0', '1e308', '1.5', 'null', 'true', '""', '"a"', '"ab"', '[-0]', '[[]]', '{"a":{}}', '{"a":-0}').map((unit) => shape(`elements ${unit}`, unit)),
  fc.integer({ min: 1, max: 64 }).map((keys) => shape(`objects of ${keys} keys`, '{' + Array.from({ length: keys }, (_, i) => `"${i.toString(36)}":0`).join(',') + '}')),
  fc.integer({ min: 1, max: 2000 }).map((n) => shape(`one object of ${n} distinct keys`, '{' + Array.from({ length: n }, (_, i) => `"k${i}_${(n * 7919 + i).toString(36)}":{}`).join(',') + '}')),
  fc.integer({ min: 1, max: 200000 }).map((n) => shape(`strings of ${n} characters`, JSON.stringify('s'.repeat(n)))),
  fc.integer({ min: 1, max: 20000 }).map((n) => shape(`strings of ${n} characters past U+00FF`, JSON.stringify('Ā' + 'x'.repeat(n)))),
  fc.jsonValue({ maxDepth: 4 }).map((value) => shape('generated JSON ' + JSON.stringify(value).slice(0, 40), JSON.stringify(value))),
);

describe('memory budgets: what a request holds is charged before it is held (issue 24)', function () {
  this.timeout(120000);
  afterEach(stopDaemons);
  after(cleanupTempDirs);

  it(`amplification, over generated shapes: heap held after GC per byte charged stays under ${HELD_PER_CHARGED} (${RUNS} shapes)`, async function () {
    const d = await startDaemon({ max_in_flight_bytes: 1024 * MiB, max_in_flight_total: 4096 * MiB, max_in_flight_bytes_per_user: 4096 * MiB, max_message_size: 64 * MiB, max_input_total: 512 * MiB });
    const target = 24 * MiB;
    const results = [];
    await fc.assert(fc.asyncProperty(unitArbitrary, async ({ kind, unit }) => {
      // Four requests that together are charged about `target`.
      const one = chargeOf(requestLine('x', '/ipcserver/test/delay', unit, 1000)) / 1000;
      const count = Math.max(1, Math.min(Math.floor(target / 4 / one), Math.floor(48 * MiB / (unit.length + 1))));
      const lines = [0, 1, 2, 3].map((i) => requestLine(i, '/ipcserver/test/delay', unit, count));
      const m = await measureHeld(d, lines);
      results.push({ kind, ...m });
      console.log(`      ${kind.padEnd(44)} wire ${mib(m.wire).padStart(9)}  held ${mib(m.held).padStart(9)}  charged ${mib(m.charged).padStart(9)}  held/charged ${m.ratio.toFixed(2)}  held/wire ${(m.held / m.wire).toFixed(1)}`);
      return m.held <= m.charged * HELD_PER_CHARGED + MEASURING_SLACK;
    }), { numRuns: RUNS, endOnFailure: true });
    assert.ok(results.length >= RUNS);
  });

  it('each retained field is charged: a long uri, userAgent, id, or parts collected for a caller that did not ask for a stream', async function () {
    const d = await startDaemon({ max_in_flight_bytes: 1024 * MiB, max_in_flight_total: 4096 * MiB, max_in_flight_bytes_per_user: 4096 * MiB, max_message_size: 64 * MiB, max_output_buffer: 256 * MiB });
    const big = 'u'.repeat(4 * MiB);
    const cases = [
      ['uri', [0, 1, 2].map((i) => `{"ipcReqID":${i},"uri":"/daemon/hold/${big}","data":{"ms":60000}}\n`), '/daemon/hold'],
      ['userAgent', [0, 1, 2].map((i) => `{"ipcReqID":${i},"uri":"/daemon/hold","userAgent":"${big}","data":{"ms":60000}}\n`), '/daemon/hold'],
      ['ipcReqID', [0, 1, 2].map((i) => `{"ipcReqID":"${i}${big}","uri":"/daemon/hold","data":{"ms":60000}}\n`), '/daemon/hold'],
      ['collected parts', [0, 1, 2].map((i) => `{"ipcReqID":${i},"uri":"/daemon/collect","data":{"parts":4000,"part":1000,"holdMs":60000}}\n`), '/daemon/collect'],
    ];
    for (const [field, lines, uri] of cases) {
      const m = await measureHeld(d, lines, { uri });
      console.log(`      ${field.padEnd(16)} held ${mib(m.held).padStart(9)}  charged ${mib(m.charged).padStart(9)}  held/charged ${m.ratio.toFixed(2)}`);
      assert.ok(m.charged > 0);
      assert.ok(m.held <= m.charged * HELD_PER_CHARGED + MEASURING_SLACK, `${field}: held ${mib(m.held)}, charged ${mib(m.charged)}`);
    }
  });

  it('the probe that crashed the daemon: 4 MiB lines of [{},{},...] wait on their connection or are refused over_budget, and the daemon serves on', async function () {
    const d = await startDaemon({ max_in_flight_bytes_per_user: 256 * MiB });
    const before = await d.memory();
    const line = requestLine('x', '/ipcserver/test/delay', '{}', Math.floor(4 * MiB / 3));
    // One connection sends 17 such lines (as in the issue), five others one each.
    const pipelined = await rawConnect(d.socketPath);
    // Not awaited: the server stops reading it once its first request holds the connection's budget.
    pipelined.write(Array.from({ length: 17 }, (_, k) => line.replace('"x"', String(k))).join(''));
    await waitFor(async () => (await d.memory()).stats.inFlight > before.stats.inFlight, 'the first line to run', 30000, 100);
    const others = [];
    for (let k = 0; k < 5; k++) {
      const c = await rawConnect(d.socketPath);
      await c.write(line.replace('"x"', String(100 + k)));
      others.push(c);
    }
    let during = null;
    await waitFor(async () => {
      during = await d.memory();
      const answered = others.reduce((n, c) => n + c.lines.length, 0);
      return during.stats.inFlight - before.stats.inFlight + answered >= 6;
    }, 'the other lines to be run or refused', 60000, 100);
    const running = during.stats.inFlight - before.stats.inFlight;
    const refused = others.flatMap((c) => c.lines).filter((a) => a.code === 'over_budget');
    console.log(`      ${running} running (one of the pipelining connection's 17: the rest wait, unread), ${refused.length} refused over_budget; heap after GC grew ${mib(during.heapUsed - before.heapUsed)}, charged ${mib(during.stats.inFlightBytes)} (before the budgets: 1,456 MiB held for 68 MiB sent)`);
    console.log(`      what a refused client read: ${JSON.stringify(refused[0])}`);
    assert.strictEqual(pipelined.lines.length, 0, 'the pipelining connection waits: nothing refused, nothing answered');
    assert.strictEqual(running + refused.length, 6);
    assert.ok(refused.length >= 3, `${refused.length} refused`);
    assert.ok(refused.every((a) => a.ipcReqID >= 100 && /max_in_flight_bytes_per_user \(268435456\)/.test(a.message)), 'each refusal names its request and the budget');
    assert.ok(during.stats.inFlightBytes <= 256 * MiB + MiB);
    assert.ok(during.heapUsed - before.heapUsed <= during.stats.inFlightBytes * HELD_PER_CHARGED + MEASURING_SLACK);
    assert.strictEqual(d.exit, null);
    assert.strictEqual(await d.call('/ipcserver/test/echo', 'still here'), 'still here');
    [pipelined, ...others].forEach((c) => c.destroy());
  });

  it('a line that alone passes the user budget is refused unparsed; one that only needs room on its connection waits for it', async function () {
    const d = await startDaemon({ max_in_flight_bytes: 8 * MiB, max_in_flight_bytes_per_user: 8 * MiB });
    const c = await rawConnect(d.socketPath);
    // 300 KiB of [[[[...]]]]: about 10 MiB once parsed.
    await c.write(`{"ipcReqID":"deep","uri":"/ipcserver/test/echo","data":${'['.repeat(150000)}${']'.repeat(150000)}}\n`);
    const refusal = await c.next(10000);
    assert.strictEqual(refusal.ipcReqID, 'deep');
    assert.strictEqual(refusal.code, 'over_budget');
    assert.match(refusal.message, /max_in_flight_bytes_per_user \(8388608\)/);
    // Two requests of ~5 MiB each: the second waits for the first, then runs.
    const half = `"p":${JSON.stringify('h'.repeat(5 * MiB))}`;
    await c.write(`{"ipcReqID":"a","uri":"/ipcserver/test/delay","data":{"delay":300,${half}}}\n{"ipcReqID":"b","uri":"/ipcserver/test/delay","data":{"delay":0,${half}}}\n`);
    const started = Date.now();
    const answers = await c.take(2, 10000);
    assert.deepStrictEqual(answers.map((a) => a.ipcReqID), ['a', 'b'], 'b ran after a finished');
    assert.ok(answers.every((a) => !a.code));
    console.log(`      refused: ${refusal.message}`);
    console.log(`      a request needing room on its connection waited ${Date.now() - started} ms for it, then ran`);
    c.destroy();
  });

  it('answers collected for callers that did not ask for a stream: 50 held at once stay within the user budget; the rest end over_budget', async function () {
    const d = await startDaemon({ max_in_flight_bytes_per_user: 128 * MiB, max_in_flight_bytes: 1024 * MiB });
    const before = await d.memory();
    const c = await rawConnect(d.socketPath);
    // Each collects 3,000 parts of 1,000 characters (3 MB of JSON), then holds its answer for a minute.
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ ipcReqID: i, uri: '/daemon/collect', data: { parts: 3000, part: 1000, holdMs: 60000 } }) + '\n');
    await c.write(lines.join(''));
    let m = null;
    await waitFor(async () => {
      m = await d.memory();
      return m.stats.inFlight - before.stats.inFlight + c.lines.length >= 50;
    }, 'every request to hold its answer or be refused', 60000, 100);
    await sleep(500);
    m = await d.memory();
    const holding = m.stats.inFlight - before.stats.inFlight;
    const codes = {};
    for (const a of c.lines) codes[a.code] = (codes[a.code] || 0) + 1;
    const held = m.heapUsed - before.heapUsed;
    console.log(`      50 answers of 3 MB collected at once: ${holding} holding theirs, the others ${JSON.stringify(codes)}; ${mib(m.stats.inFlightBytes)} charged, heap after GC ${mib(held)} above idle (before: 907 MiB held by 50 such answers)`);
    assert.strictEqual(holding + c.lines.length, 50);
    assert.ok(c.lines.length > 0 && c.lines.every((a) => a.code === 'over_budget'), 'the rest end over_budget');
    assert.ok(m.stats.inFlightBytes <= 128 * MiB);
    assert.ok(held <= m.stats.inFlightBytes * HELD_PER_CHARGED + MEASURING_SLACK, `held ${mib(held)}`);
    c.destroy();
  });

  it('output queued to clients that do not read counts for the user and the server: 20 connections each asking for a 4 MiB echo are cut off past half of max_output_total', async function () {
    const d = await startDaemon({ max_output_total: 32 * MiB });
    const before = await d.memory();
    const line = JSON.stringify({ ipcReqID: 'e', uri: '/ipcserver/test/echo', data: 'o'.repeat(4 * MiB) }) + '\n';
    const sockets = [];
    for (let i = 0; i < 20; i++) {
      const c = await rawConnect(d.socketPath);
      c.socket.pause(); // never reads its answer
      c.socket.write(line);
      sockets.push(c);
    }
    let peakQueued = 0;
    let peakRss = 0;
    let m = null;
    await waitFor(async () => {
      m = await d.memory();
      peakQueued = Math.max(peakQueued, m.stats.queuedOutput);
      peakRss = Math.max(peakRss, m.rss);
      return m.stats.totals.requests - before.stats.totals.requests >= 20 + 1;
    }, 'every echo to be answered', 60000, 100);
    await sleep(500);
    m = await d.memory();
    peakQueued = Math.max(peakQueued, m.stats.queuedOutput);
    console.log(`      at most ${mib(peakQueued)} of output counted (max_output_total 32 MiB, half of it for one user); ${m.stats.totals.overloadRefusals} of 20 connections cut off; RSS grew at most ${mib(peakRss - before.rss)} (80 MiB of answers asked for)`);
    assert.ok(peakQueued <= 16 * MiB + 4 * MiB, `queued ${mib(peakQueued)}`);
    assert.ok(m.stats.totals.overloadRefusals >= 14, `${m.stats.totals.overloadRefusals} cut off`);
    assert.strictEqual(await d.call('/ipcserver/test/echo', 'served'), 'served');
    sockets.forEach((c) => c.destroy());
  });

  it('--max-old-space-size=256: one uid\'s 256 connections sending the worst shapes leave the daemon up and serving another user', async function () {
    const other = otherUser();
    assert.ok(!other.skip, other.skip);
    const d = await startDaemon({ socket_chmod: '666' }, { nodeFlags: ['--max-old-space-size=256'] });
    fs.chmodSync(d.dir, 0o755);
    const before = await d.memory();
    const shapes = [
      // Short lines (charged 34 times their length, unscanned): nested arrays, 28 times their length once parsed.
      { unit: '['.repeat(2000) + ']'.repeat(2000), count: 3, lines: 60 },
      // Objects with a heap number each, just under the scanning threshold.
      { unit: '{"a":-0}', count: 1800, lines: 60 },
      // Long lines of empty objects (21 times their length once parsed).
      { unit: '{}', count: Math.floor(MiB / 3), lines: 2 },
      { unit: '[[]]', count: Math.floor(MiB / 5), lines: 2 },
    ];
    let floodChild = null;
    const flood = runAs(other, { mode: 'flood', socketPath: d.socketPath, connections: 256, shapes, waitMs: 60000 }, (child) => { floodChild = child; }).catch(() => null);
    // Once the flood holds its budget (however long a loaded machine takes to
    // send it), this user is served every 50 ms for 4 s; the budgets are watched.
    const budget = before.heapLimit / 8;
    let peakHeld = 0;
    let peakHeap = 0;
    const floodStarted = Date.now();
    await waitFor(async () => {
      const m = await d.memory();
      peakHeld = Math.max(peakHeld, m.stats.inFlightBytes);
      return m.stats.inFlightBytes > budget / 2 && m.stats.totals.overBudget > 0;
    }, 'the flood to fill its budget', 45000, 100);
    const filledAfter = Date.now() - floodStarted;
    const latencies = [];
    const started = Date.now();
    while (Date.now() - started < 4000) {
      const t = Date.now();
      assert.strictEqual(await d.call('/ipcserver/test/echo', 'served', 10000), 'served');
      latencies.push(Date.now() - t);
      if (latencies.length % 5 === 0) {
        const m = await d.memory();
        peakHeld = Math.max(peakHeld, m.stats.inFlightBytes);
        peakHeap = Math.max(peakHeap, m.heapUsed);
      }
      await sleep(50);
    }
    const after = await d.memory();
    floodChild.kill('SIGKILL');
    await flood;
    latencies.sort((x, y) => x - y);
    console.log(`      the other user's 256 connections filled their budget after ${filledAfter} ms; ${after.stats.totals.overBudget} of their requests refused over_budget`);
    console.log(`      ${latencies.length} echoes for this user meanwhile: p50 ${latencies[latencies.length >> 1]} ms, max ${latencies[latencies.length - 1]} ms`);
    console.log(`      heap limit ${mib(before.heapLimit)}: at most ${mib(peakHeld)} charged (per-user budget ${mib(budget)}), heap after GC at most ${mib(peakHeap)}`);
    assert.strictEqual(d.exit, null, 'the daemon is up');
    assert.ok(peakHeld <= budget + MiB);
    assert.strictEqual(await d.call('/ipcserver/test/echo', 'after'), 'after');
  });
});
