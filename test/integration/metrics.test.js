'use strict';
// Monitoring on a live server: per-endpoint latency against known delays,
// bounded memory under hostile uris, the Prometheus text (checked by promtool
// and scraped by a real Prometheus), the stats uri's connection list, slow logs.
const assert = require('assert');
const { execFile, spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const path = require('path');
const v8 = require('v8');
const vm = require('vm');
const IPCClient = require('pixl-ipc/client');
const { startServer, cleanupTempDirs, makeTempDir, freePort } = require('../helpers/harness');
const { rawConnect } = require('../helpers/raw');
const { sleep, waitFor } = require('../helpers/wait');

const DELAY = '/ipcserver/test/delay';
const ECHO = '/ipcserver/test/echo';

function readLog(h) {
  return fs.readFileSync(path.join(h.logDir, 'test.log'), 'utf8');
}

function httpGet(port, urlPath, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs `promtool check metrics` on `text`; resolves to its combined output and exit code. */
function promtoolCheck(text) {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, output: stdout + stderr });
    });
    child.stdin.end(text);
  });
}

function commandExists(name) {
  return process.env.PATH.split(path.delimiter).some((dir) => fs.existsSync(path.join(dir, name)));
}

/** The value of one sample line `name{labels} value` in the text, or undefined. */
function sample(text, nameAndLabels) {
  const line = text.split('\n').find((l) => l.startsWith(nameAndLabels + ' '));
  return line === undefined ? undefined : Number(line.slice(nameAndLabels.length + 1));
}

