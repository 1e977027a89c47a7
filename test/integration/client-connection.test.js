'use strict';
// The Node client's connection lifecycle against the real server: connect
// failures and timeouts, events, disconnects, reconnects with backoff, a
// server restart mid-traffic, the offline queue, close(), subclasses and a
// process that must exit after close().
const assert = require('assert');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { spawn } = require('child_process');
const { startServer, makeTempDir, tmpSocketPath, cleanupTempDirs } = require('../helpers/harness');
const { LoggerStub } = require('../helpers/logger-stub');
const { sleep, waitFor } = require('../helpers/wait');
const IPCClient = require('pixl-ipc/client');

const ECHO = '/ipcserver/test/echo';
const DELAY = '/ipcserver/test/delay';

/** Records every client event with its time. */
function recordEvents(client) {
  const events = [];
  for (const name of ['connect', 'disconnect', 'reconnect', 'connect_failed', 'error', 'data']) {
    client.on(name, (arg) => events.push({ name, arg, at: Date.now() }));
  }
  events.named = (name) => events.filter((e) => e.name === name);
  return events;
}

/** A Unix socket server that accepts connections and never says anything. */
function silentServer(listenOn) {
  const sockets = [];
  const server = net.createServer((socket) => { sockets.push(socket); socket.on('error', () => {}); });
  return new Promise((resolve) => server.listen(listenOn, () => resolve({
    server,
    close: () => new Promise((done) => { sockets.forEach((s) => s.destroy()); server.close(() => done()); }),
  })));
}

describe('client: connecting', function () {
  after(cleanupTempDirs);

  it('a missing socket fails fast with connect_failed, one logged error and a connect_failed event', async function () {
    const logger = new LoggerStub();
    const client = new IPCClient(tmpSocketPath('missing.sock'), logger);
    const events = recordEvents(client);
    const started = Date.now();
    await assert.rejects(client.connect(), (err) => err.code === 'connect_failed' && /missing\.sock/.test(err.message));
    assert.ok(Date.now() - started < 500, 'no waiting for a timeout');
    assert.strictEqual(logger.errorCount, 1);
    assert.strictEqual(events.named('connect_failed').length, 1);
    assert.strictEqual(events.named('error').length, 1, 'error is emitted to a listener');
    assert.strictEqual(events.named('connect').length, 0);
    await sleep(100);
    assert.strictEqual(events.named('connect_failed').length, 1, 'a failed first connect does not start reconnecting');
    await client.close();
  });

  it('a failed connect without an error listener does not throw', async function () {
    const client = new IPCClient(tmpSocketPath('missing.sock'));
    await new Promise((resolve) => client.connect((err) => { assert.strictEqual(err.code, 'connect_failed'); resolve(); }));
    assert.strictEqual(client.listenerCount('error'), 0);
  });

  it('a path that is not a socket is refused', async function () {
    const file = path.join(makeTempDir(), 'plain-file');
    fs.writeFileSync(file, 'not a socket');
    const client = new IPCClient(file);
    await assert.rejects(client.connect(), { code: 'connect_failed' });
  });

  it('connectTimeout: a server that never answers the auth handshake fails the connect with connect_timeout', async function () {
    const socketPath = tmpSocketPath('silent.sock');
    const silent = await silentServer(socketPath);
    const logger = new LoggerStub();
    const client = new IPCClient(socketPath, logger, { auth: 'anything', connectTimeout: 150 });
    const started = Date.now();
    const connecting = client.connect();
    const held = client.send(ECHO, 'waits for the connect');
    await assert.rejects(connecting, (err) => err.code === 'connect_timeout' && /150 ms/.test(err.message));
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 140 && elapsed < 1000, `took ${elapsed} ms`);
    await assert.rejects(held, { code: 'connect_timeout' });
    assert.strictEqual(logger.errorCount, 1);
    assert.strictEqual(client.requestCount, 0);
    await client.close();
    await silent.close();
  });

  it('connectTimeout applies to tls:// targets whose server never completes the handshake', async function () {
    const silent = await silentServer({ port: 0, host: '127.0.0.1' });
    const port = silent.server.address().port;
    const client = new IPCClient(`tls://127.0.0.1:${port}`, null, { connectTimeout: 120, tls: { rejectUnauthorized: false } });
    await assert.rejects(client.connect(), { code: 'connect_timeout' });
    await client.close();
    await silent.close();
  });

  it('the default connectTimeout is 5000 ms', function () {
    assert.strictEqual(new IPCClient(tmpSocketPath()).options.connectTimeout, 5000);
  });
});

