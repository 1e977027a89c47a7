'use strict';
// TCP and TLS listeners next to the Unix socket: the Node client over tls://
// with a throwaway CA, certificate checks both ways (client certificates when
// tls_ca is set), auth on the network transports, the transport each
// connection reports, all three served at once, and shutdown closing them all.
const assert = require('assert');
const { execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');
const tls = require('tls');
const { startServer, makeTempDir, cleanupTempDirs, freePort } = require('../helpers/harness');
const { rawConnect, RawClient } = require('../helpers/raw');
const { waitFor } = require('../helpers/wait');
const IPCClient = require('pixl-ipc/client');

const ECHO = '/ipcserver/test/echo';
const MiB = 1024 * 1024;
const TOKEN = 'transport-test-token';

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Writes a CA, a server certificate for 127.0.0.1 / localhost and a client
 * certificate (both signed by the CA) into `dir`. Our own minimal openssl
 * config keeps the result independent of the machine's openssl.cnf.
 */
function makeCertificates(dir, caName) {
  const file = (name) => path.join(dir, name);
  fs.writeFileSync(file('openssl.cnf'), [
    '[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', `CN = ${caName}`,
    '[v3_ca]', 'basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash',
  ].join('\n') + '\n');
  fs.writeFileSync(file('server.ext'), [
    'basicConstraints = CA:FALSE', 'keyUsage = critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage = serverAuth', 'subjectAltName = IP:127.0.0.1,DNS:localhost',
  ].join('\n') + '\n');
  fs.writeFileSync(file('client.ext'), [
    'basicConstraints = CA:FALSE', 'keyUsage = critical,digitalSignature,keyEncipherment', 'extendedKeyUsage = clientAuth',
  ].join('\n') + '\n');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', '-new', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
    '-config', 'openssl.cnf', '-extensions', 'v3_ca'], dir);
  const issue = (name, subject, serial) => {
    openssl(['req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-config', 'openssl.cnf', '-subj', subject], dir);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(serial),
      '-days', '2', '-out', `${name}.pem`, '-extfile', `${name}.ext`], dir);
  };
  issue('server', '/CN=127.0.0.1', 2);
  issue('client', '/CN=pixl-ipc-test-client', 3);
  return {
    caFile: file('ca.pem'),
    ca: fs.readFileSync(file('ca.pem')),
    serverKey: file('server.key'),
    serverCert: file('server.pem'),
    clientKey: fs.readFileSync(file('client.key')),
    clientCert: fs.readFileSync(file('client.pem')),
  };
}

/**
 * Open socket descriptors of this process (Linux /proc, as on CI). The server
 * runs in this process, so once the test's own client sockets have closed,
 * anything above the starting count is a socket the server kept open.
 */
function openSocketCount() {
  let count = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync('/proc/self/fd/' + fd).startsWith('socket:')) count++;
    } catch {
      // The descriptor closed while we were listing.
    }
  }
  return count;
}

/** Resolves to an error code if connecting to the port fails, or 'connected'. */
function probePort(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve('connected'); });
    socket.once('error', (err) => resolve(err.code));
  });
}

/** A raw TLS connection that reads JSON lines, for requests the Node client would not send. */
function rawTlsConnect(port, options) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...options });
    socket.once('secureConnect', () => resolve(new RawClient(socket)));
    socket.once('error', reject);
  });
}

/** Resolves with the error a promise rejects with; fails the test if it resolves or takes longer than `ms`. */
async function rejectsWithin(promise, ms, what) {
  const started = Date.now();
  let timer;
  const outcome = await Promise.race([
    promise.then(() => ({ resolved: true }), (err) => ({ err })),
    new Promise((resolve) => { timer = setTimeout(() => resolve({ hung: true }), ms); }),
  ]);
  clearTimeout(timer);
  assert.ok(!outcome.hung, `${what}: no answer within ${ms} ms (a hang)`);
  assert.ok(!outcome.resolved, `${what}: expected a failure, but it succeeded`);
  return { err: outcome.err, elapsed: Date.now() - started };
}

