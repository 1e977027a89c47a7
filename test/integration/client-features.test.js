'use strict';
// The Node client's features beyond request/response, against the real
// server: auth, notify, flush, tcp:// targets, stats and their log lines,
// maxMessageSize, unix:// targets; plus peers that break the protocol or
// answer auth oddly. The client's modules have unit tests in test/unit/client-*.
const assert = require('assert');
const net = require('net');
const { startServer, tmpSocketPath, cleanupTempDirs, freePort } = require('../helpers/harness');
const { LoggerStub } = require('../helpers/logger-stub');
const { onLines } = require('../helpers/raw');
const { sleep, waitFor } = require('../helpers/wait');
const IPCClient = require('pixl-ipc/client');

const ECHO = '/ipcserver/test/echo';
const DELAY = '/ipcserver/test/delay';

describe('client: auth', function () {
  let socketPath;
  let h;
  before(async function () {
    socketPath = tmpSocketPath('auth.sock');
    h = await startServer({ socket_path: socketPath, auth_tokens: ['t0ken'], exit_timeout: 100 });
  });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('with the right token (as a string or {token}) connects and is served', async function () {
    for (const auth of ['t0ken', { token: 't0ken' }]) {
      const client = new IPCClient(socketPath, null, { auth });
      await client.connect();
      assert.strictEqual(client.isConnected, true);
      assert.deepStrictEqual(await client.send(ECHO, { in: true }), { in: true });
      await client.close();
    }
  });

  it('a send made before the connect completes goes out after the credentials', async function () {
    const client = new IPCClient(socketPath, null, { auth: 't0ken' });
    const connecting = client.connect();
    const first = client.send(ECHO, 'queued behind auth');
    assert.strictEqual(client.connectionState, 'connecting');
    await connecting;
    assert.strictEqual(await first, 'queued behind auth');
    await client.close();
  });

  it('wrong credentials fail the connect with access, one logged error, and no reconnect loop', async function () {
    const logger = new LoggerStub();
    const client = new IPCClient(socketPath, logger, { auth: 'wrong', autoReconnect: 20 });
    const failures = [];
    client.on('connect_failed', (err) => failures.push(err));
    const connecting = client.connect();
    const waiting = client.send(ECHO, 1);
    await assert.rejects(connecting, (err) => {
      assert.strictEqual(err.code, 'access');
      // eslint-disable-next-line eqeqeq
      assert.ok(err == 'access');
      assert.match(err.message, /Authentication/);
      assert.ok(!err.message.includes('wrong'), 'the secret is not repeated in the message');
      return true;
    });
    await assert.rejects(waiting, { code: 'access' });
    assert.strictEqual(logger.errorCount, 1);
    assert.strictEqual(logger.errorCalls[0].code, 'access');
    assert.strictEqual(failures.length, 1);
    await sleep(80);
    assert.strictEqual(failures.length, 1);
    assert.strictEqual(client.connectionState, 'disconnected');
    await client.close();
  });

  it('without credentials every request is refused with access', async function () {
    const client = new IPCClient(socketPath);
    await client.connect();
    await assert.rejects(client.send(ECHO, 1), (err) => err.code === 'access' && err.uri === ECHO);
    await client.close();
  });

  it('re-authenticates on every reconnect', async function () {
    const client = new IPCClient(socketPath, null, { auth: 't0ken', autoReconnect: 20 });
    const reconnected = new Promise((resolve) => client.once('reconnect', resolve));
    await client.connect();
    assert.strictEqual(await client.send(ECHO, 'before'), 'before');
    await h.stop();
    h = await startServer({ socket_path: socketPath, auth_tokens: ['t0ken'], exit_timeout: 100 });
    await reconnected;
    assert.strictEqual(await client.send(ECHO, 'after'), 'after');
    const connections = h.ipc.getConnections();
    assert.strictEqual(connections.length, 1);
    assert.strictEqual(connections[0].authenticated, true);
    await client.close();
  });

  it('a server at max_connections refuses the connect with its own code, also seen as a data event', async function () {
    const full = await startServer({ max_connections: 1, auth_tokens: ['t0ken'] });
    const first = new IPCClient(full.socketPath, null, { auth: 't0ken' });
    await first.connect();
    const logger = new LoggerStub();
    const second = new IPCClient(full.socketPath, logger, { auth: 't0ken' });
    const data = [];
    second.on('data', (m) => data.push(m));
    await assert.rejects(second.connect(), (err) => err.code === 'too_many_connections' && /max 1/.test(err.message));
    assert.strictEqual(logger.errorCount, 1);
    assert.strictEqual(data.length, 1);
    assert.strictEqual(data[0].ipcReqID, null);
    assert.strictEqual(data[0].code, 'too_many_connections');
    assert.strictEqual(await first.send(ECHO, 'unharmed'), 'unharmed');
    await first.close();
    await second.close();
    await full.stop();
  });

  it('a server without auth accepts the credentials, so clients can send them unconditionally', async function () {
    const open = await startServer();
    const client = new IPCClient(open.socketPath, null, { auth: { user: 'web', password: 'pw' } });
    await client.connect();
    assert.strictEqual(await client.send(ECHO, 1), 1);
    await client.close();
    await open.stop();
  });
});