describe('client: events, disconnects and reconnects', function () {
  let h;
  beforeEach(async function () { h = await startServer({ exit_timeout: 200 }); });
  afterEach(async function () { await h.stop(); });
  after(cleanupTempDirs);

  it('a disconnect fails every in-flight request at once with connection_closed, then reconnects', async function () {
    const logger = new LoggerStub();
    const client = new IPCClient(h.socketPath, logger, { autoReconnect: 30 });
    const events = recordEvents(client);
    await client.connect();
    assert.strictEqual(events.named('connect').length, 1);
    assert.strictEqual(events.named('reconnect').length, 0);
    const inFlight = [];
    for (let i = 0; i < 20; i++) inFlight.push(client.send(DELAY, { delay: 5000 }).then(() => 'answered', (err) => err));
    await sleep(30);
    assert.strictEqual(client.requestCount, 20);
    const cutAt = Date.now();
    h.ipc.closeConnections();
    const outcomes = await Promise.all(inFlight);
    assert.ok(Date.now() - cutAt < 500, 'failed at once, not at their timeout');
    for (const err of outcomes) {
      assert.ok(err instanceof IPCClient.IPCError, String(err));
      assert.strictEqual(err.code, 'connection_closed');
      assert.strictEqual(err.uri, DELAY);
    }
    assert.strictEqual(client.requestCount, 0);
    assert.strictEqual(events.named('disconnect').length, 1);
    assert.strictEqual(events.named('disconnect')[0].arg.code, 'connection_closed');
    assert.strictEqual(logger.errorCount, 1, 'one logged error for the disconnect, not one per request');
    await waitFor(() => events.named('reconnect').length === 1, 'reconnect');
    assert.strictEqual(events.named('connect').length, 2);
    assert.strictEqual(await client.send(ECHO, 'after'), 'after');
    const stats = client.getStats();
    assert.strictEqual(stats.connects, 2);
    assert.strictEqual(stats.disconnects, 1);
    assert.strictEqual(stats.errors, 20);
    await client.close();
  });

  it('autoReconnect false: stays disconnected, sends fail with no_open_stream, a manual connect is a reconnect', async function () {
    const client = new IPCClient(h.socketPath, null, { autoReconnect: false });
    const events = recordEvents(client);
    await client.connect();
    h.ipc.closeConnections();
    await waitFor(() => events.named('disconnect').length === 1, 'disconnect');
    await sleep(150);
    assert.strictEqual(client.connectionState, 'disconnected');
    assert.strictEqual(events.named('connect').length, 1);
    await assert.rejects(client.send(ECHO, 1), { code: 'no_open_stream' });
    await client.connect();
    assert.strictEqual(events.named('reconnect').length, 1);
    assert.strictEqual(await client.send(ECHO, 2), 2);
    await client.close();
  });

  it('messages without ipcReqID (a handler push) arrive as data events with the whole message', async function () {
    h.ipc.addURIHandler('/ev/subscribe', 'subscribe', (request, callback) => {
      callback({ subscribed: true });
      setTimeout(() => request.connection.push('/ev/price', { symbol: 'ACME', price: 12.5 }), 10);
    });
    const client = new IPCClient(h.socketPath);
    const pushed = new Promise((resolve) => client.once('data', resolve));
    await client.connect();
    assert.deepStrictEqual(await client.send('/ev/subscribe'), { subscribed: true });
    assert.deepStrictEqual(await pushed, { uri: '/ev/price', data: { symbol: 'ACME', price: 12.5 } });
    assert.strictEqual(h.ipc.broadcast('/ev/all', [1]), 1);
    assert.deepStrictEqual(await new Promise((resolve) => client.once('data', resolve)), { uri: '/ev/all', data: [1] });
    assert.strictEqual(client.getStats().pushes, 2);
    await client.close();
  });

  it('reconnect delays double from autoReconnect up to maxReconnectDelay, each in the upper half of its nominal value', async function () {
    this.timeout(15000);
    const client = new IPCClient(h.socketPath, null, { autoReconnect: 40, maxReconnectDelay: 320 });
    const events = recordEvents(client);
    await client.connect();
    await h.stop();
    await waitFor(() => events.named('disconnect').length === 1, 'disconnect');
    // The stopping server's goaway moves the client at once (no backoff); that attempt
    // fails (it stopped listening), and the doubling starts from there.
    // Nominal delays 40, 80, 160, 320, 320, 320, 320: about 1.6 s at most on an idle machine.
    await waitFor(() => events.named('connect_failed').length >= 8, '8 reconnect attempts', 10000);
    const lostAt = events.named('connect_failed')[0].at;
    const failures = events.named('connect_failed').map((e) => e.at).slice(1, 8);
    const gaps = failures.map((t, i) => t - (i === 0 ? lostAt : failures[i - 1]));
    const nominal = [40, 80, 160, 320, 320, 320, 320];
    // Timers never fire early, so the lower bounds hold on any machine: they prove the doubling.
    gaps.forEach((gap, i) => assert.ok(gap >= nominal[i] / 2 - 2, `attempt ${i + 1} came after ${gap} ms; gaps ${gaps.join(',')}`));
    // The cap: without it attempt 7 would wait at least 40 * 64 / 2 = 1280 ms. Generous room for a loaded machine.
    assert.ok(Math.max(...gaps.slice(4)) < 1280, 'capped gaps ' + gaps.join(','));
    await client.close();
    const after = events.named('connect_failed').length;
    await sleep(400);
    assert.strictEqual(events.named('connect_failed').length, after, 'close() stops reconnecting');
    h = await startServer({ exit_timeout: 200 }); // for afterEach
  });

  it('retryStrategy decides each delay from the attempt number; null stops and fails what waits in the offline queue', async function () {
    const attempts = [];
    const client = new IPCClient(h.socketPath, null, {
      offlineQueue: 5,
      retryStrategy: (attempt) => { attempts.push(attempt); return attempt < 3 ? 10 : null; },
    });
    const events = recordEvents(client);
    await client.connect();
    await h.stop();
    await waitFor(() => client.connectionState === 'disconnected', 'disconnect');
    const queued = client.send(ECHO, 'waits');
    await assert.rejects(queued, { code: 'connect_failed' });
    assert.deepStrictEqual(attempts, [1, 2, 3]);
    // The immediate move on the stopping server's goaway, then the strategy's two attempts.
    assert.strictEqual(events.named('connect_failed').length, 3, 'two attempts, then the strategy said stop');
    await sleep(100);
    assert.strictEqual(events.named('connect_failed').length, 3);
    await client.close();
    h = await startServer({ exit_timeout: 200 }); // for afterEach
  });

  it('reconnects and re-sends held requests only after the server is back (offlineQueue)', async function () {
    const socketPath = h.socketPath;
    const logger = new LoggerStub();
    const client = new IPCClient(socketPath, logger, { autoReconnect: 30, offlineQueue: 3, requestTimeout: 5000 });
    const events = recordEvents(client);
    await client.connect();
    await h.stop();
    await waitFor(() => client.connectionState === 'disconnected', 'disconnect');
    const held = [client.send(ECHO, 'h1'), client.send(ECHO, 'h2')];
    assert.strictEqual(client.notify(ECHO, 'n1'), true, 'a notify is held as well');
    assert.strictEqual(client.getStats().queued, 3);
    await assert.rejects(client.send(ECHO, 'overflow'), { code: 'queue_full' });
    await sleep(80);
    h = await startServer({ socket_path: socketPath, exit_timeout: 200 });
    assert.deepStrictEqual(await Promise.all(held), ['h1', 'h2']);
    assert.ok(events.named('reconnect').length >= 1);
    assert.strictEqual(client.getStats().queued, 0);
    assert.strictEqual(client.requestCount, 0);
    await client.close();
  });

  it('held requests time out when no connection comes back', async function () {
    const client = new IPCClient(h.socketPath, null, { autoReconnect: false, offlineQueue: 5, requestTimeout: 60 });
    const held = client.send(ECHO, 'never');
    assert.strictEqual(client.requestCount, 1);
    await assert.rejects(held, { code: 'request_timeout' });
    assert.strictEqual(client.requestCount, 0);
    assert.strictEqual(client.getStats().queued, 0);
    await client.close();
  });

  it('a send made right after connect() (not awaited) waits for that connect', async function () {
    const client = new IPCClient(h.socketPath);
    const connecting = client.connect();
    const answer = client.send(ECHO, 'early');
    await connecting;
    assert.strictEqual(await answer, 'early');
    await client.close();
  });

  it('idle_timeout from the server arrives as a data event (null-id error line), then a disconnect and a reconnect', async function () {
    await h.stop();
    h = await startServer({ idle_timeout: 120 });
    const client = new IPCClient(h.socketPath, null, { autoReconnect: 20 });
    const events = recordEvents(client);
    await client.connect();
    await waitFor(() => events.named('disconnect').length === 1, 'idle disconnect');
    const data = events.named('data');
    assert.strictEqual(data.length, 1);
    assert.strictEqual(data[0].arg.ipcReqID, null);
    assert.strictEqual(data[0].arg.code, 'idle_timeout');
    assert.match(events.named('disconnect')[0].arg.message, /idle_timeout/);
    await waitFor(() => events.named('reconnect').length === 1, 'reconnect');
    assert.strictEqual(await client.send(ECHO, 'awake'), 'awake');
    await client.close();
  });
});

