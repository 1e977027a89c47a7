'use strict';
const assert = require('assert');
const {
  parseRequest, Refusal, CLOSING_CODES, ServerErrorCode,
  responseLine, errorLine, pushLine, requestLine, sniffRequestId, isRequestId, numberText,
} = require('../../dist/lib/protocol');
const { Call } = require('../../dist/lib/call');

describe('protocol: parseRequest', function () {
  /** The request a handler gets for `line`: parsed, then made into a call's request. */
  const requestOf = (line) => new Call(parseRequest(line), { id: 1 }, 0, Buffer.byteLength(line)).request;

  it('returns the decoded object as sent, adding nothing to it', function () {
    const line = '{"ipcReqID":"a","uri":"/x","data":{"n":1},"pid":7,"userAgent":"UA","extra":true}';
    assert.deepStrictEqual(parseRequest(line), JSON.parse(line));
    assert.deepStrictEqual(Object.keys(parseRequest('{"uri":"/x"}')), ['uri']);
  });

  it('gives the handler a request with its id and noReply normalized, plain or with fields of its own', function () {
    for (const extra of ['', ',"extra":true']) {
      const request = requestOf(`{"ipcReqID":"a","uri":"/x","data":{"n":1},"pid":7,"userAgent":"UA"${extra}}`);
      const expected = { ipcReqID: 'a', uri: '/x', data: { n: 1 }, pid: 7, userAgent: 'UA', noReply: false };
      if (extra) expected.extra = true;
      const fields = Object.fromEntries(Object.keys(request).filter((key) => key !== 'connection').map((key) => [key, request[key]]));
      assert.deepStrictEqual(fields, expected, extra);
      assert.deepStrictEqual(request.connection, { id: 1 });
      assert.strictEqual(requestOf(`{"uri":"/x"${extra}}`).ipcReqID, null);
      assert.strictEqual(requestOf(`{"uri":"/x","ipcReqID":null${extra}}`).ipcReqID, null);
      assert.strictEqual(requestOf(`{"uri":"/x","ipcReqID":0${extra}}`).ipcReqID, 0);
    }
  });

  it('marks fire-and-forget only for a literal true', function () {
    for (const extra of ['', ',"extra":true']) {
      assert.strictEqual(requestOf(`{"uri":"/x","noReply":true${extra}}`).noReply, true);
      for (const value of ['"true"', '1', 'false', 'null', '{}']) {
        assert.strictEqual(requestOf(`{"uri":"/x","noReply":${value}${extra}}`).noReply, false, value);
        assert.strictEqual(parseRequest(`{"noReply":${value}${extra}}`).noReply, false, value);
      }
      assert.strictEqual(parseRequest(`{"noReply":true${extra}}`).noReply, true);
    }
  });

  it('ignores blank lines', function () {
    for (const line of ['', ' ', '\t', '  \r']) assert.strictEqual(parseRequest(line), null, JSON.stringify(line));
  });

  it('refuses bad JSON with bad_json and no id, without quoting the line', function () {
    const refusal = parseRequest('{"uri":"/ipcserver/auth","data":"s3cret-token');
    assert.ok(refusal instanceof Refusal);
    assert.deepStrictEqual([refusal.id, refusal.code, refusal.noReply], [null, ServerErrorCode.badJson, false]);
    assert.ok(!refusal.message.includes('s3cret'), refusal.message);
    assert.strictEqual(parseRequest('{"uri":"/x"} trailing').code, 'bad_json');
  });

  it('refuses values that are not objects with bad_request', function () {
    for (const line of ['[]', '[1]', '"s"', '42', 'true', 'null']) {
      const refusal = parseRequest(line);
      assert.ok(refusal instanceof Refusal, line);
      assert.deepStrictEqual([refusal.id, refusal.code], [null, 'bad_request'], line);
    }
  });

  it('refuses an id that is not a string or a finite number, answering with id null', function () {
    for (const id of ['{}', '[1]', 'true', 'false']) {
      const refusal = parseRequest(`{"ipcReqID":${id},"uri":"/x","noReply":true}`);
      assert.ok(refusal instanceof Refusal, id);
      assert.deepStrictEqual([refusal.id, refusal.code, refusal.noReply], [null, 'bad_request', false], id);
    }
  });

  it('refuses a missing or empty uri with no_uri and a uri of another type with bad_request, naming the request', function () {
    for (const uri of [undefined, null, '']) {
      const line = JSON.stringify({ ipcReqID: 'r', uri });
      const refusal = parseRequest(line);
      assert.deepStrictEqual([refusal.id, refusal.code, refusal.noReply], ['r', 'no_uri', false], line);
    }
    for (const uri of [5, ['/x'], { a: 1 }, true]) {
      const refusal = parseRequest(JSON.stringify({ ipcReqID: 3, uri }));
      assert.deepStrictEqual([refusal.id, refusal.code], [3, 'bad_request'], JSON.stringify(uri));
    }
    assert.strictEqual(parseRequest('{"ipcReqID":"q","noReply":true}').noReply, true, 'a refused noReply request stays unanswered');
  });

  it('names the codes after which the server closes', function () {
    for (const code of ['auth_timeout', 'idle_timeout', 'message_too_large', 'shutting_down', 'too_many_connections']) {
      assert.ok(CLOSING_CODES.includes(code), code);
    }
    for (const code of ['bad_json', 'bad_request', 'no_uri', 'handler_error', 'access']) assert.ok(!CLOSING_CODES.includes(code), code);
    assert.ok(Object.isFrozen(CLOSING_CODES));
    for (const code of CLOSING_CODES) assert.ok(Object.values(ServerErrorCode).includes(code), code);
  });
});

