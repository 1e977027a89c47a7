'use strict';
// client/response-handler.ts: how the Node client reads each line the server sends.
const assert = require('assert');
const { ResponseHandler, answerError, authAccepted, authRefusal, closesConnection } = require('../../dist/client/response-handler');
const { PendingTable, PendingRequest } = require('../../dist/client/pending');
const { CLOSING_CODES } = require('../../dist/lib/protocol');

function setup() {
  const pending = new PendingTable(() => {}, () => 1000);
  const counters = { lateResponses: 0, unknownResponses: 0, pushes: 0, parts: 0 };
  const seen = [];
  const sink = {
    onPush: (m) => seen.push(['push', m]),
    onAuthAnswer: (m) => seen.push(['auth', m]),
    onAnswer: (entry, m) => seen.push(['answer', entry.id, m]),
    onPart: (entry, part) => seen.push(['part', entry.id, part]),
    onBadLine: (what) => seen.push(['bad', what]),
    onUnknownId: (id) => seen.push(['unknown', id]),
  };
  return { pending, counters, seen, handler: new ResponseHandler(pending, counters, sink) };
}

describe('client response handler', function () {
  it('routes answers by id, pushes by the absence of one, and the auth answer by its own id', function () {
    const { pending, counters, seen, handler } = setup();
    pending.add(new PendingRequest('rq0', 0, '/a', Infinity));
    pending.add(new PendingRequest('7', 1, '/b', Infinity));
    handler.authId = 'auth1';
    handler.handleLine('{"ipcReqID":"auth1","data":{"authenticated":true}}');
    handler.handleLine('{"ipcReqID":"rq0","data":1}');
    handler.handleLine('{"ipcReqID":7,"data":2}');
    handler.handleLine('{"uri":"/push","data":3}');
    handler.handleLine('{"ipcReqID":null,"code":"idle_timeout","message":"bye"}');
    assert.deepStrictEqual(seen.map((s) => s[0]), ['auth', 'answer', 'answer', 'push', 'push']);
    assert.strictEqual(seen[2][1], '7', 'a numeric id matches its string form');
    assert.strictEqual(handler.authId, null, 'the auth id is used once');
    // Answers are counted by whoever settles them (calls.ts), not here.
    assert.deepStrictEqual(counters, { lateResponses: 0, unknownResponses: 0, pushes: 2, parts: 0 });
    pending.stop();
  });

  it('parts of a streamed answer go to its stream and leave it waiting; the line without part ends it', function () {
    const { pending, counters, seen, handler } = setup();
    const entry = new PendingRequest('rq3', 0, '/s', Infinity);
    entry.stream = {};
    pending.add(entry);
    handler.handleLine('{"ipcReqID":"rq3","part":1}');
    handler.handleLine('{"ipcReqID":"rq3","part":null}');
    assert.strictEqual(pending.size, 1);
    handler.handleLine('{"ipcReqID":"rq3","data":{"total":2}}');
    assert.strictEqual(pending.size, 0);
    assert.deepStrictEqual(seen.map((s) => [s[0], s[2]]), [['part', 1], ['part', null], ['answer', { ipcReqID: 'rq3', data: { total: 2 } }]]);
    assert.strictEqual(counters.parts, 2);
    pending.stop();
  });

  it('a part for a request that does not stream is unknown; parts after a cancel are dropped quietly', function () {
    const { pending, counters, seen, handler } = setup();
    pending.add(new PendingRequest('rq4', 0, '/plain', Infinity));
    handler.handleLine('{"ipcReqID":"rq4","part":1}');
    assert.deepStrictEqual(seen.map((s) => s[0]), ['unknown']);
    pending.rememberAbandoned('rq5');
    handler.handleLine('{"ipcReqID":"rq5","part":1}');
    handler.handleLine('{"ipcReqID":"rq5","part":2}');
    handler.handleLine('{"ipcReqID":"rq5","code":"cancelled","message":"x"}');
    assert.strictEqual(seen.length, 1, 'nothing more reported');
    assert.strictEqual(counters.lateResponses, 1, 'the final answer is the late one');
    assert.strictEqual(counters.unknownResponses, 1);
    pending.stop();
  });

  it('counts late answers quietly and reports unknown ids and bad lines', function () {
    const { pending, counters, seen, handler } = setup();
    pending.add(new PendingRequest('rq1', 0, '/a', Infinity));
    pending.take('rq1');
    pending.rememberAbandoned('rq1');
    handler.handleLine('{"ipcReqID":"rq1","code":"cancelled","message":"x"}');
    handler.handleLine('{"ipcReqID":"rq2","data":1}');
    handler.handleLine('not json');
    handler.handleLine('[1]');
    handler.handleLine('null');
    assert.deepStrictEqual(seen.map((s) => s[0]), ['unknown', 'bad', 'bad', 'bad']);
    assert.strictEqual(counters.lateResponses, 1);
    assert.strictEqual(counters.unknownResponses, 1);
    pending.stop();
  });

  it('answerError: a top-level code is an error; a code inside data only with codeToErr', function () {
    assert.strictEqual(answerError({ ipcReqID: 'rq0', data: { x: 1 } }, false), null);
    const err = answerError({ ipcReqID: 'rq0', code: 'handler_error', message: 'boom' }, false, '/u', 'rq0');
    assert.strictEqual(err.code, 'handler_error');
    assert.strictEqual(err.message, 'boom');
    assert.strictEqual(err.uri, '/u');
    assert.strictEqual(err.ipcReqID, 'rq0');
    const inData = { ipcReqID: 'rq0', data: { code: 'no_handler_found', message: 'none' } };
    assert.strictEqual(answerError(inData, false), null);
    assert.strictEqual(answerError(inData, true).code, 'no_handler_found');
    assert.deepStrictEqual(answerError(inData, true).data, inData.data);
    assert.strictEqual(answerError({ ipcReqID: 'rq0', code: 'x' }, false).message, 'x', 'the code stands in for a missing message');
  });

  it('authAccepted: only a success whose data has authenticated: true', function () {
    assert.strictEqual(authAccepted({ ipcReqID: 'auth1', data: { authenticated: true } }), true);
    const refusals = [
      { ipcReqID: 'auth1', code: 'access', message: 'no' },
      { ipcReqID: 'auth1', code: 'access', data: { authenticated: true } },
      { ipcReqID: 'auth1', data: { authenticated: false } },
      { ipcReqID: 'auth1', data: { authenticated: 1 } },
      { ipcReqID: 'auth1', data: { authenticated: 'yes' } },
      { ipcReqID: 'auth1', data: {} },
      { ipcReqID: 'auth1', data: null },
      { ipcReqID: 'auth1', data: true },
      { ipcReqID: 'auth1' },
      { ipcReqID: 'auth1', data: { code: 'access' } },
    ];
    for (const m of refusals) assert.strictEqual(authAccepted(m), false, JSON.stringify(m));
  });

  it('authRefusal keeps the server code (access by default) and never the credentials', function () {
    const a = authRefusal({ ipcReqID: 'auth1', code: 'access', message: 'Wrong token' }, '/s.sock');
    assert.strictEqual(a.code, 'access');
    assert.match(a.message, /Authentication with \/s\.sock failed: Wrong token/);
    const b = authRefusal({ ipcReqID: 'auth1', data: { authenticated: false } }, 't');
    assert.strictEqual(b.code, 'access');
    assert.match(b.message, /credentials refused/);
    assert.strictEqual(authRefusal({ ipcReqID: 'auth1', code: 'auth_timeout' }, 't').code, 'auth_timeout');
  });

  it('closesConnection knows the codes after which the server closes', function () {
    for (const code of CLOSING_CODES) assert.strictEqual(closesConnection(code), true, code);
    for (const code of ['message_too_large', 'too_many_connections', 'idle_timeout', 'auth_timeout']) assert.ok(CLOSING_CODES.includes(code), code);
    for (const code of ['handler_error', 'bad_json', 'no_handler_found', 'access', undefined, null, 5]) assert.strictEqual(closesConnection(code), false, String(code));
    assert.strictEqual(closesConnection('access', true), true, 'access in answer to the auth request');
    assert.strictEqual(closesConnection('handler_error', true), false);
  });
});
