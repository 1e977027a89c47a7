'use strict';
// The pixl-ipc commands added for issue 20, run as child processes against
// real servers, with their exit codes: option ranges and unknown commands,
// send batches, handlers, connections, stats --watch, monitor, bench
// --uri/--data and serve --handlers.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { startServer, makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { runCli, spawnCli, spawnServe, killSpawned, waitForOutput, assertOneLineError } = require('../helpers/cli');
const { waitFor } = require('../helpers/wait');
const { onLines } = require('../helpers/raw');
const IPCClient = require('pixl-ipc/client');

describe('pixl-ipc commands (issue 20)', function () {
  // Generous: each step is a Node process, and the machine may be loaded.
  this.timeout(60000);
  afterEach(killSpawned);
  after(() => cleanupTempDirs());

  describe('usage errors exit 2', () => {
    it('refuses option values outside their range, naming the range', async () => {
      const cases = [
        [['serve', '--debug-level', '99'], 'from 1 to 10'],
        [['serve', '--debug-level', '0'], 'from 1 to 10'],
        [['send', '/x', '--timeout', '0'], '--timeout'],
        [['send', '/x', '--timeout', '99999999999'], 'to 2147483647'],
        [['bench', '--concurrency', '100001'], 'from 1 to 10000'],
        [['bench', '--sizes', '1,0'], '"0" is not a whole number'],
        [['bench', '--duration', '-1'], '--duration'],
        [['stats', '--watch', '0.01'], 'at least 0.1'],
        [['top', '--interval', '0'], '--interval'],
        [['top', '--sort', 'nosuch'], 'Allowed choices'],
        [['completion', 'fish'], 'Allowed choices are bash, zsh'],
        [['bench', '--data', '{bad'], 'not valid JSON'],
      ];
      // A few at a time: a dozen Node processes at once can starve a loaded 2-core machine.
      const results = [];
      for (let i = 0; i < cases.length; i += 4) results.push(...await Promise.all(cases.slice(i, i + 4).map(([args]) => runCli(args))));
      results.forEach((result, i) => {
        assert.strictEqual(result.code, 2, `${cases[i][0].join(' ')}: ${result.stderr}`);
        assert.strictEqual(result.stdout, '', cases[i][0].join(' '));
        assert.ok(result.stderr.includes(cases[i][1]), `${cases[i][0].join(' ')}: ${result.stderr}`);
      });
    });

    it('refuses an unknown command, even with --help, and suggests a near one', async () => {
      const runs = await Promise.all([['nosuch'], ['nosuch', '--help'], ['--help', 'nosuch'], ['help', 'nosuch'], ['sned', '/x']].map((args) => runCli(args)));
      for (const result of runs) {
        assert.strictEqual(result.code, 2, result.stderr);
        assert.strictEqual(result.stdout, '', 'no help text on stdout');
      }
      assert.ok(runs[0].stderr.startsWith("error: unknown command 'nosuch'"), runs[0].stderr);
      assert.ok(runs[4].stderr.includes('did you mean send'), runs[4].stderr);
      const known = await runCli(['help', 'top']);
      assert.strictEqual(known.code, 0, known.stderr);
      assert.ok(known.stdout.startsWith('Usage: pixl-ipc top'), known.stdout);
    });

    it('lists every command in the main help', async () => {
      const result = await runCli(['--help']);
      assert.strictEqual(result.code, 0);
      for (const name of ['serve', 'send', 'stats', 'handlers', 'connections', 'monitor', 'ping', 'top', 'bench', 'completion']) {
        assert.ok(new RegExp(`^  ${name} `, 'm').test(result.stdout), `main help lacks ${name}:\n${result.stdout}`);
      }
    });
  });

  describe('against a running server', () => {
    let h;
    /** Requests /cli/hold has received and not answered yet. */
    let held = [];
    let holdCalls = 0;
    const benchSeen = [];

    before(async () => {
      h = await startServer({ stats_endpoint: true });
      // Answers nothing until three requests wait, then answers them newest first:
      // only a pipelined batch gets answers, and they come back out of order.
      h.ipc.addURIHandler('/cli/hold', 'CliHold', (request, callback) => {
        holdCalls++;
        held.push({ request, callback });
        if (held.length < 3) return;
        const batch = held.reverse();
        held = [];
        for (const { request: r, callback: cb } of batch) cb({ n: r.data.n });
      });
      h.ipc.addURIHandler('/cli/bench-target', 'CliBenchTarget', (request) => {
        if (benchSeen.length < 5) benchSeen.push(request.data);
        return { ok: true };
      });
      h.ipc.addURIHandler('/cli/subscribe', 'CliSubscribe', (request, callback) => {
        callback({ subscribed: request.data.topic });
        setTimeout(() => request.connection.push('/cli/topic/' + request.data.topic, { first: true }), 50);
      });
    });

    after(() => h.stop());

    it('send: newline-delimited JSON on stdin is a pipelined batch, one answer per line in input order', async () => {
      holdCalls = 0;
      const input = '{"n":1}\n{"n":2}\n\n{"n":3}\n{"n":4}\n{"n":5}\n{"n":6}\n';
      const result = await runCli(['send', '/cli/hold', '--socket', h.socketPath], { input });
      assert.strictEqual(result.code, 0, result.stderr);
      assert.strictEqual(result.stdout, [1, 2, 3, 4, 5, 6].map((n) => `{"n":${n}}\n`).join(''));
      assert.strictEqual(holdCalls, 6);
    });

    it('send: a failed request in a batch prints an error line in its place and exits 1; a bad line sends nothing (exit 2)', async () => {
      const input = '{"delay":200}\n{"delay":"soon"}\n{"delay":0}\n';
      const result = await runCli(['send', '/ipcserver/test/delay', '--socket', h.socketPath], { input });
      assert.strictEqual(result.code, 1, result.stderr);
      const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
      assert.deepStrictEqual(lines[0], { delay: 200 });
      assert.strictEqual(lines[1].error.code, 'bad_delay');
      assert.deepStrictEqual(lines[2], { delay: 0 });
      assertOneLineError(result, '1 of 3 requests failed (first: line 2: bad_delay');

      holdCalls = 0;
      const bad = await runCli(['send', '/cli/hold', '--socket', h.socketPath], { input: '{"n":1}\n{"n":\n{"n":3}\n' });
      assert.strictEqual(bad.code, 2);
      assertOneLineError(bad, 'bad JSON on stdin line 2');
      assert.strictEqual(holdCalls, 0, 'nothing was sent');
    });

    it('send: one JSON value over several lines is still one request; --lines makes one line a batch', async () => {
      const pretty = await runCli(['send', '/ipcserver/test/echo', '--socket', h.socketPath], { input: '{\n  "a": [1,\n 2]\n}\n' });
      assert.strictEqual(pretty.code, 0, pretty.stderr);
      assert.deepStrictEqual(JSON.parse(pretty.stdout), { a: [1, 2] });
      assert.ok(pretty.stdout.includes('\n  "a"'), 'a single answer is pretty-printed');
      const one = await runCli(['send', '--lines', '/ipcserver/test/echo', '--socket', h.socketPath], { input: '{"a":1}\n' });
      assert.strictEqual(one.code, 0, one.stderr);
      assert.strictEqual(one.stdout, '{"a":1}\n');
    });

    it('send --stream against the real server prints an async generator\'s parts as lines; without --stream they come as one array', async () => {
      h.ipc.addURIHandler('/cli/countdown', 'CliCountdown', async function* countdown(request) {
        for (let n = request.data.from; n > 0; n--) yield { n };
      });
      const streamed = await runCli(['send', '--stream', '/cli/countdown', '{"from":3}', '--socket', h.socketPath]);
      assert.strictEqual(streamed.code, 0, streamed.stderr);
      assert.strictEqual(streamed.stdout, '{"n":3}\n{"n":2}\n{"n":1}\n');
      const collected = await runCli(['send', '--json', '/cli/countdown', '{"from":2}', '--socket', h.socketPath]);
      assert.strictEqual(collected.code, 0, collected.stderr);
      assert.strictEqual(collected.stdout, '[{"n":2},{"n":1}]\n');
    });

    it('handlers lists every handler in match order with its uri', async () => {
      const result = await runCli(['handlers', '--socket', h.socketPath]);
      assert.strictEqual(result.code, 0, result.stderr);
      const lines = result.stdout.trim().split('\n');
      assert.ok(/^name +uri +requests +errors +p50 ms +p99 ms$/.test(lines[0]), lines[0]);
      const names = lines.slice(1).map((line) => line.split(/\s+/)[0]);
      const expected = ['IPCServer.echo', 'IPCServer.delay', 'IPCServer.stats', 'CliHold', 'CliBenchTarget', 'CliSubscribe'];
      assert.deepStrictEqual(names.filter((name) => expected.includes(name)), expected);
      assert.ok(lines.some((line) => line.startsWith('CliHold') && line.includes('/cli/hold')), result.stdout);

      const json = await runCli(['handlers', '--json', '--socket', h.socketPath]);
      assert.strictEqual(json.code, 0, json.stderr);
      const rows = JSON.parse(json.stdout);
      const hold = rows.find((row) => row.name === 'CliHold');
      assert.strictEqual(hold.uri, '/cli/hold');
      if (h.ipc.getStats().endpoints) {
        // With per-endpoint figures (issue 17): the first handlers command's own stats request shows up.
        const statsRow = rows.find((row) => row.name === 'IPCServer.stats');
        assert.ok(statsRow.requests >= 1 && statsRow.errors === 0, JSON.stringify(statsRow));
        assert.ok(statsRow.p50Ms > 0 && statsRow.p99Ms >= statsRow.p50Ms, JSON.stringify(statsRow));
      }
    });

    it('connections lists each client with its user agent, made safe for a terminal', async () => {
      const client = new IPCClient(h.socketPath, null, { autoReconnect: false, userAgent: 'evil\u001b[2J\u001b]0;owned\u0007agent' });
      try {
        await client.connect();
        await client.send('/ipcserver/test/echo', { hello: 1 });
        const result = await runCli(['connections', '--socket', h.socketPath]);
        assert.strictEqual(result.code, 0, result.stderr);
        assert.ok(!result.stdout.includes('\u001b'), 'no escape character reaches the terminal');
        assert.ok(result.stdout.includes('evil\\u001b[2J\\u001b]0;owned\\u0007agent'), result.stdout);
        const header = result.stdout.split('\n')[0];
        for (const column of ['id', 'transport', 'peer', 'user agent', 'in flight', 'requests', 'bytes in', 'bytes out', 'idle']) {
          assert.ok(header.includes(column), `${column} missing: ${header}`);
        }
        const row = result.stdout.split('\n').find((line) => line.includes('evil'));
        assert.ok(/\bunix\b/.test(row), row);

        const json = await runCli(['connections', '--json', '--socket', h.socketPath]);
        assert.strictEqual(json.code, 0, json.stderr);
        const list = JSON.parse(json.stdout);
        const mine = list.find((c) => typeof c.userAgent === 'string' && c.userAgent.startsWith('evil'));
        assert.ok(mine, json.stdout);
        assert.ok(mine.counters.requests >= 1);
        assert.ok(list.some((c) => /^pixl-ipc-cli\//.test(c.userAgent)), 'the command sees its own connection');
      } finally {
        await client.close();
      }
    });

    it('stats --watch prints a sample every interval (one JSON line each with --json) and stops after --count', async () => {
      const result = await runCli(['stats', '--watch', '0.2', '--count', '3', '--json', '--socket', h.socketPath]);
      assert.strictEqual(result.code, 0, result.stderr);
      const samples = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
      assert.strictEqual(samples.length, 3);
      const times = samples.map((s) => Date.parse(s.time));
      assert.ok(times[1] - times[0] >= 150 && times[2] - times[1] >= 150, `samples at ${samples.map((s) => s.time)}`);
      assert.ok(samples[2].totals.requests > samples[0].totals.requests, 'each sample is a new request');
    });

    it('stats --watch runs until Ctrl-C, then exits 0; human output repeats the summary', async () => {
      const proc = spawnCli(['stats', '--watch', '0.2', '--socket', h.socketPath]);
      await waitFor(() => (proc.stdout.match(/^pixl-ipc server at /gm) || []).length >= 2, 'two summaries', 10000, 20);
      proc.child.kill('SIGINT');
      assert.deepStrictEqual(await proc.exited, { code: 0, signal: null }, proc.stderr);
    });

    it('monitor prints broadcasts and pushes one JSON per line, and exits 0 after --count', async () => {
      const before = new Set(h.ipc.getConnections().map((c) => c.id));
      const proc = spawnCli(['monitor', '--count', '3', '--socket', h.socketPath]);
      // monitor sends no request, so it is known by being the new connection.
      let monitorId = null;
      await waitFor(() => {
        const added = h.ipc.getConnections().find((c) => !before.has(c.id));
        monitorId = added ? added.id : null;
        return monitorId !== null;
      }, 'monitor connected', 10000, 20);
      const toMonitor = (c) => c.id === monitorId;
      assert.strictEqual(h.ipc.broadcast('/cli/news', { seq: 1, text: 'ünïcødé' }, toMonitor), 1);
      h.ipc.broadcast('/cli/news', { seq: 2 }, toMonitor);
      h.ipc.getConnections().find(toMonitor).push('/cli/direct', { to: monitorId });
      h.ipc.broadcast('/cli/news', { seq: 3, after: 'count' }, toMonitor);
      const exit = await proc.exited;
      assert.deepStrictEqual(exit, { code: 0, signal: null }, proc.stderr);
      const lines = proc.stdout.trim().split('\n').map((line) => JSON.parse(line));
      assert.deepStrictEqual(lines, [
        { uri: '/cli/news', data: { seq: 1, text: 'ünïcødé' } },
        { uri: '/cli/news', data: { seq: 2 } },
        { uri: '/cli/direct', data: { to: monitorId } },
      ]);
    });

    it('monitor exits 3 with one line when the connection is lost (0 if the server said goodbye first)', async () => {
      const other = await startServer({ stats_endpoint: true });
      const proc = spawnCli(['monitor', '--socket', other.socketPath]);
      // Connected, and its traffic subscription answered.
      await waitFor(() => other.ipc.getConnections().length === 1 && other.ipc.getConnections()[0].counters.responses === 1, 'monitor subscribed', 10000, 20);
      await other.stop();
      const exit = await proc.exited;
      if (proc.stdout.includes('/ipcserver/goaway')) {
        assert.strictEqual(exit.code, 0, proc.stderr);
      } else {
        assert.strictEqual(exit.code, 3, proc.stderr);
        assertOneLineError(proc, 'closed');
      }
    });

    it('monitor URI --data sends a request first (its answer on stderr), then prints what that brings', async () => {
      const proc = spawnCli(['monitor', '/cli/subscribe', '--data', '{"topic":"prices"}', '--count', '1', '--timestamps', '--socket', h.socketPath]);
      const exit = await proc.exited;
      assert.deepStrictEqual(exit, { code: 0, signal: null }, proc.stderr);
      assert.strictEqual(proc.stderr, '/cli/subscribe: {"subscribed":"prices"}\n');
      const line = JSON.parse(proc.stdout);
      assert.strictEqual(line.uri, '/cli/topic/prices');
      assert.deepStrictEqual(line.data, { first: true });
      assert.ok(!Number.isNaN(Date.parse(line.receivedAt)), line.receivedAt);
    });

    it('bench --uri --data measures the user\'s own endpoint with the user\'s data', async () => {
      const result = await runCli(['bench', '--uri', '/cli/bench-target', '--data', '{"id":42,"name":"x"}', '--duration', '0.3', '--concurrency', '2', '--json', '--socket', h.socketPath]);
      assert.strictEqual(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout);
      assert.strictEqual(report.uri, '/cli/bench-target');
      assert.strictEqual(report.results.length, 1);
      assert.strictEqual(report.results[0].keys, null);
      assert.strictEqual(report.results[0].messageBytes, Buffer.byteLength('{"id":42,"name":"x"}'));
      assert.ok(report.results[0].requests > 0 && report.results[0].errors === 0, JSON.stringify(report.results[0]));
      assert.deepStrictEqual(benchSeen[0], { id: 42, name: 'x' });

      const table = await runCli(['bench', '--uri', '/cli/bench-target', '--sizes', '1', '--duration', '0.2', '--socket', h.socketPath]);
      assert.strictEqual(table.code, 0, table.stderr);
      assert.ok(table.stdout.startsWith(`pixl-ipc bench: ${h.socketPath}, /cli/bench-target,`), table.stdout);

      const missing = await runCli(['bench', '--uri', '/cli/nosuch', '--duration', '0.2', '--socket', h.socketPath]);
      assert.strictEqual(missing.code, 1);
      assertOneLineError(missing, 'no handler answers /cli/nosuch');
      const both = await runCli(['bench', '--data', '{}', '--sizes', '1', '--socket', h.socketPath]);
      assert.strictEqual(both.code, 2, '--data and --sizes conflict');
    });
  });

  describe('serve --handlers', () => {
    it('loads a CommonJS module exporting a function of the component, after the built-in routes', async () => {
      const tmp = makeTempDir();
      const file = path.join(tmp, 'handlers.js');
      fs.writeFileSync(file, `module.exports = (ipc, server) => {
  ipc.addURIHandler('/app/hello', 'Hello', (request) => ({ hello: request.data.name, host: typeof server.config.get }));
  ipc.addURIHandler(/.*/, 'CatchAll', () => ({ caught: true }));
};\n`);
      const socketPath = path.join(tmp, 's.sock');
      const proc = spawnServe(['--socket', socketPath, '--handlers', 'handlers.js'], { TMPDIR: tmp }, tmp);
      await waitForOutput(proc, /pixl-ipc listening on .+\n/);
      const hello = await runCli(['send', '--json', '/app/hello', '{"name":"ada"}', '--socket', socketPath]);
      assert.strictEqual(hello.code, 0, hello.stderr);
      assert.strictEqual(hello.stdout, '{"hello":"ada","host":"function"}\n');
      const caught = await runCli(['send', '--json', '/anything/else', '--socket', socketPath]);
      assert.strictEqual(caught.stdout, '{"caught":true}\n');
      const stats = await runCli(['stats', '--json', '--socket', socketPath]);
      assert.strictEqual(stats.code, 0, 'a catch-all does not hide the stats uri: ' + stats.stderr);
      proc.child.kill('SIGTERM');
      assert.strictEqual((await proc.exited).code, 0, proc.stderr);
    });

    it('loads an ES module (export default, async setup awaited before "listening")', async () => {
      const tmp = makeTempDir();
      const file = path.join(tmp, 'handlers.mjs');
      fs.writeFileSync(file, `export default async function setup(ipc) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  ipc.addURIHandler('/esm/ping', 'Ping', () => 'pong');
}\n`);
      const socketPath = path.join(tmp, 's.sock');
      const proc = spawnServe(['--socket', socketPath, '--handlers', file], { TMPDIR: tmp });
      await waitForOutput(proc, /pixl-ipc listening on .+\n/);
      const ping = await runCli(['send', '/esm/ping', '--socket', socketPath]);
      assert.strictEqual(ping.code, 0, ping.stderr);
      assert.strictEqual(ping.stdout, '"pong"\n');
      proc.child.kill('SIGTERM');
      assert.strictEqual((await proc.exited).code, 0, proc.stderr);
    });

    it('refuses a missing file or one that exports no function (exit 2), and stops on a setup that throws (exit 1), leaving no socket', async () => {
      const tmp = makeTempDir();
      const socketPath = path.join(tmp, 's.sock');
      fs.writeFileSync(path.join(tmp, 'object.js'), 'module.exports = { handlers: [] };\n');
      fs.writeFileSync(path.join(tmp, 'syntax.js'), 'module.exports = (ipc) => {\n');
      fs.writeFileSync(path.join(tmp, 'throws.js'), "module.exports = () => { throw new Error('no database'); };\n");
      const env = { TMPDIR: tmp };
      const [missing, object, syntax, throws] = await Promise.all(['missing.js', 'object.js', 'syntax.js', 'throws.js'].map((name) =>
        runCli(['serve', '--socket', socketPath, '--handlers', path.join(tmp, name)], { env })));
      assert.strictEqual(missing.code, 2);
      assertOneLineError(missing, 'missing.js: no such file');
      assert.strictEqual(object.code, 2);
      assertOneLineError(object, 'must export a function');
      assert.strictEqual(syntax.code, 2);
      assertOneLineError(syntax, 'failed to load');
      assert.strictEqual(throws.code, 1, throws.stderr);
      assert.ok(throws.stderr.includes('throws.js: no database'), throws.stderr);
      assert.ok(!throws.stdout.includes('listening'), throws.stdout);
      assert.ok(!fs.existsSync(socketPath), 'no socket left behind');
    });
  });
});

describe('pixl-ipc send --stream', function () {
  this.timeout(30000);
  const net = require('net');
  let server;
  let socketPath;
  const seen = [];
  /** Ends the held /stream/hold answer. */
  let release = null;

  before(function () {
    if (typeof IPCClient.prototype.stream !== 'function') {
      console.log('      (skipped: this Node client has no stream() yet)');
      this.skip();
    }
  });

  // A peer speaking the wire design for streamed answers (BRIEF / PROTOCOL.md):
  // part lines {"ipcReqID", "part"} in order, then one ordinary final line.
  before(async function () {
    socketPath = path.join(makeTempDir(), 'stream.sock');
    server = net.createServer((socket) => {
      onLines(socket, (request) => {
        seen.push(request);
        const id = request.ipcReqID;
        if (request.uri === '/stream/count' && request.stream === true) {
          let n = 0;
          const tick = setInterval(() => {
            if (++n <= 3) socket.write(JSON.stringify({ ipcReqID: id, part: { n } }) + '\n');
            else {
              clearInterval(tick);
              socket.write(JSON.stringify({ ipcReqID: id, data: { total: 3 } }) + '\n');
            }
          }, 30);
        } else if (request.uri === '/stream/hold') {
          socket.write(JSON.stringify({ ipcReqID: id, part: 'early' }) + '\n');
          release = () => socket.write(JSON.stringify({ ipcReqID: id, data: null }) + '\n');
        } else if (request.uri === '/stream/fail') {
          socket.write(JSON.stringify({ ipcReqID: id, part: 'first' }) + '\n');
          socket.write(JSON.stringify({ ipcReqID: id, code: 'handler_error', message: 'disk on fire' }) + '\n');
        } else if (id !== undefined) {
          socket.write(JSON.stringify({ ipcReqID: id, data: { once: true } }) + '\n');
        }
      });
    });
    await new Promise((resolve) => server.listen(socketPath, resolve));
  });

  after(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
    cleanupTempDirs();
  });

  it('prints each part as one JSON line as it arrives, then the final data', async () => {
    const result = await runCli(['send', '--stream', '/stream/count', '{"from":1}', '--socket', socketPath]);
    assert.strictEqual(result.code, 0, result.stderr);
    assert.strictEqual(result.stdout, '{"n":1}\n{"n":2}\n{"n":3}\n{"total":3}\n');
    assert.ok(seen.some((request) => request.uri === '/stream/count' && request.stream === true), 'the request said it accepts a stream');
  });

  it('prints a part before the answer is complete', async () => {
    const proc = spawnCli(['send', '--stream', '/stream/hold', '--socket', socketPath]);
    await waitForOutput(proc, /^"early"\n$/, 15000);
    assert.ok(release, 'the server still holds the final answer');
    release();
    assert.deepStrictEqual(await proc.exited, { code: 0, signal: null }, proc.stderr);
    assert.strictEqual(proc.stdout, '"early"\n');
  });

  it('prints a non-streamed answer as its one line, and fails (exit 1) on an error after parts', async () => {
    const once = await runCli(['send', '--stream', '/stream/plain', '--socket', socketPath]);
    assert.strictEqual(once.code, 0, once.stderr);
    assert.strictEqual(once.stdout, '{"once":true}\n');
    const failed = await runCli(['send', '--stream', '/stream/fail', '--socket', socketPath]);
    assert.strictEqual(failed.code, 1);
    assert.strictEqual(failed.stdout, '"first"\n');
    assertOneLineError(failed, 'handler_error: disk on fire');
  });

  it('refuses --stream with --notify or a batch (exit 2)', async () => {
    const notify = await runCli(['send', '--stream', '--notify', '/stream/count', '--socket', socketPath]);
    assert.strictEqual(notify.code, 2);
    const batch = await runCli(['send', '--stream', '/stream/count', '--socket', socketPath], { input: '{"a":1}\n{"a":2}\n' });
    assert.strictEqual(batch.code, 2);
    assertOneLineError(batch, 'cannot read a batch');
  });
});
