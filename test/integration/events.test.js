'use strict';
// Beyond request/response, through the real socket: connect/disconnect events,
// the connection list, pushes from handlers, deferred answers, broadcast,
// middleware, fire-and-forget requests, and requests without an id.
const assert = require('assert');
const { startServer, cleanupTempDirs } = require('../helpers/harness');
const { rawConnect } = require('../helpers/raw');
const { sleep, waitFor } = require('../helpers/wait');
const IPCClient = require('pixl-ipc/client');

const ECHO = '/ipcserver/test/echo';

/** Records the component's connect and disconnect events until stop(). */
function recordEvents(ipc) {
  const rec = { connects: [], disconnects: [] };
  const onConnect = (connection) => rec.connects.push(connection);
  const onDisconnect = (connection, reason) => rec.disconnects.push({ connection, reason });
  ipc.on('connect', onConnect);
  ipc.on('disconnect', onDisconnect);
  rec.stop = () => {
    ipc.removeListener('connect', onConnect);
    ipc.removeListener('disconnect', onDisconnect);
  };
  return rec;
}

/** A raw client that has made one request, so the server knows its userAgent. */
async function rawWithAgent(target, userAgent) {
  const client = await rawConnect(target);
  await client.write({ ipcReqID: 'hello', uri: ECHO, userAgent, pid: 4000 });
  assert.strictEqual((await client.next()).ipcReqID, 'hello');
  return client;
}

describe('events: connect and disconnect', function () {
  let h;
  before(async function () {
    h = await startServer();
    h.ipc.on('connect', (connection) => { connection.state.greeting = 'hello #' + connection.id; });
    h.ipc.addURIHandler('/ev/whoami', 'whoami', (request) => ({ id: request.connection.id, greeting: request.connection.state.greeting }));
  });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('emits connect with the new connection before its first request, and disconnect "client" when the client closes', async function () {
    const rec = recordEvents(h.ipc);
    const client = new IPCClient(h.socketPath, null, { autoReconnect: 0 });
    await client.connect();
    const me = await client.send('/ev/whoami');
    await waitFor(() => rec.connects.length === 1, 'connect event');
    const connection = rec.connects[0];
    assert.strictEqual(connection.transport, 'unix');
    assert.strictEqual(connection.id, me.id);
    assert.strictEqual(me.greeting, 'hello #' + me.id, 'state set in the connect listener is seen by the handler');
    assert.ok(h.ipc.getConnections().includes(connection));
    assert.strictEqual(rec.disconnects.length, 0);
    await client.close();
    await waitFor(() => rec.disconnects.length === 1, 'disconnect event');
    assert.strictEqual(rec.disconnects[0].connection, connection, 'the same object as in connect');
    assert.strictEqual(rec.disconnects[0].reason, 'client');
    assert.ok(!h.ipc.getConnections().includes(connection));
    assert.strictEqual(connection.isOpen, false);
    rec.stop();
  });

  it('gives every connection its own id, and "client" to a raw client that ends its side', async function () {
    const rec = recordEvents(h.ipc);
    const a = await rawConnect(h.socketPath);
    const b = await rawConnect(h.socketPath);
    await waitFor(() => rec.connects.length === 2, 'two connects');
    assert.notStrictEqual(rec.connects[0].id, rec.connects[1].id);
    a.socket.end();
    await waitFor(() => rec.disconnects.length === 1, 'disconnect of a');
    assert.strictEqual(rec.disconnects[0].reason, 'client');
    b.destroy();
    await waitFor(() => rec.disconnects.length === 2, 'disconnect of b');
    a.destroy();
    rec.stop();
  });

  it('closeConnections() ends every client with the reason "server"', async function () {
    const rec = recordEvents(h.ipc);
    const a = await rawConnect(h.socketPath);
    const b = await rawConnect(h.socketPath);
    await waitFor(() => rec.connects.length === 2, 'two connects');
    h.ipc.closeConnections();
    await a.waitEnd();
    await b.waitEnd();
    a.destroy();
    b.destroy();
    await waitFor(() => rec.disconnects.length === 2, 'two disconnects');
    assert.deepStrictEqual(rec.disconnects.map((d) => d.reason), ['server', 'server']);
    assert.deepStrictEqual(rec.disconnects.map((d) => d.connection.id).sort(), rec.connects.map((c) => c.id).sort());
    assert.strictEqual(h.ipc.getConnections().length, 0);
    rec.stop();
  });

  it('reports "idle_timeout" for an idle client and "shutdown" for those open when the server stops', async function () {
    const other = await startServer({ idle_timeout: 150, exit_timeout: 200 });
    const rec = recordEvents(other.ipc);
    const idle = await rawConnect(other.socketPath);
    await idle.next(2000); // the idle_timeout notice
    await idle.waitEnd();
    await waitFor(() => rec.disconnects.length === 1, 'idle disconnect');
    assert.strictEqual(rec.disconnects[0].reason, 'idle_timeout');
    const open = await rawConnect(other.socketPath);
    await waitFor(() => rec.connects.length === 2, 'second connect');
    await other.stop();
    await open.waitEnd();
    assert.deepStrictEqual(rec.disconnects.map((d) => d.reason), ['idle_timeout', 'shutdown']);
    idle.destroy();
    open.destroy();
    rec.stop();
  });
});

