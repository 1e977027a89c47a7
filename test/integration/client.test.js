'use strict';
// The Node client against the real server: module shape, the original
// client's test flows, promise and callback styles, options that shape
// responses, error codes, concurrency and the single deadline timer.
const assert = require('assert');
const net = require('net');
const path = require('path');
const { startServer, tmpSocketPath, cleanupTempDirs } = require('../helpers/harness');
const { LoggerStub } = require('../helpers/logger-stub');
const { typeCheck } = require('../helpers/typecheck');
const IPCClient = require('pixl-ipc/client');

const ECHO = '/ipcserver/test/echo';
const DELAY = '/ipcserver/test/delay';
const { sleep, waitFor } = require('../helpers/wait');
const { scriptedServer } = require('../helpers/scripted-server');

describe('client: module shape and errors', function () {
  it('require("pixl-ipc/client") and require("../client") give the class, with codes and error class attached', function () {
    assert.strictEqual(require('pixl-ipc/client'), IPCClient);
    assert.strictEqual(typeof IPCClient, 'function');
    assert.strictEqual(IPCClient.ErrorCode.requestTimeout, 'request_timeout');
    assert.strictEqual(IPCClient.ErrorCode.noOpenStream, 'no_open_stream');
    assert.strictEqual(IPCClient.ErrorCode.connectionClosed, 'connection_closed');
    assert.strictEqual(IPCClient.ErrorCode.clientClosed, 'client_closed');
    assert.strictEqual(IPCClient.ErrorCode.access, 'access');
    assert.strictEqual(IPCClient.ErrorCode.messageTooLarge, 'message_too_large');
    assert.ok(new IPCClient.IPCError('x', 'y') instanceof Error);
    assert.ok(new IPCClient(tmpSocketPath()) instanceof require('events').EventEmitter);
  });

  it('is the default export of an ES module import', async function () {
    const mod = await import('pixl-ipc/client');
    assert.strictEqual(mod.default, IPCClient);
  });

  it('type-checks `import IPCClient from "pixl-ipc/client"` with esModuleInterop, including the merged types', function () {
    this.timeout(30000);
    const dir = path.dirname(tmpSocketPath());
    const file = path.join(dir, 'usage.ts');
    require('fs').writeFileSync(file, [
      "import IPCClient from 'pixl-ipc/client';",
      "const options: IPCClient.Options = { requestTimeout: 5, codeToErr: true, auth: 'secret', offlineQueue: 3 };",
      "const client = new IPCClient('/tmp/x.sock', null, options);",
      "async function main(): Promise<number> {",
      "  await client.connect();",
      "  const data: unknown = await client.send('/a', { b: 1 });",
      "  client.send('/a', {}, (err: IPCClient.IPCError | null, result?: unknown) => { void err; void result; });",
      "  client.on('data', (msg: IPCClient.PushMessage) => { void msg.uri; });",
      "  const stats: IPCClient.Stats = client.getStats();",
      "  const code: string = IPCClient.ErrorCode.requestTimeout;",
      "  const err = new IPCClient.IPCError(code, 'm');",
      "  void data; void err;",
      "  return stats.inFlight + client.requestCount;",
      "}",
      "void main;",
      "// @ts-expect-error: send needs a uri",
      "client.send();",
    ].join('\n'));
    const root = path.join(__dirname, '..', '..');
    const problems = typeCheck(file, {
      baseUrl: root,
      paths: { 'pixl-ipc/client': [path.join(root, 'dist', 'client', 'index.d.ts')] },
      skipLibCheck: true,
    });
    assert.deepStrictEqual(problems, []);
  });

  it('types answers by send<T>() and stream<T, R>(), unknown by default: wrong uses fail to compile', function () {
    this.timeout(30000);
    const dir = path.dirname(tmpSocketPath());
    const file = path.join(dir, 'generics.ts');
    require('fs').writeFileSync(file, [
      "import IPCClient from 'pixl-ipc/client';",
      "interface User { name: string; id: number }",
      "const client = new IPCClient('/tmp/x.sock');",
      "async function main(): Promise<void> {",
      "  const user = await client.send<User>('/users/get', { id: 1 });",
      "  const name: string = user.name;",
      "  // @ts-expect-error: a User's id is a number",
      "  const id: string = user.id;",
      "  const plain = await client.send('/a');",
      "  // @ts-expect-error: without T the answer is unknown, not any",
      "  plain.anything;",
      "  client.send<User>('/users/get', {}, (err, found) => { if (!err && found) { const n: number = found.id; void n; } });",
      "  const rows = client.stream<{ row: number }, { total: number }>('/rows');",
      "  for await (const part of rows) { const r: number = part.row; void r; }",
      "  const total: number | undefined = rows.result?.total;",
      "  for await (const part of client.stream('/rows')) {",
      "    // @ts-expect-error: parts are unknown by default",
      "    part.row;",
      "  }",
      "  client.on<User>('data', (msg) => { const n: string | undefined = msg.data?.name; void n; });",
      "  const hint: string | null = IPCClient.connectHint('/tmp/x.sock', new Error('x'));",
      "  void name; void id; void total; void hint;",
      "}",
      "void main;",
    ].join('\n'));
    const root = path.join(__dirname, '..', '..');
    const problems = typeCheck(file, {
      baseUrl: root,
      paths: { 'pixl-ipc/client': [path.join(root, 'dist', 'client', 'index.d.ts')] },
      skipLibCheck: true,
    });
    assert.deepStrictEqual(problems, []);
  });

  it('IPCError is a real Error that compares loosely equal to its code', function () {
    const err = new IPCClient.IPCError('request_timeout', 'Request to /a timed out');
    assert.ok(err instanceof Error);
    assert.ok(err instanceof IPCClient.IPCError);
    assert.strictEqual(err.name, 'IPCError');
    assert.strictEqual(err.code, 'request_timeout');
    assert.strictEqual(err.message, 'Request to /a timed out');
    // eslint-disable-next-line eqeqeq
    assert.ok(err == 'request_timeout');
    // eslint-disable-next-line eqeqeq
    assert.ok(!(err == 'no_open_stream'));
    assert.strictEqual('' + err, 'request_timeout');
    assert.strictEqual(`${err}`, 'request_timeout');
    assert.ok(Number.isNaN(+err));
    assert.match(err.stack, /timed out/);
  });

  it('rejects targets it cannot use', function () {
    assert.throws(() => new IPCClient(''), TypeError);
    assert.throws(() => new IPCClient('http://localhost:80'), /Unsupported target scheme/);
    assert.throws(() => new IPCClient('tcp://localhost'), /host:port/);
    assert.throws(() => new IPCClient('tcp://localhost:99999'), /out of range/);
  });
});

