'use strict';
// The PHP client (php-client/PixlIPCClient.class.php), run by the real `php`
// binary against real servers. Each test/php/*_test.php script prints one JSON
// line per PHP test (see test/php/TestRunner.php); this file starts the
// servers, registers the handlers the scripts call, answers their signals and
// asserts that every PHP test passed.
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const tls = require('tls');
const { execFileSync } = require('child_process');
const { startServer, makeTempDir, cleanupTempDirs, freePort } = require('../helpers/harness');
const { runPhp, assertPassed } = require('../helpers/php-runner');

const PHP_DIR = path.join(__dirname, '..', 'php');
const ROOT_DIR = path.join(__dirname, '..', '..');
const CLIENT_FILE = path.join(ROOT_DIR, 'php-client', 'PixlIPCClient.class.php');
const AUTH_TOKEN = 'php-s3cret-token';
const UNICODE_TEXT = 'Grüße, 世界! Здравствуй 🌍👩‍💻 مرحبا é e\u0301 ∑∞ 𝄞 \u2028 "q" \\ /';
const UNICODE_UNIT = 'é€😀中ש\u0301a';

/** A self-signed certificate for localhost, made with openssl in a temp dir. */
function makeCertificate() {
  const dir = makeTempDir('pixl-ipc-php-tls-');
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], { stdio: 'ignore' });
  return { key, cert };
}

/**
 * A TLS peer for what the real server does not do on demand: `/tls/stop_reading`
 * is answered, then the connection reads nothing more; `/tls/late` is answered
 * after 400 ms; cancels are ignored; anything else is echoed.
 */
function startTlsPeer(cert) {
  const sockets = new Set();
  const server = tls.createServer({ key: fs.readFileSync(cert.key), cert: fs.readFileSync(cert.cert) }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let nl;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const msg = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        const reply = (data) => { if (!socket.destroyed) socket.write(JSON.stringify({ ipcReqID: msg.ipcReqID, data }) + '\n'); };
        if (msg.noReply) continue;
        if (msg.uri === '/tls/stop_reading') {
          reply({ stopped: true });
          socket.pause();
        } else if (msg.uri === '/tls/late') setTimeout(reply, 400, { late: true });
        else reply(msg.data);
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    port: server.address().port,
    close: () => new Promise((done) => { for (const socket of sockets) socket.destroy(); server.close(done); }),
  })));
}

/** About `bytes` bytes of multi-byte UTF-8 text (the same recipe as the PHP side). */
function unicodeBlock(bytes) {
  const unitBytes = Buffer.byteLength(UNICODE_UNIT);
  return UNICODE_UNIT.repeat(Math.ceil(bytes / unitBytes));
}

const sha256 = (text) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