describe('client: notify and flush', function () {
  let h;
  const notes = [];
  before(async function () {
    h = await startServer();
    h.ipc.addURIHandler('/nf/note', 'note', (request, callback) => {
      notes.push({ data: request.data, noReply: request.noReply, ipcReqID: request.ipcReqID });
      callback({ should: 'not be sent' });
    });
    h.ipc.addURIHandler('/nf/throw', 'throw', () => { throw new Error('ignored'); });
  });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('notify runs the handler and nothing comes back', async function () {
    const client = new IPCClient(h.socketPath);
    const data = [];
    client.on('data', (m) => data.push(m));
    await client.connect();
    assert.strictEqual(client.notify('/nf/note', { n: 1 }), true);
    assert.strictEqual(client.notify('/nf/throw', {}), true);
    assert.strictEqual(client.notify('/nf/nobody-home', {}), true);
    assert.strictEqual(client.requestCount, 0, 'nothing is waited for');
    assert.strictEqual(await client.send(ECHO, 'marker'), 'marker');
    assert.deepStrictEqual(notes.pop(), { data: { n: 1 }, noReply: true, ipcReqID: null });
    await sleep(100);
    const stats = client.getStats();
    assert.strictEqual(stats.notifiesSent, 3);
    assert.strictEqual(stats.responses, 1, 'only the marker was answered');
    assert.strictEqual(stats.unknownResponses, 0);
    assert.deepStrictEqual(data, []);
    await client.close();
  });

  it('notify without a connection returns false and logs one error', async function () {
    const logger = new LoggerStub();
    const client = new IPCClient(h.socketPath, logger);
    assert.strictEqual(client.notify('/nf/note', 1), false);
    assert.strictEqual(logger.errorCount, 1);
    assert.strictEqual(logger.errorCalls[0].code, 'no_open_stream');
    assert.match(logger.errorCalls[0].msg, /\/nf\/note/);
  });

  it('flush resolves once everything sent before it is answered or failed, not what comes after', async function () {
    const client = new IPCClient(h.socketPath);
    await client.connect();
    const done = [];
    client.send(DELAY, { delay: 80 }, () => done.push('80'));
    client.send(DELAY, { delay: 20 }, () => done.push('20'));
    client.send(DELAY, { delay: 'never' }, (err) => done.push(err.code));
    client.notify('/nf/note', 'flushed note');
    const flushed = client.flush();
    const later = client.send(DELAY, { delay: 400 });
    const started = Date.now();
    await flushed;
    const waited = Date.now() - started;
    assert.deepStrictEqual(done.sort(), ['20', '80', 'bad_delay']);
    assert.ok(waited >= 70 && waited < 380, `flush waited ${waited} ms`);
    assert.strictEqual(client.requestCount, 1, 'the later send is still running');
    assert.deepStrictEqual(await later, { delay: 400 });
    await client.close();
  });

  it('flush waits for a request that ends in a timeout', async function () {
    const client = new IPCClient(h.socketPath, null, { requestTimeout: 100 });
    await client.connect();
    const outcome = client.send(DELAY, { delay: 1000 }).catch((err) => err.code);
    const started = Date.now();
    await client.flush();
    assert.ok(Date.now() - started >= 90);
    assert.strictEqual(client.requestCount, 0);
    assert.strictEqual(await outcome, 'request_timeout');
    await client.close();
  });

  it('flush with nothing pending resolves promptly, connected or not', async function () {
    const client = new IPCClient(h.socketPath);
    await client.flush();
    await client.connect();
    client.notify('/nf/note', 'x');
    await client.flush();
    assert.strictEqual(client.getStats().notifiesSent, 1);
    await client.close();
  });
});

describe('client: tcp:// targets', function () {
  let h;
  let port;
  before(async function () {
    port = await freePort();
    h = await startServer({ listen_port: port });
  });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('round-trips over TCP, many requests at once', async function () {
    assert.strictEqual(h.ipc.tcpPort, port);
    const client = new IPCClient(`tcp://127.0.0.1:${port}`, null, { userAgent: 'tcp-test' });
    await client.connect();
    assert.deepStrictEqual(await client.send(ECHO, { over: 'tcp' }), { over: 'tcp' });
    const many = await Promise.all(Array.from({ length: 500 }, (_, i) => client.send(ECHO, i)));
    assert.strictEqual(many[499], 499);
    const mine = h.ipc.getConnections().filter((c) => c.userAgent === 'tcp-test');
    assert.strictEqual(mine.length, 1);
    assert.strictEqual(mine[0].transport, 'tcp');
    await client.close();
  });

  it('a refused TCP port fails with connect_failed', async function () {
    const closedPort = await freePort();
    const client = new IPCClient(`tcp://127.0.0.1:${closedPort}`);
    await assert.rejects(client.connect(), (err) => err.code === 'connect_failed' && err.cause.code === 'ECONNREFUSED');
  });
});