describe('client: server restart mid-traffic', function () {
  after(cleanupTempDirs);

  it('every request is answered or fails with a code; none hangs; traffic resumes after the restart', async function () {
    this.timeout(20000);
    const socketPath = tmpSocketPath('restart.sock');
    let h = await startServer({ socket_path: socketPath, exit_timeout: 150 });
    const client = new IPCClient(socketPath, null, { autoReconnect: 25, requestTimeout: 8000 });
    const events = recordEvents(client);
    await client.connect();
    let stop = false;
    const outcomes = { ok: 0, wrong: 0, codes: {}, notCoded: [] };
    let answeredAfterRestart = 0;
    let restarted = false;
    const worker = async (w) => {
      let n = 0;
      while (!stop) {
        const data = { w, n: n++ };
        const uri = n % 10 === 0 ? DELAY : ECHO;
        try {
          const result = await client.send(uri, uri === DELAY ? { delay: 300 } : data);
          if (uri === ECHO && (result.w !== w || result.n !== data.n)) outcomes.wrong++;
          else outcomes.ok++;
          if (restarted) answeredAfterRestart++;
        } catch (err) {
          if (err instanceof IPCClient.IPCError && typeof err.code === 'string') outcomes.codes[err.code] = (outcomes.codes[err.code] || 0) + 1;
          else outcomes.notCoded.push(err);
          await sleep(2);
        }
      }
    };
    const workers = [];
    for (let w = 0; w < 16; w++) workers.push(worker(w));
    await sleep(250);
    await h.stop();
    await sleep(100);
    h = await startServer({ socket_path: socketPath, exit_timeout: 150 });
    restarted = true;
    await waitFor(() => answeredAfterRestart > 50, 'traffic after the restart', 5000);
    stop = true;
    const settleBy = Date.now() + 3000;
    await Promise.race([Promise.all(workers), sleep(3000).then(() => { throw new Error('requests still hanging'); })]);
    assert.ok(Date.now() <= settleBy);
    assert.strictEqual(outcomes.wrong, 0);
    assert.deepStrictEqual(outcomes.notCoded, []);
    assert.ok(outcomes.ok > 100, `ok ${outcomes.ok}`);
    assert.ok(!outcomes.codes.request_timeout, 'nothing was left waiting for its timeout');
    // Only requests already written when the server went away may fail; sends made
    // while it was down wait for the reconnection (the offline queue, on by default).
    for (const code of Object.keys(outcomes.codes)) {
      assert.ok(['connection_closed', 'no_open_stream', 'shutting_down', 'connect_failed'].includes(code), 'unexpected code ' + code);
    }
    assert.ok(events.named('reconnect').length >= 1);
    assert.strictEqual(client.requestCount, 0);
    await client.close();
    await h.stop();
  });
});

