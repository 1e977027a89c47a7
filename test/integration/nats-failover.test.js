'use strict';
// Failover under load (see test/helpers/nats-failover.js): while Node clients
// on NATS and PHP callers through a forwarding local daemon keep sending, one
// daemon of the queue group is SIGKILLed, one is restarted by hand-off and
// one nats-server of the three-node cluster is SIGKILLed. Every request must
// succeed or fail with a clear code within its deadline (none hangs, none is
// lost silently), and a second after each failure every request succeeds.
// PIXL_IPC_NATS_SOAK_SECONDS=60 makes it a longer run (npm run test:soak).
const assert = require('assert');
const { cleanupTempDirs } = require('../helpers/harness');
const { stopAllNats } = require('../helpers/nats-cluster');
const { runFailover } = require('../helpers/nats-failover');

const SECONDS = Number(process.env.PIXL_IPC_NATS_SOAK_SECONDS) || 7;
/** Codes a caller may see while a daemon or a NATS server goes away: each says what happened. */
const CLEAR_CODES = new Set(['request_timeout', 'deadline_exceeded', 'interrupted', 'shutting_down', 'connection_closed', 'no_responders']);
/** How late an outcome may come after its deadline on a loaded 2-core machine. */
const SLACK_MS = 1000;

describe('NATS failover under load', function () {
  this.timeout(SECONDS * 1000 + 60000);

  after(async () => {
    await stopAllNats();
    cleanupTempDirs();
  });

  it('loses nothing when a daemon is killed, one hands off and a nats-server dies; survivors take the load within a second', async () => {
    const { outcomes, events, timeoutMs, began } = await runFailover({ seconds: SECONDS });
    const summary = () => JSON.stringify({
      events: events.map((e) => [e.what, e.at - began]),
      failures: outcomes.filter((o) => !o.ok).map((o) => [o.who, o.start - began, o.ms, o.code, o.message]).slice(0, 20),
    });
    const node = outcomes.filter((o) => o.who.startsWith('node'));
    const php = outcomes.filter((o) => o.who.startsWith('php'));
    assert.ok(node.length > 300, `node requests: ${node.length}`);
    assert.ok(php.length > 50, `php requests: ${php.length}`);
    for (const o of outcomes) {
      assert.ok(o.ms <= timeoutMs + SLACK_MS, `an outcome after ${o.ms} ms (deadline ${timeoutMs}): ${JSON.stringify(o)}`);
      if (!o.ok) assert.ok(CLEAR_CODES.has(o.code), `unclear failure ${JSON.stringify(o)}; ${summary()}`);
    }
    // A failure belongs to a request running when something went away (or sent just after, while the cluster noticed).
    for (const o of outcomes.filter((x) => !x.ok)) {
      const cause = events.find((e) => o.start <= e.at + 1000 && o.start + o.ms >= e.at);
      assert.ok(cause, `a failure no event explains: ${JSON.stringify(o)}; ${summary()}`);
    }
    // Survivors take the load: a second after each event, every request succeeds.
    events.forEach((e, i) => {
      const next = i + 1 < events.length ? events[i + 1].at : Infinity;
      const after = outcomes.filter((o) => o.start >= e.at + 1000 && o.start < next);
      assert.ok(after.length > 0, `requests sent between a second after ${e.what} and the next event`);
      // Those still running when the next event came may be its victims, not this one's.
      const late = after.filter((o) => !o.ok && o.start + o.ms < next);
      assert.deepStrictEqual(late, [], `failures more than a second after ${e.what}; ${summary()}`);
    });
    // The killed daemon cost only what it was running, with a clear code at the deadline.
    const killed = events.find((e) => e.what === 'daemon SIGKILL');
    const lost = outcomes.filter((o) => !o.ok && o.start <= killed.at && o.start + o.ms >= killed.at);
    assert.ok(lost.every((o) => o.code === 'request_timeout' || o.code === 'deadline_exceeded'), summary());
  });
});