describe('client: stats and logging', function () {
  let h;
  before(async function () { h = await startServer(); });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('getStats counts requests, responses, errors, timeouts, bytes and what is in flight', async function () {
    const client = new IPCClient(h.socketPath, null, { requestTimeout: 50 });
    await client.connect();
    await client.send(ECHO, 'abc');
    await assert.rejects(client.send(DELAY, { delay: 'soon' }), { code: 'bad_delay' });
    await assert.rejects(client.send(DELAY, { delay: 200 }), { code: 'request_timeout' });
    const pending = client.send(DELAY, { delay: 30 });
    const stats = client.getStats();
    assert.deepStrictEqual(Object.keys(stats).sort(), [
      'bytesIn', 'bytesOut', 'cancelled', 'connectFailures', 'connected', 'connects', 'disconnects', 'errors', 'inFlight',
      'lateResponses', 'notifiesSent', 'parts', 'pushes', 'queued', 'requestsSent', 'resent', 'responses', 'timeouts', 'unknownResponses',
    ]);
    assert.strictEqual(stats.requestsSent, 4);
    assert.strictEqual(stats.responses, 2);
    assert.strictEqual(stats.errors, 1);
    assert.strictEqual(stats.timeouts, 1);
    assert.strictEqual(stats.inFlight, 1);
    assert.strictEqual(stats.connected, true);
    assert.ok(stats.bytesOut > 100 && stats.bytesIn > 20);
    await pending;
    const bytesOut = client.getStats().bytesOut;
    await client.close();
    assert.ok(client.getStats().bytesOut >= bytesOut, 'totals survive the connection');
    assert.strictEqual(client.getStats().connected, false);
  });

  it('logStatsInterval writes debug(2, "PixlIPC Stats", stats) lines until close; logStats() writes one now', async function () {
    const logger = new LoggerStub();
    const client = new IPCClient(h.socketPath, logger, { logStatsInterval: 40 });
    await client.connect();
    await client.send(ECHO, 1);
    await sleep(150);
    const lines = logger.statsCalls();
    assert.ok(lines.length >= 2, `${lines.length} stats lines`);
    assert.strictEqual(lines[0].data.requestsSent, 1);
    await client.close();
    const count = logger.statsCalls().length;
    await sleep(100);
    assert.strictEqual(logger.statsCalls().length, count, 'no stats lines after close');
    client.logStats();
    assert.strictEqual(logger.statsCalls().length, count + 1);
    assert.strictEqual(logger.errorCount, 0);
  });

  it('logStatsInterval 0 (the default) writes no stats lines', async function () {
    const logger = new LoggerStub();
    const client = new IPCClient(h.socketPath, logger, { expirationFrequency: 10 });
    await client.connect();
    await sleep(60);
    assert.strictEqual(logger.statsCalls().length, 0);
    await client.close();
  });
});

describe('client: maxMessageSize', function () {
  let h;
  before(async function () { h = await startServer(); });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('a response past maxMessageSize closes the connection and fails in-flight requests with message_too_large', async function () {
    const logger = new LoggerStub();
    const client = new IPCClient(h.socketPath, logger, { maxMessageSize: 1000, autoReconnect: 20 });
    const disconnects = [];
    const errors = [];
    client.on('disconnect', (err) => disconnects.push(err));
    client.on('error', (err) => errors.push(err));
    await client.connect();
    assert.strictEqual(await client.send(ECHO, 'x'.repeat(800)), 'x'.repeat(800));
    // A small request with a large answer (a request that large would be refused before it is sent).
    h.ipc.addURIHandler('/big/answer', 'big', (request, callback) => callback('y'.repeat(5000)));
    const slow = client.send(DELAY, { delay: 300 });
    const big = client.send('/big/answer', {});
    await assert.rejects(big, { code: 'message_too_large' });
    await assert.rejects(slow, { code: 'message_too_large' });
    assert.strictEqual(disconnects.length, 1);
    assert.strictEqual(disconnects[0].code, 'message_too_large');
    assert.strictEqual(errors.length, 1);
    assert.strictEqual(client.requestCount, 0);
    await waitFor(() => client.isConnected, 'reconnect');
    assert.strictEqual(await client.send(ECHO, 'small'), 'small');
    await client.close();
  });

  it('defaults to 128 MiB', function () {
    assert.strictEqual(new IPCClient(tmpSocketPath()).options.maxMessageSize, 128 * 1024 * 1024);
  });
});