/** The handlers the PHP scripts call; `serverStart` tells restarted servers apart. */
function registerTestHandlers(ipc) {
  const serverStart = `${Date.now()}-${Math.random()}`;
  const notified = [];
  ipc.addURIHandler('/test/whoami', 'whoami', (request, callback) => callback({
    userAgent: request.userAgent,
    pid: request.pid,
    ipcReqID: request.ipcReqID,
    connectionId: request.connection.id,
    transport: request.connection.transport,
    serverStart,
  }));
  ipc.addURIHandler('/test/nothing', 'nothing', (request, callback) => callback());
  ipc.addURIHandler('/test/fail_plain', 'failPlain', () => { throw new Error('plain failure'); });
  ipc.addURIHandler('/test/fail_code', 'failCode', () => {
    throw Object.assign(new Error('custom failure'), { code: 'my_code' });
  });
  ipc.addURIHandler('/test/connections', 'connections', (request, callback) => callback({ count: ipc.getConnections().length }));
  ipc.addURIHandler('/test/close_after', 'closeAfter', (request, callback) => {
    callback({ closing: true, connectionId: request.connection.id });
    setTimeout(() => ipc.closeConnections(), 10);
  });
  ipc.addURIHandler('/test/close_silently', 'closeSilently', () => { ipc.closeConnections(); });
  ipc.addURIHandler('/test/digest', 'digest', (request, callback) => callback({
    sha256: sha256(request.data.text),
    bytes: Buffer.byteLength(request.data.text),
  }));
  ipc.addURIHandler('/test/generate', 'generate', (request, callback) => {
    const text = unicodeBlock(request.data.bytes);
    callback({ text, sha256: sha256(text) });
  });
  ipc.addURIHandler('/test/unicode', 'unicode', (request, callback) => callback({
    same: request.data.text === UNICODE_TEXT,
    text: request.data.text,
  }));
  ipc.addURIHandler('/test/push_before', 'pushBefore', (request, callback) => {
    const tag = request.data.tag;
    request.connection.push('/events/direct', { n: 1, tag });
    ipc.broadcast('/events/all', { n: 2, tag }, (connection) => connection === request.connection);
    callback({ pushed: 2 });
  });
  ipc.addURIHandler('/test/push_after', 'pushAfter', (request, callback) => {
    callback({ later: true });
    setTimeout(() => request.connection.push('/events/later', { n: 3 }), request.data.delay);
  });
  ipc.addURIHandler('/test/notify', 'notify', (request, callback) => {
    notified.push({ data: request.data, ipcReqID: request.ipcReqID, noReply: request.noReply === true, userAgent: request.userAgent });
    callback({ this: 'must never be sent' });
  });
  ipc.addURIHandler('/test/notified', 'notified', (request, callback) => callback(notified.splice(0)));
  // Streams and deadlines against the real server (issue 18 wire design).
  const streamState = { produced: 0, aborted: null, finished: false };
  ipc.addURIHandler('/test/count', 'count', async function* (request) {
    streamState.produced = 0;
    streamState.aborted = null;
    streamState.finished = false;
    try {
      for (let i = 0; i < request.data.parts; i++) {
        if (request.data.delayMs) await new Promise((resolve) => setTimeout(resolve, request.data.delayMs));
        if (request.signal.aborted) return null;
        streamState.produced++;
        yield { n: i };
      }
      return { total: request.data.parts };
    } finally {
      streamState.finished = true;
      streamState.aborted = request.signal.aborted ? request.signal.reason && request.signal.reason.code : null;
    }
  });
  ipc.addURIHandler('/test/count_state', 'countState', (request, callback) => callback(streamState));
  ipc.addURIHandler('/test/time_left', 'timeLeft', (request, callback) => callback({
    timeoutMs: request.timeoutMs === undefined ? null : request.timeoutMs,
    timeLeft: Number.isFinite(request.timeLeft()) ? request.timeLeft() : null,
  }));
  ipc.addURIHandler('/test/bytes_out', 'bytesOut', (request, callback) => callback({
    written: String(request.connection.bytesOut).padStart(15, '0'),
  }));
}

/**
 * A peer on a Unix socket that answers with exactly the bytes a test needs,
 * including things the real server never sends (split lines, bad JSON).
 * Writes go out in order, each after an optional delay.
 */
