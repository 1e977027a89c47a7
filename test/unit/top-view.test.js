'use strict';
// pixl-ipc top's figures and layout (bin/top/model and render), from made-up
// stats answers: rates between samples, counters that restart, fields a
// server does not send, and screens of every size.
const assert = require('assert');
const { buildView, perSecond } = require('../../dist/bin/top/model');
const { renderView, defaultSortState, applySortKey, sortRows, shareRows, CONNECTION_COLUMNS } = require('../../dist/bin/top/render');

function stats({ requests = 0, bytesIn = 0, cpu = 0, endpoints, connections } = {}) {
  return {
    uptime: 90000,
    inFlight: 1,
    totals: { requests, errors: 0, bytesIn, bytesOut: bytesIn * 2, slowResponses: 0 },
    process: { rss: 50 * 1024 * 1024, heapUsed: 10 * 1024 * 1024, heapTotal: 20 * 1024 * 1024, cpuUserMs: cpu, cpuSystemMs: 0 },
    endpoints,
    connections,
  };
}

function endpoint(requests, p50 = 0.05) {
  const figures = { requests, errors: 0, bytesIn: 0, bytesOut: 0, latencyMs: { count: requests, sum: 0, p50, p90: p50, p99: p50 * 4, max: p50 * 8 } };
  return { totals: figures, interval: figures, last: figures };
}

function connection(id, requests, userAgent = 'agent/' + id) {
  return { id, transport: 'unix', peer: { pid: 100 + id, uid: 1000, gid: 1000, user: 'alice' }, userAgent, inFlight: 0, lastActivity: 1000, connectedAt: 0, counters: { requests, bytesIn: requests * 10, bytesOut: requests * 20 } };
}

describe('pixl-ipc top: figures and layout', () => {
  it('perSecond: the difference per second, null for unknown values or a counter that went down', () => {
    assert.strictEqual(perSecond(150, 50, 2000), 50);
    assert.strictEqual(perSecond(10, 20, 1000), null);
    assert.strictEqual(perSecond(undefined, 20, 1000), null);
    assert.strictEqual(perSecond(10, 5, 0), null);
  });

  it('computes rates between two samples, counting new endpoints and connections from zero', () => {
    const first = { at: 10000, stats: stats({ requests: 100, bytesIn: 1000, cpu: 500, endpoints: { A: endpoint(100) }, connections: [connection(1, 100)] }) };
    const second = { at: 12000, stats: stats({ requests: 300, bytesIn: 5000, cpu: 1500, endpoints: { A: endpoint(180), B: endpoint(20) }, connections: [connection(1, 180), connection(2, 20)] }) };
    const view = buildView(second, first);
    assert.strictEqual(view.header.requestsPerSec, 100);
    assert.strictEqual(view.header.bytesInPerSec, 2000);
    assert.strictEqual(view.header.cpuPercent, 50);
    assert.strictEqual(view.header.connections, 2);
    assert.deepStrictEqual(view.endpoints.map((e) => [e.name, e.requestsPerSec]), [['A', 40], ['B', 10]]);
    assert.deepStrictEqual(view.connections.map((c) => [c.id, c.requestsPerSec, c.peer]), [[1, 40, 'alice pid 101'], [2, 10, 'alice pid 102']]);
    assert.strictEqual(view.connections[0].idleMs, 11000);
    const firstView = buildView(first, null);
    assert.strictEqual(firstView.header.requestsPerSec, null, 'no rate from one sample');
  });

  it('shows what a server does not report as absent', () => {
    const old = { at: 1, stats: { connections: 4, uptime: 5, totals: { requests: 1 } } };
    const view = buildView(old, old);
    assert.strictEqual(view.endpoints, null);
    assert.strictEqual(view.connections, null);
    assert.strictEqual(view.header.connections, 4);
    assert.strictEqual(view.header.rssBytes, null);
    const lines = renderView(view, defaultSortState(), { width: 100, height: 30, target: 'x', keys: true });
    assert.ok(lines.includes('  (not reported by this server: it has no per-endpoint figures)'));
    assert.ok(lines[1].startsWith('rss -  heap -  cpu -  connections 4'), lines[1]);
  });

  it('fits any terminal: at most width x height, key help on the last line, "… N more" for cut rows', () => {
    const many = Array.from({ length: 200 }, (_, i) => connection(i + 1, i, 'a-very-long-user-agent-string/'.repeat(3) + i));
    const endpoints = {};
    for (let i = 0; i < 50; i++) endpoints['endpoint-' + i] = endpoint(i);
    const sample = { at: 5000, stats: stats({ endpoints, connections: many }) };
    const view = buildView(sample, { at: 4000, stats: stats({ endpoints: {}, connections: [] }) });
    for (const [width, height] of [[120, 40], [80, 24], [40, 10], [200, 60]]) {
      const lines = renderView(view, defaultSortState(), { width, height, target: '/tmp/x.sock', keys: true });
      assert.strictEqual(lines.length, height, `${width}x${height}`);
      assert.ok(lines.every((line) => line.length <= width), `${width}x${height}: a line is too long`);
      assert.ok(lines[height - 1].startsWith('q quit'), `${width}x${height}: ${lines[height - 1]}`);
      if (height >= 24) assert.ok(lines.some((line) => /^ {2}… \d+ more$/.test(line)), `${width}x${height} says rows were cut`);
    }
    const everything = renderView(view, defaultSortState(), { width: 1000, height: Infinity, target: 'x', keys: false });
    assert.strictEqual(everything.filter((line) => line.includes('a-very-long')).length, 200, 'no limit for --once into a pipe');
  });

  it('sorts by the chosen column, unknown values last; keys cycle, reverse and switch tables', () => {
    const rows = [{ requests: 5 }, { requests: null }, { requests: 9 }, { requests: 1 }];
    const column = { value: (r) => r.requests };
    assert.deepStrictEqual(sortRows(rows, column, true).map((r) => r.requests), [9, 5, 1, null]);
    assert.deepStrictEqual(sortRows(rows, column, false).map((r) => r.requests), [1, 5, 9, null]);
    const state = defaultSortState('requests');
    assert.strictEqual(CONNECTION_COLUMNS[state.connections.column].key, 'requests');
    applySortKey(state, 'next');
    assert.strictEqual(CONNECTION_COLUMNS[state.connections.column].key, 'in');
    applySortKey(state, 'reverse');
    assert.strictEqual(state.connections.descending, false);
    applySortKey(state, 'focus');
    assert.strictEqual(state.focus, 'endpoints');
    assert.deepStrictEqual(shareRows(10, 3, 20), [3, 7]);
    assert.deepStrictEqual(shareRows(10, 20, 2), [8, 2]);
    assert.deepStrictEqual(shareRows(10, 20, 20), [5, 5]);
  });

  it('escapes control characters a client put in its user agent', () => {
    const sample = { at: 2000, stats: stats({ connections: [connection(1, 1, 'x\u001b]0;title\u0007\u202e')] }) };
    const lines = renderView(buildView(sample, null), defaultSortState(), { width: 200, height: 30, target: 'x', keys: false });
    const row = lines.find((line) => line.includes('x\\u001b]0;title\\u0007\\u202e'));
    assert.ok(row, lines.join('\n'));
    assert.ok(!lines.join('').includes('\u001b'));
  });
});