describe('client: original test flows', function () {
  let h;
  before(async function () { h = await startServer(); });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('bad socket: connect fails with one logged error, then a send logs a second', function (done) {
    const logger = new LoggerStub();
    const client = new IPCClient(path.join(path.dirname(h.socketPath), 'no-such.sock'), logger);
    client.connect((err) => {
      assert.ok(err, 'connect must fail');
      assert.strictEqual(err.code, 'connect_failed');
      assert.match(err.message, /no-such\.sock/);
      assert.strictEqual(err.cause.code, 'ENOENT');
      assert.strictEqual(logger.errorCount, 1);
      client.send(ECHO, { a: 1 }, (err2) => {
        assert.ok(err2);
        // eslint-disable-next-line eqeqeq
        assert.ok(err2 == 'no_open_stream');
        assert.strictEqual(logger.errorCount, 2);
        client.close(done);
      });
    });
  });

  it('no connection: a send made before connect() fails with no_open_stream and logs one error', async function () {
    const logger = new LoggerStub();
    const client = new IPCClient(h.socketPath, logger);
    await assert.rejects(client.send(ECHO, {}), (err) => err.code === 'no_open_stream' && err instanceof Error);
    assert.strictEqual(logger.errorCount, 1);
    assert.strictEqual(logger.errorCalls[0].code, 'no_open_stream');
    assert.strictEqual(client.requestCount, 0);
  });

  it('echo, delay, 1 MiB echo, unknown uri, timeout, userAgent and pid, in callback style', function (done) {
    const logger = new LoggerStub();
    let seen = null;
    h.ipc.addURIHandler('/flows/who', 'who', (request, callback) => {
      seen = { pid: request.pid, userAgent: request.userAgent, ipcReqID: request.ipcReqID };
      callback({ ok: 1 });
    });
    // A long timeout while a loaded machine echoes 1 MiB; a short one (options are read when used) for the timeout step.
    const client = new IPCClient(h.socketPath, logger, { requestTimeout: 10000, userAgent: 'FlowsTest/2.0' });
    const big = { blob: 'x'.repeat(1024 * 1024) };
    client.connect((err) => {
      assert.strictEqual(err, null);
      client.send(ECHO, { ping: 'me' }, (err1, data1) => {
        assert.strictEqual(err1, null);
        assert.deepStrictEqual(data1, { ping: 'me' });
        client.send(DELAY, { delay: 20 }, (err2, data2) => {
          assert.strictEqual(err2, null);
          assert.deepStrictEqual(data2, { delay: 20 });
          client.send(ECHO, big, (err3, data3) => {
            assert.strictEqual(err3, null);
            assert.strictEqual(data3.blob.length, big.blob.length);
            assert.ok(data3.blob === big.blob);
            client.send('/no/such/uri', {}, (err4, data4) => {
              assert.strictEqual(err4, null);
              assert.strictEqual(data4.code, 'no_handler_found');
              client.options.requestTimeout = 150;
              client.send(DELAY, { delay: 400 }, (err5, data5) => {
                // eslint-disable-next-line eqeqeq
                assert.ok(err5 == 'request_timeout');
                assert.strictEqual(data5, undefined);
                assert.strictEqual(logger.errorCount, 1);
                assert.match(logger.errorCalls[0].msg, /\/ipcserver\/test\/delay/);
                client.send('/flows/who', {}, (err6) => {
                  assert.strictEqual(err6, null);
                  assert.strictEqual(seen.pid, process.pid);
                  assert.strictEqual(seen.userAgent, 'FlowsTest/2.0');
                  assert.match(seen.ipcReqID, /^rq\d+$/);
                  client.close(done);
                });
              });
            });
          });
        });
      });
    });
  });

  it('uses "Node/IPCClient" + cwd as the default userAgent, and ids rq0, rq1, ...', async function () {
    const ids = [];
    let agent = null;
    h.ipc.addURIHandler('/flows/ids', 'ids', (request, callback) => { ids.push(request.ipcReqID); agent = request.userAgent; callback(null); });
    const client = new IPCClient(h.socketPath);
    await client.connect();
    for (let i = 0; i < 3; i++) await client.send('/flows/ids', i);
    assert.deepStrictEqual(ids, ['rq0', 'rq1', 'rq2']);
    assert.strictEqual(agent, 'Node/IPCClient' + process.cwd());
    await client.close();
  });
});

