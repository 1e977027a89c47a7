'use strict';
// The Node client and the CLI against hostile servers (issue 25): a server in
// its own process (test/helpers/hostile-server.js) misbehaves in one way; the
// client, in a process of its own, makes one call. Each call must settle with
// a clear code by its deadline, and the client's memory must stay bounded
// while the server keeps going after the call settled.
const assert = require('assert');
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const { makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { startHostileServer } = require('../helpers/hostile-server');
const { CLI, childEnv } = require('../helpers/cli');

const CLIENT = path.join(__dirname, 'fixtures', 'hostile-client.js');
const MiB = 1024 * 1024;
/** The call's deadline. */
const DEADLINE_MS = 800;
/** A settled call may come this late (timers on a loaded 2-core machine). */
const SLACK_MS = 400;
/** How long the client keeps watching its memory after the call settled, while the server goes on. */
const WATCH_MS = 1200;
/** The client's maxMessageSize in these runs. */
const MAX_MESSAGE = 1 * MiB;
/**
 * Growth of the client's RSS allowed over its connected baseline: the held
 * line (up to maxMessageSize, at most doubled by the buffer's growth), a read
 * buffer, a decoded line, and the V8 heap's own slack.
 */
const RSS_BOUND = 32 * MiB;

/** mode -> the call made and the code it must end with. */
const CASES = [
  { mode: 'endless-line', expect: 'message_too_large', early: true },
  { mode: 'trickle', expect: 'request_timeout', closes: true },
  { mode: 'byte-drip', expect: 'request_timeout', interval: 10, closes: true },
  { mode: 'push-flood', expect: 'request_timeout' },
  { mode: 'endless-parts', call: 'stream', expect: 'request_timeout' },
  { mode: 'unknown-ids', expect: 'bad_response', early: true },
  { mode: 'silence', expect: 'request_timeout' },
  { mode: 'invalid-utf8', expect: 'bad_response', early: true },
  { mode: 'invalid-json', expect: 'bad_response', early: true },
  { mode: 'half-line', expect: 'connection_closed', early: true },
];

function runClient(job) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', CLIENT, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const limit = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`hostile client exited ${code || signal}: ${stderr || stdout}`));
      }
    });
  });
}

/** Runs `pixl-ipc send` and samples its peak RSS (VmHWM) while it runs. */
function runCliSend(socketPath, timeout) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, 'send', '/hostile', '{"n":1}', '--socket', socketPath, '--timeout', String(timeout)], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let peakKiB = 0;
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const sampler = setInterval(() => {
      try {
        const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (match) peakKiB = Math.max(peakKiB, Number(match[1]));
      } catch { /* exited */ }
    }, 10);
    const limit = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(sampler);
      clearTimeout(limit);
      resolve({ code, signal, stderr, elapsedMs: Date.now() - started, peakRss: peakKiB * 1024 });
    });
  });
}

describe('client: hostile servers', function () {
  this.timeout(30000);
  let server = null;
  afterEach(async () => {
    if (server) await server.stop();
    server = null;
  });
  after(cleanupTempDirs);

  for (const c of CASES) {
    it(`${c.mode}: ${c.call || 'send'} settles with ${c.expect} by its deadline, RSS growth < ${RSS_BOUND / MiB} MiB`, async () => {
      const socketPath = path.join(makeTempDir('pixl-ipc-hostile-'), 'hostile.sock');
      server = await startHostileServer({ mode: c.mode, socketPath, interval: c.interval });
      const result = await runClient({ socketPath, call: c.call || 'send', timeout: DEADLINE_MS, watchMs: WATCH_MS, options: { maxMessageSize: MAX_MESSAGE } });
      const growth = result.peakRss - result.baselineRss;
      console.log(`      ${c.mode}: ${result.code} after ${result.elapsedMs} ms; RSS ${(result.baselineRss / MiB).toFixed(1)} -> peak ${(result.peakRss / MiB).toFixed(1)} MiB (+${(growth / MiB).toFixed(1)}); ${result.message}`);
      assert.strictEqual(result.fatal, undefined, result.fatal);
      assert.strictEqual(result.code, c.expect, result.message);
      assert.ok(result.elapsedMs <= DEADLINE_MS + SLACK_MS, `settled after ${result.elapsedMs} ms`);
      if (c.early) assert.ok(result.elapsedMs < DEADLINE_MS, `a broken connection is given up at once, not at the deadline (${result.elapsedMs} ms)`);
      assert.ok(growth < RSS_BOUND, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
      // A line still arriving when the request times out means the connection is no use: it is closed.
      if (c.closes) assert.strictEqual(result.stats.disconnects, 1, 'the connection holding the endless line was closed');
    });
  }

  it('trickle with the default maxMessageSize (128 MiB): memory follows the bytes held, not the writes', async () => {
    const socketPath = path.join(makeTempDir('pixl-ipc-hostile-'), 'hostile.sock');
    server = await startHostileServer({ mode: 'trickle', socketPath });
    const result = await runClient({ socketPath, call: 'send', timeout: 1500, watchMs: 1500, options: {} });
    const growth = result.peakRss - result.baselineRss;
    console.log(`      trickle (default limit): ${result.code} after ${result.elapsedMs} ms; RSS +${(growth / MiB).toFixed(1)} MiB`);
    assert.strictEqual(result.code, 'request_timeout', result.message);
    assert.ok(growth < 16 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB while a few KiB were held`);
  });

  describe('the CLI (pixl-ipc send)', () => {
    const CLI_CASES = [
      { mode: 'trickle', exit: 4, says: /timed out after 800 ms/ },
      { mode: 'byte-drip', exit: 4, says: /timed out after 800 ms/, interval: 10 },
      { mode: 'push-flood', exit: 4, says: /timed out after 800 ms/ },
      { mode: 'silence', exit: 4, says: /timed out after 800 ms/ },
      { mode: 'invalid-json', exit: 1, says: /bad_response/ },
      { mode: 'half-line', exit: 3, says: /closed before the answer came/ },
    ];
    for (const c of CLI_CASES) {
      it(`${c.mode}: exits ${c.exit} by its --timeout with a clear line`, async () => {
        const socketPath = path.join(makeTempDir('pixl-ipc-hostile-'), 'hostile.sock');
        server = await startHostileServer({ mode: c.mode, socketPath, interval: c.interval });
        const result = await runCliSend(socketPath, DEADLINE_MS);
        console.log(`      cli ${c.mode}: exit ${result.code} after ${result.elapsedMs} ms, peak RSS ${(result.peakRss / MiB).toFixed(1)} MiB: ${result.stderr.trim()}`);
        assert.strictEqual(result.code, c.exit, result.stderr);
        assert.match(result.stderr, c.says);
        // Node's own start-up comes on top: a few hundred ms idle, seconds on a loaded machine.
        assert.ok(result.elapsedMs < DEADLINE_MS + 6000, `ran ${result.elapsedMs} ms`);
        assert.ok(result.peakRss < 150 * MiB, `peak RSS ${(result.peakRss / MiB).toFixed(1)} MiB`);
      });
    }
  });
});
