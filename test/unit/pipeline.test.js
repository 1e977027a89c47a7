'use strict';
// The request pipeline and its dispatcher, one call at a time: gates, handler
// and middleware styles, and the single answer each call gets.
const assert = require('assert');
const { performance } = require('perf_hooks');
const { Pipeline } = require('../../dist/lib/pipeline');
const { Call } = require('../../dist/lib/call');
const { Router } = require('../../dist/lib/router');
const { ServerStats } = require('../../dist/lib/stats');
const { Authenticator } = require('../../dist/lib/auth');
const { sleep, waitFor } = require('../helpers/wait');

/** Stands in for a Connection: records the answers the pipeline hands it. */
class AnswerSink {
  constructor(authenticated = true) {
    this.id = 1;
    this.transport = 'unix';
    this.authenticated = authenticated;
    this.answers = [];
    this.closedWith = null;
    this.isOpen = true;
    this.peer = null;
    this.remoteAddress = null;
    this.readingStopped = false;
  }

  stopReading() { this.readingStopped = true; }

  destroy(reason) { this.closedWith = this.closedWith || reason; this.isOpen = false; }

  answer(call, line, isError) {
    this.answers.push({ id: call.request.ipcReqID, line: line && JSON.parse(line), isError });
  }

  close(reason) { this.closedWith = reason; this.isOpen = false; }
}

function setup() {
  const router = new Router();
  const stats = new ServerStats();
  const logged = [];
  const log = {
    debug: () => {},
    error: (code, message) => logged.push({ code, message }),
  };
  const pipeline = new Pipeline(router, stats, log);
  const connection = new AnswerSink();
  let n = 0;
  const send = (uri, data, extra = {}, on = connection) => {
    const request = { ipcReqID: 'r' + n++, uri, data, noReply: false, connection: on, ...extra };
    const line = JSON.stringify(request, (key, value) => (key === 'connection' ? undefined : value));
    const call = new Call(request, on, performance.now(), Buffer.byteLength(line));
    pipeline.receive(call);
    return call;
  };
  return { router, stats, logged, pipeline, connection, send };
}

describe('pipeline: handlers', function () {
  it('answers through the callback, a return value, or a promise', async function () {
    const { router, connection, send } = setup();
    router.add('/cb', 'cb', (request, callback) => callback({ via: 'callback', data: request.data }));
    router.add('/ret', 'ret', (request) => ({ via: 'return' }));
    router.add('/async', 'async', async () => ({ via: 'promise' }));
    router.add('/async-cb', 'asyncCb', async (request, callback) => { setTimeout(() => callback('later'), 5); });
    send('/cb', 1);
    send('/ret');
    send('/async');
    send('/async-cb');
    await waitFor(() => connection.answers.length === 4, 'four answers');
    assert.deepStrictEqual(connection.answers.map((a) => a.line), [
      { ipcReqID: 'r0', data: { via: 'callback', data: 1 } },
      { ipcReqID: 'r1', data: { via: 'return' } },
      { ipcReqID: 'r2', data: { via: 'promise' } },
      { ipcReqID: 'r3', data: 'later' },
    ]);
  });

  it('turns throws and rejections into error answers with their code (default handler_error) and logs them', async function () {
    const { router, connection, send, logged } = setup();
    router.add('/throw', 'thrower', () => { throw new Error('boom'); });
    router.add('/reject', 'rejecter', async () => { throw Object.assign(new Error('nope'), { code: 'my_code' }); });
    router.add('/string', 'stringer', () => { throw 'plain string'; }); // eslint-disable-line no-throw-literal
    send('/throw');
    send('/reject');
    send('/string');
    await waitFor(() => connection.answers.length === 3, 'three answers');
    const inOrder = connection.answers.slice().sort((a, b) => a.id.localeCompare(b.id));
    assert.deepStrictEqual(inOrder.map((a) => [a.line.code, a.line.message, a.isError]), [
      ['handler_error', 'boom', true], ['my_code', 'nope', true], ['handler_error', 'plain string', true],
    ]);
    assert.deepStrictEqual(logged.map((l) => l.code), ['handler_error', 'handler_error', 'handler_error']);
    assert.ok(logged.some((l) => /thrower failed on \/throw: boom/.test(l.message)));
  });

  it('sends one answer when a callback is called twice, and logs the second call', function () {
    const { router, connection, send, logged } = setup();
    router.add('/twice', 'twice', (request, callback) => { callback(1); callback(2); });
    send('/twice');
    assert.deepStrictEqual(connection.answers.map((a) => a.line.data), [1]);
    assert.deepStrictEqual(logged.map((l) => l.code), ['callback_twice']);
  });

  it('answers an unserializable result with handler_error', function () {
    const { router, connection, send } = setup();
    router.add('/big', 'bigint', () => ({ n: 1n }));
    send('/big');
    assert.strictEqual(connection.answers[0].line.code, 'handler_error');
    assert.match(connection.answers[0].line.message, /could not be serialized/);
  });

  it('routes unmatched uris to the default handler (a success carrying no_handler_found), which can be replaced', function () {
    const { pipeline, connection, send, logged } = setup();
    send('/nothing/here');
    assert.deepStrictEqual(connection.answers[0].line.data, { code: 'no_handler_found', message: 'No handler found for /nothing/here' });
    assert.strictEqual(connection.answers[0].isError, false);
    assert.deepStrictEqual(logged.map((l) => l.code), ['no_handler_found']);
    pipeline.dispatcher.defaultRoute = { pattern: '', name: 'Mine', handler: (request, callback) => callback('mine') };
    send('/nothing/here');
    assert.strictEqual(connection.answers[1].line.data, 'mine');
  });

  it('hands a noReply request\'s answer over without a line', function () {
    const { router, connection, send } = setup();
    router.add('/n', 'n', (request, callback) => callback('unseen'));
    send('/n', null, { noReply: true });
    send('/nope', null, { noReply: true });
    assert.deepStrictEqual(connection.answers.map((a) => [a.line, a.isError]), [[null, false], [null, false]]);
  });
});