describe('events: the connection list, pushes and deferred answers', function () {
  let h;
  const held = [];
  before(async function () {
    h = await startServer();
    // Answers now, pushes later: a subscription.
    h.ipc.addURIHandler('/ev/subscribe', 'subscribe', (request, callback) => {
      const { every, count } = request.data;
      callback({ subscribed: true });
      let n = 0;
      const timer = setInterval(() => {
        n++;
        request.connection.push('/ev/tick', { n });
        if (n === count) clearInterval(timer);
      }, every);
    });
    // Holds its answer until /ev/release.
    h.ipc.addURIHandler('/ev/hold', 'hold', (request, callback) => { held.push({ request, callback }); });
    h.ipc.addURIHandler('/ev/release', 'release', (request, callback) => {
      const count = held.length;
      for (const { request: waiting, callback: answer } of held.splice(0)) answer({ released: waiting.data });
      callback({ count });
    });
  });
  after(async function () { await h.stop(); cleanupTempDirs(); });

  it('getConnections() lists each client with id, pid, userAgent, connected time and its own counters', async function () {
    const before = Date.now();
    const client = new IPCClient(h.socketPath, null, { userAgent: 'EventsSpec/2.0', autoReconnect: 0 });
    await client.connect();
    const after = Date.now();
    const raw = await rawConnect(h.socketPath);
    await waitFor(() => h.ipc.getConnections().length === 2, 'two connections');
    const [mine, rawOne] = h.ipc.getConnections();
    assert.strictEqual(mine.pid, null, 'unknown until the client sends a request');
    assert.strictEqual(mine.userAgent, null);
    for (let i = 0; i < 3; i++) assert.strictEqual(await client.send(ECHO, i), i);
    await assert.rejects(client.send('/ipcserver/test/delay', { delay: -1 }), { code: 'bad_delay' });
    assert.strictEqual(mine.push('/ev/hi', 'there'), true);
    await waitFor(() => client.getStats().pushes === 1, 'the push');

    const entry = JSON.parse(JSON.stringify(mine)); // toJSON: what a status page would show
    assert.strictEqual(entry.id, mine.id);
    assert.strictEqual(entry.transport, 'unix');
    assert.strictEqual(entry.pid, process.pid);
    assert.strictEqual(entry.userAgent, 'EventsSpec/2.0');
    assert.ok(entry.connectedAt >= before && entry.connectedAt <= after, 'connectedAt ' + entry.connectedAt);
    assert.strictEqual(entry.authenticated, true);
    assert.strictEqual(entry.inFlight, 0);
    assert.strictEqual(entry.counters.requests, 4);
    assert.strictEqual(entry.counters.responses, 4);
    assert.strictEqual(entry.counters.errors, 1);
    assert.strictEqual(entry.counters.pushes, 1);
    assert.strictEqual(entry.counters.droppedResponses, 0);
    // The server's byte counts are the client's, the other way round.
    const clientStats = client.getStats();
    assert.strictEqual(entry.counters.bytesIn, clientStats.bytesOut);
    assert.strictEqual(entry.counters.bytesOut, clientStats.bytesIn);
    // The other connection has its own counters, untouched by this client's traffic.
    const other = rawOne.toJSON();
    assert.notStrictEqual(other.id, entry.id);
    assert.deepStrictEqual([other.pid, other.userAgent, other.counters.requests, other.counters.bytesIn], [null, null, 0, 0]);
    await client.close();
    raw.destroy();
    await waitFor(() => h.ipc.getConnections().length === 0, 'both gone');
  });

  it('a handler pushes to its connection later; the line has no ipcReqID and the Node client emits it as data', async function () {
    const client = new IPCClient(h.socketPath, null, { autoReconnect: 0 });
    const data = [];
    client.on('data', (message) => data.push(message));
    await client.connect();
    const pushesBefore = h.ipc.getStats().totals.pushes;
    assert.deepStrictEqual(await client.send('/ev/subscribe', { every: 20, count: 3 }), { subscribed: true });
    assert.strictEqual(data.length, 0, 'nothing pushed yet when the answer arrives');
    await waitFor(() => data.length === 3, 'three pushes');
    assert.deepStrictEqual(data, [1, 2, 3].map((n) => ({ uri: '/ev/tick', data: { n } })));
    assert.strictEqual(h.ipc.getStats().totals.pushes, pushesBefore + 3);
    // Requests still work between and after pushes.
    assert.strictEqual(await client.send(ECHO, 'after'), 'after');
    await client.close();
  });

  it('a push on the wire is {uri, data} without ipcReqID, and push() on a closed connection returns false', async function () {
    const raw = await rawConnect(h.socketPath);
    await raw.write({ ipcReqID: 's', uri: '/ev/subscribe', data: { every: 10, count: 2 } });
    assert.deepStrictEqual(await raw.next(), { ipcReqID: 's', data: { subscribed: true } });
    const pushes = await raw.take(2);
    for (const push of pushes) assert.ok(!('ipcReqID' in push), 'no ipcReqID field: ' + JSON.stringify(push));
    assert.deepStrictEqual(pushes, [{ uri: '/ev/tick', data: { n: 1 } }, { uri: '/ev/tick', data: { n: 2 } }]);
    const [connection] = h.ipc.getConnections();
    assert.strictEqual(connection.push('/ev/bare'), true);
    assert.deepStrictEqual(await raw.next(), { uri: '/ev/bare' });
    raw.destroy();
    await waitFor(() => h.ipc.getConnections().length === 0, 'closed');
    assert.strictEqual(connection.push('/ev/too-late', 1), false);
    assert.strictEqual(connection.counters.pushes, 3);
  });

  it('a held answer waits while later requests on the same connection are answered first', async function () {
    const raw = await rawConnect(h.socketPath);
    await raw.write([
      { ipcReqID: 'h1', uri: '/ev/hold', data: 'first' },
      { ipcReqID: 'e1', uri: ECHO, data: 1 },
      { ipcReqID: 'd1', uri: '/ipcserver/test/delay', data: { delay: 20 } },
      { ipcReqID: 'e2', uri: ECHO, data: 2 },
    ].map((m) => JSON.stringify(m) + '\n').join(''));
    const early = await raw.take(3);
    assert.deepStrictEqual(early.map((m) => m.ipcReqID), ['e1', 'e2', 'd1']);
    assert.strictEqual(held.length, 1);
    assert.strictEqual(h.ipc.getConnections()[0].inFlight, 1, 'the held request is still in flight');
    assert.strictEqual(h.ipc.getStats().inFlight, 1);
    await sleep(50);
    assert.strictEqual(raw.lines.length, 0, 'no answer for h1 yet');
    await raw.write({ ipcReqID: 'r1', uri: '/ev/release' });
    assert.deepStrictEqual(await raw.take(2), [
      { ipcReqID: 'h1', data: { released: 'first' } },
      { ipcReqID: 'r1', data: { count: 1 } },
    ]);
    assert.strictEqual(h.ipc.getConnections()[0].inFlight, 0);
    raw.destroy();
  });

  it('a held answer goes to its own connection, not to the one that released it', async function () {
    const holder = await rawConnect(h.socketPath);
    const releaser = await rawConnect(h.socketPath);
    await holder.write({ ipcReqID: 'mine', uri: '/ev/hold', data: 'x' });
    await waitFor(() => held.length === 1, 'held');
    await releaser.write({ ipcReqID: 'go', uri: '/ev/release' });
    assert.deepStrictEqual(await releaser.next(), { ipcReqID: 'go', data: { count: 1 } });
    assert.deepStrictEqual(await holder.next(), { ipcReqID: 'mine', data: { released: 'x' } });
    await sleep(20);
    assert.strictEqual(releaser.lines.length, 0);
    holder.destroy();
    releaser.destroy();
  });
});