describe('client: promise and callback styles', function () {
  let h;
  before(async function () { h = await startServer(); });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('connect/send/flush/close return promises without a callback', async function () {
    const client = new IPCClient(h.socketPath);
    const connecting = client.connect();
    assert.ok(connecting instanceof Promise);
    assert.strictEqual(await connecting, undefined);
    assert.strictEqual(client.isConnected, true);
    assert.strictEqual(client.connectionState, 'connected');
    const sending = client.send(ECHO, [1, 'two', null]);
    assert.ok(sending instanceof Promise);
    assert.deepStrictEqual(await sending, [1, 'two', null]);
    assert.strictEqual(await client.send(ECHO), undefined, 'no data: the response has no data');
    assert.strictEqual(await client.connect(), undefined, 'connect while connected succeeds at once');
    const flushing = client.flush();
    assert.ok(flushing instanceof Promise);
    await flushing;
    const closing = client.close();
    assert.ok(closing instanceof Promise);
    await closing;
    assert.strictEqual(client.isConnected, false);
  });

  it('callback styles return nothing, call back asynchronously, and accept send(uri, callback)', function (done) {
    const client = new IPCClient(h.socketPath);
    let connected = false;
    assert.strictEqual(client.connect((err) => {
      assert.strictEqual(err, null);
      connected = true;
      let answered = false;
      assert.strictEqual(client.send(ECHO, (err2, data) => {
        assert.strictEqual(err2, null);
        assert.strictEqual(data, undefined);
        answered = true;
        client.flush((err3) => {
          assert.strictEqual(err3, null);
          assert.strictEqual(client.close(done), undefined);
        });
      }), undefined);
      assert.strictEqual(answered, false);
    }), undefined);
    assert.strictEqual(connected, false);
  });

  it('two concurrent connect() calls share one attempt', async function () {
    let opened = 0;
    const onConnect = () => opened++;
    h.ipc.on('connect', onConnect);
    const client = new IPCClient(h.socketPath);
    await Promise.all([client.connect(), client.connect(), new Promise((resolve) => client.connect(resolve))]);
    h.ipc.removeListener('connect', onConnect);
    assert.strictEqual(opened, 1);
    await client.close();
  });

  it('a callback that throws does not disturb the client; the error surfaces as uncaught', async function () {
    const client = new IPCClient(h.socketPath);
    await client.connect();
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    const caught = [];
    process.on('uncaughtException', (err) => caught.push(err));
    try {
      await new Promise((resolve) => {
        client.send(ECHO, 1, () => { throw new Error('user bug'); });
        client.send(ECHO, 2, (err, data) => { assert.strictEqual(data, 2); resolve(); });
      });
      await sleep(10);
    } finally {
      process.removeAllListeners('uncaughtException');
      for (const l of listeners) process.on('uncaughtException', l);
    }
    assert.strictEqual(caught.length, 1);
    assert.strictEqual(caught[0].message, 'user bug');
    assert.strictEqual(await client.send(ECHO, 3), 3);
    await client.close();
  });

  it('data that cannot be encoded fails that request with bad_request', async function () {
    const client = new IPCClient(h.socketPath);
    await client.connect();
    const circular = {};
    circular.self = circular;
    await assert.rejects(client.send(ECHO, circular), (err) => err.code === 'bad_request' && /JSON|circular/i.test(err.message));
    await assert.rejects(client.send(42, {}), (err) => err.code === 'bad_request');
    assert.strictEqual(await client.send(ECHO, 'fine'), 'fine');
    assert.strictEqual(client.requestCount, 0);
    await client.close();
  });
});