describe('pipeline: middleware', function () {
  it('next() passes on, next(null, data) answers, next(err) rejects, in registration order', function () {
    const { router, pipeline, connection, send } = setup();
    const order = [];
    router.add('/h', 'h', (request, callback) => { order.push('handler'); callback('from handler'); });
    pipeline.dispatcher.middleware.push((request, next) => { order.push('first'); next(); });
    pipeline.dispatcher.middleware.push((request, next) => {
      order.push('second');
      if (request.data === 'answer') next(null, 'from middleware');
      else if (request.data === 'reject') next(Object.assign(new Error('denied'), { code: 'forbidden' }));
      else next();
    });
    send('/h', 'pass');
    send('/h', 'answer');
    send('/h', 'reject');
    assert.deepStrictEqual(order, ['first', 'second', 'handler', 'first', 'second', 'first', 'second']);
    assert.deepStrictEqual(connection.answers.map((a) => a.line.data ?? a.line.code), ['from handler', 'from middleware', 'forbidden']);
  });

  it('an async middleware that resolves without calling next() passes the request on; one that rejects is next(err)', async function () {
    const { router, pipeline, connection, send, logged } = setup();
    router.add('/h', 'h', () => 'reached');
    pipeline.dispatcher.middleware.push(async (request) => {
      await sleep(1);
      if (request.data === 'deny') throw Object.assign(new Error('no'), { code: 'forbidden' });
    });
    send('/h', 'ok');
    send('/h', 'deny');
    await waitFor(() => connection.answers.length === 2, 'two answers');
    const byId = Object.fromEntries(connection.answers.map((a) => [a.id, a.line]));
    assert.deepStrictEqual(byId.r0, { ipcReqID: 'r0', data: 'reached' });
    assert.strictEqual(byId.r1.code, 'forbidden');
    assert.strictEqual(logged.length, 1, 'the rejection is logged');
  });

  it('an async middleware that calls next() and then resolves runs the handler once', async function () {
    const { router, pipeline, connection, send } = setup();
    let runs = 0;
    router.add('/h', 'h', () => { runs++; return runs; });
    pipeline.dispatcher.middleware.push(async (request, next) => { next(); });
    send('/h');
    await sleep(10);
    assert.strictEqual(runs, 1);
    assert.strictEqual(connection.answers.length, 1);
  });

  it('a plain middleware that returns without next() holds the request until it calls next()', async function () {
    const { router, pipeline, connection, send } = setup();
    router.add('/h', 'h', () => 'done');
    let release;
    pipeline.dispatcher.middleware.push((request, next) => { release = next; });
    send('/h');
    await sleep(10);
    assert.strictEqual(connection.answers.length, 0);
    release();
    assert.deepStrictEqual(connection.answers.map((a) => a.line.data), ['done']);
  });

  it('a throwing middleware rejects the request and logs it', function () {
    const { pipeline, connection, send, logged } = setup();
    pipeline.dispatcher.middleware.push(function guard() { throw new Error('guard down'); });
    send('/h');
    assert.strictEqual(connection.answers[0].line.code, 'handler_error');
    assert.match(logged[0].message, /guard failed/);
  });
});

