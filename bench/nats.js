'use strict';
// The NATS contender: our Node client reaching our server through a
// nats-server on loopback (request/reply on the uri's subject, the daemon in
// a queue group), measured in the same workloads and repetitions as the Unix
// socket contenders, so its ratio to the raw floor and to our client on the
// socket come from the same run. Runs when nats-server and the `nats`
// package are installed (the report says so when they are not).
// The server's CPU per message counts our daemon only; nats-server's own CPU is not in it.
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const NATS_SERVER = ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((file) => fs.existsSync(file)) || 'nats-server';

/** Why the NATS contender cannot run here, or null when it can. */
function unavailable() {
  if (spawnSync(NATS_SERVER, ['--version']).status !== 0) return 'nats-server is not installed (Debian: apt-get install nats-server)';
  try {
    require.resolve('nats');
  } catch {
    return 'the nats package is not installed (npm install)';
  }
  return null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Starts a nats-server for the run; resolves to { url, stop() }. */
async function startNatsServer() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixl-ipc-bench-nats-'));
  const config = path.join(dir, 'nats.conf');
  // The latency sizes go up to 1 MiB; nats-server's default max_payload is 1 MB.
  fs.writeFileSync(config, `listen: 127.0.0.1:${port}\nmax_payload: 8MB\n`);
  const child = spawn(NATS_SERVER, ['-c', config], { stdio: 'ignore' });
  const giveUpAt = Date.now() + 10000;
  for (;;) {
    const up = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > giveUpAt || child.exitCode !== null) throw new Error('nats-server did not start');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    stop() {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The contender (orchestrator.contenders()): measured in latency and pipelined, not in the curves. */
function natsContender(url) {
  return { id: 'nats', server: 'nats-ours', client: 'ipc', clientOptions: {}, target: url, variant: true };
}

/** Our server's config for it (orchestrator.startServers()). */
function natsServerConfig(url) {
  return { nats: { servers: [url] } };
}

/** Resolves once a daemon answers on NATS (it joins the queue group just after startup). */
async function waitUntilServed(url) {
  const nats = require('nats');
  const nc = await nats.connect({ servers: url });
  try {
    const giveUpAt = Date.now() + 10000;
    for (;;) {
      try {
        await nc.request('ipc.ipcserver.test.echo', new TextEncoder().encode('{"data":1}'), { timeout: 1000 });
        return;
      } catch (err) {
        if (Date.now() > giveUpAt) throw err;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  } finally {
    await nc.close();
  }
}

/** The report's section (report.js render()): NATS against the raw floor and against our client on the socket. */
function natsSection(f, { fmtNumber, fmtRatio, table }) {
  const rows = [];
  for (const keys of [1]) {
    const raw = f.value('latency', keys, 'raw', 'median');
    if (!f.series('latency', keys, 'nats', 'median').size) continue;
    rows.push([`round trip ${keys} KiB (µs, median)`, fmtNumber(raw.value), fmtNumber(f.value('latency', keys, 'ours', 'median').value), fmtNumber(f.value('latency', keys, 'nats', 'median').value),
      fmtRatio(f.compare('latency', keys, 'nats', 'raw', 'median')), fmtRatio(f.compare('latency', keys, 'nats', 'ours', 'median'))]);
  }
  for (const inFlight of [1, 64]) {
    if (!f.series('pipelined', inFlight, 'nats', 'perSecond').size) continue;
    rows.push([`pipelined, ${inFlight} in flight (msg/s)`, fmtNumber(f.value('pipelined', inFlight, 'raw', 'perSecond').value), fmtNumber(f.value('pipelined', inFlight, 'ours', 'perSecond').value),
      fmtNumber(f.value('pipelined', inFlight, 'nats', 'perSecond').value), fmtRatio(f.compare('pipelined', inFlight, 'nats', 'raw', 'perSecond')), fmtRatio(f.compare('pipelined', inFlight, 'nats', 'ours', 'perSecond'))]);
  }
  if (rows.length === 0) return [];
  return [
    '### NATS round trip',
    '',
    'Our Node client to our server through a nats-server on loopback (one hop more than the socket: client → nats-server → daemon and back), in the same repetitions as the Unix socket contenders. Ratios are medians of per-repetition ratios with their 95% intervals.',
    '',
    table(['', 'raw (Unix socket)', 'ours (Unix socket)', 'ours over NATS', 'NATS / raw', 'NATS / ours'], rows),
    '',
  ];
}

module.exports = { unavailable, startNatsServer, natsContender, natsServerConfig, waitUntilServed, natsSection };
