'use strict';
// Authentication through the real socket: auth_tokens, auth_users_file and
// setAuthHandler; requests before auth, refusals that close the connection,
// auth_timeout, the TCP listener, stats, and secrets kept out of the log.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { startServer, makeTempDir, cleanupTempDirs, freePort } = require('../helpers/harness');
const { rawConnect } = require('../helpers/raw');
const { sleep } = require('../helpers/wait');
const IPCClient = require('pixl-ipc/client');

const ECHO = '/ipcserver/test/echo';
const AUTH = '/ipcserver/auth';

// Distinctive secrets, so the log check cannot miss a leak.
const TOKEN_A = 'tok-ALPHA-7f3a91c4';
const TOKEN_B = 'tok-BETA-22c0e5d8';
const WRONG_TOKEN = 'tok-WRONG-9d8e77aa';
const WEB_PASSWORD = 'pw-WEB-51be02f6';
const OPS_PASSWORD = 'pw:OPS:with:colons-3c1d';
const WRONG_PASSWORD = 'pw-WRONG-0b9a44e1';
const HOOK_SECRET = 'hook-SECRET-a41f6b2e';
const ALL_SECRETS = [TOKEN_A, TOKEN_B, WRONG_TOKEN, WEB_PASSWORD, OPS_PASSWORD, WRONG_PASSWORD, HOOK_SECRET];

function readLog(h) {
  return fs.readFileSync(path.join(h.logDir, 'test.log'), 'utf8');
}

/** Asserts the log was written (so the check means something) and holds no secret. */
function assertNoSecretsLogged(h) {
  const log = readLog(h);
  assert.match(log, /authentication failed/, 'the log records refusals');
  for (const secret of ALL_SECRETS) assert.ok(!log.includes(secret), 'secret found in the log: ' + secret);
  // Not even a long piece of one (for example inside a JSON parse error excerpt).
  for (const secret of ALL_SECRETS) assert.ok(!log.includes(secret.slice(0, 10)), 'part of a secret in the log: ' + secret);
}

/** Connects, sends credentials, and returns the client with the auth answer. */
async function authenticate(target, credentials, id = 'auth1') {
  const client = await rawConnect(target);
  await client.write({ ipcReqID: id, uri: AUTH, data: credentials });
  return { client, reply: await client.next() };
}

/** Asserts that `credentials` are accepted and the connection is then served. */
async function assertAccepted(target, credentials) {
  const { client, reply } = await authenticate(target, credentials);
  assert.deepStrictEqual(reply, { ipcReqID: 'auth1', data: { authenticated: true } }, 'accepted: ' + JSON.stringify(credentials));
  await client.write({ ipcReqID: 'after', uri: ECHO, data: 'served' });
  assert.deepStrictEqual(await client.next(), { ipcReqID: 'after', data: 'served' });
  client.destroy();
}

/** Asserts that `credentials` get one access error naming the request, then end-of-file. */
async function assertRefused(target, credentials) {
  const { client, reply } = await authenticate(target, credentials);
  assert.strictEqual(reply.ipcReqID, 'auth1', 'refused: ' + JSON.stringify(credentials));
  assert.strictEqual(reply.code, 'access');
  assert.strictEqual(reply.data, undefined);
  assert.ok(reply.message);
  await client.waitEnd();
  assert.strictEqual(client.lines.length, 0, 'nothing after the refusal');
  client.destroy();
}