describe('protocol: line builders', function () {
  it('responseLine: id first, data left out when undefined, one line', function () {
    assert.strictEqual(responseLine('rq1', { a: 1 }), '{"ipcReqID":"rq1","data":{"a":1}}\n');
    assert.strictEqual(responseLine(7, 'x'), '{"ipcReqID":7,"data":"x"}\n');
    assert.strictEqual(responseLine(null, undefined), '{"ipcReqID":null}\n');
    assert.strictEqual(responseLine(undefined, null), '{"ipcReqID":null,"data":null}\n');
    assert.strictEqual(responseLine('f', () => 1), '{"ipcReqID":"f"}\n', 'a function encodes to nothing, as JSON.stringify would leave it out');
  });

  it('encodes ids that need escaping as JSON.stringify would', function () {
    for (const id of ['a"b', 'back\\slash', 'new\nline', 'é', '𝄞', '\u0000', 'plain-ASCII id 17']) {
      const line = responseLine(id, 1);
      assert.deepStrictEqual(JSON.parse(line), { ipcReqID: id, data: 1 });
      assert.ok(!line.slice(0, -1).includes('\n'));
    }
  });

  it('errorLine and pushLine', function () {
    assert.deepStrictEqual(JSON.parse(errorLine('e', 'access', 'no "way"')), { ipcReqID: 'e', code: 'access', message: 'no "way"' });
    assert.strictEqual(errorLine(null, 'bad_json', 'x'), '{"ipcReqID":null,"code":"bad_json","message":"x"}\n');
    assert.strictEqual(pushLine('/ev', { n: 1 }), '{"uri":"/ev","data":{"n":1}}\n');
    assert.strictEqual(pushLine('/ev'), '{"uri":"/ev"}\n');
  });

  it('requestLine puts the id first and reuses nothing stale when uri, pid or userAgent change', function () {
    const a = requestLine('/a', { x: 1 }, 'rq1', 10, 'UA/1', false);
    assert.ok(a.startsWith('{"ipcReqID":"rq1",'));
    assert.deepStrictEqual(JSON.parse(a), { ipcReqID: 'rq1', uri: '/a', data: { x: 1 }, pid: 10, userAgent: 'UA/1' });
    assert.deepStrictEqual(JSON.parse(requestLine('/b', undefined, 2, 10, 'UA/1', true)), { ipcReqID: 2, uri: '/b', pid: 10, userAgent: 'UA/1', noReply: true });
    assert.deepStrictEqual(JSON.parse(requestLine('/b', 0, undefined, 11, 'UA/2', false)), { uri: '/b', data: 0, pid: 11, userAgent: 'UA/2' });
  });
});

describe('protocol: sniffRequestId', function () {
  const head = (text) => Buffer.from(text);
  it('finds string and numeric ids near the start of a line', function () {
    assert.strictEqual(sniffRequestId(head('{"ipcReqID":"rq9","uri":"/x","data":"aaaa')), 'rq9');
    assert.strictEqual(sniffRequestId(head('{"uri":"/x","ipcReqID" : 42 ,"data":"')), 42);
    assert.strictEqual(sniffRequestId(head('{"ipcReqID":"caf\\u00e9 é"')), 'café é');
  });

  it('returns null when the id is missing, cut off, or not a plain id', function () {
    assert.strictEqual(sniffRequestId(head('{"uri":"/x","data":"aaaa')), null);
    assert.strictEqual(sniffRequestId(head('{"ipcReqID":12')), null, 'a number cut off by the end of the head');
    assert.strictEqual(sniffRequestId(head('{"ipcReqID":"unterminated')), null);
    assert.strictEqual(sniffRequestId(head('{"ipcReqID":{"a":1}')), null);
    assert.strictEqual(sniffRequestId(head('{"ipcReqID":true,')), null);
  });

  it('numberText writes every number as String() does, and a numeric id as JSON.stringify does', function () {
    const numbers = [0, -0, 1, -1, 7, 42, 2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER + 1, 2 ** 53 + 2, 1e21, 123456789012345680000, 1.5, -0.25, 1e-7, 5e-324, Number.MAX_VALUE, NaN, Infinity];
    // Where the digit groups change (request ids count up through them).
    for (const edge of [1000, 1e6, 1e9]) for (let d = -3; d <= 3; d++) numbers.push(edge + d, edge + d + 0.5);
    for (const n of [1001, 10010, 100100, 1000001, 1001001, 100000100, 999999999, 999999999.5]) numbers.push(n, -n);
    for (let i = 0; i < 2000; i++) numbers.push(Math.floor(Math.random() * Number.MAX_SAFE_INTEGER) * (i % 2 ? 1 : -1), Math.random() * 1e6);
    for (let i = 0; i < 2000; i++) numbers.push(Math.floor(Math.random() * 10 ** (1 + (i % 9))));
    for (const n of numbers) assert.strictEqual(numberText(n), String(n), String(n));
    for (const id of [0, 17, -3, 4.5, Number.MAX_SAFE_INTEGER]) {
      assert.strictEqual(responseLine(id, 1), `{"ipcReqID":${JSON.stringify(id)},"data":1}\n`);
    }
  });

  it('isRequestId accepts strings and finite numbers only', function () {
    assert.deepStrictEqual(['a', '', 0, -1.5].map(isRequestId), [true, true, true, true]);
    assert.deepStrictEqual([null, undefined, NaN, Infinity, {}, [], true].map(isRequestId), [false, false, false, false, false, false, false]);
  });
});