describe('pipeline: gates', function () {
  it('answers shutting_down once closing, before anything else runs', function () {
    const { router, pipeline, connection, send } = setup();
    let ran = false;
    router.add('/h', 'h', () => { ran = true; return 1; });
    pipeline.closing = true;
    send('/h');
    send('/ipcserver/auth', 'token');
    assert.deepStrictEqual(connection.answers.map((a) => a.line.code), ['shutting_down', 'shutting_down']);
    assert.strictEqual(ran, false);
  });

  it('answers access to an unauthenticated connection and runs nothing', function () {
    const { router, pipeline, send } = setup();
    pipeline.authenticator = new Authenticator(['tok']);
    let ran = false;
    router.add('/h', 'h', () => { ran = true; return 1; });
    const stranger = new AnswerSink(false);
    send('/h', null, {}, stranger);
    assert.deepStrictEqual(stranger.answers.map((a) => a.line.code), ['access']);
    assert.strictEqual(stranger.closedWith, null, 'the connection may still authenticate');
    assert.strictEqual(ran, false);
  });

  it('holds requests behind a pending credential check and serves them in order once it passes', async function () {
    const { router, pipeline, send } = setup();
    const authenticator = new Authenticator();
    let approve;
    authenticator.setHook(() => new Promise((resolve) => { approve = resolve; }));
    pipeline.authenticator = authenticator;
    router.add('/h', 'h', (request) => request.data);
    const client = new AnswerSink(false);
    send('/ipcserver/auth', 'creds', {}, client);
    send('/h', 'one', {}, client);
    send('/h', 'two', {}, client);
    await sleep(5);
    assert.strictEqual(client.answers.length, 0, 'nothing is answered before the check');
    approve(true);
    await waitFor(() => client.answers.length === 3, 'three answers');
    assert.deepStrictEqual(client.answers.map((a) => a.line.data), [{ authenticated: true }, 'one', 'two']);
    assert.strictEqual(client.authenticated, true);
  });

  it('refuses wrong credentials and everything behind them with access, counts it, and closes', async function () {
    const { router, pipeline, stats, send, logged } = setup();
    pipeline.authenticator = new Authenticator(['right']);
    let ran = false;
    router.add('/h', 'h', () => { ran = true; return 1; });
    const client = new AnswerSink(false);
    send('/ipcserver/auth', 'wrong', {}, client);
    send('/h', null, {}, client);
    await waitFor(() => client.answers.length === 2, 'two answers');
    assert.deepStrictEqual(client.answers.map((a) => a.line.code), ['access', 'access']);
    assert.strictEqual(client.closedWith, 'access');
    assert.strictEqual(client.readingStopped, true, 'nothing more is read after wrong credentials');
    assert.strictEqual(client.authenticated, false);
    assert.strictEqual(stats.totals.authFailures, 1);
    assert.strictEqual(ran, false);
    assert.ok(!logged.some((l) => /wrong/.test(l.message)), 'the secret is not logged');
  });

  it('a failing auth hook refuses and is logged', async function () {
    const { pipeline, send, logged } = setup();
    const authenticator = new Authenticator();
    authenticator.setHook(async () => { throw new Error('directory down'); });
    pipeline.authenticator = authenticator;
    const client = new AnswerSink(false);
    send('/ipcserver/auth', 'x', {}, client);
    await waitFor(() => client.answers.length === 1, 'the answer');
    assert.strictEqual(client.answers[0].line.code, 'access');
    assert.ok(logged.some((l) => l.code === 'auth_handler' && /directory down/.test(l.message)));
  });

  it('accepts any credentials when authentication is off', function () {
    const { send, connection } = setup();
    send('/ipcserver/auth', 'whatever');
    assert.deepStrictEqual(connection.answers[0].line.data, { authenticated: true });
  });
});

describe('pipeline: settling', function () {
  it('settles a call once, handing onSettled the handler name, error flag, time taken and answer length', async function () {
    const { router, pipeline, connection, send } = setup();
    const seen = [];
    pipeline.onSettled = (call, isError, ms, answerLength, slow) => seen.push({ name: call.handlerName, isError, ms, answerLength, slow, settled: call.settled });
    router.add('/slow', 'slowOne', (request, callback) => setTimeout(() => callback('x'), 30));
    router.add('/fail', 'failing', () => { throw new Error('no'); });
    const call = send('/slow');
    send('/missing');
    send('/fail');
    await waitFor(() => connection.answers.length === 3, 'three answers');
    assert.strictEqual(call.settled, true);
    const byName = Object.fromEntries(seen.map((s) => [s.name, s]));
    assert.ok(byName.slowOne.ms >= 25, JSON.stringify(byName.slowOne));
    assert.strictEqual(byName.slowOne.isError, false);
    assert.strictEqual(byName.slowOne.answerLength, '{"ipcReqID":"r0","data":"x"}\n'.length);
    assert.strictEqual(byName.failing.isError, true);
    assert.strictEqual(seen.length, 3);
    assert.ok(seen.every((s) => s.settled === true));
  });

  it('counts slow answers past slowThresholdMs', async function () {
    const { router, pipeline, stats, connection, send } = setup();
    pipeline.slowThresholdMs = 30;
    router.add('/wait', 'wait', (request, callback) => {
      if (request.data === 0) callback(0); // at once: never slow, however loaded the machine
      else setTimeout(() => callback(1), request.data);
    });
    send('/wait', 0);
    send('/wait', 60);
    await waitFor(() => connection.answers.length === 2, 'two answers');
    assert.strictEqual(stats.totals.slowResponses, 1);
    assert.strictEqual(stats.interval.slowResponses, 1);
  });
});