describe('auth: auth_tokens', function () {
  let h;
  let port;
  before(async function () {
    port = await freePort();
    // These tests try many wrong credentials in a row: the failure throttle (tested in identity.test.js) is off.
    h = await startServer({ auth_tokens: [TOKEN_A, TOKEN_B], listen_port: port, auth_throttle_after: 0 }, { debug_level: 9 });
  });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('accepts every configured token, as a string or as {token}', async function () {
    await assertAccepted(h.socketPath, TOKEN_A);
    await assertAccepted(h.socketPath, TOKEN_B);
    await assertAccepted(h.socketPath, { token: TOKEN_A });
    await assertAccepted(h.socketPath, { token: TOKEN_B });
  });

  it('refuses wrong tokens and credentials of the wrong shape with access, then closes', async function () {
    for (const wrong of [WRONG_TOKEN, { token: WRONG_TOKEN }, TOKEN_A + 'x', TOKEN_A.slice(0, -1), '', { token: 42 },
      42, null, [TOKEN_A], { user: 'web', password: TOKEN_A }]) {
      await assertRefused(h.socketPath, wrong);
    }
  });

  it('answers requests before auth with access and their ipcReqID, keeps the connection, then lets it authenticate', async function () {
    const client = await rawConnect(h.socketPath);
    await client.write({ ipcReqID: 'early1', uri: ECHO, data: 1 });
    await client.write({ ipcReqID: 7, uri: '/no/such/uri' });
    const [first, second] = await client.take(2);
    assert.strictEqual(first.ipcReqID, 'early1');
    assert.strictEqual(first.code, 'access');
    assert.match(first.message, /ipcserver\/auth/);
    assert.strictEqual(second.ipcReqID, 7);
    assert.strictEqual(second.code, 'access', 'refused before routing: not no_handler_found');
    await sleep(30);
    assert.strictEqual(client.ended, false, 'still open');
    assert.strictEqual(h.ipc.getConnections().filter((c) => !c.authenticated).length, 1);
    await client.write({ ipcReqID: 'a', uri: AUTH, data: TOKEN_B });
    assert.deepStrictEqual(await client.next(), { ipcReqID: 'a', data: { authenticated: true } });
    await client.write({ ipcReqID: 'late', uri: ECHO, data: 2 });
    assert.deepStrictEqual(await client.next(), { ipcReqID: 'late', data: 2 });
    client.destroy();
  });

  it('serves a request written together with the auth request, in one write', async function () {
    const client = await rawConnect(h.socketPath);
    await client.write(JSON.stringify({ ipcReqID: 'a', uri: AUTH, data: TOKEN_A }) + '\n' +
      JSON.stringify({ ipcReqID: 'b', uri: ECHO, data: 'pipelined' }) + '\n');
    const replies = await client.take(2);
    assert.deepStrictEqual(replies, [
      { ipcReqID: 'a', data: { authenticated: true } },
      { ipcReqID: 'b', data: 'pipelined' },
    ]);
    client.destroy();
  });

  it('answers a request written together with refused credentials with access, then closes', async function () {
    const client = await rawConnect(h.socketPath);
    await client.write(JSON.stringify({ ipcReqID: 'a', uri: AUTH, data: WRONG_TOKEN }) + '\n' +
      JSON.stringify({ ipcReqID: 'b', uri: ECHO, data: 'must not run' }) + '\n');
    await client.waitEnd();
    assert.deepStrictEqual(client.lines.map((m) => [m.ipcReqID, m.code, m.data]), [['a', 'access', undefined], ['b', 'access', undefined]]);
    client.destroy();
  });

  it('counts refusals in getStats().totals.authFailures, and nothing else', async function () {
    const before = h.ipc.getStats().totals.authFailures;
    await assertRefused(h.socketPath, WRONG_TOKEN);
    await assertRefused(h.socketPath, { token: WRONG_TOKEN });
    await assertAccepted(h.socketPath, TOKEN_A);
    // A request before auth is refused, but is not a failed authentication.
    const client = await rawConnect(h.socketPath);
    await client.write({ ipcReqID: 'x', uri: ECHO });
    assert.strictEqual((await client.next()).code, 'access');
    client.destroy();
    assert.strictEqual(h.ipc.getStats().totals.authFailures, before + 2);
  });

  it('gives the disconnect event the reason "access" after a refusal', async function () {
    const reasons = [];
    const onDisconnect = (connection, reason) => reasons.push(reason);
    h.ipc.on('disconnect', onDisconnect);
    try {
      await assertRefused(h.socketPath, WRONG_TOKEN);
      await sleep(20);
    } finally {
      h.ipc.removeListener('disconnect', onDisconnect);
    }
    assert.deepStrictEqual(reasons, ['access']);
  });

  it('requires auth on the TCP listener too', async function () {
    const target = { port: h.ipc.tcpPort };
    assert.strictEqual(h.ipc.tcpPort, port);
    const early = await rawConnect(target);
    await early.write({ ipcReqID: 'tcp-early', uri: ECHO, data: 1 });
    assert.strictEqual((await early.next()).code, 'access');
    early.destroy();
    await assertRefused(target, WRONG_TOKEN);
    await assertAccepted(target, TOKEN_A);
  });

  it('works with the Node client over tcp://, and refuses it without the token', async function () {
    const good = new IPCClient('tcp://127.0.0.1:' + port, null, { auth: TOKEN_B, autoReconnect: 0 });
    await good.connect();
    assert.strictEqual(await good.send(ECHO, 'over tcp'), 'over tcp');
    assert.strictEqual(h.ipc.getConnections().find((c) => c.transport === 'tcp').authenticated, true);
    await good.close();
    const bad = new IPCClient('tcp://127.0.0.1:' + port, null, { auth: WRONG_TOKEN, autoReconnect: 0 });
    await assert.rejects(bad.connect(), { code: 'access' });
    await bad.close();
  });

  it('never writes a secret to the log, even for a malformed auth line', async function () {
    // An unquoted token is not valid JSON; the parse error must not quote it into the log.
    const client = await rawConnect(h.socketPath);
    await client.write('{"ipcReqID":"m","uri":"/ipcserver/auth","data":' + WRONG_TOKEN + '}\n');
    assert.strictEqual((await client.next()).code, 'bad_json');
    client.destroy();
    assert.match(readLog(h), /\[bad_json\]/);
    await assertRefused(h.socketPath, WRONG_TOKEN); // a refusal of its own, so the test runs alone
    assertNoSecretsLogged(h);
  });
});