describe('client: response options and error codes', function () {
  let h;
  before(async function () {
    h = await startServer();
    h.ipc.addURIHandler('/codes/fail', 'fail', () => {
      const err = new Error('database is down');
      err.code = 'db_down';
      throw err;
    });
    h.ipc.addURIHandler('/codes/datacode', 'datacode', (request, callback) => callback({ code: 'soft_fail', message: 'soft failure', extra: 1 }));
  });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('a top-level code is always an error carrying the server code and message', async function () {
    const client = new IPCClient(h.socketPath);
    await client.connect();
    await assert.rejects(client.send('/codes/fail', {}), (err) => {
      assert.ok(err instanceof IPCClient.IPCError);
      assert.strictEqual(err.code, 'db_down');
      assert.match(err.message, /database is down/);
      assert.strictEqual(err.uri, '/codes/fail');
      // eslint-disable-next-line eqeqeq
      return err == 'db_down';
    });
    await assert.rejects(client.send(DELAY, { delay: -1 }), { code: 'bad_delay' });
    // codeToErr off (default): data.code is plain data, as in the original.
    assert.deepStrictEqual(await client.send('/codes/datacode'), { code: 'soft_fail', message: 'soft failure', extra: 1 });
    assert.strictEqual(client.getStats().errors, 2);
    await client.close();
  });

  it('codeToErr turns data.code into an error with that code, message and data', async function () {
    const client = new IPCClient(h.socketPath, null, { codeToErr: true });
    await client.connect();
    await assert.rejects(client.send('/codes/datacode'), (err) => err.code === 'soft_fail' && err.message === 'soft failure' && err.data.extra === 1);
    await assert.rejects(client.send('/no/handler'), (err) => err == 'no_handler_found'); // eslint-disable-line eqeqeq
    await assert.rejects(client.send('/codes/fail'), { code: 'db_down' });
    assert.deepStrictEqual(await client.send(ECHO, { fine: true }), { fine: true });
    await client.close();
  });

  it('messageTransform decides every outcome and overrides codeToErr', function (done) {
    const seen = [];
    const client = new IPCClient(h.socketPath, null, {
      codeToErr: true,
      messageTransform: (msg) => {
        seen.push(msg);
        if (msg.data && msg.data.code === 'soft_fail') return [null, 'accepted anyway'];
        if (msg.data && msg.data.reject) return ['custom-err', null];
        if (msg.code) return ['server:' + msg.code, null];
        return [null, { wrapped: msg.data }];
      },
    });
    client.connect(() => {
      client.send('/codes/datacode', {}, (err, data) => {
        assert.strictEqual(err, null);
        assert.strictEqual(data, 'accepted anyway');
        client.send(ECHO, { reject: true }, (err2) => {
          assert.strictEqual(err2, 'custom-err');
          client.send('/codes/fail', {}, (err3) => {
            assert.strictEqual(err3, 'server:db_down');
            client.send(ECHO, 5, (err4, data4) => {
              assert.strictEqual(err4, null);
              assert.deepStrictEqual(data4, { wrapped: 5 });
              assert.strictEqual(seen.length, 4);
              assert.match(seen[0].ipcReqID, /^rq/);
              client.close(done);
            });
          });
        });
      });
    });
  });

  it('a messageTransform that throws fails only that request', async function () {
    const client = new IPCClient(h.socketPath, null, { messageTransform: (msg) => { if (msg.data === 'boom') throw new Error('transform broke'); return [null, msg.data]; } });
    await client.connect();
    await assert.rejects(client.send(ECHO, 'boom'), /transform broke/);
    assert.strictEqual(await client.send(ECHO, 'ok'), 'ok');
    await client.close();
  });
});

