#!/usr/bin/env node
'use strict';
// `npm run test:web`: nginx + php-fpm (the system's packages) in front of PHP
// pages that each make one pixl-ipc call to a `pixl-ipc serve` daemon, measured
// with ab: the cost per page of one call on a new connection and on a
// persistent one, against a static PHP page. With --restart, the daemon is
// restarted in the middle of a run and the failed page views are counted.
//
//   npm run test:web -- [--requests N] [--rounds R] [--concurrency C] [--restart] [--seconds S]
//
// Runs as root (pool user www-data, reaching the socket through its group) or
// as any user (everything as that user). Not part of `npm test`: it measures.
const fs = require('fs');
const path = require('path');
const { spawn, execFile } = require('child_process');
const { startWebStack, missingParts, findBinary, stopChild, canConnect, get } = require('../test/helpers/web-stack');
const { waitFor } = require('../test/helpers/wait');

const ROOT = path.join(__dirname, '..');

function parseArgs(argv) {
  const options = { requests: 2000, rounds: 3, concurrency: 4, restart: false, seconds: 15 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${arg} needs a positive whole number`);
      return n;
    };
    if (arg === '--requests') options.requests = value();
    else if (arg === '--rounds') options.rounds = value();
    else if (arg === '--concurrency') options.concurrency = value();
    else if (arg === '--seconds') options.seconds = value();
    else if (arg === '--restart') options.restart = true;
    else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

/** A `pixl-ipc serve` daemon on the stack's socket (mode 660: group www-data gets in). */
async function startDaemon(stack) {
  const config = path.join(stack.dir, 'daemon.json');
  fs.writeFileSync(config, JSON.stringify({
    log_dir: stack.dir,
    log_filename: 'daemon.log',
    IPCServer: { socket_path: stack.socketPath, socket_chmod: '660' },
  }));
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'bin', 'pixl-ipc.js'), 'serve', '--config', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  try {
    await waitFor(() => canConnect({ path: stack.socketPath }), 'the daemon to listen', 10000, 5);
  } catch (err) {
    err.message += `: ${stderr}`;
    await stopChild(child);
    throw err;
  }
  return child;
}

function ab(args) {
  return new Promise((resolve, reject) => {
    execFile(findBinary(['ab']), args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      // ab exits non-zero after socket errors; its report is still what we want.
      if (err && !/Complete requests/.test(stdout)) return reject(new Error(`ab failed: ${stderr || err.message}`));
      const number = (re) => {
        const m = re.exec(stdout);
        return m ? Number(m[1]) : 0;
      };
      // A failed page is a non-2xx answer, or a connection or receive error. ab
      // also counts answers whose length differs from the first (an error
      // page) as "Length" failures: those are the non-2xx ones again.
      const breakdown = /\(Connect: (\d+), Receive: (\d+), Length: (\d+), Exceptions: (\d+)\)/.exec(stdout);
      const [connect, receive, length, exceptions] = breakdown ? breakdown.slice(1).map(Number) : [0, 0, 0, 0];
      const non2xx = number(/Non-2xx responses:\s+(\d+)/);
      resolve({
        complete: number(/Complete requests:\s+(\d+)/),
        failed: connect + receive + exceptions + Math.max(length, non2xx),
        perSecond: number(/Requests per second:\s+([\d.]+)/),
        msPerPage: number(/Time per request:\s+([\d.]+) \[ms\] \(mean\)/),
        msAcrossAll: number(/Time per request:\s+([\d.]+) \[ms\] \(mean, across all concurrent requests\)/),
        non2xx,
      });
    });
  });
}

const median = (values) => {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

const PAGES = [
  { name: 'static PHP page', path: '/static.php' },
  { name: 'one call, new connection', path: '/call.php' },
  { name: 'one call, persistent', path: '/call.php?persistent=1' },
];

async function measure(stack, options) {
  const runs = PAGES.map(() => ({ serial: [], parallel: [], failures: 0 }));
  for (let round = 0; round < options.rounds; round++) {
    // Interleaved rounds, so a noisy neighbour hurts every page alike.
    for (let i = 0; i < PAGES.length; i++) {
      const url = stack.baseUrl + PAGES[i].path;
      await ab(['-q', '-n', '200', '-c', '1', url]); // warm the workers (and their connections)
      const serial = await ab(['-q', '-n', String(options.requests), '-c', '1', url]);
      const parallel = await ab(['-q', '-n', String(options.requests * 2), '-c', String(options.concurrency), url]);
      runs[i].serial.push(serial.msPerPage);
      runs[i].parallel.push(parallel.perSecond);
      runs[i].failures += serial.failed + parallel.failed;
    }
  }
  const base = median(runs[0].serial);
  console.log(`\nPer-page cost (ab, medians of ${options.rounds} rounds of ${options.requests} pages at -c 1 and ${options.requests * 2} at -c ${options.concurrency}):\n`);
  console.log('| page | ms per page (-c 1) | µs over static | pages/s (-c ' + options.concurrency + ') | failed |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  PAGES.forEach((page, i) => {
    const ms = median(runs[i].serial);
    const over = i === 0 ? '' : String(Math.round((ms - base) * 1000));
    console.log(`| ${page.name} | ${ms.toFixed(3)} | ${over} | ${Math.round(median(runs[i].parallel))} | ${runs[i].failures} |`);
  });
  return runs.reduce((n, r) => n + r.failures, 0);
}

/**
 * The same cost without the web server: a php CLI loop where each iteration is
 * a page's worth of work (new client object, one call, object dropped).
 */
function cliLoop(stack, iterations) {
  const code = `require ${JSON.stringify(path.join(ROOT, 'php-client', 'PixlIPCClient.class.php'))};
$out = array();
foreach (array(false, true, false, true) as $persistent) {
    $start = hrtime(true);
    for ($i = 0; $i < ${iterations}; $i++) {
        $ipc = new PixlIPCClient(${JSON.stringify(stack.socketPath)}, array('persistent' => $persistent));
        $ipc->send('/ipcserver/test/echo', array('i' => $i));
        $ipc = null;
    }
    $out[$persistent ? 'persistent' : 'new'][] = (hrtime(true) - $start) / ${iterations} / 1000;
}
echo json_encode(array('new' => min($out['new']), 'persistent' => min($out['persistent'])));`;
  return new Promise((resolve, reject) => {
    execFile('php', ['-r', code], (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout))));
  });
}

/** A long persistent run with the daemon restarted halfway; counts failed page views. */
async function restartPhase(stack, daemon, options) {
  const url = `${stack.baseUrl}/call.php?persistent=1`;
  console.log(`\nRestart: ab -c 8 for ${options.seconds} s on the persistent page; the daemon is stopped (SIGTERM) and started again halfway.`);
  const run = ab(['-q', '-r', '-t', String(options.seconds), '-n', '100000000', '-c', '8', url]);
  await new Promise((resolve) => setTimeout(resolve, (options.seconds * 1000) / 2));
  const stopAt = Date.now();
  await stopChild(daemon);
  const stoppedAt = Date.now();
  const next = await startDaemon(stack);
  const listeningAt = Date.now();
  const result = await run;
  const failed = result.failed;
  console.log(`old daemon exited ${stoppedAt - stopAt} ms after SIGTERM; the new one listened ${listeningAt - stoppedAt} ms later`);
  console.log(`page views: ${result.complete}, failed: ${failed} (target 0)`);
  if (failed) {
    // What the failed pages said (call.php logs each failure), most frequent first.
    let log = '';
    try {
      log = fs.readFileSync(path.join(stack.dir, 'php-errors.log'), 'utf8');
    } catch {
      // nothing logged
    }
    const counts = new Map();
    for (const m of log.matchAll(/pixl-ipc call failed: (.*)/g)) {
      const reason = m[1].replace(/rq[0-9a-f]+-\d+/g, 'rq…').replace(/\d+ ms/g, 'N ms');
      counts.set(reason, (counts.get(reason) || 0) + 1);
    }
    for (const [reason, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`  ${n} × ${reason}`);
  }
  return { daemon: next, failed };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const missing = (missingParts() || []).concat(findBinary(['ab']) ? [] : ['ab (apache2-utils)']);
  if (missing.length) {
    console.error(`test:web needs ${missing.join(', ')} (Debian: apt-get install php-fpm nginx apache2-utils)`);
    process.exit(2);
  }
  const stack = await startWebStack();
  let daemon = null;
  let failed = 0;
  try {
    daemon = await startDaemon(stack);
    console.log(`nginx + php-fpm (${stack.asRoot ? 'pool user www-data, socket group www-data mode 660' : 'as the current user'}) at ${stack.baseUrl}, daemon: pixl-ipc serve`);
    const check = await get(`${stack.baseUrl}/call.php?persistent=1`);
    if (check.status !== 200) throw new Error(`the call page answered ${check.status}: ${check.body}`);
    failed += await measure(stack, options);
    const cli = await cliLoop(stack, options.requests);
    console.log(`\nphp CLI loop (${options.requests} iterations of: new client, one call, drop it; best of 2): `
      + `${Math.round(cli.new)} µs on a new connection, ${Math.round(cli.persistent)} µs persistent`);
    if (options.restart) {
      const restarted = await restartPhase(stack, daemon, options);
      daemon = restarted.daemon;
      failed += restarted.failed;
    }
  } finally {
    await stopChild(daemon);
    await stack.stop();
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(err.stack || err.message);
  process.exit(1);
});