describe('auth: auth_users_file', function () {
  let h;
  before(async function () {
    const usersFile = path.join(makeTempDir(), 'users');
    fs.writeFileSync(usersFile, [
      '# user:password, one a line',
      '',
      'web:' + WEB_PASSWORD,
      '  ops:' + OPS_PASSWORD + '  ',
      'nocolon',
      '',
    ].join('\n'));
    h = await startServer({ auth_users_file: usersFile, auth_throttle_after: 0 }, { debug_level: 9 });
  });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('accepts each user with their password (a password may contain colons)', async function () {
    await assertAccepted(h.socketPath, { user: 'web', password: WEB_PASSWORD });
    await assertAccepted(h.socketPath, { user: 'ops', password: OPS_PASSWORD });
  });

  it('refuses a wrong password, another user\'s password, unknown users, and tokens', async function () {
    for (const wrong of [
      { user: 'web', password: WRONG_PASSWORD },
      { user: 'web', password: OPS_PASSWORD },
      { user: 'ops', password: WEB_PASSWORD },
      { user: 'nobody', password: WEB_PASSWORD },
      { user: 'nocolon', password: '' },
      { user: '# user', password: 'password, one a line' },
      { user: 'web' },
      { password: WEB_PASSWORD },
      WEB_PASSWORD,
      { token: WEB_PASSWORD },
    ]) {
      await assertRefused(h.socketPath, wrong);
    }
  });

  it('logs the user name of a refusal but no password', async function () {
    await assertRefused(h.socketPath, { user: 'web', password: WRONG_PASSWORD });
    assert.match(readLog(h), /authentication failed \(user \\?"web\\?"\)/);
    assertNoSecretsLogged(h);
  });
});

