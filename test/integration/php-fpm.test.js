'use strict';
// Persistent PHP connections under a real php-fpm (behind nginx): page views of
// the same workers reuse connections and never get each other's answers, also
// after timeouts and across a daemon restart on the same socket.
const assert = require('assert');
const { startServer, cleanupTempDirs } = require('../helpers/harness');
const { startWebStack, missingParts, get } = require('../helpers/web-stack');

function registerHandlers(ipc) {
  const serverStart = `${Date.now()}-${Math.random()}`;
  ipc.addURIHandler('/test/whoami', 'whoami', (request, callback) => callback({
    tag: request.data.tag, connectionId: request.connection.id, serverStart, ipcReqID: request.ipcReqID,
  }));
  return serverStart;
}

/** `count` page views, `concurrency` at a time; every fifth one times out first. */
async function pageViews(stack, count, concurrency, prefix) {
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const tag = `${prefix}-${i}`;
      const slow = i % 5 === 0;
      const query = `tag=${tag}&timeout=${slow ? 100 : 3000}${slow ? '&delay=300' : ''}`;
      const res = await get(`${stack.baseUrl}/mix.php?${query}`);
      assert.strictEqual(res.status, 200, res.body);
      results.push(Object.assign(JSON.parse(res.body), { slow }));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

function checkOwnAnswers(results) {
  for (const r of results) {
    assert.strictEqual(r.error, undefined, `page ${r.tag}: ${r.error}`);
    assert.deepStrictEqual(r.echo, { tag: r.tag }, `page ${r.tag} got someone else's echo`);
    assert.strictEqual(r.who.tag, r.tag, `page ${r.tag} got someone else's whoami`);
    if (r.slow) assert.strictEqual(r.delay, 'timeout', `page ${r.tag}: the delay should have timed out`);
  }
}

describe('PHP client under php-fpm (nginx + php-fpm from the system)', function () {
  this.timeout(90000);
  let stack;
  let server;

  before(async function () {
    const missing = missingParts();
    if (missing) {
      console.log(`    (${missing.join(' and ')} not installed: .ci/run installs them)`);
      this.skip();
    }
    stack = await startWebStack();
  });

  after(async function () {
    if (server) await server.stop();
    if (stack) await stack.stop();
    cleanupTempDirs();
  });

  it('reuses each worker\'s connection, never mixes answers (with timeouts), and survives a daemon restart', async function () {
    server = await startServer({ socket_path: stack.socketPath, socket_chmod: '660' });
    const firstStart = registerHandlers(server.ipc);

    const before = await pageViews(stack, 120, 4, 'a');
    checkOwnAnswers(before);
    const connections = new Set(before.map((r) => r.who.connectionId));
    const workers = new Set(before.map((r) => r.pid));
    assert.ok(workers.size >= 2, `pages ran in ${workers.size} workers`);
    // One connection per worker, give or take a reconnect: far fewer than pages.
    assert.ok(connections.size <= workers.size * 2, `${connections.size} connections for ${workers.size} workers`);
    assert.ok(before.every((r) => r.who.serverStart === firstStart));
    const ids = before.map((r) => `${r.who.connectionId}/${r.who.ipcReqID}`);
    assert.strictEqual(new Set(ids).size, ids.length, 'request ids never repeat on a connection');

    await server.stop();
    server = await startServer({ socket_path: stack.socketPath, socket_chmod: '660' });
    const secondStart = registerHandlers(server.ipc);

    const after = await pageViews(stack, 60, 4, 'b');
    checkOwnAnswers(after);
    assert.ok(after.every((r) => r.who.serverStart === secondStart), 'every page reached the new daemon');
    const workersAfter = new Set(after.map((r) => r.pid));
    assert.ok(new Set(after.map((r) => r.who.connectionId)).size <= workersAfter.size * 2);
  });
});