describe('client: close()', function () {
  let h;
  before(async function () { h = await startServer(); });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('fails in-flight and connect-waiting requests with client_closed, emits disconnect, and can connect again', async function () {
    const client = new IPCClient(h.socketPath);
    const events = recordEvents(client);
    await client.connect();
    const inFlight = client.send(DELAY, { delay: 3000 });
    await sleep(20);
    const closing = client.close();
    await assert.rejects(inFlight, (err) => err.code === 'client_closed' && err.uri === DELAY);
    await closing;
    assert.strictEqual(events.named('disconnect').length, 1);
    assert.strictEqual(events.named('disconnect')[0].arg.code, 'client_closed');
    assert.strictEqual(client.requestCount, 0);
    await assert.rejects(client.send(ECHO, 1), { code: 'no_open_stream' });
    await client.connect();
    assert.strictEqual(await client.send(ECHO, 'again'), 'again');
    await client.close();
  });

  it('close() inside a callback drops the rest of that chunk quietly, and a new connect starts clean', async function () {
    const logger = new LoggerStub();
    const client = new IPCClient(h.socketPath, logger);
    await client.connect();
    const outcomes = await new Promise((resolve) => {
      const results = [];
      for (let i = 0; i < 50; i++) {
        client.send(ECHO, { i, pad: 'p'.repeat(100) }, (err, data) => {
          results.push(err ? err.code : 'ok');
          if (results.length === 1) client.close();
          if (results.length === 50) resolve(results);
        });
      }
    });
    assert.strictEqual(outcomes[0], 'ok');
    assert.ok(outcomes.slice(1).every((o) => o === 'client_closed'), outcomes.join(','));
    assert.strictEqual(logger.errorCount, 0, 'no unknown-response errors: ' + JSON.stringify(logger.errorCalls));
    await client.connect();
    assert.deepStrictEqual(await client.send(ECHO, { fresh: true }), { fresh: true });
    assert.strictEqual(client.getStats().unknownResponses, 0);
    await client.close();
  });

  it('close() during a connect fails that connect with client_closed', async function () {
    const client = new IPCClient(h.socketPath);
    const connecting = assert.rejects(client.connect(), { code: 'client_closed' });
    const waiting = assert.rejects(client.send(ECHO, 1), { code: 'client_closed' });
    await client.close();
    await connecting;
    await waiting;
    assert.strictEqual(client.requestCount, 0);
  });

  it('close() after a lost connection stops the reconnect loop', async function () {
    // A retryStrategy decides every delay (no immediate first attempt), so the loop is waiting when close() comes.
    const client = new IPCClient(h.socketPath, null, { retryStrategy: () => 40 });
    const events = recordEvents(client);
    await client.connect();
    h.ipc.closeConnections();
    await waitFor(() => events.named('disconnect').length === 1, 'disconnect');
    await client.close();
    await sleep(150);
    assert.strictEqual(events.named('connect').length, 1);
    assert.strictEqual(h.ipc.getConnections().length, 0);
  });

  it('notifies queued just before close() are still delivered', async function () {
    const got = [];
    h.ipc.addURIHandler('/close/note', 'note', (request, callback) => { got.push(request.data); callback(); });
    const client = new IPCClient(h.socketPath);
    await client.connect();
    client.notify('/close/note', 'last words');
    await client.close();
    await waitFor(() => got.length === 1, 'the notify');
    assert.deepStrictEqual(got, ['last words']);
  });
});