describe('auth: setAuthHandler', function () {
  let h;
  let port;
  before(async function () {
    port = await freePort();
    // The hook is set after startup, as an application does once the server is up.
    h = await startServer({ listen_port: port, auth_timeout: 300 }, { debug_level: 9 });
  });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('passes the credentials and {connection, transport} to the hook', async function () {
    const calls = [];
    h.ipc.setAuthHandler((credentials, info) => {
      calls.push({ credentials, id: info.connection.id, transport: info.transport, authenticated: info.connection.authenticated });
      return credentials.secret === HOOK_SECRET;
    });
    const unixClient = await rawConnect(h.socketPath);
    await unixClient.write({ ipcReqID: 'a', uri: AUTH, data: { app: 'demo', secret: HOOK_SECRET, n: [1, 2] } });
    assert.deepStrictEqual(await unixClient.next(), { ipcReqID: 'a', data: { authenticated: true } });
    const unixId = h.ipc.getConnections().find((c) => c.transport === 'unix').id;
    const { client: tcpClient, reply } = await authenticate({ port }, { secret: HOOK_SECRET });
    assert.deepStrictEqual(reply.data, { authenticated: true });
    assert.strictEqual(calls.length, 2);
    assert.deepStrictEqual(calls[0], { credentials: { app: 'demo', secret: HOOK_SECRET, n: [1, 2] }, id: unixId, transport: 'unix', authenticated: false });
    assert.strictEqual(calls[1].transport, 'tcp');
    assert.notStrictEqual(calls[1].id, unixId);
    unixClient.destroy();
    tcpClient.destroy();
    await assertRefused(h.socketPath, { secret: WRONG_PASSWORD });
    assert.strictEqual(calls.length, 3);
  });

  it('a sync hook accepts with true and refuses with false; anything but true refuses', async function () {
    h.ipc.setAuthHandler((credentials) => credentials);
    await assertAccepted(h.socketPath, true);
    await assertRefused(h.socketPath, false);
    for (const notTrue of [1, 'yes', { ok: true }, [true]]) await assertRefused(h.socketPath, notTrue);
  });

  it('an async hook is awaited, whether it resolves true or false', async function () {
    h.ipc.setAuthHandler(async (credentials) => {
      await sleep(40);
      return credentials === HOOK_SECRET;
    });
    await assertAccepted(h.socketPath, HOOK_SECRET);
    await assertRefused(h.socketPath, WRONG_TOKEN);
  });

  it('a hook that throws or rejects refuses without crashing, and the error is logged', async function () {
    const before = h.ipc.getStats().totals.authFailures;
    h.ipc.setAuthHandler(() => { throw new Error('user store offline'); });
    await assertRefused(h.socketPath, HOOK_SECRET);
    h.ipc.setAuthHandler(() => Promise.reject(new Error('user store timed out')));
    await assertRefused(h.socketPath, HOOK_SECRET);
    assert.strictEqual(h.ipc.getStats().totals.authFailures, before + 2);
    const log = readLog(h);
    assert.match(log, /\[auth_handler\].*user store offline/);
    assert.match(log, /\[auth_handler\].*user store timed out/);
    h.ipc.setAuthHandler(() => true);
    await assertAccepted(h.socketPath, 'anything');
  });

  it('closes a connection that does not authenticate within auth_timeout, with the hook set after startup', async function () {
    h.ipc.setAuthHandler((credentials) => credentials === HOOK_SECRET);
    const idle = await rawConnect(h.socketPath);
    const started = Date.now();
    const notice = await idle.next(3000);
    assert.deepStrictEqual({ ipcReqID: notice.ipcReqID, code: notice.code }, { ipcReqID: null, code: 'auth_timeout' });
    await idle.waitEnd();
    assert.ok(Date.now() - started >= 250, 'not before auth_timeout: ' + (Date.now() - started));
    idle.destroy();
  });

  it('a hook slower than auth_timeout ends in auth_timeout, and its late answer does no harm', async function () {
    let answered = false;
    h.ipc.setAuthHandler(async () => { await sleep(600); answered = true; return true; });
    const { client, reply } = await authenticate(h.socketPath, HOOK_SECRET);
    assert.strictEqual(reply.code, 'auth_timeout');
    await client.waitEnd();
    while (!answered) await sleep(20);
    await sleep(20);
    h.ipc.setAuthHandler(() => true);
    await assertAccepted(h.socketPath, 'server still fine');
    client.destroy();
  });

  it('setAuthHandler(null) turns the hook off again', async function () {
    h.ipc.setAuthHandler(() => false);
    await assertRefused(h.socketPath, { user: 'hooked', password: HOOK_SECRET });
    h.ipc.setAuthHandler(null);
    const client = await rawConnect(h.socketPath);
    await client.write({ ipcReqID: 'open', uri: ECHO, data: 'no auth needed' });
    assert.deepStrictEqual(await client.next(), { ipcReqID: 'open', data: 'no auth needed' });
    client.destroy();
    assertNoSecretsLogged(h);
  });
});