function startScriptedPeer(socketPath) {
  let lastNotify = null;
  let connections = 0;
  let refuseNext = false;
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    const connectionId = ++connections;
    let auths = 0;
    const streams = new Map();
    const cancelled = [];
    let chain = Promise.resolve();
    const later = (fn, delayMs = 0) => {
      chain = chain.then(() => new Promise((resolve) => setTimeout(() => {
        if (!socket.destroyed) fn();
        resolve();
      }, delayMs)));
    };
    const send = (bytes, delayMs = 0) => later(() => socket.write(bytes), delayMs);
    socket.on('close', () => { for (const state of streams.values()) clearTimeout(state.timer); });
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      let nl;
      while ((nl = buffer.indexOf(10)) !== -1) {
        const raw = buffer.subarray(0, nl).toString('utf8');
        buffer = buffer.subarray(nl + 1);
        const msg = JSON.parse(raw);
        const reply = (data) => Buffer.from(JSON.stringify({ ipcReqID: msg.ipcReqID, data }) + '\n');
        switch (msg.uri) {
          case '/script/echo': send(reply(msg.data)); break;
          case '/script/split': {
            const bytes = reply({ text: 'héllo wörld 😀 done' });
            const insideEmoji = bytes.indexOf(Buffer.from('😀')) + 2;
            send(bytes.subarray(0, 5));
            send(bytes.subarray(5, insideEmoji), 30);
            send(bytes.subarray(insideEmoji), 30);
            break;
          }
          case '/script/bundled': {
            // One write holding a push, a stale answer, the answer and a push, then a push cut in two.
            const push = (n) => JSON.stringify({ uri: '/events/bundled', data: { n } }) + '\n';
            const third = push(3);
            send(push(1) + JSON.stringify({ ipcReqID: 'stale-1', data: { late: true } }) + '\n'
              + reply({ mine: true }).toString() + push(2) + third.slice(0, 12));
            send(third.slice(12), 30);
            break;
          }
          case '/script/big_then_push':
            // A 4 MiB answer and, in the same write, the start of the next line (a push).
            send(reply({ text: 'b'.repeat(4 * 1024 * 1024) }).toString() + JSON.stringify({ uri: '/events/after', data: { n: 1 } }) + '\n');
            break;
          case '/script/blank_lines':
            send('\n   \r\n' + JSON.stringify({ ipcReqID: msg.ipcReqID, data: { crlf: true } }) + '\r\n');
            break;
          case '/script/bad_json': send('this is not json\n'); break;
          case '/script/not_object': send('42\n'); break;
          case '/script/slow_partial': {
            const bytes = reply({ late: true });
            send(bytes.subarray(0, 10));
            send(bytes.subarray(10), 600);
            break;
          }
          case '/script/idle_timeout':
            send('{"ipcReqID":null,"code":"idle_timeout","message":"idle for too long"}\n');
            later(() => socket.end());
            break;
          case '/script/push_then_eof':
            send('{"uri":"/events/last","data":{"bye":true}}\n');
            later(() => socket.end());
            break;
          case '/script/raw': send(reply({ line: raw })); break;
          case '/ipcserver/auth': {
            auths++;
            const mode = msg.data && msg.data.mode;
            if (mode === 'refuse') send(JSON.stringify({ ipcReqID: msg.ipcReqID, code: 'access', message: 'no' }) + '\n');
            else if (mode === 'one') send(reply({ authenticated: 1 }));
            else if (mode === 'string') send(reply({ authenticated: 'true' }));
            else if (mode === 'missing') send(reply({ ok: true }));
            else send(reply({ authenticated: true }));
            break;
          }
          case '/script/whoami': send(reply({ connectionId, auths, ipcReqID: msg.ipcReqID, timeoutMs: msg.timeoutMs })); break;
          case '/script/deadline':
            send(JSON.stringify({ ipcReqID: msg.ipcReqID, code: 'deadline_exceeded', message: 'too late' }) + '\n');
            break;
          case '/script/data_code': send(reply({ code: 'not_found', message: 'no such thing', extra: 1 })); break;
          case '/script/goaway':
            send(reply({ bye: 'soon' }));
            send('{"uri":"/ipcserver/goaway","data":{"reason":"shutdown"}}\n');
            break;
          case '/script/stream': {
            // data: { parts, delayMs, final, error }: parts 0..parts-1, then the final line.
            const { parts = 3, delayMs = 0, final = null, error = null } = msg.data || {};
            const id = msg.ipcReqID;
            const state = { n: 0, timer: null, stream: msg.stream === true };
            const finish = (line) => { streams.delete(id); clearTimeout(state.timer); if (!socket.destroyed) socket.write(line); };
            const next = () => {
              if (!state.stream) return finish(JSON.stringify({ ipcReqID: id, code: 'bad_request', message: 'stream not asked for' }) + '\n');
              if (state.n < parts) {
                if (!socket.destroyed) socket.write(JSON.stringify({ ipcReqID: id, part: { n: state.n } }) + '\n');
                state.n++;
                state.timer = setTimeout(next, delayMs);
                return;
              }
              if (error) finish(JSON.stringify({ ipcReqID: id, code: error, message: 'stream failed' }) + '\n');
              else finish(JSON.stringify({ ipcReqID: id, data: final }) + '\n');
            };
            streams.set(id, state);
            next();
            break;
          }
          case '/ipcserver/cancel': {
            const id = msg.data && msg.data.ipcReqID;
            const state = streams.get(id);
            cancelled.push({ id, line: raw, sentParts: state ? state.n : null });
            if (state) {
              streams.delete(id);
              clearTimeout(state.timer);
              socket.write(JSON.stringify({ ipcReqID: id, code: 'cancelled', message: 'cancelled by the client' }) + '\n');
            }
            break;
          }
          case '/script/cancelled': send(reply(cancelled.splice(0))); break;
          case '/script/arm_shutdown': refuseNext = true; send(reply({ armed: true })); break;
          case '/script/maybe_refused':
            if (refuseNext) {
              // A stopping server: refuses what it reads with shutting_down, then closes.
              refuseNext = false;
              send(JSON.stringify({ ipcReqID: msg.ipcReqID, code: 'shutting_down', message: 'stopping' }) + '\n');
              later(() => socket.end());
            } else {
              send(reply({ connectionId, served: true }));
            }
            break;
          case '/script/raw_notify': lastNotify = raw; break;
          case '/script/last_notify': send(reply({ line: lastNotify })); break;
          default: send(JSON.stringify({ ipcReqID: msg.ipcReqID, code: 'unscripted', message: msg.uri }) + '\n');
        }
      }
    });
  });
  return new Promise((resolve) => server.listen(socketPath, () => resolve(server)));
}