describe('client: timeouts and late responses', function () {
  let h;
  // The client's own timer and its memory of timed-out ids, against a scripted
  // server (not pixl-ipc) that answers /late after data.delay ms and has no
  // deadlines of its own; the real server's deadlines are in client-live-cancel-stream.test.js.
  let late;
  before(async function () {
    h = await startServer();
    late = await scriptedServer(tmpSocketPath('late.sock'), (request, connection) => {
      if (request.uri === '/late') {
        setTimeout(() => connection.send({ ipcReqID: request.ipcReqID, data: request.data }), request.data.delay);
        return undefined;
      }
      return request.data;
    });
  });
  after(async function () { await late.close(); await h.stop(); cleanupTempDirs(); });

  it('times out, logs one error naming the uri, drops the late response quietly and returns requestCount to 0', async function () {
    const logger = new LoggerStub();
    const client = new IPCClient(late.socketPath, logger, { requestTimeout: 80 });
    await client.connect();
    const started = Date.now();
    const outcomes = await Promise.allSettled([
      client.send('/late', { delay: 250 }),
      client.send('/late', { delay: 250 }),
      client.send('/late', { delay: 10 }),
    ]);
    assert.ok(Date.now() - started < 230, 'the timeouts fire before the responses');
    assert.strictEqual(outcomes[0].status, 'rejected');
    assert.strictEqual(outcomes[0].reason.code, 'request_timeout');
    // eslint-disable-next-line eqeqeq
    assert.ok(outcomes[1].reason == 'request_timeout');
    assert.deepStrictEqual(outcomes[2].value, { delay: 10 });
    assert.strictEqual(client.requestCount, 0);
    assert.strictEqual(logger.errorCount, 2);
    for (const call of logger.errorCalls) {
      assert.strictEqual(call.code, 'request_timeout');
      assert.match(call.msg, /\/late/);
    }
    await waitFor(() => client.getStats().lateResponses === 2, 'the late responses');
    assert.strictEqual(logger.errorCount, 2, 'late responses are not logged');
    const stats = client.getStats();
    assert.strictEqual(stats.timeouts, 2);
    assert.strictEqual(stats.lateResponses, 2);
    assert.strictEqual(stats.unknownResponses, 0);
    assert.strictEqual(stats.errors, 0, 'a timeout is counted once, as a timeout');
    assert.strictEqual(client.requestCount, 0);
    assert.strictEqual(await client.send('/echo', 'still fine'), 'still fine');
    await client.close();
  });

  it('expireRequest: a response later than the memory window is logged as unknown', async function () {
    const logger = new LoggerStub();
    const client = new IPCClient(late.socketPath, logger, { requestTimeout: 40, expireRequest: 20 });
    await client.connect();
    await assert.rejects(client.send('/late', { delay: 200 }), { code: 'request_timeout' });
    // Another timer firing after the window makes the client forget the id.
    await assert.rejects(client.send('/late', { delay: 300 }), { code: 'request_timeout' });
    await waitFor(() => client.getStats().unknownResponses === 2, 'both late responses', 5000);
    const stats = client.getStats();
    assert.strictEqual(stats.unknownResponses, 2);
    assert.strictEqual(stats.lateResponses, 0);
    assert.strictEqual(logger.errorsWithCode('bad_response').length, 2);
    await client.close();
  });

  it('requestTimeout 0 disables timeouts', async function () {
    const client = new IPCClient(h.socketPath, null, { requestTimeout: 0 });
    await client.connect();
    // An infinite deadline handed to setTimeout would fire at once; this must wait for the answer.
    assert.deepStrictEqual(await client.send(DELAY, { delay: 300 }), { delay: 300 });
    await client.close();
  });

  it('each request keeps its own deadline when many share the one timer', async function () {
    const client = new IPCClient(h.socketPath, null, { requestTimeout: 120 });
    await client.connect();
    const timed = () => {
      const sentAt = Date.now();
      return client.send(DELAY, { delay: 1000 }).catch((e) => ({ waited: Date.now() - sentAt, code: e.code }));
    };
    const first = timed();
    await sleep(60);
    const second = timed();
    const a = await first;
    const b = await second;
    assert.strictEqual(a.code, 'request_timeout');
    assert.strictEqual(b.code, 'request_timeout');
    // Measured from each request's own send, so a late timer on a loaded machine cannot break it;
    // had the second inherited the first's deadline, it would have waited about 60 ms.
    assert.ok(a.waited >= 115, `first waited ${a.waited} ms`);
    assert.ok(b.waited >= 115, `second waited ${b.waited} ms`);
    await client.close();
  });
});

