'use strict';
// The NATS transport against real nats-server processes: daemons serving
// their handlers to NATS callers through the same pipeline as the socket
// (deadlines reaching request.signal, cancel, streams, policy, limits,
// metrics), the Node client's NATS mode, the NATS service API, draining on
// stop, forwarding from a local daemon (Node and PHP callers on its socket),
// NATS accounts and subject permissions, credentials kept out of logs, and
// the package working without the optional `nats` dependency.
const assert = require('assert');
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const nats = require('nats');
const IPCClient = require('pixl-ipc/client');
const { startServer, cleanupTempDirs, makeTempDir } = require('../helpers/harness');
const { startNatsServer, stopAllNats } = require('../helpers/nats-cluster');
const { sleep, waitFor } = require('../helpers/wait');

const ECHO = '/ipcserver/test/echo';
const ROOT = path.join(__dirname, '..', '..');
const PHP_CLIENT = path.join(ROOT, 'php-client', 'PixlIPCClient.class.php');
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Runs a program without blocking this process (which serves the daemons it talks to). */
function runAsync(file, args) {
  return new Promise((resolve) => {
    const child = require('child_process').spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.on('exit', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

/** Every log line a daemon wrote so far. */
function logText(daemon) {
  return fs.readdirSync(daemon.logDir).filter((f) => f.endsWith('.log')).map((f) => fs.readFileSync(path.join(daemon.logDir, f), 'utf8')).join('');
}

describe('NATS transport', function () {
  this.timeout(20000);
  let ns;
  const daemons = [];
  const clients = [];

  /** A daemon, once it serves on NATS (it joins the queue group just after startup, see nats_serving). */
  async function daemon(ipcConfig, hostConfig) {
    const d = await startServer(ipcConfig, hostConfig);
    daemons.push(d);
    if (ipcConfig.nats && ipcConfig.nats.serve !== false) await new Promise((resolve) => d.ipc.once('nats_serving', resolve));
    return d;
  }

  async function client(target, options) {
    const c = new IPCClient(target, null, options);
    clients.push(c);
    await c.connect();
    return c;
  }

  before(async () => {
    ns = await startNatsServer();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(daemons.splice(0).map((d) => d.stop()));
  });

  after(async () => {
    await stopAllNats();
    cleanupTempDirs();
  });

  describe('serving and calling', () => {
    it('answers a Node client on a nats:// target with the socket API: send, callbacks, error codes, no_responders', async () => {
      const d = await daemon({ nats: { servers: [ns.url] } });
      d.ipc.addURIHandler('/fails', 'fails', () => { throw Object.assign(new Error('nope'), { code: 'my_code' }); });
      const c = await client(ns.url);
      assert.ok(c instanceof IPCClient.NatsClient, 'a nats:// target gives the NATS client');
      assert.deepStrictEqual(await c.send(ECHO, { a: [1, 'é'] }), { a: [1, 'é'] });
      const viaCallback = await new Promise((resolve, reject) => c.send(ECHO, 7, (err, data) => (err ? reject(err) : resolve(data))));
      assert.strictEqual(viaCallback, 7);
      await assert.rejects(c.send('/fails'), (err) => err instanceof IPCClient.IPCError && err.code === 'my_code' && err == 'my_code');
      // Nobody serves another prefix: an immediate, clear error rather than a timeout.
      const other = await client(ns.url, { nats: { prefix: 'elsewhere' } });
      const started = Date.now();
      await assert.rejects(other.send(ECHO, 1), (err) => err.code === 'no_responders' && /no responders/.test(err.message));
      assert.ok(Date.now() - started < 1000);
      await assert.rejects(c.send('no-slash', 1), (err) => err.code === 'bad_request');
      assert.strictEqual(c.requestCount, 0);
    });

    it("carries the caller's timeout to request.signal, and aborts the handler when the caller cancels", async () => {
      const d = await daemon({ nats: { servers: [ns.url] } });
      const seen = [];
      d.ipc.addURIHandler('/wait', 'wait', (request) => new Promise((resolve) => {
        seen.push({ timeoutMs: request.timeoutMs, deadline: request.deadline });
        request.signal.addEventListener('abort', () => { seen.push(request.signal.reason.code); resolve(); });
      }));
      const c = await client(ns.url);
      const started = Date.now();
      await assert.rejects(c.send('/wait', null, { timeout: 300 }), (err) => err.code === 'deadline_exceeded' || err.code === 'request_timeout');
      const took = Date.now() - started;
      assert.ok(took >= 250 && took < 1500, `failed after ${took} ms`);
      await waitFor(() => seen.includes('deadline_exceeded'), 'the handler to see its deadline');
      assert.ok(seen[0].timeoutMs > 0 && seen[0].timeoutMs <= 300, `timeoutMs ${seen[0].timeoutMs}`);
      assert.ok(seen[0].deadline > 0);

      const controller = new AbortController();
      const pending = c.send('/wait', null, { timeout: 5000, signal: controller.signal });
      await waitFor(() => seen.length === 3, 'the second request to run');
      controller.abort();
      await assert.rejects(pending, (err) => err.name === 'AbortError');
      await waitFor(() => seen.includes('cancelled'), 'the handler to be cancelled', 2000);
    });

    it('streams parts to the caller; a caller that did not ask for a stream gets them collected', async () => {
      const d = await daemon({ nats: { servers: [ns.url] } });
      d.ipc.addURIHandler('/count', 'count', async function* (request) {
        for (let i = 0; i < request.data; i++) yield { i };
        return 'done';
      });
      const c = await client(ns.url);
      const stream = c.stream('/count', 5, { timeout: 5000 });
      const parts = [];
      for await (const part of stream) parts.push(part.i);
      assert.deepStrictEqual(parts, [0, 1, 2, 3, 4]);
      assert.strictEqual(stream.result, 'done');
      const collected = await c.send('/count', 3);
      assert.deepStrictEqual(collected, [{ i: 0 }, { i: 1 }, { i: 2 }]);
    });

    it('checks that the subject is the one the uri maps to, and refuses oversized and malformed messages with codes', async () => {
      await daemon({ nats: { servers: [ns.url] }, max_message_size: 4096 });
      const nc = await nats.connect({ servers: ns.url });
      try {
        const ask = async (subject, payload) => JSON.parse(dec.decode((await nc.request(subject, typeof payload === 'string' ? enc.encode(payload) : payload, { timeout: 2000 })).data));
        // The uri may be left out: the subject says it.
        assert.deepStrictEqual(await ask('ipc.ipcserver.test.echo', '{"data":5,"ipcReqID":"mine"}'), { ipcReqID: 'mine', data: 5 });
        // A caller allowed on one subject cannot name another uri in the payload.
        const mismatch = await ask('ipc.ipcserver.test.echo', '{"uri":"/admin/drop","data":1}');
        assert.strictEqual(mismatch.code, 'bad_request');
        assert.strictEqual((await ask('ipc.ipcserver.test.echo', 'not json')).code, 'bad_json');
        assert.strictEqual((await ask('ipc.ipcserver.test.echo', '[1]')).code, 'bad_request');
        const big = await ask('ipc.ipcserver.test.echo', JSON.stringify({ data: 'x'.repeat(5000) }));
        assert.strictEqual(big.code, 'message_too_large');
        // The daemon still serves after all of that.
        assert.strictEqual((await ask('ipc.ipcserver.test.echo', '{"data":"still"}')).data, 'still');
      } finally {
        await nc.close();
      }
    });

    it('applies the access policy: a rule can keep a uri off NATS', async () => {
      const d = await daemon({
        nats: { servers: [ns.url] },
        policy: [{ uri: '^/local/', transports: ['unix'] }],
      });
      d.ipc.addURIHandler(/^\/local\//, 'local', () => 'ok');
      const c = await client(ns.url);
      await assert.rejects(c.send('/local/thing'), (err) => err.code === 'forbidden' && /nats/.test(err.message));
      const local = new IPCClient(d.socketPath);
      await local.connect();
      assert.strictEqual(await local.send('/local/thing'), 'ok');
      await local.close();
    });

    it('bounds the requests it holds (nats.max_pending): the rest are answered overloaded at once', async () => {
      const d = await daemon({ nats: { servers: [ns.url], max_pending: 3 } });
      d.ipc.addURIHandler('/slow', 'slow', () => sleep(300).then(() => 'done'));
      const c = await client(ns.url);
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => c.send('/slow', null, { timeout: 5000 }).then((v) => v, (err) => err.code)));
      assert.strictEqual(outcomes.filter((o) => o === 'done').length, 3, JSON.stringify(outcomes));
      assert.strictEqual(outcomes.filter((o) => o === 'overloaded').length, 7, JSON.stringify(outcomes));
      assert.strictEqual(await c.send('/slow', null, { timeout: 5000 }), 'done');
    });

    it('keeps serving when the server closes its NATS connection as idle (idle_timeout)', async () => {
      const d = await daemon({ nats: { servers: [ns.url] }, idle_timeout: 100 });
      const c = await client(ns.url);
      const closed = [];
      d.ipc.on('disconnect', (connection, reason) => closed.push([connection.transport, reason]));
      assert.strictEqual(await c.send(ECHO, 1), 1);
      await waitFor(() => closed.length > 0, 'the idle NATS connection to be closed', 3000);
      assert.deepStrictEqual(closed[0], ['nats', 'idle_timeout']);
      assert.strictEqual(await c.send(ECHO, 2), 2);
      assert.strictEqual(d.ipc.getConnections().filter((x) => x.transport === 'nats').length, 1);
    });

    it('counts NATS requests per endpoint and labels the transport in the metrics', async () => {
      const d = await daemon({ nats: { servers: [ns.url] } });
      const c = await client(ns.url);
      for (let i = 0; i < 5; i++) await c.send(ECHO, i);
      const stats = d.ipc.getStats();
      assert.ok(stats.endpoints['IPCServer.echo'].totals.requests >= 5);
      const metrics = d.ipc.getMetrics();
      assert.match(metrics, /pixl_ipc_connections_accepted_total\{transport="nats"\} 1/);
      assert.match(metrics, /pixl_ipc_transport_requests_total\{transport="nats",endpoint="IPCServer.echo"\} 5/);
    });

    it('registers as a NATS service: $SRV.PING, INFO and STATS answer', async () => {
      await daemon({ nats: { servers: [ns.url], service_name: 'billing', queue: 'billing-q', prefix: 'acme.ipc' } });
      const c = await client(ns.url, { nats: { prefix: 'acme.ipc' } });
      await c.send(ECHO, 1);
      const nc = await nats.connect({ servers: ns.url });
      try {
        const ask = async (subject) => JSON.parse(dec.decode((await nc.request(subject, enc.encode(''), { timeout: 2000 })).data));
        assert.strictEqual((await ask('$SRV.PING.billing')).name, 'billing');
        const info = await ask('$SRV.INFO.billing');
        assert.deepStrictEqual(info.endpoints.map((e) => [e.subject, e.queue_group]), [['acme.ipc.>', 'billing-q']]);
        const stats = await ask('$SRV.STATS.billing');
        assert.ok(stats.endpoints[0].num_requests >= 1);
        assert.ok(stats.endpoints[0].data && stats.endpoints[0].data.endpoints['IPCServer.echo'].requests >= 1, JSON.stringify(stats.endpoints[0].data));
      } finally {
        await nc.close();
      }
    });

    it('drains on stop: requests already taken are answered, new ones go to the other daemon of the queue group', async () => {
      const a = await daemon({ nats: { servers: [ns.url] }, exit_timeout: 5000 });
      const b = await daemon({ nats: { servers: [ns.url] } });
      for (const d of [a, b]) d.ipc.addURIHandler('/who', 'who', (request) => sleep(request.data).then(() => d.socketPath));
      const c = await client(ns.url);
      // Requests running on both daemons while one of them stops.
      const running = Array.from({ length: 20 }, () => c.send('/who', 300, { timeout: 5000 }));
      await sleep(100);
      const stopping = a.stop();
      // The drain reaches nats-server within a round trip; requests sent after that go to b only.
      await sleep(50);
      const during = Array.from({ length: 20 }, () => c.send('/who', 10, { timeout: 5000 }));
      const answers = await Promise.all(running);
      assert.ok(answers.includes(a.socketPath) && answers.includes(b.socketPath), 'both daemons took requests');
      const afterStop = await Promise.all(during);
      await stopping;
      daemons.splice(daemons.indexOf(a), 1);
      assert.ok(afterStop.every((who) => who === b.socketPath), 'requests sent while a drained went to b');
      const later = await Promise.all(Array.from({ length: 10 }, () => c.send('/who', 0)));
      assert.ok(later.every((who) => who === b.socketPath));
    });
  });

  describe('the command line', () => {
    it('send, stats and bench reach the cluster with --nats', async () => {
      await daemon({ nats: { servers: [ns.url] }, stats_endpoint: true });
      const cli = (...args) => runAsync(process.execPath, [path.join(ROOT, 'dist', 'bin', 'pixl-ipc.js'), ...args]);
      const sent = await cli('send', '--nats', ns.url, '--json', ECHO, '{"a":[1,2]}');
      assert.strictEqual(sent.status, 0, sent.stderr);
      assert.deepStrictEqual(JSON.parse(sent.stdout), { a: [1, 2] });
      const stats = await cli('stats', '--nats', ns.url);
      assert.strictEqual(stats.status, 0, stats.stderr);
      assert.match(stats.stdout, /connections open\s+1/);
      const bench = await cli('bench', '--nats', ns.url, '--sizes', '1', '--duration', '0.2', '--json');
      assert.strictEqual(bench.status, 0, bench.stderr);
      const result = JSON.parse(bench.stdout);
      assert.ok(JSON.stringify(result).includes('"errors":0'), bench.stdout);
      const nobody = await cli('send', '--nats', ns.url, '--nats-prefix', 'nobody', ECHO, '1');
      assert.strictEqual(nobody.status, 1);
      assert.match(nobody.stderr, /no_responders: No daemon serves nobody\.ipcserver\.test\.echo/);
    });
  });

  describe('forwarding from a local daemon', () => {
    it('hands chosen uris to the cluster: Node and PHP callers on the local socket get the remote answer, error codes and streams', async function () {
      const remote = await daemon({ nats: { servers: [ns.url] } });
      remote.ipc.addURIHandler(/^\/remote\/echo/, 'remoteEcho', (request) => ({ from: 'remote', data: request.data, deadline: request.deadline !== null }));
      remote.ipc.addURIHandler('/remote/fail', 'remoteFail', () => { throw Object.assign(new Error('remote said no'), { code: 'remote_no' }); });
      remote.ipc.addURIHandler('/remote/parts', 'remoteParts', async function* () { yield 'a'; yield 'b'; return 'end'; });
      const local = await daemon({ nats: { servers: [ns.url], serve: false, forward: ['^/remote/'] } });
      const c = new IPCClient(local.socketPath);
      clients.push(c);
      await c.connect();
      assert.deepStrictEqual(await c.send('/remote/echo', { x: 1 }, { timeout: 3000 }), { from: 'remote', data: { x: 1 }, deadline: true });
      await assert.rejects(c.send('/remote/fail'), (err) => err.code === 'remote_no' && err.message === 'remote said no');
      const parts = [];
      const stream = c.stream('/remote/parts');
      for await (const part of stream) parts.push(part);
      assert.deepStrictEqual(parts, ['a', 'b']);
      assert.strictEqual(stream.result, 'end');
      // Uris not forwarded stay local.
      assert.strictEqual(await c.send(ECHO, 'here'), 'here');

      const script = `require ${JSON.stringify(PHP_CLIENT)};
        $ipc = new PixlIPCClient(${JSON.stringify(local.socketPath)}, array('requestTimeout' => 5000));
        $data = array('php' => true);
        $out = array('ok' => $ipc->send('/remote/echo', $data));
        $none = array();
        try { $ipc->send('/remote/fail', $none); } catch (PixlIPCException $e) { $out['code'] = $e->getServerCode(); $out['msg'] = $e->getMessage(); }
        echo json_encode($out);`;
      // Run asynchronously: the local daemon answers from this process.
      const php = await runAsync('php', ['-r', script]);
      assert.strictEqual(php.status, 0, php.stderr + php.stdout);
      assert.deepStrictEqual(JSON.parse(php.stdout), { ok: { from: 'remote', data: { php: true }, deadline: true }, code: 'remote_no', msg: 'Server error remote_no: remote said no' });
    });

    it('never sends a request that came from NATS back to NATS (no loops), and says when nobody serves a forwarded uri', async () => {
      const both = await daemon({ nats: { servers: [ns.url], forward: ['^/loop/'] } });
      const c = await client(ns.url);
      await assert.rejects(c.send('/loop/x', null, { timeout: 3000 }), (err) => err.code === 'no_handler_found');
      const local = new IPCClient(both.socketPath);
      clients.push(local);
      await local.connect();
      await assert.rejects(local.send('/loop/y', null, { timeout: 3000 }), (err) => err.code === 'no_handler_found' || err.code === 'request_timeout');
      // A prefix no daemon serves.
      const lonely = await daemon({ nats: { servers: [ns.url], serve: false, prefix: 'lonely', forward: ['^/nobody/'] } });
      const viaLonely = new IPCClient(lonely.socketPath);
      clients.push(viaLonely);
      await viaLonely.connect();
      await assert.rejects(viaLonely.send('/nobody/here', null, { timeout: 3000 }), (err) => err.code === 'no_responders');
    });
  });

  describe('NATS accounts and permissions', () => {
    const DAEMON_PASS = 'daemon-Secret-pw-4821';
    const WEB_PASS = 'web-Secret-pw-9930';
    let secured;

    before(async () => {
      secured = await startNatsServer(`authorization {
        users = [
          { user: daemon, password: "${DAEMON_PASS}" }
          { user: web, password: "${WEB_PASS}", permissions: { publish: ["ipc.public.>"], subscribe: ["_INBOX.>"] } }
        ]
      }`);
    });

    it('refuses a NATS user without permission for a subject, and keeps every credential out of the logs', async () => {
      const d = await daemon({ nats: { servers: [secured.url], user: 'daemon', pass: DAEMON_PASS } }, { debug_level: 9 });
      d.ipc.addURIHandler(/^\/public\//, 'public', () => 'public ok');
      d.ipc.addURIHandler(/^\/admin\//, 'admin', () => 'admin ok');
      const web = await client(secured.url, { nats: { user: 'web', pass: WEB_PASS }, requestTimeout: 3000 });
      assert.strictEqual(await web.send('/public/page'), 'public ok');
      const started = Date.now();
      await assert.rejects(web.send('/admin/drop'), (err) => err.code === 'forbidden' && /may not publish to ipc\.admin\.drop/.test(err.message));
      assert.ok(Date.now() - started < 2000, 'refused at once, not at the deadline');
      // A cancellable request (its own inbox) is refused the same way.
      await assert.rejects(web.send('/admin/drop', null, { signal: new AbortController().signal }), (err) => err.code === 'forbidden');
      assert.strictEqual(await web.send('/public/again'), 'public ok');

      const wrong = new IPCClient(secured.url, null, { nats: { user: 'web', pass: 'not-' + WEB_PASS } });
      await assert.rejects(wrong.connect(), (err) => err.code === 'connect_failed' && /Authorization/i.test(err.message) && !err.message.includes(WEB_PASS));
      // A daemon with wrong credentials (in its server URL) does not start, and says why without repeating them.
      const url = secured.url.replace('nats://', `nats://daemon:wrong-${DAEMON_PASS}@`);
      const dir = makeTempDir();
      const configFile = path.join(dir, 'daemon.json');
      fs.writeFileSync(configFile, JSON.stringify({
        log_dir: dir, log_filename: 'daemon.log', debug_level: 9,
        IPCServer: { socket_path: path.join(dir, 'ipc.sock'), nats: { servers: [url] } },
      }), { mode: 0o600 });
      const failed = await runAsync(process.execPath, [path.join(ROOT, 'dist', 'bin', 'pixl-ipc.js'), 'serve', '-c', configFile]);
      const output = failed.stdout + failed.stderr + fs.readFileSync(path.join(dir, 'daemon.log'), 'utf8');
      assert.notStrictEqual(failed.status, 0);
      assert.match(output, /cannot connect to NATS \(nats:\/\/\*\*\*@127\.0\.0\.1/);
      for (const text of [logText(d), output]) {
        const at = Math.max(text.indexOf(DAEMON_PASS), text.indexOf(WEB_PASS));
        assert.ok(at === -1, 'a password reached the log: ' + text.slice(Math.max(0, at - 300), at + 50));
      }
    });

    it('authenticates with a token and with an nkey', async () => {
      const seed = nats.nkeys.createUser();
      const nkeyServer = await startNatsServer(`authorization { users = [ { nkey: ${seed.getPublicKey()} } ] }`);
      const tokenServer = await startNatsServer('authorization { token: "tok-Secret-77" }');
      const dir = makeTempDir();
      const seedFile = path.join(dir, 'user.nk');
      fs.writeFileSync(seedFile, dec.decode(seed.getSeed()) + '\n', { mode: 0o600 });
      const byNkey = await daemon({ nats: { servers: [nkeyServer.url], nkey_file: seedFile } });
      const byToken = await daemon({ nats: { servers: [tokenServer.url], token: 'tok-Secret-77' } });
      assert.ok(byNkey && byToken);
      const c1 = await client(nkeyServer.url, { nats: { nkey: dec.decode(seed.getSeed()) } });
      const c2 = await client(tokenServer.url, { nats: { token: 'tok-Secret-77' } });
      assert.strictEqual(await c1.send(ECHO, 'nkey'), 'nkey');
      assert.strictEqual(await c2.send(ECHO, 'token'), 'token');
      assert.ok(!logText(byToken).includes('tok-Secret-77'));
      await nkeyServer.stop();
      await tokenServer.stop();
    });
  });

  describe('the optional dependency', () => {
    // A process in which require('nats') fails, as in an application that did not install it.
    const WITHOUT_NATS = `const Module = require('module');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (request === 'nats') throw Object.assign(new Error("Cannot find module 'nats'"), { code: 'MODULE_NOT_FOUND' });
        return resolve.call(this, request, ...rest);
      };`;

    it('works without the nats package, and a config that needs it names the package to install', () => {
      const dir = makeTempDir();
      const preload = path.join(dir, 'no-nats.js');
      fs.writeFileSync(preload, WITHOUT_NATS);
      const script = `
        const { startServer, cleanupTempDirs } = require(${JSON.stringify(path.join(ROOT, 'test', 'helpers', 'harness.js'))});
        const IPCClient = require('pixl-ipc/client');
        // pixl-server ends this process itself (below): its servers' temporary directories go with it.
        process.on('exit', cleanupTempDirs);
        (async () => {
          const plain = await startServer({});
          const c = new IPCClient(plain.socketPath);
          await c.connect();
          const echoed = await c.send('/ipcserver/test/echo', 1);
          await c.close();
          await plain.stop();
          let clientError = null;
          await new IPCClient('nats://127.0.0.1:1').connect().catch((err) => { clientError = err.message; });
          console.log(JSON.stringify({ echoed, clientError }));
          // pixl-server exits the process (code 1) when startup fails.
          await startServer({ nats: { servers: ['nats://127.0.0.1:1'] } }, { log_dir: ${JSON.stringify(dir)}, log_filename: 'failed.log' });
        })();`;
      const run = spawnSync(process.execPath, ['-r', preload, '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 15000 });
      const result = JSON.parse(run.stdout.trim().split('\n')[0]);
      assert.strictEqual(result.echoed, 1);
      assert.match(result.clientError, /npm install nats/);
      assert.strictEqual(run.status, 1, run.stdout + run.stderr);
      assert.match(fs.readFileSync(path.join(dir, 'failed.log'), 'utf8'), /"nats" package is not installed: run `npm install nats@2`/);
    });
  });
});