describe('client: subclasses', function () {
  let socketPath;
  let h;
  before(async function () {
    socketPath = tmpSocketPath('subclass.sock');
    h = await startServer({ socket_path: socketPath, exit_timeout: 100 });
  });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  class CallbackStyle extends IPCClient {
    constructor(...args) {
      super(...args);
      this.connectCalls = 0;
      this.ready = false;
    }

    connect(callback) {
      this.connectCalls++;
      super.connect((err) => {
        this.ready = !err;
        if (callback) callback(err);
      });
    }

    send(uri, data, callback) {
      super.send(uri, { wrapped: data }, (err, result) => callback(err, result && result.wrapped));
    }
  }

  class AsyncStyle extends IPCClient {
    constructor(...args) {
      super(...args);
      this.connectCalls = 0;
    }

    async connect() {
      this.connectCalls++;
      await super.connect();
      this.ready = true;
    }

    async send(uri, data) {
      const result = await super.send(uri, { wrapped: data });
      return result.wrapped;
    }
  }

  async function restartServer() {
    await h.stop();
    h = await startServer({ socket_path: socketPath, exit_timeout: 100 });
  }

  it('callback-style overrides of connect and send work, and reconnect goes through the override', async function () {
    const client = new CallbackStyle(socketPath, null, { autoReconnect: 25 });
    const reconnected = new Promise((resolve) => client.on('reconnect', resolve));
    await new Promise((resolve, reject) => client.connect((err) => (err ? reject(err) : resolve())));
    assert.strictEqual(client.ready, true);
    const echoed = await new Promise((resolve, reject) => client.send(ECHO, 'cb', (err, data) => (err ? reject(err) : resolve(data))));
    assert.strictEqual(echoed, 'cb');
    await restartServer();
    await reconnected;
    assert.ok(client.connectCalls >= 2, 'reconnect called the override');
    assert.strictEqual(client.ready, true);
    const again = await new Promise((resolve, reject) => client.send(ECHO, 'cb2', (err, data) => (err ? reject(err) : resolve(data))));
    assert.strictEqual(again, 'cb2');
    await client.close();
  });

  it('async-style overrides of connect and send work, and reconnect goes through the override', async function () {
    const client = new AsyncStyle(socketPath, null, { autoReconnect: 25 });
    const reconnected = new Promise((resolve) => client.on('reconnect', resolve));
    await client.connect();
    assert.strictEqual(client.ready, true);
    assert.strictEqual(await client.send(ECHO, 'as'), 'as');
    client.ready = false;
    await restartServer();
    await reconnected;
    await waitFor(() => client.ready === true, 'the override to finish');
    assert.ok(client.connectCalls >= 2);
    assert.strictEqual(await client.send(ECHO, 'as2'), 'as2');
    h.ipc.addURIHandler('/sub/fail', 'fail', () => { throw Object.assign(new Error('nope'), { code: 'sub_fail' }); });
    await assert.rejects(client.send('/sub/fail', 1), { code: 'sub_fail' });
    await client.close();
  });

  it('an async connect override that keeps failing is retried with backoff, without unhandled rejections', async function () {
    const unhandled = [];
    const onUnhandled = (reason) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const client = new AsyncStyle(socketPath, null, { autoReconnect: 20, maxReconnectDelay: 40 });
    await client.connect();
    const calls = client.connectCalls;
    await h.stop();
    await sleep(200);
    assert.ok(client.connectCalls - calls >= 3, 'retried through the override');
    await client.close();
    h = await startServer({ socket_path: socketPath, exit_timeout: 100 });
    await sleep(20);
    process.removeListener('unhandledRejection', onUnhandled);
    assert.deepStrictEqual(unhandled, []);
  });
});

