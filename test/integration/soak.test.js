'use strict';
// Soak and flood tests against a server in its own process.
//
// Soak: 200 Node clients (several requests in flight each) and a few PHP
// processes (several connections each) send unique payloads for a bounded time,
// with random client disconnects, requests that make the server hang up, and a
// server restart (SIGTERM, then a new process on the same socket) halfway.
// Each server life gets half the run from the moment it is ready (a restart
// takes seconds on a loaded machine), and lasts until every PHP worker has had
// some answers from it: the workers run until told to stop, not for a fixed time.
// Every request must get exactly one outcome: its own echo, or an error with a
// code. None may be answered twice, answered wrongly, or time out (a time-out
// would mean the server lost it). The server's memory must be stable.
//
// Flood: a client writes small echo requests and never reads the answers. The
// server must stop reading from it at its output high-water mark, stay within
// a memory bound, keep answering another client promptly, and answer every
// request once the flooder reads.
//
// npm test runs a short version (about 20 s). The long version runs with
// PIXL_IPC_SOAK_SECONDS set (npm run test:soak uses 600): the soak runs that
// many seconds and the flooder sends 1,000,000 requests instead of 200,000.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const IPCClient = require('pixl-ipc/client');
const { makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { sleep, waitFor: waitForCondition } = require('../helpers/wait');
const { ServerProcess, killAllServers } = require('./soak/server-process');
const { runPhpWorker, E_SERVER_CLOSE } = require('./soak/php-worker');
const { Flooder, answerBytes } = require('./soak/flooder');

const SOAK_SECONDS = Number(process.env.PIXL_IPC_SOAK_SECONDS) || 0;
const LONG = SOAK_SECONDS > 0;
const SOAK_MS = LONG ? SOAK_SECONDS * 1000 : 10000;
/** Each of the two server lives gets half the run, plus up to this long for every PHP worker to get its answers. */
const LIFE_MS = SOAK_MS / 2;
const LIFE_EXTRA_MS = 60000;
const PHP_OK_PER_LIFE = 20;
const FLOOD_REQUESTS = LONG ? 1000000 : 200000;

const NODE_CLIENTS = 200;
const LANES_PER_CLIENT = 3;
const PHP_PROCESSES = 3;
const PHP_CLIENTS_EACH = 5;

const ECHO = '/ipcserver/test/echo';
const SLOW = '/soak/slow';
const HANGUP = '/soak/hangup';
const MEMORY = '/soak/memory';
const MiB = 1024 * 1024;

/** Codes a soak request may legitimately fail with (all of them mean "the connection went away"). */
const NODE_CODES = new Set(['connection_closed', 'client_closed', 'no_open_stream', 'connect_failed', 'connect_timeout', 'shutting_down']);

const randomInt = (n) => Math.floor(Math.random() * n);
const mib = (bytes) => (bytes / MiB).toFixed(1) + ' MiB';

/** Random text with one- to three-byte UTF-8 characters, JSON escapes included. */
const TEXT_POOL = (() => {
  const alphabet = 'abcxyz07 éß中文€ж"\\/\t';
  let text = '';
  for (let i = 0; i < 4096; i++) text += alphabet[randomInt(alphabet.length)];
  return text;
})();
const randomText = () => {
  const start = randomInt(TEXT_POOL.length);
  return TEXT_POOL.slice(start, start + randomInt(200));
};

/** RSS (from /proc) and the heap and buffers (from process.memoryUsage() after a GC), readable. */
function memoryFigures(rss, memory) {
  return { rss: mib(rss), heapUsed: mib(memory.heapUsed), external: mib(memory.external) };
}

function median(values) {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** One request to a server over a fresh connection (the soak clients stay out of it). */
async function ask(socketPath, uri, data) {
  const client = new IPCClient(socketPath, null, { autoReconnect: false, requestTimeout: 10000 });
  try {
    await client.connect();
    return await client.send(uri, data);
  } finally {
    await client.close();
  }
}

/** Resolves or rejects like `promise`, or rejects with `message` after `ms`. */
function withDeadline(promise, ms, message) {
  let timer;
  const deadline = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Polls every 20 ms: the checks here ask the server process over the socket. */
const waitFor = (check, what, timeoutMs) => waitForCondition(check, 'it', timeoutMs, 20).catch((err) => {
  throw new Error('timed out waiting for ' + (typeof what === 'function' ? what() : what) + ` (${timeoutMs} ms)`, { cause: err });
});

/** What the Node side of the soak counted. */
function newTally() {
  return {
    issued: 0,
    settled: 0,
    ok: 0,
    okAfterRestart: 0,
    duplicates: 0,
    wrong: 0,
    uncoded: 0,
    /** The first few wrong answers and uncoded errors, for the failure message. */
    examples: [],
    codes: {},
    hangupAnswered: 0,
    outstanding: new Set(),
  };
}

/**
 * Sends one request and resolves with its outcome once the callback runs.
 * The callback is counted: a second call is a request answered twice.
 */
function sendCounted(client, tally, uri, data, issuedAt, restartedAt) {
  return new Promise((resolve) => {
    const n = data.n;
    const expected = JSON.stringify(data);
    let calls = 0;
    tally.issued++;
    tally.outstanding.add(n);
    const callback = (err, result) => {
      calls++;
      if (calls > 1) {
        tally.duplicates++;
        return;
      }
      tally.settled++;
      tally.outstanding.delete(n);
      if (err) {
        if (err instanceof IPCClient.IPCError && typeof err.code === 'string') {
          tally.codes[err.code] = (tally.codes[err.code] || 0) + 1;
        } else {
          tally.uncoded++;
          if (tally.examples.length < 10) tally.examples.push('uncoded error: ' + String(err && err.stack || err));
        }
        resolve(false);
        return;
      }
      if (uri === HANGUP) tally.hangupAnswered++;
      else if (JSON.stringify(result) !== expected) {
        tally.wrong++;
        if (tally.examples.length < 10) tally.examples.push(`wrong answer: sent ${expected}, got ${JSON.stringify(result)}`);
      } else {
        tally.ok++;
        const restart = restartedAt();
        if (restart && issuedAt > restart) tally.okAfterRestart++;
      }
      resolve(true);
    };
    try {
      client.send(uri, data, callback);
    } catch (err) {
      callback(err);
    }
  });
}

describe('soak', function () {
  this.timeout(SOAK_MS * 2 + 2 * LIFE_EXTRA_MS + 60000);
  let dir;
  const clients = [];
  const phpWorkers = [];
  /** Ends the sending loops; set by the test, called again by after() if the test failed midway. */
  let stopTraffic = () => {};
  /** Set when the test is over: clients stop trying to connect again. */
  let abandoned = false;

  before(function () {
    dir = makeTempDir('pixl-ipc-soak-');
  });

  after(async function () {
    // Whatever happened, leave no sending loops, clients, PHP processes or servers behind.
    abandoned = true;
    stopTraffic();
    await Promise.all(clients.map((client) => client.close()));
    for (const worker of phpWorkers) if (worker.code === null) worker.child.kill('SIGKILL');
    await Promise.all(phpWorkers.map((worker) => worker.exited));
    await killAllServers();
    cleanupTempDirs();
  });

  it(`${NODE_CLIENTS} Node and ${PHP_PROCESSES * PHP_CLIENTS_EACH} PHP clients through random disconnects and a restart: one outcome per request, stable memory`, async function () {
    const socketPath = path.join(dir, 'soak.sock');
    const config = { socket_path: socketPath, log_stats_interval: false, exit_timeout: 2000 };
    let server = await ServerProcess.start(config, dir);
    const firstServer = server;
    let restartedAt = 0;
    const getRestartedAt = () => restartedAt;
    /** When the test started the second server (the first had exited by then); 0 before. */
    let secondServerFrom = 0;
    const stopFile = path.join(dir, 'php-stop');

    for (let i = 0; i < NODE_CLIENTS; i++) {
      clients.push(new IPCClient(socketPath, null, {
        autoReconnect: 50, maxReconnectDelay: 200, requestTimeout: 10000, connectTimeout: 2000, userAgent: `soak-node/${i}`,
      }));
    }
    await Promise.all(clients.map((client) => client.connect()));

    for (let p = 0; p < PHP_PROCESSES; p++) {
      phpWorkers.push(runPhpWorker({
        socketPath, stopFile, clients: PHP_CLIENTS_EACH, name: `php${p}`, secondServerFrom: () => secondServerFrom,
      }));
    }

    // Loops wait with pause(), which stopTraffic() cuts short, so nothing keeps running after the test.
    let stopping = false;
    const pauses = new Set();
    const pause = (ms) => new Promise((resolve) => {
      if (stopping) return resolve();
      const entry = { resolve, timer: setTimeout(() => { pauses.delete(entry); resolve(); }, ms) };
      pauses.add(entry);
    });
    stopTraffic = () => {
      stopping = true;
      fs.writeFileSync(stopFile, '');
      for (const entry of pauses) {
        clearTimeout(entry.timer);
        entry.resolve();
      }
      pauses.clear();
    };
    const tally = newTally();
    let serial = 0;
    let userCloses = 0;

    const lane = async (client, c) => {
      while (!stopping) {
        const n = serial++;
        const data = { c, n, r: randomText() };
        const roll = Math.random();
        let uri = ECHO;
        if (roll < 0.002) uri = HANGUP;
        else if (roll < 0.04) {
          uri = SLOW;
          data.delay = 1 + randomInt(15);
        }
        const answered = await sendCounted(client, tally, uri, data, Date.now(), getRestartedAt);
        if (!answered) await pause(30); // no connection right now: do not spin
      }
    };
    // Now and then a client hangs up on its own, then connects again (also
    // once the traffic stops, so every client ends up connected).
    const disconnector = async (client) => {
      while (!stopping) {
        await pause(1000 + randomInt(4000));
        if (stopping) return;
        userCloses++;
        await client.close();
        await pause(10 + randomInt(100));
        // Retry: the server may be down for its restart just now.
        while (!abandoned) {
          try {
            await client.connect();
            break;
          } catch (err) {
            await sleep(50);
          }
        }
      }
    };
    const tasks = [];
    clients.forEach((client, c) => {
      for (let l = 0; l < LANES_PER_CLIENT; l++) tasks.push(lane(client, c));
      tasks.push(disconnector(client));
    });

    // Each server life lasts half the run, and longer if the PHP workers
    // (slow to start on a loaded machine) have not yet had their share.
    const phpServed = (key) => () => phpWorkers.every((worker) => worker.code !== null || worker[key] >= PHP_OK_PER_LIFE);
    const phpCounts = (key) => phpWorkers.map((worker) => `${worker.name} ${worker[key]}`).join(', ');
    await sleep(LIFE_MS);
    await waitFor(() => phpServed('okFirstServer')() && tally.ok > 0,
      () => `every PHP worker to get ${PHP_OK_PER_LIFE} answers from the first server (${phpCounts('okFirstServer')})`, LIFE_EXTRA_MS);

    // Then a clean stop (SIGTERM), a short outage, a new process on the same socket.
    const stopAskedAt = Date.now();
    const exit = await server.stop();
    const stoppedIn = Date.now() - stopAskedAt;
    assert.deepStrictEqual(exit, { code: 0, signal: null }, 'the server shut down cleanly: ' + server.output);
    assert.ok(!fs.existsSync(socketPath), 'the stopped server removed its socket');
    const okBeforeRestart = tally.ok;
    await sleep(300);
    secondServerFrom = Date.now();
    server = await ServerProcess.start(config, dir);
    restartedAt = Date.now();

    // The second server's memory over time: RSS and the heap after a full GC,
    // sampled every few seconds, so a slow leak shows as a line that keeps rising.
    const samples = [];
    const sampleEvery = LONG ? 5000 : 1000;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          const m = await ask(socketPath, MEMORY);
          samples.push({ s: Math.round((Date.now() - restartedAt) / 1000), rss: server.rss(), heapUsed: m.memory.heapUsed });
        } catch {
          // a sample lost to a loaded machine is not a finding
        }
        await sleep(sampleEvery);
      }
    })();

    // Memory after warm-up: traffic is flowing again and the server has seen every client come back.
    await sleep(Math.max(1000, LIFE_MS / 4));
    const warm = await ask(socketPath, MEMORY);
    const warmRss = server.rss();

    await sleep(Math.max(0, restartedAt + LIFE_MS - Date.now()));
    await waitFor(() => phpServed('okSecondServer')() && tally.okAfterRestart > 0,
      () => `every PHP worker to get ${PHP_OK_PER_LIFE} answers from the second server (${phpCounts('okSecondServer')})`, LIFE_EXTRA_MS);
    sampling = false;
    await sampler;
    stopTraffic();
    // Every request has a 10 s timeout, so all lanes end well within 15 s.
    await withDeadline(Promise.all(tasks), 15000, () => `requests still waiting after the run: ${tally.outstanding.size}`);
    const php = await withDeadline(Promise.all(phpWorkers.map((worker) => worker.exited)), 15000, () => 'PHP workers still running');

    // Idle now, every Node client connected again (the PHP workers have
    // gone): compare with the warm-up point.
    let end = null;
    await waitFor(async () => {
      end = await ask(socketPath, MEMORY);
      return end.connections === NODE_CLIENTS + 1; // and the connection asking
    }, () => `every Node client to be connected to the second server (${end && end.connections - 1})`, 20000);
    const endRss = server.rss();
    const clientStats = clients.map((client) => client.getStats());
    await Promise.all(clients.map((client) => client.close()));
    let afterClose = null;
    await waitFor(async () => {
      afterClose = await ask(socketPath, MEMORY);
      return afterClose.connections === 1; // only the connection asking
    }, 'the server to see every client go', 5000);

    const phpSummary = php.map((w) => ({
      name: w.name, sent: w.done && w.done.sent, ok: w.ok, okFirstServer: w.okFirstServer, okSecondServer: w.okSecondServer, errors: w.errors,
    }));
    const summary = {
      seconds: SOAK_MS / 1000,
      restartMs: { stop: stoppedIn, start: restartedAt - secondServerFrom },
      node: {
        issued: tally.issued, ok: tally.ok, okBeforeRestart, okAfterRestart: tally.okAfterRestart, codes: tally.codes, userCloses,
      },
      php: phpSummary,
      server: {
        firstPeakConnections: firstServer.finalStats && firstServer.finalStats.peakConnections,
        secondPeakConnections: end.peakConnections,
        hangups: [firstServer.finalStats && firstServer.finalStats.hangups, end.hangups],
        warm: memoryFigures(warmRss, warm.memory),
        end: memoryFigures(endRss, end.memory),
        afterClose: memoryFigures(server.rss(), afterClose.memory),
      },
    };
    console.log('      soak: ' + JSON.stringify(summary));

    console.log('      memory of the second server under traffic (s since start: RSS / heap after GC):');
    const step = Math.max(1, Math.ceil(samples.length / 24));
    for (let i = 0; i < samples.length; i += step) console.log(`        ${String(samples[i].s).padStart(4)} s  ${mib(samples[i].rss).padStart(10)}  ${mib(samples[i].heapUsed).padStart(10)}`);

    // Node: every request has exactly one outcome, and the right one.
    assert.deepStrictEqual([...tally.outstanding], [], 'requests without an outcome');
    assert.strictEqual(tally.settled, tally.issued, 'one outcome per request');
    assert.strictEqual(tally.duplicates, 0, 'callbacks called twice');
    assert.deepStrictEqual(tally.examples, [], 'answers that are not the request\'s own echo, errors without a code');
    assert.strictEqual(tally.wrong + tally.uncoded, 0);
    assert.strictEqual(tally.hangupAnswered, 0, 'a request whose connection the server dropped cannot have been answered');
    const unexpectedCodes = Object.keys(tally.codes).filter((code) => !NODE_CODES.has(code));
    assert.deepStrictEqual(unexpectedCodes, [], 'every failure is a lost or refused connection (a request_timeout would be a request the server lost)');
    assert.strictEqual(clientStats.reduce((sum, s) => sum + s.unknownResponses + s.lateResponses, 0), 0, 'responses nobody was waiting for');
    assert.ok(tally.ok > 1000, `node ok ${tally.ok}`);
    assert.ok(okBeforeRestart > 0 && tally.okAfterRestart > 0, 'Node traffic succeeded before and after the restart');
    assert.ok(tally.codes.connection_closed > 0, 'the restart and the hangups cut requests in flight');

    // PHP: one line per request, in order, and the right answers.
    for (const worker of php) {
      assert.deepStrictEqual(worker.problems.slice(0, 5), [], `${worker.name} problems`);
      assert.strictEqual(worker.stderr, '', `${worker.name} printed warnings`);
      assert.strictEqual(worker.code, 0, `${worker.name} exit code`);
      assert.ok(worker.done, `${worker.name} did not finish`);
      assert.strictEqual(worker.done.sent, worker.expectedN, `${worker.name}: one outcome for each of the ${worker.done.sent} requests`);
      assert.ok(worker.okFirstServer >= PHP_OK_PER_LIFE && worker.okSecondServer >= PHP_OK_PER_LIFE, `${worker.name} succeeded before and after the restart`);
      assert.ok(worker.errors[E_SERVER_CLOSE] > 0, `${worker.name} saw the server close`);
    }

    // The server: at least 200 clients at once in both lives, nothing left running or connected.
    assert.ok(firstServer.finalStats, 'the first server reported its counters at shutdown');
    assert.ok(firstServer.finalStats.peakConnections >= 200, `first server: ${firstServer.finalStats.peakConnections} connections at most`);
    assert.ok(end.peakConnections >= 200, `second server: ${end.peakConnections} connections at most`);
    assert.strictEqual(end.inFlight, 1, 'nothing running but the request asking');
    assert.ok(end.gcExposed, 'the server measured its heap after a full GC');

    // Memory. The heap is measured after a full GC, so it holds only live
    // objects: with the same clients connected at both points it may not grow
    // by 16 MiB. Between the two points the short run answers some hundreds
    // of thousands of requests (about 100,000 a second here) and the long run
    // millions, so a leak of a few dozen bytes per request (short) or a few
    // bytes (long) would pass that. RSS also counts what V8 and malloc keep
    // for reuse after a GC, which moves in steps of several MiB (it grows
    // about 15 MiB in the first seconds after a start, then levels off), so
    // it gets a wide margin of 64 MiB.
    const heapGrowth = end.memory.heapUsed - warm.memory.heapUsed;
    if (LONG && samples.length >= 9) {
      // Levelled off: the last third of the run reaches no higher than the
      // middle third, but for allocator steps (RSS) and GC noise (heap).
      const third = Math.floor(samples.length / 3);
      const peak = (from, to, key) => Math.max(...samples.slice(from, to).map((x) => x[key]));
      const rssRise = peak(2 * third, samples.length, 'rss') - peak(third, 2 * third, 'rss');
      const heapRise = peak(2 * third, samples.length, 'heapUsed') - peak(third, 2 * third, 'heapUsed');
      console.log(`      last third vs middle third: RSS ${mib(rssRise)}, heap ${mib(heapRise)}`);
      assert.ok(rssRise < 16 * MiB, `RSS still rising in the last third: +${mib(rssRise)}`);
      assert.ok(heapRise < 4 * MiB, `heap still rising in the last third: +${mib(heapRise)}`);
    }
    assert.ok(heapGrowth < 16 * MiB, `heap grew by ${mib(heapGrowth)}`);
    assert.ok(endRss - warmRss < 64 * MiB, `RSS grew by ${mib(endRss - warmRss)} (${mib(warmRss)} -> ${mib(endRss)})`);
    assert.ok(afterClose.memory.heapUsed - warm.memory.heapUsed < 16 * MiB, 'the heap after every client left');

    const lastExit = await server.stop();
    assert.strictEqual(lastExit.code, 0);
  });
});