describe('client: concurrency, batching and timers', function () {
  let h;
  before(async function () { h = await startServer(); });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('10,000 concurrent sends on one connection are all answered correctly', async function () {
    this.timeout(30000);
    // Answer in a scrambled order to prove matching is by id, not by position.
    h.ipc.addURIHandler('/conc/scramble', 'scramble', (request, callback) => {
      const n = request.data.n;
      if (n % 3 === 0) setImmediate(() => callback({ n, sq: n * n }));
      else if (n % 3 === 1) process.nextTick(() => callback({ n, sq: n * n }));
      else callback({ n, sq: n * n });
    });
    const client = new IPCClient(h.socketPath);
    await client.connect();
    const sends = [];
    for (let n = 0; n < 10000; n++) sends.push(client.send('/conc/scramble', { n }));
    assert.strictEqual(client.requestCount, 10000);
    const results = await Promise.all(sends);
    results.forEach((r, n) => {
      assert.strictEqual(r.n, n);
      assert.strictEqual(r.sq, n * n);
    });
    assert.strictEqual(client.requestCount, 0);
    const stats = client.getStats();
    assert.strictEqual(stats.requestsSent, 10000);
    assert.strictEqual(stats.responses, 10000);
    assert.strictEqual(stats.inFlight, 0);
    assert.ok(stats.bytesOut > 10000 * 40 && stats.bytesIn > 10000 * 20);
    await client.close();
  });

  it('thousands in flight use one timer, not one per request', async function () {
    const parked = [];
    let release = false;
    // A scripted server (not pixl-ipc) parks the requests: the real one arms a deadline timer per request in this same process.
    const parking = await scriptedServer(tmpSocketPath('park.sock'), (request, connection) => {
      if (release) return request.data;
      parked.push(() => connection.send({ ipcReqID: request.ipcReqID, data: request.data }));
      return undefined;
    });
    const client = new IPCClient(parking.socketPath);
    await client.connect();
    const countTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = countTimers();
    const sends = [];
    for (let i = 0; i < 3000; i++) sends.push(client.send('/park', i));
    const outcomes = Promise.allSettled(sends);
    try {
      await waitFor(() => parked.length > 0, 'the server to hold some of them');
      const during = countTimers();
      // One per request would be 3000; a few more may belong to the server or the harness (same process).
      assert.ok(during - before <= 5, `timers went from ${before} to ${during}`);
    } finally {
      release = true;
      parked.splice(0).forEach((answer) => answer());
    }
    const results = await outcomes;
    assert.strictEqual(results[2999].value, 2999);
    assert.ok(results.every((r) => r.status === 'fulfilled'));
    await client.close();
    await parking.close();
  });

  it('lines queued in one tick go out in one socket write', async function () {
    const client = new IPCClient(h.socketPath);
    await client.connect();
    const original = net.Socket.prototype.write;
    const requestWrites = [];
    net.Socket.prototype.write = function (chunk, ...rest) {
      if (typeof chunk === 'string' && chunk.includes('"uri":"/ipcserver/test/echo"')) requestWrites.push(chunk);
      return original.call(this, chunk, ...rest);
    };
    let results;
    try {
      const sends = [];
      for (let i = 0; i < 100; i++) sends.push(client.send(ECHO, i));
      client.notify(ECHO, 'n');
      results = await Promise.all(sends);
    } finally {
      net.Socket.prototype.write = original;
    }
    assert.strictEqual(results[99], 99);
    assert.strictEqual(requestWrites.length, 1);
    const lines = requestWrites[0].split('\n').filter(Boolean);
    assert.strictEqual(lines.length, 101);
    const first = JSON.parse(lines[0]);
    assert.strictEqual(Object.keys(first)[0], 'ipcReqID', 'ipcReqID comes first on the wire');
    assert.strictEqual(first.pid, process.pid);
    await client.close();
  });

  it('sequential round trips stay fast (no waiting on timers between requests)', async function () {
    const client = new IPCClient(h.socketPath);
    await client.connect();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 500; i++) await client.send(ECHO, { i });
    const perRequestUs = Number(process.hrtime.bigint() - t0) / 1000 / 500;
    assert.ok(perRequestUs < 1000, `sequential round trip took ${perRequestUs.toFixed(1)} µs`);
    await client.close();
  });
});