describe('client: process exit', function () {
  let h;
  before(async function () { h = await startServer(); });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  function runChild(script) {
    const child = spawn(process.execPath, ['-e', script], {
      env: { ...process.env, IPC_CLIENT: path.join(__dirname, '..', '..', 'dist', 'client'), IPC_SOCKET: h.socketPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const started = Date.now();
    return new Promise((resolve) => {
      const killer = setTimeout(() => child.kill('SIGKILL'), 6000);
      child.on('exit', (code, signal) => {
        clearTimeout(killer);
        resolve({ code, signal, out, err, ms: Date.now() - started });
      });
    });
  }

  it('an idle connected client lets the process exit once close() is called', async function () {
    this.timeout(10000);
    const result = await runChild(`
      const IPCClient = require(process.env.IPC_CLIENT);
      const client = new IPCClient(process.env.IPC_SOCKET, null, { logStatsInterval: 100 });
      client.connect((err) => {
        if (err) throw err;
        setTimeout(() => { client.close(); console.log('closed at', Date.now()); }, 50);
      });
    `);
    assert.strictEqual(result.signal, null, 'the child had to be killed: ' + result.err);
    assert.strictEqual(result.code, 0, result.err);
    assert.match(result.out, /closed at (\d+)/);
    const closedAt = Number(/closed at (\d+)/.exec(result.out)[1]);
    assert.ok(Date.now() - closedAt < 2500, 'exited within a couple of seconds of close()');
  });

  it('a client with requests in flight, timers and a reconnect loop lets the process exit after close()', async function () {
    this.timeout(10000);
    const result = await runChild(`
      const IPCClient = require(process.env.IPC_CLIENT);
      const client = new IPCClient(process.env.IPC_SOCKET, null, { autoReconnect: 10, requestTimeout: 60000, logStatsInterval: 50 });
      client.connect().then(async () => {
        const echoed = await client.send('/ipcserver/test/echo', 'hi');
        const slow = client.send('/ipcserver/test/delay', { delay: 30000 }).catch((e) => e.code);
        client.notify('/ipcserver/test/echo', 'note');
        await new Promise((r) => setTimeout(r, 30));
        await client.close();
        console.log(echoed, await slow, 'closed at', Date.now());
      });
    `);
    assert.strictEqual(result.signal, null, 'the child had to be killed: ' + result.err);
    assert.strictEqual(result.code, 0, result.err);
    assert.match(result.out, /hi client_closed closed at (\d+)/);
    const closedAt = Number(/closed at (\d+)/.exec(result.out)[1]);
    assert.ok(Date.now() - closedAt < 2500);
  });
});
