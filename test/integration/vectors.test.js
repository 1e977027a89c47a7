'use strict';
// Replays test/vectors/protocol.json against live servers through a bare
// socket: each case on a fresh connection, one server per distinct config.
const assert = require('assert');
const path = require('path');
const { startServer, cleanupTempDirs } = require('../helpers/harness');
const { rawConnect } = require('../helpers/raw');

const cases = require(path.join(__dirname, '..', 'vectors', 'protocol.json'));

/** Checks one answer against one expectation, as test/vectors/README.md defines. */
function assertMatches(answer, expected, where) {
  if ('ipcReqID' in expected) assert.deepStrictEqual(answer.ipcReqID, expected.ipcReqID, where + ': ipcReqID');
  if ('code' in expected) {
    assert.strictEqual(answer.code, expected.code, where + ': code');
    assert.strictEqual(typeof answer.message, 'string', where + ': message');
    assert.ok(!('data' in answer), where + ': an error has no data');
  } else {
    assert.ok(!('code' in answer), where + ': expected a success, got ' + JSON.stringify(answer));
  }
  if ('data' in expected) assert.deepStrictEqual(answer.data, expected.data, where + ': data');
}

describe('protocol vectors (test/vectors/protocol.json)', function () {
  const servers = new Map();
  after(async function () {
    for (const server of servers.values()) await server.stop();
    cleanupTempDirs();
  });

  async function serverFor(config) {
    const key = JSON.stringify(config || {});
    if (!servers.has(key)) servers.set(key, await startServer(config || {}));
    return servers.get(key);
  }

  it('is a well-formed list of cases', function () {
    assert.ok(Array.isArray(cases) && cases.length > 20);
    const names = new Set();
    for (const c of cases) {
      assert.strictEqual(typeof c.name, 'string');
      assert.ok(!names.has(c.name), 'duplicate name ' + c.name);
      names.add(c.name);
      assert.ok(Array.isArray(c.send) && c.send.every((line) => typeof line === 'string' && !line.includes('\n')), c.name);
      assert.ok(Array.isArray(c.expect), c.name);
    }
  });

  for (const c of cases) {
    it(c.name, async function () {
      const h = await serverFor(c.config);
      const client = await rawConnect(h.socketPath);
      try {
        await client.write(c.send.map((line) => line + '\n').join(''));
        for (let i = 0; i < c.expect.length; i++) {
          assertMatches(await client.next(5000), c.expect[i], `answer ${i}`);
        }
        if (c.closes) {
          await client.waitEnd(5000);
          assert.deepStrictEqual(client.lines, [], 'nothing after the expected answers');
        } else {
          // Still open, and nothing else came first: the next line answers a probe.
          await client.write({ ipcReqID: 'vector-probe', uri: '/ipcserver/test/echo', data: 'probe' });
          assert.deepStrictEqual(await client.next(5000), { ipcReqID: 'vector-probe', data: 'probe' });
        }
      } finally {
        client.destroy();
      }
    });
  }
});