describe('client: a peer that breaks the protocol', function () {
  after(cleanupTempDirs);

  it('a line that is not JSON closes the connection: its requests fail with bad_response, and the client reconnects', async function () {
    const socketPath = tmpSocketPath('rogue.sock');
    let answered = 0;
    const server = net.createServer((socket) => {
      onLines(socket, (request) => {
        // The first answer is broken; every later one is fine.
        if (answered++ === 0) socket.write('{"ipcReqID":"rq999","data":1}\n\r\nthis is not json\n');
        else socket.write('{"ipcReqID":' + JSON.stringify(request.ipcReqID) + ',"data":"fine"}\r\n');
      });
    });
    await new Promise((resolve) => server.listen(socketPath, resolve));
    const logger = new LoggerStub();
    const client = new IPCClient(socketPath, logger);
    const errors = [];
    client.on('error', (err) => errors.push(err));
    await client.connect();
    await assert.rejects(client.send('/any', {}), (err) => err.code === 'bad_response' && /not JSON/.test(err.message));
    assert.deepStrictEqual(errors.map((e) => e.code), ['bad_response']);
    assert.strictEqual(client.getStats().unknownResponses, 1);
    assert.ok(logger.errorsWithCode('bad_response').length >= 2, 'the unknown id and the bad line are logged');
    assert.strictEqual(await client.send('/any', {}), 'fine');
    await client.close();
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('client: unix:// targets', function () {
  let h;
  before(async function () { h = await startServer(); });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('unix:///path reaches the same server as the bare path', async function () {
    const client = new IPCClient('unix://' + h.socketPath, null, { userAgent: 'unix-scheme' });
    await client.connect();
    assert.deepStrictEqual(await client.send(ECHO, { via: 'unix://' }), { via: 'unix://' });
    const mine = h.ipc.getConnections().filter((c) => c.userAgent === 'unix-scheme');
    assert.strictEqual(mine.length, 1);
    assert.strictEqual(mine[0].transport, 'unix');
    await client.close();
  });

  it('a unix:// path with no socket fails with connect_failed naming the path', async function () {
    const missing = tmpSocketPath('missing.sock');
    const client = new IPCClient('unix://' + missing);
    await assert.rejects(client.connect(), (err) => err.code === 'connect_failed' && err.message.includes(missing) && err.cause.code === 'ENOENT');
  });
});

describe('client: auth answers from a scripted server (not pixl-ipc)', function () {
  after(cleanupTempDirs);

  /** A server that answers the auth request with `answer(id)` and echoes anything else. */
  async function scriptedAuthServer(answer) {
    const socketPath = tmpSocketPath('scripted-auth.sock');
    const sockets = [];
    const received = [];
    const server = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
      onLines(socket, (request) => {
        received.push(request.uri);
        if (request.uri === '/ipcserver/auth') socket.write(JSON.stringify(answer(request.ipcReqID)) + '\n');
        else socket.write(JSON.stringify({ ipcReqID: request.ipcReqID, data: request.data }) + '\n');
      });
    });
    await new Promise((resolve) => server.listen(socketPath, resolve));
    return { socketPath, received, close: () => new Promise((resolve) => { sockets.forEach((s) => s.destroy()); server.close(resolve); }) };
  }

  it('anything but a success with authenticated: true is a refusal (access), and nothing else is sent', async function () {
    const answers = [
      (id) => ({ ipcReqID: id, data: {} }),
      (id) => ({ ipcReqID: id, data: { authenticated: 'yes' } }),
      (id) => ({ ipcReqID: id, data: null }),
      (id) => ({ ipcReqID: id }),
      (id) => ({ ipcReqID: id, data: { authenticated: false } }),
    ];
    for (const answer of answers) {
      const server = await scriptedAuthServer(answer);
      const client = new IPCClient(server.socketPath, null, { auth: 'token', autoReconnect: false });
      const connecting = client.connect();
      const waiting = client.send(ECHO, 'must not be sent');
      await assert.rejects(connecting, (err) => err.code === 'access', JSON.stringify(answer('auth1')));
      await assert.rejects(waiting, { code: 'access' });
      await client.close();
      await server.close();
      assert.deepStrictEqual(server.received, ['/ipcserver/auth']);
    }
  });

  it('a success with authenticated: true connects', async function () {
    const server = await scriptedAuthServer((id) => ({ ipcReqID: id, data: { authenticated: true } }));
    const client = new IPCClient(server.socketPath, null, { auth: 'token' });
    await client.connect();
    assert.strictEqual(await client.send(ECHO, 'ok'), 'ok');
    await client.close();
    await server.close();
  });
});