describe('monitoring', function () {
  this.timeout(15000);
  after(cleanupTempDirs);

  describe('per-endpoint figures', function () {
    let h;
    let client;
    before(async function () {
      h = await startServer({ slow_threshold_ms: 20, stats_endpoint: true });
      client = new IPCClient(h.socketPath, null, { userAgent: 'metrics-test/1' });
      await client.connect();
    });
    after(async function () { client.close(); await h.stop(); });

    it('percentiles match known delays of 5, 50 and 500 ms within the bucket resolution', async function () {
      for (const [delay, count] of [[5, 40], [50, 20], [500, 6]]) {
        h.ipc.logIntervalStats(); // a fresh interval for this delay
        const seen = await Promise.all(Array.from({ length: count }, async () => {
          const sent = process.hrtime.bigint();
          await client.send(DELAY, { delay });
          return Number(process.hrtime.bigint() - sent) / 1e6;
        }));
        seen.sort((a, b) => a - b);
        const clientMedian = seen[Math.floor(count / 2)];
        const f = h.ipc.getStats().endpoints['IPCServer.delay'].interval;
        const l = f.latencyMs;
        assert.strictEqual(f.requests, count);
        assert.strictEqual(l.count, count);
        // The server's time is at least the delay (less 1 ms: a timer's start is the
        // event loop's cached clock, so it can fire up to 1 ms early by a fresh clock)
        // and at most what the client saw, give or take one bucket (2^(1/2) wide).
        assert.ok(l.p50 >= delay - 1, `${delay} ms: p50 ${l.p50} below the delay`);
        assert.ok(l.p50 <= clientMedian * Math.SQRT2, `${delay} ms: p50 ${l.p50} vs client median ${clientMedian}`);
        assert.ok(l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max, JSON.stringify(l));
        assert.ok(l.max <= seen[count - 1] + 1, `max ${l.max} vs client max ${seen[count - 1]}`);
        assert.ok(l.sum >= (delay - 1) * count && l.sum <= seen.reduce((a, b) => a + b, 0) + count, `sum ${l.sum}`);
      }
      const stats = h.ipc.getStats();
      const totals = stats.endpoints['IPCServer.delay'].totals;
      assert.strictEqual(totals.requests, 66);
      assert.ok(totals.latencyMs.max >= 499, `max ${totals.latencyMs.max}`); // a timer can fire up to 1 ms early by a fresh clock
      assert.strictEqual(stats.endpoints['IPCServer.delay'].last.requests, 20, 'last holds the 50 ms interval');
      assert.ok(stats.totals.slowResponses >= 26, 'the 50 and 500 ms requests are slow');
    });

    it('keys figures by handler name, counts errors and bytes, and unmatched uris under "(unmatched)"', async function () {
      h.ipc.addURIHandler(/^\/m\/item\/\d+$/, 'items', (request) => ({ n: request.data.n }));
      h.ipc.addURIHandler('/m/fail', 'failing', () => { throw Object.assign(new Error('no'), { code: 'nope' }); });
      for (let i = 0; i < 5; i++) await client.send(`/m/item/${i}`, { n: i });
      await assert.rejects(client.send('/m/fail', {}), (err) => err.code === 'nope');
      await client.send('/m/missing/1', {});
      await client.send('/m/missing/2', {});
      const endpoints = h.ipc.getStats().endpoints;
      assert.ok(!Object.keys(endpoints).some((name) => name.startsWith('/')), 'no raw uri becomes a key');
      assert.strictEqual(endpoints.items.totals.requests, 5);
      assert.strictEqual(endpoints.items.totals.errors, 0);
      const line = JSON.stringify({ uri: '/m/item/0', data: { n: 0 } });
      assert.ok(endpoints.items.totals.bytesIn >= 5 * line.length, `bytesIn ${endpoints.items.totals.bytesIn}`);
      assert.ok(endpoints.items.totals.bytesOut >= 5 * '{"ipcReqID":0,"data":{"n":0}}\n'.length);
      assert.strictEqual(endpoints.failing.totals.requests, 1);
      assert.strictEqual(endpoints.failing.totals.errors, 1);
      assert.strictEqual(endpoints['(unmatched)'].totals.requests, 2);
    });

    it('counts a request middleware refuses under the endpoint its uri routes to', async function () {
      const h2 = await startServer({});
      try {
        h2.ipc.addURIHandler('/m/guarded', 'guarded', () => 'ran');
        h2.ipc.use((request, next) => (request.data && request.data.let ? next() : next(Object.assign(new Error('no entry'), { code: 'forbidden' }))));
        const c2 = new IPCClient(h2.socketPath);
        await c2.connect();
        await assert.rejects(c2.send('/m/guarded', {}), (err) => err.code === 'forbidden');
        assert.strictEqual(await c2.send('/m/guarded', { let: true }), 'ran');
        await assert.rejects(c2.send('/m/nowhere', {}), (err) => err.code === 'forbidden');
        c2.close();
        const endpoints = h2.ipc.getStats().endpoints;
        assert.strictEqual(endpoints.guarded.totals.requests, 2);
        assert.strictEqual(endpoints.guarded.totals.errors, 1);
        assert.strictEqual(endpoints['(unmatched)'].totals.errors, 1);
      } finally {
        await h2.stop();
      }
    });

    it('adds process figures, and the connection list when the stats uri is asked for it', async function () {
      const plain = await client.send('/ipcserver/stats', {});
      assert.strictEqual(plain.connections, 1, 'without the option: the count only');
      for (const key of ['rss', 'heapUsed', 'heapTotal', 'cpuUserMs', 'cpuSystemMs']) {
        assert.ok(Number.isFinite(plain.process[key]) && plain.process[key] >= 0, key);
      }
      assert.ok(plain.process.rss > plain.process.heapUsed / 2);
      const withList = await client.send('/ipcserver/stats', { connections: true });
      assert.strictEqual(withList.connections.length, 1);
      const c = withList.connections[0];
      assert.deepStrictEqual(Object.keys(c).sort(), ['authenticated', 'connectedAt', 'counters', 'id', 'inFlight', 'lastActivity', 'peer', 'pid', 'queuedOutputBytes', 'transport', 'userAgent'].sort());
      assert.strictEqual(c.transport, 'unix');
      assert.deepStrictEqual([c.peer.pid, c.peer.uid], [process.pid, process.getuid()], 'the kernel\'s peer identity');
      assert.strictEqual(c.userAgent, 'metrics-test/1');
      assert.strictEqual(c.pid, process.pid);
      assert.strictEqual(c.inFlight, 1, 'the stats request itself');
      assert.ok(c.counters.requests >= 2 && c.counters.bytesIn > 0 && c.counters.bytesOut > 0, JSON.stringify(c.counters));
      assert.ok(c.lastActivity >= c.connectedAt && c.connectedAt <= Date.now());
      assert.strictEqual(c.queuedOutputBytes, 0);
      assert.deepStrictEqual(h.ipc.getConnections()[0].toJSON().id, c.id);
    });
  });

  it('logs a slow response once with handler, uri excerpt, connection and time', async function () {
    const h = await startServer({ slow_threshold_ms: 20 });
    const client = new IPCClient(h.socketPath);
    try {
      await client.connect();
      const uri = '/m/slow/' + 'x'.repeat(5000) + '\nforged line';
      h.ipc.addURIHandler(/^\/m\/slow\//, 'slowpoke', (request, callback) => setTimeout(() => callback(1), 30));
      await client.send(uri, {});
      await client.send(ECHO, {});
      await waitFor(() => /slowpoke/.test(readLog(h)), 'the slow log line');
      const lines = readLog(h).split('\n').filter((l) => l.includes('[slow_response]') && l.includes('slowpoke'));
      assert.strictEqual(lines.length, 1, 'logged once');
      assert.match(lines[0], /slowpoke took \d+(\.\d+)? ms \(connection \d+, uri \/m\/slow\/xxx/);
      assert.ok(lines[0].length < 1000, 'the uri is cut short');
      assert.ok(!readLog(h).split('\n').some((l) => l.startsWith('forged line')), 'no line injected');
    } finally {
      client.close();
      await h.stop();
    }
  });

  it('rate-limits slow-response logs and counts the rest', async function () {
    const h = await startServer({ slow_threshold_ms: 5, slow_log_per_second: 3 });
    try {
      const client = new IPCClient(h.socketPath);
      await client.connect();
      const started = Date.now();
      await Promise.all(Array.from({ length: 30 }, () => client.send(DELAY, { delay: 15 })));
      const seconds = Math.ceil((Date.now() - started) / 1000);
      client.close();
      const lines = readLog(h).split('\n').filter((l) => l.includes('[slow_response]'));
      assert.ok(lines.length >= 1 && lines.length <= 3 * (seconds + 1), `${lines.length} lines in ${seconds} s (3 per second)`);
      assert.strictEqual(h.ipc.getStats().totals.slowResponses, 30, 'every slow response is counted');
      assert.strictEqual(h.ipc.monitoring.slowLog.suppressedTotal, 30 - lines.length, 'the rest are counted as left out');
    } finally {
      await h.stop();
    }
  });

  it('keeps memory flat with 100,000 distinct unmatched uris, all under "(unmatched)"', async function () {
    const h = await startServer({}, { debug_level: 1 });
    h.ipc.setDefaultHandler((request, callback) => callback(null)); // no log line per request
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc');
    const raw = await rawConnect(h.socketPath);
    try {
      let sent = 0;
      const send = async (count) => {
        for (let done = 0; done < count;) {
          const batch = [];
          for (let i = 0; i < 2000 && done < count; i++, done++) batch.push(JSON.stringify({ uri: `/u/${sent++}/${'z'.repeat(40)}`, noReply: true }));
          await raw.write(batch.join('\n') + '\n');
        }
        // An answered request after the batch: the server has read everything before it.
        await raw.write({ ipcReqID: 'sync' + sent, uri: ECHO });
        assert.strictEqual((await raw.next(10000)).ipcReqID, 'sync' + sent);
      };
      await send(10000); // warm up
      gc();
      const before = process.memoryUsage().heapUsed;
      await send(100000);
      gc();
      const grown = process.memoryUsage().heapUsed - before;
      const endpoints = h.ipc.getStats().endpoints;
      assert.deepStrictEqual(Object.keys(endpoints).sort(), ['(unmatched)', 'IPCServer.echo']);
      assert.strictEqual(endpoints['(unmatched)'].totals.requests, 110000);
      // 100,000 uris of ~50 bytes: keeping each would grow the heap by well over 5 MB.
      assert.ok(grown < 5 * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(1)} MiB`);
    } finally {
      raw.destroy();
      await h.stop();
    }
  });

  describe('Prometheus exposition', function () {
    let h;
    let client;
    before(async function () {
      h = await startServer({ metrics_endpoint: true, metrics_port: await freePort(), listen_port: await freePort(), stats_endpoint: true });
      h.ipc.addURIHandler('/odd', 'odd "name"\\ with\nnewline', () => 1);
      client = new IPCClient(h.socketPath);
      await client.connect();
      await client.send(ECHO, { a: 1 });
      await client.send('/odd', {});
      await client.send('/nothing/here', {});
      const tcp = new IPCClient(`tcp://127.0.0.1:${h.ipc.tcpPort}`);
      await tcp.connect();
      await tcp.send(ECHO, {});
      tcp.close();
    });
    after(async function () { client.close(); await h.stop(); });

    it('getMetrics() has histograms in seconds, _total counters, endpoint and transport labels', function () {
      const text = h.ipc.getMetrics();
      assert.match(text, /^# TYPE pixl_ipc_request_duration_seconds histogram$/m);
      assert.strictEqual(sample(text, 'pixl_ipc_request_duration_seconds_count{endpoint="IPCServer.echo"}'), 2);
      assert.strictEqual(sample(text, 'pixl_ipc_request_duration_seconds_bucket{endpoint="IPCServer.echo",le="+Inf"}'), 2);
      assert.strictEqual(sample(text, 'pixl_ipc_request_duration_seconds_bucket{endpoint="IPCServer.echo",le="0.000001"}'), 0);
      assert.ok(sample(text, 'pixl_ipc_request_duration_seconds_sum{endpoint="IPCServer.echo"}') < 1, 'seconds, not ms');
      assert.strictEqual(sample(text, 'pixl_ipc_requests_total{endpoint="(unmatched)"}'), 1);
      assert.strictEqual(sample(text, 'pixl_ipc_requests_total{endpoint="odd \\"name\\"\\\\ with\\nnewline"}'), 1);
      assert.ok(!text.includes('/nothing/here'), 'no uri in the metrics');
      assert.strictEqual(sample(text, 'pixl_ipc_connections{transport="unix"}'), 1);
      assert.strictEqual(sample(text, 'pixl_ipc_connections_accepted_total{transport="tcp"}'), 1);
      assert.ok(sample(text, 'pixl_ipc_received_bytes_total{transport="tcp"}') > 0);
      assert.ok(sample(text, 'pixl_ipc_process_resident_memory_bytes') > 1e6);
      assert.ok(sample(text, 'pixl_ipc_start_time_seconds') > 1.7e9);
      for (const line of text.split('\n')) {
        const m = /^# TYPE (\S+) counter$/.exec(line);
        if (m) assert.match(m[1], /_total$/);
      }
    });

    it('promtool check metrics passes on the live output', async function () {
      if (!commandExists('promtool')) this.skip(); // .ci/run installs it (Debian: prometheus)
      const { code, output } = await promtoolCheck(h.ipc.getMetrics());
      assert.strictEqual(code, 0, output);
      assert.strictEqual(output.trim(), '', 'no lint warnings');
    });

    it('serves the text on /ipcserver/metrics and on GET /metrics; 404 elsewhere', async function () {
      const overIpc = await client.send('/ipcserver/metrics');
      assert.strictEqual(typeof overIpc, 'string');
      assert.match(overIpc, /^pixl_ipc_requests_total\{endpoint="IPCServer.echo"\} 2$/m);
      const res = await httpGet(h.ipc.metricsPort, '/metrics');
      assert.strictEqual(res.status, 200);
      assert.strictEqual(res.type, 'text/plain; version=0.0.4; charset=utf-8');
      assert.match(res.body, /^pixl_ipc_requests_total\{endpoint="IPCServer.echo"\} 2$/m);
      assert.strictEqual((await httpGet(h.ipc.metricsPort, '/')).status, 404);
      assert.strictEqual((await httpGet(h.ipc.metricsPort, '/metrics', 'POST')).status, 404);
      assert.strictEqual((await httpGet(h.ipc.metricsPort, '/metricsx')).status, 404);
    });

    it('a real Prometheus scrapes the listener', async function () {
      if (!commandExists('prometheus')) this.skip();
      const dir = makeTempDir('pixl-ipc-prom-');
      const webPort = await freePort();
      fs.writeFileSync(path.join(dir, 'prometheus.yml'), [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: pixl-ipc',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${h.ipc.metricsPort}']`,
        '',
      ].join('\n'));
      const prom = spawn('prometheus', [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${webPort}`,
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
      let promLog = '';
      prom.stderr.on('data', (chunk) => { promLog = (promLog + chunk).slice(-4000); });
      const exited = new Promise((resolve) => prom.once('exit', resolve));
      try {
        let result = null;
        await waitFor(async () => {
          try {
            const query = encodeURIComponent('pixl_ipc_requests_total{endpoint="IPCServer.echo"}');
            const res = await httpGet(webPort, `/api/v1/query?query=${query}`);
            const body = JSON.parse(res.body);
            if (body.status === 'success' && body.data.result.length > 0) result = body.data.result[0];
          } catch { /* not up yet */ }
          return result;
        }, 'Prometheus to scrape pixl_ipc_requests_total', 12000, 200).catch((err) => {
          throw new Error(`${err.message}\n${promLog}`);
        });
        assert.strictEqual(result.metric.job, 'pixl-ipc');
        assert.strictEqual(Number(result.value[1]), 2);
        const up = JSON.parse((await httpGet(webPort, '/api/v1/query?query=up')).body);
        assert.strictEqual(up.data.result[0].value[1], '1');
      } finally {
        prom.kill('SIGTERM');
        await Promise.race([exited, sleep(3000)]);
        if (prom.exitCode === null) prom.kill('SIGKILL');
      }
    });
  });

  it('fails startup with a clear error when metrics_port is taken', async function () {
    const blocker = http.createServer();
    await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const socketPath = path.join(makeTempDir(), 'ipc.sock');
      const config = JSON.stringify({ socket_path: socketPath, metrics_port: blocker.address().port });
      const daemon = path.join(__dirname, 'fixtures', 'daemon.js');
      const result = await new Promise((resolve) => {
        execFile(process.execPath, [daemon, config, makeTempDir()], { timeout: 10000 }, (err, stdout, stderr) => {
          resolve({ code: err ? err.code : 0, output: stdout + stderr });
        });
      });
      assert.notStrictEqual(result.code, 0);
      assert.match(result.output, /cannot listen on metrics port 127\.0\.0\.1:\d+: .*EADDRINUSE/);
      assert.ok(!fs.existsSync(socketPath), 'the socket file is not left behind');
    } finally {
      blocker.close();
    }
  });

  it('endpoint_stats: false answers as usual and records no endpoint figures', async function () {
    const h = await startServer({ endpoint_stats: false, slow_threshold_ms: 5 });
    try {
      const client = new IPCClient(h.socketPath);
      await client.connect();
      assert.deepStrictEqual(await client.send(ECHO, { a: 1 }), { a: 1 });
      await client.send(DELAY, { delay: 20 });
      client.close();
      const stats = h.ipc.getStats();
      assert.deepStrictEqual(stats.endpoints, {});
      assert.strictEqual(stats.totals.slowResponses, 1, 'slow responses are still counted');
      assert.match(readLog(h), /\[slow_response\]/);
      const text = h.ipc.getMetrics();
      assert.ok(!text.includes('endpoint='), 'no endpoint series');
      assert.strictEqual(sample(text, 'pixl_ipc_slow_responses_total'), 1);
      if (commandExists('promtool')) {
        const { code, output } = await promtoolCheck(text);
        assert.strictEqual(code, 0, output);
      }
    } finally {
      await h.stop();
    }
  });
});
