'use strict';
// Issue 24's probes of what a client can make the daemon keep: each attack
// runs against a daemon in its own process through real sockets, and prints
// the figure it measured. (The budget and amplification tests are in
// budgets.test.js.)
const assert = require('assert');
const { cleanupTempDirs, startServer } = require('../helpers/harness');
const { startDaemon, stopDaemons } = require('../helpers/hostile-daemon');
const { rawConnect } = require('../helpers/raw');
const { sleep, waitFor } = require('../helpers/wait');

const MiB = 1024 * 1024;
const mib = (bytes) => (bytes / MiB).toFixed(1) + ' MiB';

/** Writes many lines on one socket and reads `count` answers. */
async function pipeline(client, lines, count, ms = 20000) {
  await client.write(lines.join(''));
  return client.take(count, ms);
}

describe('bounded by construction: what a client chooses does not grow the daemon (issue 24)', function () {
  this.timeout(60000);
  afterEach(stopDaemons);
  after(cleanupTempDirs);

  it('distinct timeoutMs values answered at once leave no queue nor timer behind', async function () {
    const d = await startDaemon({});
    const before = (await d.memory()).heapUsed;
    const c = await rawConnect(d.socketPath);
    const total = 20000;
    for (let done = 0; done < total; done += 2000) {
      const lines = [];
      for (let i = done; i < done + 2000; i++) lines.push(JSON.stringify({ ipcReqID: i, uri: '/ipcserver/test/echo', data: i, timeoutMs: 1e9 + i }) + '\n');
      const answers = await pipeline(c, lines, 2000);
      assert.ok(answers.every((a) => a.data !== undefined), 'every request answered');
    }
    const after = (await d.memory()).heapUsed;
    c.destroy();
    const perRequest = (after - before) / total;
    console.log(`      heap after GC grew ${mib(after - before)} for ${total} distinct timeouts (${perRequest.toFixed(0)} B a request; a queue and timer each held ~800 B before)`);
    assert.ok(perRequest < 50, `${perRequest.toFixed(0)} B held per answered request`);
  });

  it("the router's and the policy's memos keep no long uri: 8 requests with 4 MiB uris matching a RegExp route and a policy rule hold nothing once answered", async function () {
    // The rule names this test's own user, so its requests pass (and the policy is consulted for each).
    const d = await startDaemon({ policy: [{ uri: '^/daemon/', users: [process.getuid()] }] });
    const before = (await d.memory()).heapUsed;
    const c = await rawConnect(d.socketPath);
    for (let i = 0; i < 8; i++) {
      await c.write({ ipcReqID: i, uri: '/daemon/regexp/' + String(i).repeat(4 * MiB) });
      const answer = await c.next(10000);
      assert.ok(answer.data.length > 4 * MiB);
    }
    // And as many unknown ones (the cache remembers misses too).
    for (let i = 0; i < 8; i++) {
      await c.write({ ipcReqID: i, uri: '/unknown/' + String(i).repeat(4 * MiB) });
      await c.next(10000);
    }
    c.destroy();
    const growth = (await d.memory()).heapUsed - before;
    console.log(`      heap after GC grew ${mib(growth)} after 64 MiB of uris`);
    assert.ok(growth < 4 * MiB, `held ${mib(growth)}`);
  });

  it('claimed fields are cut: 20 idle connections that each sent a 2 MiB userAgent hold kilobytes, and the connection list still answers', async function () {
    const d = await startDaemon({ stats_endpoint: true });
    const before = (await d.memory()).heapUsed;
    const clients = [];
    for (let i = 0; i < 20; i++) {
      const c = await rawConnect(d.socketPath);
      await c.write({ ipcReqID: 1, uri: '/ipcserver/test/echo', data: 1, userAgent: String(i % 10).repeat(2 * MiB), pid: 1e300 });
      await c.next(10000);
      clients.push(c);
    }
    const { heapUsed } = await d.memory();
    const listed = await d.call('/ipcserver/stats', { connections: true });
    const agents = listed.connections.map((c) => c.userAgent).filter((ua) => ua !== null && ua.length > 200);
    console.log(`      heap after GC grew ${mib(heapUsed - before)} for 40 MiB of userAgents; the list shows ${agents.length} userAgents of ${agents[0].length} characters`);
    assert.strictEqual(agents.length, 20);
    assert.ok(agents.every((ua) => ua.length === 256), 'cut to 256 characters');
    assert.ok(listed.connections.every((c) => c.pid === null || Number.isSafeInteger(c.pid)), 'only a real pid is kept');
    assert.ok(heapUsed - before < 2 * MiB, `held ${mib(heapUsed - before)}`);
    clients.forEach((c) => c.destroy());
  });

  it('cancel finds its target in constant time: with 1,023 requests running, cancels cost what they cost on an idle connection', async function () {
    const d = await startDaemon({});
    const count = 20000;
    const cancels = (prefix) => Array.from({ length: count }, (_, i) => JSON.stringify({ ipcReqID: `${prefix}${i}`, uri: '/ipcserver/cancel', data: { ipcReqID: 'nothing-' + i } }) + '\n');
    const timeStorm = async (client, prefix) => {
      const started = process.hrtime.bigint();
      const answers = await pipeline(client, cancels(prefix), count, 60000);
      assert.ok(answers.every((a) => a.data && a.data.cancelled === false));
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const idle = await rawConnect(d.socketPath);
    const idleMs = await timeStorm(idle, 'i');
    const busy = await rawConnect(d.socketPath);
    const holds = Array.from({ length: 1023 }, (_, i) => JSON.stringify({ ipcReqID: 'hold' + i, uri: '/ipcserver/test/delay', data: { delay: 60000 } }) + '\n');
    await busy.write(holds.join(''));
    await waitFor(async () => (await d.memory()).stats.inFlight >= 1024, '1,023 requests to run', 10000);
    const busyMs = await timeStorm(busy, 'b');
    // A real cancel still finds its target among them.
    await busy.write({ ipcReqID: 'c', uri: '/ipcserver/cancel', data: { ipcReqID: 'hold500' } });
    const found = await busy.take(2);
    assert.ok(found.some((m) => m.ipcReqID === 'hold500' && m.code === 'cancelled'));
    assert.ok(found.some((m) => m.ipcReqID === 'c' && m.data.cancelled === true));
    console.log(`      ${count} cancels: ${idleMs.toFixed(0)} ms on an idle connection, ${busyMs.toFixed(0)} ms beside 1,023 running requests`);
    assert.ok(busyMs < idleMs * 2 + 200, `${busyMs.toFixed(0)} ms against ${idleMs.toFixed(0)} ms`);
    idle.destroy();
    busy.destroy();
  });

  it('line_timeout counts the time spent waiting for the client, not the time the server was busy', async function () {
    const d = await startDaemon({ line_timeout: 1000 });
    const slow = await rawConnect(d.socketPath);
    const line = JSON.stringify({ ipcReqID: 'slow', uri: '/ipcserver/test/echo', data: 'x'.repeat(1000) }) + '\n';
    await slow.write(line.slice(0, 500));
    // The server is busy for 2 s (as with other clients' 30 MiB lines to parse) while this line is half sent.
    const busyClient = await rawConnect(d.socketPath);
    await busyClient.write({ ipcReqID: 'b', uri: '/daemon/busy', data: { ms: 2000 } });
    await sleep(300);
    await busyClient.next(10000);
    await sleep(300);
    const started = Date.now();
    await slow.write(line.slice(500));
    const answer = await slow.next(5000);
    console.log(`      a line sent over ${Date.now() - started + 2600} ms, 2,000 of them with the server busy, was accepted (line_timeout 1000 ms)`);
    assert.strictEqual(answer.ipcReqID, 'slow');
    assert.strictEqual(answer.data.length, 1000);
    // And a client that really is too slow is still cut off.
    const dribbler = await rawConnect(d.socketPath);
    await dribbler.write('{"ipcReqID":"d",');
    const cut = await dribbler.next(4000);
    assert.strictEqual(cut.code, 'line_timeout');
    [slow, busyClient, dribbler].forEach((c) => c.destroy());
  });
});

describe("the handler's request object: nothing the wire sends shadows what the server sets (issue 24)", function () {
  after(cleanupTempDirs);

  /** Every name a handler can read on `request` that the line did not set: own and inherited. */
  function memberNames(request, wireFields) {
    const names = new Set();
    for (let o = request; o !== null; o = Object.getPrototypeOf(o)) {
      for (const name of Object.getOwnPropertyNames(o)) if (o !== request || !wireFields.includes(name)) names.add(name);
    }
    return [...names];
  }

  /** What the handler sees under `name`, reduced to what must not change with the wire. */
  function describeMember(request, name) {
    const value = request[name];
    if (typeof value === 'function') return { type: 'function', same: value };
    if (value !== null && typeof value === 'object') return { type: 'object', constructor: value.constructor, hostile: value.hostile === true };
    return { type: typeof value, value };
  }

  it('every member name of the request object, sent on the wire, is not what the handler sees', async function () {
    const h = await startServer();
    const seen = [];
    h.ipc.addURIHandler('/t/look', 'look', (request) => {
      seen.push(request);
      return true;
    });
    const c = await rawConnect(h.socketPath);
    await c.write({ ipcReqID: 'clean', uri: '/t/look', data: 1 });
    await c.next();
    const clean = seen.pop();
    const names = memberNames(clean, ['ipcReqID', 'uri', 'data', 'noReply']);
    for (const required of ['signal', 'deadline', 'timeLeft', 'connection', 'openStream', 'hasOwnProperty', 'toString', '__proto__']) {
      assert.ok(names.includes(required), `${required} is among the names tested`);
    }
    const lines = names.map((name, i) => `{"ipcReqID":${i},"uri":"/t/look","data":1,${JSON.stringify(name)}:{"hostile":true,"aborted":false}}\n`);
    await c.write(lines.join(''));
    await c.take(names.length);
    assert.strictEqual(seen.length, names.length);
    const shadowed = [];
    names.forEach((name, i) => {
      const request = seen.find((r) => r.ipcReqID === i);
      const expected = describeMember(clean, name);
      const actual = describeMember(request, name);
      if (name === 'connection' ? actual.type !== 'object' || request.connection !== clean.connection : JSON.stringify(actual) !== JSON.stringify(expected) || actual.same !== expected.same || actual.constructor !== expected.constructor || actual.hostile) shadowed.push(name);
    });
    console.log(`      ${names.length} member names sent on the wire (${names.join(', ')}); shadowed: ${shadowed.length}`);
    assert.deepStrictEqual(shadowed, []);
    c.destroy();
    await h.stop();
  });

  it('the request has exactly the fields its line carried, whether it carries only protocol fields or fields of its own', async function () {
    const h = await startServer();
    const seen = [];
    h.ipc.addURIHandler('/t/fields', 'fields', (request) => {
      seen.push({ keys: Object.keys(request).sort(), request, deadline: request.deadline, timeLeft: request.timeLeft(), aborted: request.signal.aborted });
      return true;
    });
    const c = await rawConnect(h.socketPath);
    const lines = [
      { ipcReqID: 1, uri: '/t/fields' },
      { ipcReqID: 2, uri: '/t/fields', data: { a: 1 }, pid: 7, userAgent: 'ua', timeoutMs: 5000 },
      { uri: '/t/fields', ipcReqID: 3, data: null, stream: false, custom: 'kept', nested: { x: 1 } },
      { ipcReqID: 4, uri: '/t/fields', data: 1, signal: 'dropped', custom: 2 },
    ];
    for (const line of lines) {
      await c.write(line);
      assert.deepStrictEqual(await c.next(), { ipcReqID: line.ipcReqID, data: true });
    }
    const withoutDropped = (line) => Object.keys(line).filter((k) => k !== 'signal');
    lines.forEach((line, i) => {
      // The server adds connection and normalizes noReply; pid and userAgent, once sent, stay with the connection.
      const expected = new Set([...withoutDropped(line), 'connection', 'noReply']);
      if (i > 1) ['pid', 'userAgent'].forEach((k) => expected.add(k));
      assert.deepStrictEqual(seen[i].keys, [...expected].sort(), `line ${i + 1}`);
      for (const key of withoutDropped(line)) assert.deepStrictEqual(seen[i].request[key], line[key], `line ${i + 1} ${key}`);
      assert.strictEqual(seen[i].aborted, false);
    });
    assert.strictEqual(seen[0].deadline, null);
    assert.strictEqual(seen[0].timeLeft, Infinity);
    assert.ok(seen[1].deadline > Date.now() && seen[1].deadline <= Date.now() + 5000, 'the deadline comes from timeoutMs');
    assert.ok(seen[1].timeLeft > 0 && seen[1].timeLeft <= 5000);
    assert.strictEqual(seen[3].request.signal.aborted, false, 'the server\'s signal, not the wire\'s string');
    c.destroy();
    await h.stop();
  });

  it('a client-sent signal and deadline do not reach the handler: it sees the real deadline pass and the built-in delay works', async function () {
    const h = await startServer();
    let sawAbort = null;
    h.ipc.addURIHandler('/t/poll', 'poll', async (request) => {
      const started = Date.now();
      while (!request.signal.aborted && Date.now() - started < 3000) await sleep(10);
      sawAbort = { aborted: request.signal.aborted, after: Date.now() - started, deadline: request.deadline, code: request.signal.reason && request.signal.reason.code };
      return 'done';
    });
    const c = await rawConnect(h.socketPath);
    await c.write({ ipcReqID: 1, uri: '/t/poll', timeoutMs: 200, signal: { aborted: false }, deadline: 4102444800000, timeLeft: 1 });
    const answer = await c.next(5000);
    assert.strictEqual(answer.code, 'deadline_exceeded');
    await waitFor(() => sawAbort !== null, 'the handler to notice', 3000);
    console.log(`      the polling handler saw its signal abort (${sawAbort.code}) after ${sawAbort.after} ms (timeoutMs 200)`);
    assert.strictEqual(sawAbort.aborted, true);
    assert.ok(sawAbort.after < 1000);
    assert.ok(sawAbort.deadline < Date.now() + 1000, 'the deadline is the server\'s');
    await c.write({ ipcReqID: 2, uri: '/ipcserver/test/delay', data: { delay: 10 }, signal: { aborted: false }, openStream: 'x' });
    assert.deepStrictEqual(await c.next(3000), { ipcReqID: 2, data: { delay: 10 } });
    c.destroy();
    await h.stop();
  });
});