describe('flood: a client that sends and never reads', function () {
  this.timeout(LONG ? 600000 : 60000);
  // The server's default high-water mark for one connection's unsent output, written out.
  const MAX_OUTPUT_BUFFER = 8 * MiB;
  // A generous ceiling over idle RSS: the flooder's queued answers (the
  // high-water mark, plus one read's worth of answers), what is read but not
  // yet parsed, and room for V8 to grow its heap in steps.
  const RSS_ALLOWANCE = 150 * MiB;
  let dir;
  let socketPath;
  let server;
  let probe;
  const flooders = [];

  /** Sequential echo round trips on the probe client; their times in ms. */
  async function probeTimes(count) {
    const times = [];
    for (let i = 0; i < count; i++) {
      const data = { probe: i, text: randomText() };
      const started = process.hrtime.bigint();
      const answer = await probe.send(ECHO, data);
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
      assert.deepStrictEqual(answer, data);
    }
    return times;
  }

  /** The server's view of a flooder's connection (found by the pid its first request gave). */
  async function flooderConnection(flooder) {
    const info = await ask(socketPath, MEMORY);
    return { info, connection: info.clients.find((client) => client.pid === flooder.pid) };
  }

  before(async function () {
    dir = makeTempDir('pixl-ipc-flood-');
    socketPath = path.join(dir, 'flood.sock');
    server = await ServerProcess.start({ socket_path: socketPath, log_stats_interval: false, max_output_buffer: MAX_OUTPUT_BUFFER }, dir);
    probe = new IPCClient(socketPath, null, { autoReconnect: false, requestTimeout: 10000 });
    await probe.connect();
  });

  after(async function () {
    for (const flooder of flooders) flooder.destroy();
    if (probe) await probe.close();
    await killAllServers();
    cleanupTempDirs();
  });

  it(`pauses a flooder of ${FLOOD_REQUESTS} requests at the high-water mark, bounded in memory, others unhurt, then answers every one`, async function () {
    await probeTimes(200); // warm up both sides
    const baseline = median(await probeTimes(300));
    const idle = await ask(socketPath, MEMORY);
    const idleRss = server.rss();
    let maxRss = idleRss;
    const sampler = setInterval(() => { maxRss = Math.max(maxRss, server.rss()); }, 50);
    try {
      const flooder = await Flooder.connect(socketPath, FLOOD_REQUESTS);
      flooders.push(flooder);
      const started = Date.now();
      assert.strictEqual(await flooder.pump(1000), 'stalled', 'the server stopped reading from the flooder');
      const stalledAfter = Date.now() - started - 1000;
      const writtenAtPause = flooder.written;

      // Paused: it has read only part of what was written, and reads no more
      // (on a slow machine it may still be working through what it has read).
      let handled = -1;
      await waitFor(async () => {
        const seen = handled;
        handled = (await flooderConnection(flooder)).connection.counters.requests;
        if (seen !== handled) await sleep(300);
        return seen === handled;
      }, 'the server to stop reading the flooder', 10000);
      assert.ok(handled < flooder.written, `handled ${handled} of ${flooder.written} written`);
      // It did answer until its unsent output passed the mark.
      assert.ok(answerBytes(handled) > MAX_OUTPUT_BUFFER, `handled ${handled} (${mib(answerBytes(handled))} of answers) before pausing`);
      const stalledRss = server.rss();
      assert.ok(stalledRss - idleRss < RSS_ALLOWANCE, `RSS while paused: ${mib(stalledRss)} (idle ${mib(idleRss)})`);

      // Another client is served as fast as before, within noise.
      const duringStall = median(await probeTimes(300));
      assert.ok(duringStall < baseline * 5 + 2, `probe median ${duringStall.toFixed(3)} ms while the flooder is paused, ${baseline.toFixed(3)} ms before`);

      // The flooder reads now: every request is answered exactly once while the rest are written.
      flooder.read();
      let flooding = true;
      const probing = (async () => {
        const times = [];
        while (flooding) times.push(...await probeTimes(10));
        return times;
      })();
      probing.catch(() => {}); // awaited below; a failure before that must not go unhandled
      try {
        assert.strictEqual(await flooder.pump(), 'done');
        await waitFor(() => flooder.received >= FLOOD_REQUESTS || flooder.problems.length > 0 || flooder.error, 'every answer', LONG ? 300000 : 45000);
      } finally {
        flooding = false;
      }
      const duringFlood = median(await probing);
      const drainedAfter = Date.now() - started;
      assert.deepStrictEqual(flooder.problems, []);
      assert.strictEqual(flooder.error, null);
      assert.strictEqual(flooder.received, FLOOD_REQUESTS);
      assert.strictEqual(flooder.unanswered(), 0);

      clearInterval(sampler);
      const end = await ask(socketPath, MEMORY);
      console.log('      flood: ' + JSON.stringify({
        requests: FLOOD_REQUESTS,
        pausedAt: { handled, written: writtenAtPause, afterMs: stalledAfter },
        allAnsweredAfterMs: drainedAfter,
        rss: { idle: mib(idleRss), paused: mib(stalledRss), max: mib(maxRss), end: mib(server.rss()) },
        heapUsed: { idle: mib(idle.memory.heapUsed), end: mib(end.memory.heapUsed) },
        probeMedianMs: { before: baseline.toFixed(3), paused: duringStall.toFixed(3), whileFlooding: duringFlood.toFixed(3) },
      }));
      assert.ok(maxRss - idleRss < RSS_ALLOWANCE, `peak RSS ${mib(maxRss)} (idle ${mib(idleRss)})`);
      // While the flooder is served at full speed the probe shares one event
      // loop with it, so it waits behind the flooder's reads (a few ms); this
      // only checks that it is never starved.
      assert.ok(duringFlood < 100, `probe median ${duringFlood.toFixed(3)} ms while the flooder is served`);

      flooder.socket.end();
      await waitFor(async () => !(await flooderConnection(flooder)).connection, 'the flooder connection to close', 5000);
    } finally {
      clearInterval(sampler);
    }
  });

  it('drops a paused flooder that disconnects with answers still queued, and gives the memory back', async function () {
    const before = await ask(socketPath, MEMORY);
    const flooder = await Flooder.connect(socketPath, FLOOD_REQUESTS);
    flooders.push(flooder);
    assert.strictEqual(await flooder.pump(1000), 'stalled');
    const paused = await flooderConnection(flooder);
    assert.ok(paused.connection, 'the flooder is connected');
    flooder.destroy();
    await waitFor(async () => !(await flooderConnection(flooder)).connection, 'the server to drop the flooder', 5000);
    const after = await ask(socketPath, MEMORY);
    // The queued answers (about the 8 MiB mark) are garbage once the connection is gone.
    assert.ok(after.memory.heapUsed + after.memory.external - (before.memory.heapUsed + before.memory.external) < 4 * MiB,
      `heap + external after: ${mib(after.memory.heapUsed + after.memory.external)}, before: ${mib(before.memory.heapUsed + before.memory.external)}`);
    assert.deepStrictEqual(await probe.send(ECHO, { still: 'fine' }), { still: 'fine' });
  });
});
