'use strict';
// The Node client's own reading of the shared protocol vectors
// (test/vectors/protocol.json): for every expected answer, the client routes
// it as the answer to its request or as a connection-level line, decodes it
// as an error or as data, accepts auth answers only as PROTOCOL.md says, and
// knows which answers mean the server closes the connection.
const assert = require('assert');
const path = require('path');
const { ResponseHandler, answerError, authAccepted, closesConnection } = require('../../dist/client/response-handler');
const { PendingTable, PendingRequest } = require('../../dist/client/pending');

const cases = require(path.join(__dirname, '..', 'vectors', 'protocol.json'));

/** The ids of the auth requests among a case's lines (lines may be malformed on purpose). */
function authIds(lines) {
  const ids = new Set();
  for (const line of lines) {
    try {
      const request = JSON.parse(line);
      if (request && request.uri === '/ipcserver/auth' && request.ipcReqID !== undefined) ids.add(String(request.ipcReqID));
    } catch { /* a bad line on purpose */ }
  }
  return ids;
}

/** The answer line a server would send for an `expect` entry. */
function answerLine(expected) {
  const message = { ipcReqID: expected.ipcReqID === undefined ? null : expected.ipcReqID };
  if (expected.code !== undefined) {
    message.code = expected.code;
    message.message = 'vector ' + expected.code;
  }
  if (expected.data !== undefined) message.data = expected.data;
  return JSON.stringify(message);
}

describe('client decoding of the protocol vectors', function () {
  it('the vectors are there and cover errors, auth answers and closing codes', function () {
    assert.ok(cases.length >= 20, `${cases.length} cases`);
    assert.ok(cases.some((c) => c.closes));
    assert.ok(cases.some((c) => authIds(c.send).size > 0));
  });

  for (const vector of cases) {
    it(vector.name, function () {
      const auth = authIds(vector.send);
      const pending = new PendingTable(() => {}, () => 1000);
      const routed = [];
      const handler = new ResponseHandler(pending, { responses: 0, lateResponses: 0, unknownResponses: 0, pushes: 0, parts: 0 }, {
        onPush: (m) => routed.push({ as: 'push', m }),
        onAuthAnswer: (m) => routed.push({ as: 'auth', m }),
        onAnswer: (entry, m) => routed.push({ as: 'answer', id: entry.id, m }),
        onPart: () => routed.push({ as: 'part' }),
        onBadLine: (what) => routed.push({ as: 'bad', what }),
        onUnknownId: (id) => routed.push({ as: 'unknown', id }),
      });
      let closing = false;
      for (const expected of vector.expect) {
        const id = expected.ipcReqID === undefined || expected.ipcReqID === null ? null : String(expected.ipcReqID);
        const isAuth = id !== null && auth.has(id);
        if (isAuth) handler.authId = id;
        else if (id !== null) pending.add(new PendingRequest(id, 0, '/vector', Infinity));
        handler.handleLine(answerLine(expected));
        const got = routed.pop();
        const message = got.m;
        if (id === null) {
          assert.strictEqual(got.as, 'push', 'an answer with ipcReqID null is a connection-level line');
        } else if (isAuth) {
          assert.strictEqual(got.as, 'auth');
          assert.strictEqual(authAccepted(message), expected.code === undefined && !!expected.data && expected.data.authenticated === true);
        } else {
          assert.strictEqual(got.as, 'answer');
          assert.strictEqual(got.id, id);
        }
        const err = answerError(message, false);
        if (expected.code !== undefined) {
          assert.ok(err, 'an error answer');
          assert.strictEqual(err.code, expected.code);
        } else {
          assert.strictEqual(err, null, 'a success answer');
          assert.deepStrictEqual(message.data, expected.data);
        }
        if (closesConnection(expected.code, isAuth)) closing = true;
      }
      assert.strictEqual(closing, !!vector.closes, vector.closes ? 'the client knows the server closes after this' : 'nothing here closes the connection');
      pending.stop();
    });
  }
});
