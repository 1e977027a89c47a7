'use strict';
// Failover under load, for test/integration/nats-failover.test.js (a few
// seconds) and its soak variant (PIXL_IPC_NATS_SOAK_SECONDS): a three-node
// nats-server cluster joined by routes, three daemons (child processes) in
// one queue group, Node clients on NATS and PHP callers through a local
// daemon that forwards to the cluster, all sending while one daemon is
// SIGKILLed, one is restarted by hand-off and one nats-server is SIGKILLed.
// Every request's outcome is recorded with when it started and how long it took.
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const IPCClient = require('pixl-ipc/client');
const { makeTempDir, startServer } = require('./harness');
const { startNatsCluster } = require('./nats-cluster');
const { sleep, waitFor } = require('./wait');

const DAEMON = path.join(__dirname, '..', 'integration', 'fixtures', 'nats-daemon.js');
const PHP_WORKER = path.join(__dirname, '..', 'integration', 'fixtures', 'nats-php-worker.php');

/** A daemon of the queue group, in its own process. */
function startDaemon(config, logDir) {
  const child = spawn(process.execPath, [DAEMON, JSON.stringify(config), logDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code === null ? signal : code)));
  const ready = waitFor(() => /READY/.test(output) || child.exitCode !== null, 'a daemon to start', 15000, 20).then(() => {
    if (!/READY/.test(output)) throw new Error('daemon failed: ' + output);
  });
  return { child, exited, ready, get output() { return output; } };
}

/** Sends one request after another on `client` until `until()`; records every outcome. */
async function nodeLoop(client, name, timeoutMs, stopped, outcomes) {
  while (!stopped()) {
    const start = Date.now();
    try {
      const answer = await client.send('/jobs/node', { ms: 5 }, { timeout: timeoutMs });
      outcomes.push({ who: name, start, ms: Date.now() - start, ok: true, pid: answer.pid });
    } catch (err) {
      outcomes.push({ who: name, start, ms: Date.now() - start, ok: false, code: err.code || err.name, message: err.message });
      // A refusal comes back at once: do not spin on it.
      if (Date.now() - start < 5) await sleep(5);
    }
  }
}

/**
 * Runs the scenario. Returns { outcomes, events, timeoutMs } where each event
 * is { what, at } (ms since epoch) and each outcome { who, start, ms, ok, code }.
 */
async function runFailover({ seconds = 6, timeoutMs = 2000, concurrency = 8, phpWorkers = 2 } = {}) {
  const dir = makeTempDir('pixl-ipc-failover-');
  const cleanup = [];
  const outcomes = [];
  const events = [];
  let stopping = false;
  try {
    const cluster = await startNatsCluster(3);
    cleanup.push(() => Promise.all(cluster.map((s) => s.kill())));
    const configOf = (i) => ({
      socket_path: path.join(dir, `daemon${i}.sock`),
      exit_timeout: 3000,
      log_stats_interval: false,
      handoff: true,
      nats: { servers: [cluster[i].url], queue: 'failover' },
    });
    const daemons = [0, 1, 2].map((i) => startDaemon(configOf(i), dir));
    cleanup.push(() => Promise.all(daemons.map((d) => { d.child.kill('SIGKILL'); return d.exited; })));
    await Promise.all(daemons.map((d) => d.ready));
    // Routes between the servers carry the daemons' subscriptions: wait until each server sees all three.
    const probe = new IPCClient(cluster[2].url);
    await probe.connect();
    await waitFor(async () => (await Promise.all(Array.from({ length: 12 }, () => probe.send('/jobs/probe', {}, { timeout: 1000 }).then((a) => a.pid, () => 0)))).filter(Boolean).length === 12, 'the cluster to route to the daemons', 10000, 50);
    await probe.close();

    const local = await startServer({ exit_timeout: 3000, nats: { servers: [cluster[1].url], serve: false, forward: ['^/jobs/'] } });
    cleanup.push(() => local.stop());

    const clients = [];
    for (let i = 0; i < 3; i++) {
      const client = new IPCClient(cluster[i].url);
      await client.connect();
      clients.push(client);
    }
    cleanup.push(() => Promise.all(clients.map((c) => c.close())));

    const stopFile = path.join(dir, 'stop');
    const php = [];
    for (let i = 0; i < phpWorkers; i++) {
      const child = spawn('php', [PHP_WORKER, local.socketPath, stopFile, String(timeoutMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
      const out = { text: '', err: '' };
      child.stdout.on('data', (d) => { out.text += d; });
      child.stderr.on('data', (d) => { out.err += d; });
      php.push({ child, out, exited: new Promise((resolve) => child.once('exit', resolve)) });
    }
    cleanup.push(() => { fs.writeFileSync(stopFile, ''); return Promise.all(php.map((p) => p.exited)); });

    const loops = [];
    clients.forEach((client, i) => {
      for (let j = 0; j < concurrency; j++) loops.push(nodeLoop(client, `node${i}`, timeoutMs, () => stopping, outcomes));
    });
    const began = Date.now();
    const at = (ms) => sleep(Math.max(0, began + ms - Date.now()));
    const period = seconds * 1000;
    // The three failures, spread over the run (repeated in a soak: a restarted daemon replaces the killed one).
    // Events 2 s apart: a second for the cluster to settle, a second of requests that must all succeed.
    const cycleMs = 7000;
    const cycles = Math.max(1, Math.floor(period / cycleMs));
    for (let cycle = 0; cycle < cycles; cycle++) {
      const base = cycle * cycleMs;
      await at(base + 1000);
      const victim = daemons[0];
      // Each event is dated when it begins.
      events.push({ what: 'daemon SIGKILL', at: Date.now() });
      victim.child.kill('SIGKILL');
      await victim.exited;
      await at(base + 3000);
      const successor = startDaemon(configOf(1), dir);
      events.push({ what: 'daemon hand-off', at: Date.now() });
      await successor.ready;
      const old = daemons[1];
      daemons[1] = successor;
      await Promise.race([old.exited, sleep(5000)]);
      if (cycle === 0) {
        await at(base + 5000);
        events.push({ what: 'nats-server SIGKILL', at: Date.now() });
        await cluster[2].kill();
      }
      // The killed daemon comes back for the next cycle.
      daemons[0] = startDaemon(configOf(0), dir);
      await daemons[0].ready;
    }
    await at(period);
    stopping = true;
    await Promise.all(loops);
    fs.writeFileSync(stopFile, '');
    await Promise.all(php.map((p) => p.exited));
    php.forEach((p, i) => {
      for (const line of p.out.text.split('\n')) {
        if (line.trim() === '') continue;
        const parsed = JSON.parse(line);
        outcomes.push({ who: `php${i}`, start: parsed.start, ms: parsed.ms, ok: parsed.ok === true, code: parsed.code, message: parsed.message });
      }
      if (p.out.err) outcomes.push({ who: `php${i}`, start: began, ms: 0, ok: false, code: 'stderr', message: p.out.err });
    });
    return { outcomes, events, timeoutMs, began };
  } finally {
    stopping = true;
    for (const step of cleanup.reverse()) await Promise.resolve(step()).catch(() => {});
  }
}

module.exports = { runFailover };