describe('transports: TCP and TLS', function () {
  let certs;
  let otherCerts;

  before(function () {
    certs = makeCertificates(makeTempDir('pixl-ipc-tls-'), 'pixl-ipc test CA');
    // A second, unrelated CA: its client certificate must not pass the first CA's server.
    otherCerts = makeCertificates(makeTempDir('pixl-ipc-tls-other-'), 'unrelated test CA');
  });
  after(cleanupTempDirs);

  describe('TLS with a server certificate', function () {
    let h;
    let port;
    before(async function () {
      port = await freePort();
      h = await startServer({ tls_port: port, tls_key: certs.serverKey, tls_cert: certs.serverCert });
    });
    after(async function () { await h.stop(); });

    it('the Node client round-trips over tls:// when it trusts the CA, and the connection reports tls', async function () {
      assert.strictEqual(h.ipc.tlsPort, port);
      const client = new IPCClient(`tls://127.0.0.1:${port}`, null, { tls: { ca: certs.ca }, userAgent: 'tls-roundtrip' });
      await client.connect();
      assert.deepStrictEqual(await client.send(ECHO, { over: 'tls', text: 'naïve € 𝄞' }), { over: 'tls', text: 'naïve € 𝄞' });
      const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => client.send(ECHO, i)));
      assert.deepStrictEqual(answers, Array.from({ length: 300 }, (_, i) => i));
      const mine = h.ipc.getConnections().filter((c) => c.userAgent === 'tls-roundtrip');
      assert.strictEqual(mine.length, 1);
      assert.strictEqual(mine[0].transport, 'tls');
      assert.strictEqual(mine[0].toJSON().transport, 'tls');
      await client.close();
    });

    it('carries a 1 MiB message both ways over TLS', async function () {
      const client = new IPCClient(`tls://127.0.0.1:${port}`, null, { tls: { ca: certs.ca } });
      await client.connect();
      // Several TLS records and many socket reads on each side.
      const block = 'tls-large-payload-'.repeat(Math.ceil(MiB / 18)).slice(0, MiB);
      const reply = await client.send(ECHO, { block, tail: 'end' });
      assert.strictEqual(reply.block.length, MiB);
      assert.strictEqual(reply.block, block);
      assert.strictEqual(reply.tail, 'end');
      await client.close();
    });

    it('a client that does not trust the CA fails to connect promptly with a certificate error', async function () {
      const client = new IPCClient(`tls://127.0.0.1:${port}`, null, { autoReconnect: false, connectTimeout: 5000 });
      const { err, elapsed } = await rejectsWithin(client.connect(), 4000, 'connect without the CA');
      assert.strictEqual(err.code, 'connect_failed');
      assert.match(err.message, /certificate/i);
      assert.ok(elapsed < 2000, `failed after ${elapsed} ms, not at once`);
      assert.strictEqual(client.isConnected, false);
      await client.close();
    });

    it('handshakes that fail or never start do not leave sockets open on the server', async function () {
      const baseline = openSocketCount();
      for (let i = 0; i < 10; i++) {
        // Rejects the server's certificate and hangs up mid-handshake.
        const client = new IPCClient(`tls://127.0.0.1:${port}`, null, { autoReconnect: false });
        await assert.rejects(client.connect(), { code: 'connect_failed' });
        await client.close();
      }
      await waitFor(() => openSocketCount() <= baseline, `server sockets of failed handshakes to close (${openSocketCount() - baseline} still open)`, 2000, 10);
      // Plain TCP clients (a port check, say) that connect and hang up without a
      // handshake: the server must close its side, not wait for more.
      const closedByServer = await Promise.all(Array.from({ length: 10 }, () => new Promise((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.end());
        const timer = setTimeout(() => { socket.destroy(); resolve(false); }, 2000);
        socket.on('error', () => {});
        socket.once('close', () => { clearTimeout(timer); resolve(true); });
      })));
      assert.deepStrictEqual(closedByServer, Array(10).fill(true), 'the server closed every half-closed plain connection');
      await waitFor(() => openSocketCount() <= baseline, `server sockets to close (${openSocketCount() - baseline} still open)`, 2000, 10);
      assert.strictEqual(h.ipc.getConnections().length, 0);
    });

    it('a client that half-closes after sending still gets its answer over TLS', async function () {
      const reply = await new Promise((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ca: certs.ca }, () => {
          socket.end(JSON.stringify({ ipcReqID: 'last', uri: '/ipcserver/test/delay', data: { delay: 50 } }) + '\n');
        });
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk) => { text += chunk; });
        socket.on('error', reject);
        socket.on('close', () => resolve(text));
      });
      assert.deepStrictEqual(JSON.parse(reply), { ipcReqID: 'last', data: { delay: 50 } });
    });

    it('a plain TCP client on the TLS port is dropped, not served', async function () {
      let accepted = 0;
      const onConnect = () => accepted++;
      h.ipc.on('connect', onConnect);
      const client = new IPCClient(`tcp://127.0.0.1:${port}`, null, { autoReconnect: false, connectTimeout: 1000, requestTimeout: 3000 });
      // The TCP connect succeeds; our JSON is not a TLS hello, so the server hangs up.
      const { err, elapsed } = await rejectsWithin(client.connect().then(() => client.send(ECHO, 'plaintext')), 4000, 'plaintext on the TLS port');
      h.ipc.removeListener('connect', onConnect);
      assert.strictEqual(err.code, 'connection_closed', err.message);
      assert.ok(elapsed < 2000, `dropped after ${elapsed} ms`);
      assert.strictEqual(accepted, 0);
      await client.close();
    });
  });

  describe('TLS with tls_ca: client certificates required', function () {
    let h;
    let port;
    let served;
    before(async function () {
      port = await freePort();
      h = await startServer({ tls_port: port, tls_key: certs.serverKey, tls_cert: certs.serverCert, tls_ca: certs.caFile });
      served = 0;
      h.ipc.on('connect', () => served++);
    });
    after(async function () { await h.stop(); });

    it('a client with a certificate signed by the CA is served', async function () {
      const client = new IPCClient(`tls://127.0.0.1:${port}`, null, { tls: { ca: certs.ca, key: certs.clientKey, cert: certs.clientCert } });
      await client.connect();
      assert.deepStrictEqual(await client.send(ECHO, { mutual: true }), { mutual: true });
      assert.strictEqual(h.ipc.getConnections().length, 1);
      await client.close();
    });

    for (const [name, extra] of [
      ['without a client certificate', () => ({})],
      ['with a certificate from another CA', () => ({ key: otherCerts.clientKey, cert: otherCerts.clientCert })],
    ]) {
      it(`a client ${name} is refused with a clear error and never reaches a handler`, async function () {
        const before = served;
        const client = new IPCClient(`tls://127.0.0.1:${port}`, null, {
          tls: { ca: certs.ca, ...extra() }, autoReconnect: false, connectTimeout: 3000, requestTimeout: 3000,
        });
        // With TLS 1.3 the client finishes its side of the handshake before the
        // server checks its certificate, so the refusal may arrive on connect or
        // on the first request. Either way it must fail fast and say why.
        const { err, elapsed } = await rejectsWithin(client.connect().then(() => client.send(ECHO, 'let me in')), 4000, 'client ' + name);
        assert.ok(['connect_failed', 'connection_closed'].includes(err.code), `unexpected ${err.code}: ${err.message}`);
        // OpenSSL sends "certificate required" for a missing certificate; Node's
        // server drops an unverified one without an alert.
        assert.match(err.message, /certificate required|closed by the server/i);
        assert.ok(elapsed < 2000, `refused after ${elapsed} ms`);
        assert.strictEqual(served, before, 'the server accepted no connection');
        assert.strictEqual(h.ipc.getConnections().length, 0);
        await client.close();
      });
    }
  });

  describe('auth_tokens on TCP and TLS', function () {
    let h;
    before(async function () {
      const tcpPort = await freePort();
      const tlsPort = await freePort();
      h = await startServer({
        auth_tokens: [TOKEN], listen_port: tcpPort, tls_port: tlsPort, tls_key: certs.serverKey, tls_cert: certs.serverCert,
      });
    });
    after(async function () { await h.stop(); });

    const targets = () => [
      ['tcp', `tcp://127.0.0.1:${h.ipc.tcpPort}`, {}],
      ['tls', `tls://127.0.0.1:${h.ipc.tlsPort}`, { tls: { ca: certs.ca } }],
    ];

    it('a request without authentication gets access on both, and the connection stays open', async function () {
      const tcp = await rawConnect({ port: h.ipc.tcpPort });
      const secure = await rawTlsConnect(h.ipc.tlsPort, { ca: certs.ca });
      for (const raw of [tcp, secure]) {
        raw.write({ ipcReqID: 'sneak', uri: ECHO, data: 'secret' });
        const reply = await raw.next();
        assert.strictEqual(reply.ipcReqID, 'sneak');
        assert.strictEqual(reply.code, 'access');
        assert.strictEqual(reply.data, undefined);
        // Authenticating on the same connection then works.
        raw.write({ ipcReqID: 'a1', uri: '/ipcserver/auth', data: TOKEN });
        assert.deepStrictEqual(await raw.next(), { ipcReqID: 'a1', data: { authenticated: true } });
        raw.write({ ipcReqID: 'ok', uri: ECHO, data: 'now' });
        assert.deepStrictEqual(await raw.next(), { ipcReqID: 'ok', data: 'now' });
        raw.destroy();
      }
    });

    it('the Node client with the token is served on both; with a wrong token it fails with access', async function () {
      for (const [kind, target, options] of targets()) {
        const good = new IPCClient(target, null, { ...options, auth: TOKEN, userAgent: 'auth-' + kind });
        await good.connect();
        assert.deepStrictEqual(await good.send(ECHO, kind), kind);
        const conn = h.ipc.getConnections().find((c) => c.userAgent === 'auth-' + kind);
        assert.ok(conn && conn.authenticated, kind + ' connection authenticated');
        assert.strictEqual(conn.transport, kind);
        await good.close();

        const bad = new IPCClient(target, null, { ...options, auth: 'wrong-token', autoReconnect: false });
        await assert.rejects(bad.connect(), { code: 'access' }, kind + ' with a wrong token');
        await bad.close();

        const none = new IPCClient(target, null, { ...options, autoReconnect: false });
        await none.connect();
        await assert.rejects(none.send(ECHO, 'x'), { code: 'access' }, kind + ' without a token');
        await none.close();
      }
    });
  });

  describe('unix, tcp and tls at once', function () {
    it('serves all three together, each connection reporting its transport', async function () {
      const tcpPort = await freePort();
      const tlsPort = await freePort();
      const h = await startServer({ listen_port: tcpPort, tls_port: tlsPort, tls_key: certs.serverKey, tls_cert: certs.serverCert });
      const clients = {
        unix: new IPCClient(h.socketPath, null, { userAgent: 'via-unix' }),
        tcp: new IPCClient(`tcp://127.0.0.1:${tcpPort}`, null, { userAgent: 'via-tcp' }),
        tls: new IPCClient(`tls://127.0.0.1:${tlsPort}`, null, { userAgent: 'via-tls', tls: { ca: certs.ca } }),
      };
      try {
        await Promise.all(Object.values(clients).map((c) => c.connect()));
        // Interleaved traffic on all three at the same time.
        const work = [];
        for (let i = 0; i < 200; i++) {
          for (const [kind, client] of Object.entries(clients)) work.push(client.send(ECHO, { kind, i }).then((r) => [kind, r]));
        }
        const results = await Promise.all(work);
        for (const [kind, reply] of results) assert.strictEqual(reply.kind, kind);
        assert.strictEqual(results.length, 600);

        const byAgent = {};
        for (const c of h.ipc.getConnections()) byAgent[c.userAgent] = c.transport;
        assert.deepStrictEqual(byAgent, { 'via-unix': 'unix', 'via-tcp': 'tcp', 'via-tls': 'tls' });
        const listed = h.ipc.getConnections().map((c) => c.toJSON().transport).sort();
        assert.deepStrictEqual(listed, ['tcp', 'tls', 'unix']);

        // A broadcast reaches every transport.
        const pushes = Object.values(clients).map((c) => new Promise((resolve) => c.once('data', resolve)));
        assert.strictEqual(h.ipc.broadcast('/events/all', { hello: 'everyone' }), 3);
        for (const message of await Promise.all(pushes)) assert.deepStrictEqual(message, { uri: '/events/all', data: { hello: 'everyone' } });
      } finally {
        await Promise.all(Object.values(clients).map((c) => c.close()));
        await h.stop();
      }
    });
  });

  describe('shutdown', function () {
    it('closes the unix, tcp and tls listeners, ends open connections, and removes the socket file', async function () {
      const tcpPort = await freePort();
      const tlsPort = await freePort();
      const h = await startServer({ listen_port: tcpPort, tls_port: tlsPort, tls_key: certs.serverKey, tls_cert: certs.serverCert });
      assert.strictEqual(await probePort(tcpPort), 'connected');
      assert.strictEqual(await probePort(tlsPort), 'connected');
      assert.ok(fs.existsSync(h.socketPath));

      // One open connection on each transport; each must be ended by the shutdown.
      const tcp = await rawConnect({ port: tcpPort });
      const unix = await rawConnect(h.socketPath);
      const secureEnded = new Promise((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', port: tlsPort, ca: certs.ca });
        socket.on('error', () => {});
        // Reads what the server sends (its goaway), or the end behind it is never seen.
        socket.resume();
        socket.once('secureConnect', () => socket.once('close', resolve));
      });
      await new Promise((resolve) => {
        const check = () => (h.ipc.getConnections().length === 3 ? resolve() : setTimeout(check, 5));
        check();
      });

      await h.stop();

      await Promise.all([tcp.waitEnd(), unix.waitEnd(), secureEnded]);
      assert.strictEqual(await probePort(tcpPort), 'ECONNREFUSED');
      assert.strictEqual(await probePort(tlsPort), 'ECONNREFUSED');
      assert.strictEqual(fs.existsSync(h.socketPath), false, 'socket file removed');
      await assert.rejects(rawConnect(h.socketPath), { code: 'ENOENT' });
      tcp.destroy();
      unix.destroy();
    });
  });
});