describe('events: broadcast', function () {
  let h;
  let alpha;
  let beta;
  let gamma;
  let gammaData;
  let stranger;
  before(async function () {
    h = await startServer({ auth_tokens: ['bc-token'] });
    alpha = await rawConnect(h.socketPath);
    beta = await rawConnect(h.socketPath);
    for (const [client, userAgent] of [[alpha, 'alpha'], [beta, 'beta']]) {
      await client.write({ ipcReqID: 'a', uri: '/ipcserver/auth', data: 'bc-token', userAgent });
      assert.deepStrictEqual(await client.next(), { ipcReqID: 'a', data: { authenticated: true } });
    }
    gamma = new IPCClient(h.socketPath, null, { auth: 'bc-token', userAgent: 'gamma', autoReconnect: 0 });
    gammaData = [];
    gamma.on('data', (message) => gammaData.push(message));
    await gamma.connect();
    // Connected but not authenticated: broadcasts skip it.
    stranger = await rawConnect(h.socketPath);
    await waitFor(() => h.ipc.getConnections().length === 4, 'four connections');
  });
  after(async function () {
    alpha.destroy();
    beta.destroy();
    stranger.destroy();
    await gamma.close();
    await h.stop();
    cleanupTempDirs();
  });

  it('reaches every authenticated client and returns how many', async function () {
    assert.strictEqual(h.ipc.broadcast('/ev/all', { v: 1 }), 3);
    assert.deepStrictEqual(await alpha.next(), { uri: '/ev/all', data: { v: 1 } });
    assert.deepStrictEqual(await beta.next(), { uri: '/ev/all', data: { v: 1 } });
    await waitFor(() => gammaData.length === 1, 'gamma data event');
    assert.deepStrictEqual(gammaData.shift(), { uri: '/ev/all', data: { v: 1 } });
  });

  it('with a filter reaches only the connections it keeps', async function () {
    const seen = [];
    const count = h.ipc.broadcast('/ev/beta-only', 'b', (connection) => {
      seen.push(connection.userAgent);
      return connection.userAgent === 'beta';
    });
    assert.strictEqual(count, 1);
    assert.deepStrictEqual(seen.sort(), ['alpha', 'beta', 'gamma'], 'the filter sees only authenticated connections');
    assert.strictEqual(h.ipc.broadcast('/ev/nobody', 'n', () => false), 0);
    // A final broadcast to all marks the end: each client's next line shows what came before it.
    assert.strictEqual(h.ipc.broadcast('/ev/marker'), 3);
    assert.deepStrictEqual(await beta.take(2), [{ uri: '/ev/beta-only', data: 'b' }, { uri: '/ev/marker' }]);
    assert.deepStrictEqual(await alpha.next(), { uri: '/ev/marker' });
    await waitFor(() => gammaData.length === 1, 'gamma marker');
    assert.deepStrictEqual(gammaData.splice(0), [{ uri: '/ev/marker' }]);
  });

  it('sends nothing to a connection that has not authenticated', async function () {
    await stranger.write({ ipcReqID: 'probe', uri: ECHO });
    const first = await stranger.next();
    assert.strictEqual(first.ipcReqID, 'probe', 'no broadcast arrived before this answer');
    assert.strictEqual(first.code, 'access');
  });
});

