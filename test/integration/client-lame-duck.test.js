'use strict';
// The Node client when its server goes away (issue 16, lame duck): goaway
// pushes and shutting_down answers. Against scripted servers (not pixl-ipc:
// test/helpers/scripted-server.js) that play an old daemon handing its socket
// path to a new one, so that the moment of the goaway is the test's choice.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { scriptedServer } = require('../helpers/scripted-server');
const { sleep, waitFor } = require('../helpers/wait');
const { LoggerStub } = require('../helpers/logger-stub');
const IPCClient = require('pixl-ipc/client');

const GOAWAY = { uri: '/ipcserver/goaway', data: { reason: 'handoff' } };
/** Returned by a daemon's `extra` hook: the request is taken care of, send nothing for it. */
const HANDLED = Symbol('handled');

/** Starts a scripted server on a private path, then moves its socket to `socketPath` (as a hand-off would). */
async function serveAt(socketPath, name, onRequest) {
  const own = path.join(path.dirname(socketPath), name + '.sock');
  const s = await scriptedServer(own, onRequest);
  fs.renameSync(own, socketPath);
  return s;
}

describe('client: lame duck (scripted servers, not pixl-ipc)', function () {
  let dir;
  let socketPath;
  const servers = [];
  beforeEach(function () {
    dir = makeTempDir();
    socketPath = path.join(dir, 'daemon.sock');
  });
  afterEach(async function () {
    while (servers.length) await servers.pop().close();
    cleanupTempDirs();
  });

  /** An old daemon that answers until it says goaway, then refuses with shutting_down (those requests never run). */
  async function oldDaemon(extra = () => undefined) {
    const state = { goingAway: false, ran: [], refused: [] };
    const s = await serveAt(socketPath, 'old', (request, connection) => {
      if (request.uri === '/ipcserver/cancel') return undefined;
      if (state.goingAway) {
        state.refused.push(request.data);
        connection.send({ ipcReqID: request.ipcReqID, code: 'shutting_down', message: 'Server is shutting down' });
        return undefined;
      }
      const special = extra(request, connection, state);
      if (special === HANDLED) return undefined;
      if (special !== undefined) return special;
      state.ran.push(request.data);
      return { by: 'old', echo: request.data };
    });
    servers.push(s);
    state.server = s;
    state.goaway = () => {
      state.goingAway = true;
      for (const c of s.connections) c.send(GOAWAY);
    };
    return state;
  }

  async function newDaemon() {
    const state = { ran: [] };
    const s = await serveAt(socketPath, 'new', (request) => {
      if (request.uri === '/ipcserver/cancel') return undefined;
      state.ran.push(request.data);
      return { by: 'new', echo: request.data };
    });
    servers.push(s);
    state.server = s;
    return state;
  }

  it('goaway: requests in flight are answered on the old connection, new ones go to the new server, none fails', async function () {
    const old = await oldDaemon((request, connection) => {
      if (request.data === 'slow') {
        setTimeout(() => connection.send({ ipcReqID: request.ipcReqID, data: { by: 'old', echo: 'slow' } }), 200);
        return HANDLED;
      }
      return undefined;
    });
    const client = new IPCClient(socketPath, null, { autoReconnect: 5000 });
    const events = [];
    for (const name of ['connect', 'reconnect', 'disconnect', 'connect_failed']) client.on(name, (arg) => events.push({ name, code: arg && arg.code }));
    await client.connect();
    assert.deepStrictEqual(await client.send('/x', 'first'), { by: 'old', echo: 'first' });
    const slow = client.send('/x', 'slow');
    await waitFor(() => old.server.lines.some((r) => r.data === 'slow'), 'the slow request to arrive');
    const fresh = await newDaemon();
    old.goaway();
    await waitFor(() => client.connectionState !== 'connected' || fresh.server.connections.length > 0, 'the client to react to goaway');
    const after = await Promise.all([1, 2, 3].map((n) => client.send('/x', 'after' + n)));
    assert.deepStrictEqual(after.map((a) => a.by), ['new', 'new', 'new']);
    assert.deepStrictEqual(await slow, { by: 'old', echo: 'slow' }, 'answered on the old connection');
    assert.deepStrictEqual(old.refused, [], 'nothing was sent to the old server after its goaway');
    // The old connection is closed by the client once nothing waits on it.
    await waitFor(() => old.server.connections[0].ended, 'the client to end the old connection');
    const codes = events.map((e) => e.name + (e.code ? ':' + e.code : ''));
    assert.deepStrictEqual(codes, ['connect', 'disconnect:shutting_down', 'connect', 'reconnect']);
    assert.strictEqual(client.getStats().errors, 0);
    await client.close();
  });

  it('requests that crossed the goaway come back shutting_down and are sent again to the new server', async function () {
    const old = await oldDaemon((request, connection, state) => {
      if (request.data === 'trigger') {
        // The daemon decides to stop on reading this request: goaway, then it refuses this one and what follows.
        state.goingAway = true;
        connection.send(GOAWAY);
        state.refused.push(request.data);
        connection.send({ ipcReqID: request.ipcReqID, code: 'shutting_down', message: 'Server is shutting down' });
        return HANDLED;
      }
      return undefined;
    });
    const client = new IPCClient(socketPath, null, { autoReconnect: 5000 });
    await client.connect();
    const fresh = await newDaemon();
    const sends = ['trigger', 'b1', 'b2', 'b3'].map((d) => client.send('/x', d));
    const answers = await Promise.all(sends);
    assert.deepStrictEqual(answers.map((a) => a.by), ['new', 'new', 'new', 'new']);
    assert.ok(old.refused.length >= 1 && old.refused[0] === 'trigger', 'the old server refused what crossed the goaway: ' + old.refused);
    assert.deepStrictEqual(old.ran, [], 'the old server ran none of them');
    assert.deepStrictEqual(fresh.ran.sort(), ['b1', 'b2', 'b3', 'trigger']);
    assert.strictEqual(client.getStats().resent, old.refused.length);
    assert.strictEqual(client.getStats().errors, 0);
    await client.close();
  });

  it('a shutting_down answer without a goaway (an older server) also moves the client and re-sends', async function () {
    await oldDaemon((request, connection, state) => {
      // Refuses everything from the first request on, and never says goaway.
      state.goingAway = true;
      connection.send({ ipcReqID: request.ipcReqID, code: 'shutting_down', message: 'Server is shutting down' });
      return HANDLED;
    });
    const client = new IPCClient(socketPath, null, { autoReconnect: 5000 });
    await client.connect();
    const fresh = await newDaemon();
    assert.deepStrictEqual(await client.send('/x', 'once'), { by: 'new', echo: 'once' });
    assert.deepStrictEqual(fresh.ran, ['once']);
    await client.close();
  });

  it('a server that keeps answering shutting_down: the answer is delivered after a few tries, without a reconnect storm', async function () {
    this.timeout(10000);
    const seen = [];
    const s = await serveAt(socketPath, 'stuck', (request, connection) => {
      seen.push({ at: Date.now(), data: request.data });
      connection.send({ ipcReqID: request.ipcReqID, code: 'shutting_down', message: 'still stopping' });
      return undefined;
    });
    servers.push(s);
    const client = new IPCClient(socketPath, null, { autoReconnect: 100, maxReconnectDelay: 200 });
    await client.connect();
    await assert.rejects(client.send('/x', 'doomed'), { code: 'shutting_down' });
    assert.strictEqual(seen.length, 4, 'sent once, then again 3 times');
    assert.ok(s.connections.length <= 5, `${s.connections.length} connections`);
    await client.close();
  });

  it('with autoReconnect off, goaway retires the connection and later sends fail with no_open_stream', async function () {
    const old = await oldDaemon();
    const client = new IPCClient(socketPath, null, { autoReconnect: false });
    await client.connect();
    old.goaway();
    await waitFor(() => client.connectionState === 'disconnected', 'the client to retire the connection');
    await assert.rejects(client.send('/x', 'late'), { code: 'no_open_stream' });
    assert.deepStrictEqual(old.refused, []);
    await client.close();
  });

  it('the old connection closing before its answers fails them with connection_closed, and the new one keeps working', async function () {
    const old = await oldDaemon((request) => (request.data === 'never' ? HANDLED : undefined));
    const client = new IPCClient(socketPath, new LoggerStub(), { autoReconnect: 5000 });
    await client.connect();
    const lost = client.send('/x', 'never');
    await waitFor(() => old.server.lines.some((r) => r.data === 'never'), 'the request to arrive');
    await newDaemon();
    old.goaway();
    assert.deepStrictEqual((await client.send('/x', 'fine')).by, 'new');
    old.server.connections[0].destroy();
    await assert.rejects(lost, { code: 'connection_closed' });
    assert.deepStrictEqual((await client.send('/x', 'still fine')).by, 'new');
    assert.strictEqual(client.isConnected, true);
    await client.close();
  });
});