describe('auth: auth_tokens together with a hook', function () {
  let h;
  const hookCalls = [];
  before(async function () {
    h = await startServer({ auth_tokens: [TOKEN_A] }, { debug_level: 9 });
    h.ipc.setAuthHandler((credentials) => {
      hookCalls.push(credentials);
      return credentials && credentials.user === 'hooked' && credentials.password === HOOK_SECRET;
    });
  });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('accepts a configured token without asking the hook', async function () {
    await assertAccepted(h.socketPath, TOKEN_A);
    await assertAccepted(h.socketPath, { token: TOKEN_A });
    assert.deepStrictEqual(hookCalls, []);
  });

  it('asks the hook for anything else: its yes accepts, its no refuses', async function () {
    await assertAccepted(h.socketPath, { user: 'hooked', password: HOOK_SECRET });
    await assertRefused(h.socketPath, { user: 'hooked', password: WRONG_PASSWORD });
    await assertRefused(h.socketPath, WRONG_TOKEN);
    assert.deepStrictEqual(hookCalls, [
      { user: 'hooked', password: HOOK_SECRET },
      { user: 'hooked', password: WRONG_PASSWORD },
      WRONG_TOKEN,
    ]);
    assertNoSecretsLogged(h);
  });
});

describe('auth: auth_timeout', function () {
  let h;
  before(async function () { h = await startServer({ auth_tokens: [TOKEN_A], auth_timeout: 200 }); });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('closes an unauthenticated connection after auth_timeout, even one that keeps sending requests', async function () {
    const reasons = [];
    const onDisconnect = (connection, reason) => reasons.push(reason);
    h.ipc.on('disconnect', onDisconnect);
    const silent = await rawConnect(h.socketPath);
    const chatty = await rawConnect(h.socketPath);
    const authed = (await authenticate(h.socketPath, TOKEN_A)).client;
    const started = Date.now();
    // The chatty one is answered with access each time, and that does not count as authenticating.
    for (let i = 0; i < 20 && !chatty.ended; i++) {
      await chatty.write({ ipcReqID: i, uri: ECHO, data: i });
      await sleep(25);
    }
    for (const client of [silent, chatty]) {
      const notice = client.lines.find((m) => m.code === 'auth_timeout');
      assert.ok(notice, 'auth_timeout line received');
      assert.strictEqual(notice.ipcReqID, null);
      assert.match(notice.message, /200/);
      await client.waitEnd();
    }
    assert.ok(chatty.lines.some((m) => m.code === 'access'));
    assert.ok(Date.now() - started >= 180);
    // The authenticated connection, silent all along, is still open and served.
    assert.strictEqual(authed.ended, false);
    await authed.write({ ipcReqID: 'still', uri: ECHO, data: 'here' });
    assert.deepStrictEqual(await authed.next(), { ipcReqID: 'still', data: 'here' });
    h.ipc.removeListener('disconnect', onDisconnect);
    assert.deepStrictEqual(reasons, ['auth_timeout', 'auth_timeout']);
    for (const client of [silent, chatty, authed]) client.destroy();
  });

  it('a Node client with the token is not closed by auth_timeout', async function () {
    const client = new IPCClient(h.socketPath, null, { auth: TOKEN_A, autoReconnect: 0 });
    let disconnected = false;
    client.on('disconnect', () => { disconnected = true; });
    await client.connect();
    await sleep(400);
    assert.strictEqual(disconnected, false);
    assert.strictEqual(await client.send(ECHO, 'alive'), 'alive');
    await client.close();
  });
});