describe('events: middleware', function () {
  let h;
  const trace = [];
  const handled = [];
  const coded = (code, message) => Object.assign(new Error(message), { code });
  before(async function () {
    h = await startServer();
    const ipc = h.ipc;
    ipc.use(function stamp(request, next) {
      trace.push('stamp:' + request.uri);
      request.stamps = ['stamp'];
      next();
    });
    // A per-uri firewall: /admin/ only for the admin tool.
    ipc.use(function firewall(request, next) {
      if (request.uri.startsWith('/admin/') && request.userAgent !== 'admin-tool') {
        next(coded('forbidden', `${request.uri} is not allowed for ${request.userAgent || 'unknown clients'}`));
        return;
      }
      next();
    });
    ipc.use(function cache(request, next) {
      if (request.uri === '/mw/cached') next(null, { cached: true, stamps: request.stamps });
      else if (request.uri === '/mw/answer-nothing') next(null, undefined);
      else next();
    });
    ipc.use(async function failures(request, next) {
      switch (request.uri) {
        case '/mw/next-coded': return next(coded('quota', 'Quota exceeded for today'));
        case '/mw/next-string': return next('plain refusal');
        case '/mw/sync-throw': throw new Error('sync trouble');
        case '/mw/async-coded': await sleep(5); throw coded('upstream_down', 'Upstream is down');
        case '/mw/async-plain': await sleep(5); throw new Error('async trouble');
        case '/mw/slow-pass': await sleep(30); return next();
        default: return next();
      }
    });
    ipc.use(function last(request, next) {
      request.stamps.push('last');
      trace.push('last:' + request.uri);
      next();
    });
    const handler = (request, callback) => {
      handled.push(request.uri);
      callback({ uri: request.uri, stamps: request.stamps });
    };
    ipc.addURIHandler(/^\/mw\//, 'mw', handler);
    ipc.addURIHandler(/^\/admin\//, 'admin', handler);
  });
  after(async function () { await h.stop(); cleanupTempDirs(); });
  beforeEach(function () { trace.length = 0; handled.length = 0; });

  it('runs middleware in registration order, then the handler, which sees what they added', async function () {
    const client = await rawConnect(h.socketPath);
    await client.write({ ipcReqID: 1, uri: '/mw/plain' });
    assert.deepStrictEqual(await client.next(), { ipcReqID: 1, data: { uri: '/mw/plain', stamps: ['stamp', 'last'] } });
    assert.deepStrictEqual(trace, ['stamp:/mw/plain', 'last:/mw/plain']);
    assert.deepStrictEqual(handled, ['/mw/plain']);
    // An async middleware that waits and then calls next() passes the request on too.
    await client.write({ ipcReqID: 2, uri: '/mw/slow-pass' });
    assert.deepStrictEqual((await client.next()).data, { uri: '/mw/slow-pass', stamps: ['stamp', 'last'] });
    // Built-in handlers go through middleware as well.
    await client.write({ ipcReqID: 3, uri: ECHO, data: 'e' });
    assert.deepStrictEqual(await client.next(), { ipcReqID: 3, data: 'e' });
    assert.ok(trace.includes('last:' + ECHO));
    client.destroy();
  });

  it('next(null, data) answers without reaching the handler or later middleware', async function () {
    const client = await rawConnect(h.socketPath);
    await client.write({ ipcReqID: 'c', uri: '/mw/cached' });
    assert.deepStrictEqual(await client.next(), { ipcReqID: 'c', data: { cached: true, stamps: ['stamp'] } });
    await client.write({ ipcReqID: 'n', uri: '/mw/answer-nothing' });
    assert.deepStrictEqual(await client.next(), { ipcReqID: 'n' }, 'a success without data');
    assert.deepStrictEqual(handled, []);
    assert.deepStrictEqual(trace, ['stamp:/mw/cached', 'stamp:/mw/answer-nothing']);
    client.destroy();
  });

  it('next(err) and throwing middleware answer with the error\'s code, or handler_error, and the server keeps serving', async function () {
    const client = new IPCClient(h.socketPath, null, { autoReconnect: 0 });
    await client.connect();
    const expectations = [
      ['/mw/next-coded', 'quota', /^Quota exceeded for today$/],
      ['/mw/next-string', 'handler_error', /plain refusal/],
      ['/mw/sync-throw', 'handler_error', /sync trouble/],
      ['/mw/async-coded', 'upstream_down', /^Upstream is down$/],
      ['/mw/async-plain', 'handler_error', /async trouble/],
    ];
    for (const [uri, code, message] of expectations) {
      await assert.rejects(client.send(uri), (err) => {
        assert.strictEqual(err.code, code, uri);
        assert.match(err.message, message);
        return true;
      });
    }
    assert.deepStrictEqual(handled, [], 'no handler ran');
    assert.ok(!trace.some((t) => t.startsWith('last:')), 'no later middleware ran');
    assert.deepStrictEqual(await client.send('/mw/ok'), { uri: '/mw/ok', stamps: ['stamp', 'last'] });
    await client.close();
  });

  it('a firewall middleware refuses /admin/ to everyone but the admin tool', async function () {
    const app = new IPCClient(h.socketPath, null, { userAgent: 'web-app', autoReconnect: 0 });
    const admin = new IPCClient(h.socketPath, null, { userAgent: 'admin-tool', autoReconnect: 0 });
    await app.connect();
    await admin.connect();
    await assert.rejects(app.send('/admin/drop-cache'), (err) => err.code === 'forbidden' && /not allowed for web-app/.test(err.message));
    assert.deepStrictEqual(await app.send('/mw/open'), { uri: '/mw/open', stamps: ['stamp', 'last'] });
    assert.deepStrictEqual(await admin.send('/admin/drop-cache'), { uri: '/admin/drop-cache', stamps: ['stamp', 'last'] });
    assert.deepStrictEqual(handled, ['/mw/open', '/admin/drop-cache']);
    await app.close();
    await admin.close();
  });
});

describe('events: fire-and-forget and requests without an id', function () {
  let h;
  const notes = [];
  before(async function () {
    h = await startServer();
    h.ipc.addURIHandler('/ev/note', 'note', (request, callback) => {
      notes.push({ data: request.data, noReply: request.noReply });
      callback({ ignored: true });
    });
    h.ipc.addURIHandler('/ev/late-note', 'lateNote', (request, callback) => {
      setTimeout(() => { notes.push({ data: request.data, late: true }); callback('also ignored'); }, 40);
    });
    h.ipc.addURIHandler('/ev/throw', 'throw', () => { throw new Error('nobody hears this'); });
    h.ipc.addURIHandler('/ev/seen-id', 'seenId', (request) => ({ id: request.ipcReqID, n: request.data }));
  });
  after(async function () { await h.stop(); cleanupTempDirs(); });
  beforeEach(function () { notes.length = 0; });

  it('"noReply": true runs the handler and sends nothing back, not even errors; the next request is answered', async function () {
    const client = await rawConnect(h.socketPath);
    const before = h.ipc.getStats().totals;
    await client.write([
      { uri: '/ev/note', data: 1, noReply: true },
      { ipcReqID: 'nr', uri: '/ev/note', data: 2, noReply: true },
      { uri: '/ev/late-note', data: 3, noReply: true },
      { uri: '/ev/throw', noReply: true },
      { uri: '/no/such/uri', noReply: true },
      { noReply: true, data: 'no uri at all' },
      { ipcReqID: 'marker', uri: ECHO, data: 'marker' },
    ].map((m) => JSON.stringify(m) + '\n').join(''));
    assert.deepStrictEqual(await client.next(), { ipcReqID: 'marker', data: 'marker' }, 'the first line back is the marker');
    assert.deepStrictEqual(notes, [{ data: 1, noReply: true }, { data: 2, noReply: true }]);
    await waitFor(() => notes.length === 3, 'the late handler');
    await sleep(30);
    assert.strictEqual(client.lines.length, 0, 'nothing came back, even later: ' + JSON.stringify(client.lines));
    const after = h.ipc.getStats().totals;
    assert.strictEqual(after.notifications - before.notifications, 5, 'each routed noReply request is counted');
    assert.strictEqual(after.responses - before.responses, 5, 'the marker, three notes and no_handler_found (a success) ran to an answer');
    const connection = h.ipc.getConnections()[0];
    assert.strictEqual(connection.inFlight, 0);
    assert.strictEqual(connection.counters.responses, 1, 'only the marker was written');
    client.destroy();
  });

  it('the Node client\'s notify() is fire-and-forget on the wire and counted in totals.notifications', async function () {
    const client = new IPCClient(h.socketPath, null, { autoReconnect: 0 });
    await client.connect();
    const before = h.ipc.getStats().totals.notifications;
    assert.strictEqual(client.notify('/ev/note', 'from notify'), true);
    assert.strictEqual(await client.send(ECHO, 'then'), 'then');
    assert.deepStrictEqual(notes, [{ data: 'from notify', noReply: true }]);
    assert.strictEqual(h.ipc.getStats().totals.notifications, before + 1);
    assert.strictEqual(client.getStats().unknownResponses, 0, 'no stray answer arrived');
    await client.close();
  });

  it('answers requests without ipcReqID with "ipcReqID": null, one after another', async function () {
    const client = await rawConnect(h.socketPath);
    for (let n = 1; n <= 3; n++) {
      await client.write({ uri: '/ev/seen-id', data: n });
      const reply = await client.next();
      assert.deepStrictEqual(reply, { ipcReqID: null, data: { id: null, n } });
      assert.ok('ipcReqID' in reply, 'the field is present, set to null');
    }
    // Errors are answered the same way.
    await client.write({ uri: '/ev/throw' });
    const error = await client.next();
    assert.strictEqual(error.ipcReqID, null);
    assert.strictEqual(error.code, 'handler_error');
    client.destroy();
  });

  it('the handler sees noReply false for anything but a literal true, and ipcReqID null when missing, with or without fields of the line\'s own', async function () {
    const client = await rawConnect(h.socketPath);
    const lines = [];
    for (const extra of [{}, { custom: 'x' }]) {
      for (const noReply of ['true', 1, false, null, {}]) lines.push({ uri: '/ev/note', data: lines.length, noReply, ...extra });
      lines.push({ uri: '/ev/note', data: lines.length, ...extra });
    }
    for (const line of lines) {
      await client.write(line);
      assert.deepStrictEqual(await client.next(), { ipcReqID: null, data: { ignored: true } }, JSON.stringify(line));
    }
    assert.deepStrictEqual(notes, lines.map((line) => ({ data: line.data, noReply: false })));
    for (const extra of [{}, { custom: 'x' }]) {
      await client.write({ uri: '/ev/seen-id', data: 0, ...extra });
      assert.deepStrictEqual(await client.next(), { ipcReqID: null, data: { id: null, n: 0 } });
    }
    client.destroy();
  });
});
