'use strict';
// Hand-off chaos (issue 24): under Node and PHP load, a hand-off every second
// or two, with the new or the old daemon SIGKILLed at a random step (before
// prepare, after prepare, after the rename, after the commit). Every request
// is answered or fails with a clear code, none hangs, and after each kill the
// path leads to a live daemon within a second.
// PIXL_IPC_CHAOS_SECONDS sets the length (npm run test:soak runs it longer).
const assert = require('assert');
const { spawnSync } = require('child_process');
const path = require('path');
const IPCClient = require('pixl-ipc/client');
const { makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { writeHandlers, writeConfig, spawnDaemon, killAll, untilLive, lockPid } = require('../helpers/handoff-kit');
const { phpLoad } = require('../helpers/restart-load');
const { sleep, waitFor } = require('../helpers/wait');

const SECONDS = Number(process.env.PIXL_IPC_CHAOS_SECONDS) || 15;
const STEPS = ['starting', 'prepared', 'renamed', 'committed'];
/** The pause at the chosen step: room to kill inside it. */
const PAUSE_MS = 200;
/** A request that takes longer than this has hung (the daemons answer in microseconds; a restart costs well under a second). */
const HANG_MS = 8000;
/** The codes a Node request may fail with when its daemon is killed under it. */
const CLEAR_NODE_CODES = new Set(['connection_closed', 'shutting_down', 'interrupted', 'connect_failed']);

const hasPhp = spawnSync('php', ['-v']).status === 0;

/** Node clients, each with a few request loops; every request's outcome is counted, by code. */
function nodeLoad(socketPath, { clients = 3, loops = 3 } = {}) {
  const figures = { sent: 0, ok: 0, failed: 0, codes: {}, slowestMs: 0 };
  let running = true;
  const list = [];
  const all = [];
  for (let c = 0; c < clients; c++) {
    const client = new IPCClient(socketPath, null, { requestTimeout: HANG_MS, connectTimeout: HANG_MS, autoReconnect: 50, maxReconnectDelay: 50, offlineQueue: 10000, userAgent: `chaos/${c}` });
    client.on('error', () => {});
    list.push(client);
    const connected = client.connect().catch(() => {});
    for (let l = 0; l < loops; l++) {
      all.push((async () => {
        await connected;
        for (let n = 0; running; n++) {
          const data = { c, l, n };
          const started = Date.now();
          figures.sent++;
          try {
            const answer = await client.send('/ipcserver/test/echo', data);
            assert.deepStrictEqual(answer, data);
            figures.ok++;
          } catch (err) {
            figures.failed++;
            const code = err && typeof err.code === 'string' && err.code !== '' ? err.code : `no code: ${err && err.message}`;
            figures.codes[code] = (figures.codes[code] || 0) + 1;
            await sleep(5);
          }
          figures.slowestMs = Math.max(figures.slowestMs, Date.now() - started);
        }
      })());
    }
  }
  return {
    figures,
    async stop() {
      running = false;
      await Promise.all(all);
      await Promise.all(list.map((client) => client.close().catch(() => {})));
      return figures;
    },
  };
}

const pick = (list) => list[Math.floor(Math.random() * list.length)];

describe('hand-off chaos (issue 24)', function () {
  this.timeout((SECONDS + 90) * 1000);
  afterEach(killAll);
  after(cleanupTempDirs);

  it(`for ${SECONDS} s: hand-offs with the new or the old daemon SIGKILLed at random steps, under Node${hasPhp ? ' and PHP' : ''} load`, async function () {
    const dir = makeTempDir('pixl-ipc-chaos-');
    const socketPath = path.join(dir, 'ipc.sock');
    const config = writeConfig(dir, socketPath, { handoff_watch: 300, exit_timeout: 2000 });
    const handlers = writeHandlers(dir);
    let current = spawnDaemon(config, handlers);
    assert.ok(await current.listening, current.out.text);
    const node = nodeLoad(socketPath);
    const php = hasPhp ? phpLoad(socketPath, dir, { workers: 2, maxSeconds: SECONDS + 60 }) : null;
    const rounds = [];
    const until = Date.now() + SECONDS * 1000;
    try {
      while (Date.now() < until) {
        // The daemon of the last round owns the lock (a hand-off in progress would refuse the next one).
        await waitFor(() => lockPid(socketPath) === current.pid, `pid ${current.pid} to own the lock`, 5000, 10);
        const victim = pick(['new', 'old', 'new', 'old', 'none']);
        const step = pick(STEPS);
        const old = current;
        const taker = spawnDaemon(config, handlers, { takeover: true, pause: victim === 'none' ? '' : `${step}:${PAUSE_MS}` });
        if (victim === 'none') {
          assert.ok(await taker.listening, taker.out.text);
          assert.strictEqual((await old.exited).code, 0);
          current = taker;
          rounds.push({ victim, recoveredMs: 0 });
        } else {
          assert.ok(await taker.step(step), `the new daemon reached ${step}: ${taker.out.text}`);
          const killed = victim === 'new' ? taker : old;
          const survivor = victim === 'new' ? old : taker;
          const killedAt = Date.now();
          killed.child.kill('SIGKILL');
          const live = await untilLive(socketPath, 1000, [survivor.pid]);
          const recoveredMs = Date.now() - killedAt;
          assert.strictEqual(live.pid, survivor.pid, `${victim} daemon killed at ${step}: the path leads to pid ${survivor.pid} within a second (${JSON.stringify(live)})\n${survivor.out.text}`);
          assert.ok(recoveredMs <= 1000, `${victim} daemon killed at ${step}: live again after ${recoveredMs} ms`);
          await killed.exited;
          if (victim === 'old') assert.ok(await taker.listening, taker.out.text);
          current = survivor;
          rounds.push({ victim, step, recoveredMs });
        }
        await sleep(300 + Math.random() * 700);
      }
    } finally {
      var nodeFigures = await node.stop();
      var phpStopped = Date.now();
      var phpFigures = php ? await php.stop() : null;
      phpStopped = Date.now() - phpStopped;
    }
    const kills = rounds.filter((r) => r.victim !== 'none');
    const worst = Math.max(0, ...kills.map((r) => r.recoveredMs));
    console.log(`      ${rounds.length} hand-offs, ${kills.length} with a SIGKILL (${kills.filter((r) => r.victim === 'new').length} new, ${kills.filter((r) => r.victim === 'old').length} old; steps ${STEPS.map((s) => `${s} ${kills.filter((r) => r.step === s).length}`).join(', ')}); path live again after at most ${worst} ms`);
    console.log(`      Node: ${nodeFigures.ok}/${nodeFigures.sent} ok, failed by code ${JSON.stringify(nodeFigures.codes)}, slowest ${nodeFigures.slowestMs} ms`);
    if (phpFigures) console.log(`      PHP: ${phpFigures.ok}/${phpFigures.sent} ok, failed ${JSON.stringify(phpFigures.errors)}`);
    assert.ok(kills.length >= 3, 'at least three kills');
    // None hung: every Node request settled well before its timeout, and no failure lacks a clear code.
    assert.ok(nodeFigures.slowestMs < HANG_MS, `slowest Node request ${nodeFigures.slowestMs} ms`);
    for (const code of Object.keys(nodeFigures.codes)) assert.ok(CLEAR_NODE_CODES.has(code), `Node failure code ${code}`);
    assert.ok(nodeFigures.ok > nodeFigures.sent * 0.9, 'most Node requests succeed');
    if (phpFigures) {
      // A PHP request in flight on a killed daemon fails with the client's code (5003 write, 5005 server closed); never a timeout.
      for (const key of Object.keys(phpFigures.errors)) assert.match(key, /^500[345]: \S/, `PHP failure ${key}`);
      assert.ok(phpFigures.ok > phpFigures.sent * 0.9, 'most PHP page views succeed');
      assert.ok(phpStopped < 5000, `the PHP workers finished their last page view in ${phpStopped} ms (none hung)`);
    }
  });
});