describe('PHP client', function () {
  this.timeout(60000);
  let main;
  let authServer;
  let peer;
  let env;
  let cert;

  before(async function () {
    cert = makeCertificate();
    const tcpPort = await freePort();
    const tlsPort = await freePort();
    main = await startServer({ listen_port: tcpPort, tls_port: tlsPort, tls_key: cert.key, tls_cert: cert.cert });
    registerTestHandlers(main.ipc);
    authServer = await startServer({ auth_tokens: [AUTH_TOKEN] });
    registerTestHandlers(authServer.ipc);
    const peerSocket = path.join(makeTempDir(), 'scripted.sock');
    peer = await startScriptedPeer(peerSocket);
    env = {
      IPC_SOCKET: main.socketPath,
      IPC_TCP_PORT: String(main.ipc.tcpPort),
      IPC_TLS_PORT: String(main.ipc.tlsPort),
      IPC_TLS_CA: cert.cert,
      IPC_AUTH_SOCKET: authServer.socketPath,
      IPC_AUTH_TOKEN: AUTH_TOKEN,
      IPC_SCRIPTED_SOCKET: peerSocket,
      IPC_CLOSED_PORT: String(await freePort()),
      IPC_UNICODE_TEXT: UNICODE_TEXT,
    };
  });

  after(async function () {
    if (peer) await new Promise((resolve) => peer.close(resolve));
    if (main) await main.stop();
    if (authServer) await authServer.stop();
    cleanupTempDirs();
  });

  it('parses as PHP', function () {
    const out = execFileSync('php', ['-l', CLIENT_FILE], { encoding: 'utf8' });
    assert.match(out, /No syntax errors/);
  });

  it('mirrors the server\'s CLOSING_CODES (lib/protocol.ts)', function () {
    const { CLOSING_CODES } = require('../../dist/lib/protocol');
    const php = JSON.parse(execFileSync('php', ['-r', `require ${JSON.stringify(CLIENT_FILE)}; echo json_encode(array_keys(PixlIPCClient::CLOSING_CODES));`], { encoding: 'utf8' }));
    assert.deepStrictEqual(php.slice().sort(), CLOSING_CODES.slice().sort());
  });

  it('decodes every expected answer of the shared protocol vectors (test/vectors/protocol.json)', async function () {
    const cases = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'vectors', 'protocol.json'), 'utf8'));
    assertPassed(await runPhp('vectors_test.php', env), cases.length);
  });

  it('round-trips requests, reports ids, pid and userAgent, and throws coded errors', async function () {
    assertPassed(await runPhp('requests_test.php', env), 16);
  });

  it('explains connect failures (missing socket, refused), retries within connectRetry, bounds connects by connectTimeout', async function () {
    // A TCP peer that accepts and never answers: a TLS handshake with it never ends.
    const sockets = new Set();
    const silent = net.createServer((socket) => { sockets.add(socket); socket.on('error', () => {}); });
    await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const lateSocket = path.join(makeTempDir(), 'late.sock');
    let late = null;
    try {
      const result = await runPhp('connect_test.php', Object.assign({}, env, {
        IPC_SILENT_PORT: String(silent.address().port),
        IPC_LATE_SOCKET: lateSocket,
      }), {
        onSignal: async (name) => {
          assert.strictEqual(name, 'listen_later');
          await new Promise((resolve) => setTimeout(resolve, 300));
          late = await startServer({ socket_path: lateSocket });
        },
      });
      assertPassed(result, 8);
      assert.ok(late, 'the late server was started');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
      if (late) await late.stop();
    }
  });

  it('throws E_SOCKET_WRITE when the server stops reading, and keeps requestTimeout through signals', async function () {
    const stalledPath = path.join(makeTempDir(), 'stalled.sock');
    const sockets = new Set();
    const stalled = net.createServer((socket) => { sockets.add(socket); socket.pause(); socket.on('error', () => {}); });
    await new Promise((resolve) => stalled.listen(stalledPath, resolve));
    try {
      assertPassed(await runPhp('write_test.php', Object.assign({}, env, { IPC_STALLED_SOCKET: stalledPath })), 3);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => stalled.close(resolve));
    }
  });

  it('explains a connect refused for lack of permission', async function () {
    // Root may open any socket, so as root the script runs as "nobody" from a
    // world-readable copy; otherwise it gets a socket with mode 000.
    if (process.getuid && process.getuid() === 0) {
      const copy = makeTempDir('pixl-ipc-php-perm-');
      fs.chmodSync(copy, 0o755);
      for (const dir of ['test/php', 'php-client']) fs.mkdirSync(path.join(copy, dir), { recursive: true, mode: 0o755 });
      fs.chmodSync(path.join(copy, 'test'), 0o755);
      fs.copyFileSync(path.join(PHP_DIR, 'TestRunner.php'), path.join(copy, 'test/php/TestRunner.php'));
      fs.copyFileSync(path.join(PHP_DIR, 'permission_test.php'), path.join(copy, 'test/php/permission_test.php'));
      const clientFiles = fs.readdirSync(path.dirname(CLIENT_FILE)).filter((f) => f.endsWith('.php')).map((f) => `php-client/${f}`);
      for (const file of clientFiles) fs.copyFileSync(path.join(ROOT_DIR, file), path.join(copy, file));
      for (const file of ['test/php/TestRunner.php', 'test/php/permission_test.php', ...clientFiles]) {
        fs.chmodSync(path.join(copy, file), 0o644);
      }
      const result = await runPhp(null, Object.assign({}, env, { IPC_DENIED_SOCKET: main.socketPath }), {
        uid: 65534, gid: 65534, scriptPath: path.join(copy, 'test/php/permission_test.php'),
      });
      assertPassed(result, 1);
    } else {
      const dir = makeTempDir();
      const denied = path.join(dir, 'denied.sock');
      const server = net.createServer();
      await new Promise((resolve) => server.listen(denied, resolve));
      fs.chmodSync(denied, 0o000);
      try {
        assertPassed(await runPhp('permission_test.php', Object.assign({}, env, { IPC_DENIED_SOCKET: denied })), 1);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });

  it('renders every shared connect-error hint (test/vectors/connect-hints.json) exactly', async function () {
    const vectors = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'vectors', 'connect-hints.json'), 'utf8'));
    assertPassed(await runPhp('connect_hints_test.php', env), vectors.length + 1);
  });

  it('keeps the 1.x signatures, so 1.x subclasses load and work', async function () {
    assertPassed(await runPhp('compat_1x_test.php', env), 4);
  });

  it('times out and discards late answers', async function () {
    assertPassed(await runPhp('timeout_test.php', env), 6);
  });

  it('carries 1 MiB and 16 MiB messages both ways and Unicode unchanged', async function () {
    assertPassed(await runPhp('large_unicode_test.php', env), 5);
  });

  it('throws E_SERVER_CLOSE once when the server closes, then reconnects', async function () {
    assertPassed(await runPhp('server_close_test.php', env), 3);
  });

  it('recovers in a loop when the daemon restarts on the same socket', async function () {
    let server = await startServer();
    const socketPath = server.socketPath;
    registerTestHandlers(server.ipc);
    let restarted = false;
    try {
      const result = await runPhp('recover_test.php', Object.assign({}, env, { IPC_SOCKET: socketPath }), {
        onSignal: async (name) => {
          assert.strictEqual(name, 'restart');
          await server.stop();
          assert.ok(!fs.existsSync(socketPath), 'the socket is gone while the server is down');
          await new Promise((resolve) => setTimeout(resolve, 300));
          server = await startServer({ socket_path: socketPath });
          registerTestHandlers(server.ipc);
          restarted = true;
        },
      });
      assert.ok(restarted, 'the script asked for the restart');
      assertPassed(result, 1);
    } finally {
      await server.stop();
    }
  });

  it('persistent connections reconnect by themselves after a daemon restart', async function () {
    let server = await startServer();
    const socketPath = server.socketPath;
    registerTestHandlers(server.ipc);
    const restart = async (gapMs) => {
      await server.stop();
      server = null;
      await new Promise((resolve) => setTimeout(resolve, gapMs));
      server = await startServer({ socket_path: socketPath });
      registerTestHandlers(server.ipc);
    };
    try {
      const result = await runPhp('persistent_restart_test.php', Object.assign({}, env, { IPC_SOCKET: socketPath }), {
        onSignal: async (name, child) => {
          if (name === 'restart') {
            await restart(50);
            child.stdin.write('ok\n');
          } else {
            assert.strictEqual(name, 'restart_slow');
            await server.stop();
            server = null;
            child.stdin.write('ok\n');
            await new Promise((resolve) => setTimeout(resolve, 300));
            server = await startServer({ socket_path: socketPath });
            registerTestHandlers(server.ipc);
          }
        },
      });
      assertPassed(result, 2);
    } finally {
      if (server) await server.stop();
    }
  });

  it('reads pushes and broadcasts, and sends notifications nothing answers', async function () {
    const result = await runPhp('push_test.php', env, {
      onSignal: (name, child) => {
        assert.strictEqual(name, 'broadcast');
        const count = main.ipc.broadcast('/events/broadcast', { from: 'mocha', text: 'héllo 😀' });
        child.stdin.write(`${count}\n`);
      },
    });
    assertPassed(result, 8);
  });

  it('talks over tcp:// and tls://', async function () {
    assertPassed(await runPhp('transports_test.php', env), 5);
  });

  it('keeps requestTimeout over tls:// against a peer that stops reading, and drains a reused tls:// socket without waiting', async function () {
    const peer = await startTlsPeer(cert);
    try {
      assertPassed(await runPhp('tls_wait_test.php', Object.assign({}, env, { IPC_TLS_PEER_PORT: String(peer.port) })), 2);
    } finally {
      await peer.close();
    }
  });

  it('authenticates with the auth option, and reports refusals as E_ACCESS', async function () {
    assertPassed(await runPhp('auth_test.php', env), 6);
  });

  it('reuses persistent connections across simulated page views without mixing answers', async function () {
    assertPassed(await runPhp('persistent_test.php', env), 13);
  });

  it('streams, cancels and carries deadlines against the real server', async function () {
    assertPassed(await runPhp('stream_live_test.php', env), 4);
  });

  it('streams answers through a generator, and cancels when the loop ends early (scripted peer)', async function () {
    assertPassed(await runPhp('stream_test.php', env), 9);
  });

  it('assembles split lines and rejects bad ones (scripted peer)', async function () {
    assertPassed(await runPhp('framing_test.php', env), 13);
  });
});
