'use strict';
// Restarts under load: real daemons (`pixl-ipc serve`, as child processes)
// restarted by hand-off (--takeover) or under socket activation
// (systemd-socket-activate holding the socket while daemons come and go),
// while real Node clients and PHP "page views" (persistent connections) keep
// sending. Used by test/integration/restart.test.js (a few seconds) and
// scripts/test-restart.js (the long run).
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const IPCClient = require('pixl-ipc/client');
const { sleep, waitFor } = require('./wait');

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'bin', 'pixl-ipc.js');
const PHP_WORKER = path.join(ROOT, 'test', 'integration', 'fixtures', 'restart-worker.php');

/** How often it looks again while waiting on a daemon. */
const POLL_MS = 20;

/** The daemons' config file: built-in echo and delay, a log in `dir`. */
function writeDaemonConfig(dir, socketPath, ipc = {}) {
  const file = path.join(dir, 'daemon.json');
  fs.writeFileSync(file, JSON.stringify({
    log_dir: dir,
    log_filename: 'daemon.log',
    debug_level: 5,
    IPCServer: { socket_path: socketPath, exit_timeout: 5000, log_stats_interval: false, ...ipc },
  }));
  return file;
}

/** A child process with its output collected, and a promise of its exit code. */
function track(child) {
  const out = { text: '' };
  child.stdout.on('data', (chunk) => { out.text += chunk; });
  child.stderr.on('data', (chunk) => { out.text += chunk; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code === null ? signal : code)));
  return { child, out, exited };
}

/**
 * Hand-off: every restart starts a new `pixl-ipc serve --takeover`, which
 * takes the socket path over; the old daemon exits on its own.
 */
class HandoffDaemons {
  constructor(configFile) {
    this.configFile = configFile;
    this.daemons = [];
    this.restarts = 0;
  }

  async start() {
    const daemon = track(spawn(process.execPath, [CLI, 'serve', '-c', this.configFile, '--takeover'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    this.daemons.push(daemon);
    await waitFor(() => /listening on/.test(daemon.out.text) || daemon.child.exitCode !== null, 'the daemon to listen', 30000, POLL_MS);
    if (!/listening on/.test(daemon.out.text)) throw new Error('daemon failed: ' + daemon.out.text);
    return daemon;
  }

  async restart() {
    const old = this.daemons[this.daemons.length - 1];
    await this.start();
    this.restarts++;
    // The old daemon goes by itself, with exit code 0.
    const code = await Promise.race([old.exited, sleep(30000).then(() => 'still running')]);
    if (code !== 0) throw new Error('the old daemon ended with ' + code + ': ' + old.out.text);
    if (!/handing off to pid/.test(old.out.text)) throw new Error('the old daemon did not say it handed off: ' + old.out.text);
  }

  async stop() {
    const last = this.daemons[this.daemons.length - 1];
    if (last && last.child.exitCode === null) {
      last.child.kill('SIGTERM');
      await last.exited;
    }
  }

  get output() {
    return this.daemons.map((d) => d.out.text).join('\n---\n');
  }
}

/**
 * Socket activation: systemd-socket-activate binds the socket once and runs a
 * shell loop that holds it (as systemd does between a service's runs) and
 * starts `pixl-ipc serve` again each time the previous one exits, with
 * LISTEN_PID set to the daemon's own pid. A restart is SIGTERM to the daemon:
 * connections made while none runs wait in the socket's queue.
 */
class ActivatedDaemons {
  constructor(configFile, socketPath, dir) {
    this.configFile = configFile;
    this.socketPath = socketPath;
    this.stopFile = path.join(dir, 'stop-supervisor');
    this.restarts = 0;
    this.supervisor = null;
  }

  async start() {
    const daemon = `export LISTEN_PID=$$; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} serve -c ${JSON.stringify(this.configFile)}`;
    const loop = `while [ ! -e ${JSON.stringify(this.stopFile)} ]; do sh -c '${daemon.replace(/'/g, "'\\''")}'; echo "daemon exit $?"; done`;
    this.supervisor = track(spawn('systemd-socket-activate', ['-l', this.socketPath, 'bash', '-c', loop], { stdio: ['ignore', 'pipe', 'pipe'] }));
    await waitFor(() => fs.existsSync(this.socketPath), 'systemd-socket-activate to bind', 10000, POLL_MS);
    this.inode = fs.statSync(this.socketPath).ino;
    // It starts the daemon on the first connection.
    const probe = require('net').connect(this.socketPath);
    probe.on('error', () => {});
    await waitFor(() => this.started() === 1, 'the first daemon', 30000, POLL_MS);
    probe.destroy();
  }

  started() {
    return (this.supervisor.out.text.match(/listening on .*\(socket activation\)/g) || []).length;
  }

  exits() {
    return (this.supervisor.out.text.match(/daemon exit \d+/g) || []);
  }

  daemonPid() {
    const pids = execFileSync('pgrep', ['-P', String(this.supervisor.child.pid)], { encoding: 'utf8' }).trim().split('\n');
    return Number(pids[0]);
  }

  async restart() {
    const before = this.started();
    process.kill(this.daemonPid(), 'SIGTERM');
    await waitFor(() => this.started() > before, 'the next daemon', 30000, POLL_MS);
    this.restarts++;
    const exits = this.exits();
    if (exits[exits.length - 1] !== 'daemon exit 0') throw new Error('the daemon ended badly: ' + this.supervisor.out.text);
  }

  async stop() {
    if (!this.supervisor) return;
    fs.writeFileSync(this.stopFile, '');
    try { process.kill(this.daemonPid(), 'SIGTERM'); } catch { /* gone already */ }
    await Promise.race([this.supervisor.exited, sleep(20000)]);
    if (this.supervisor.child.exitCode === null) this.supervisor.child.kill('SIGKILL');
  }

  get output() {
    return this.supervisor ? this.supervisor.out.text : '';
  }
}

function countError(errors, err) {
  const key = (err && err.code ? err.code + ': ' : '') + (err && err.message ? err.message : String(err));
  errors[key] = (errors[key] || 0) + 1;
}

/** Node clients, each with `concurrency` request loops, until stop(). */
function nodeLoad(socketPath, { clients = 4, concurrency = 4 } = {}) {
  const figures = { sent: 0, ok: 0, failed: 0, errors: {} };
  let running = true;
  const list = [];
  const loops = [];
  for (let c = 0; c < clients; c++) {
    const client = new IPCClient(socketPath, null, {
      requestTimeout: 30000,
      connectTimeout: 30000,
      autoReconnect: 20,
      maxReconnectDelay: 200,
      offlineQueue: 100000,
      userAgent: 'restart-node/' + c,
    });
    client.on('error', () => {});
    list.push(client);
    const connected = client.connect();
    for (let l = 0; l < concurrency; l++) {
      loops.push((async () => {
        await connected;
        let n = 0;
        while (running) {
          const slow = n % 5 === 0;
          const data = slow ? { delay: (n * 7) % 40 } : { c, l, n };
          n++;
          figures.sent++;
          try {
            const answer = await client.send(slow ? '/ipcserver/test/delay' : '/ipcserver/test/echo', data);
            if (JSON.stringify(answer) === JSON.stringify(data)) figures.ok++;
            else {
              figures.failed++;
              countError(figures.errors, new Error('wrong answer ' + JSON.stringify(answer) + ' to ' + JSON.stringify(data)));
            }
          } catch (err) {
            figures.failed++;
            countError(figures.errors, err);
            await sleep(5);
          }
        }
      })());
    }
  }
  return {
    figures,
    async stop() {
      running = false;
      await Promise.all(loops);
      await Promise.all(list.map((client) => client.close().catch(() => {})));
      return figures;
    },
  };
}

/** PHP processes doing one-echo page views on persistent connections, until stop(). */
function phpLoad(socketPath, dir, { workers = 2, maxSeconds = 600 } = {}) {
  const stopFile = path.join(dir, 'stop-php-' + Math.random().toString(36).slice(2));
  const procs = [];
  for (let w = 0; w < workers; w++) procs.push(track(spawn('php', [PHP_WORKER, socketPath, stopFile, String(maxSeconds), 'w' + w], { stdio: ['ignore', 'pipe', 'pipe'] })));
  return {
    async stop() {
      fs.writeFileSync(stopFile, '');
      const figures = { sent: 0, ok: 0, failed: 0, errors: {} };
      for (const proc of procs) {
        await proc.exited;
        const line = proc.out.text.trim().split('\n').pop();
        let result;
        try {
          result = JSON.parse(line);
        } catch {
          throw new Error('PHP worker output: ' + proc.out.text);
        }
        figures.sent += result.sent;
        figures.ok += result.ok;
        figures.failed += result.failed;
        for (const [key, count] of Object.entries(result.errors)) figures.errors[key] = (figures.errors[key] || 0) + count;
      }
      return figures;
    },
  };
}

/**
 * Runs load for `seconds` (and at least `minRestarts` restarts), restarting
 * every `restartEveryMs` (plus the time a restart takes); resolves to
 * { restarts, node: figures, php: figures, daemons } (figures: sent, ok,
 * failed, errors by message).
 */
async function restartUnderLoad({ mode, dir, seconds, restartEveryMs, minRestarts = 1, nodeClients = 4, concurrency = 4, phpWorkers = 2 }) {
  const socketPath = path.join(dir, 'ipc.sock');
  const configFile = writeDaemonConfig(dir, socketPath);
  const daemons = mode === 'handoff' ? new HandoffDaemons(configFile) : new ActivatedDaemons(configFile, socketPath, dir);
  await daemons.start();
  let node = null;
  let php = null;
  try {
    node = nodeLoad(socketPath, { clients: nodeClients, concurrency });
    php = phpWorkers > 0 ? phpLoad(socketPath, dir, { workers: phpWorkers, maxSeconds: seconds + 120 }) : null;
    const until = Date.now() + seconds * 1000;
    await sleep(Math.min(restartEveryMs, 1000));
    while (daemons.restarts < minRestarts || Date.now() + 200 < until) {
      await daemons.restart();
      await sleep(Math.max(0, Math.min(restartEveryMs, until - Date.now())));
    }
    const nodeFigures = await node.stop();
    node = null;
    const phpFigures = php ? await php.stop() : { sent: 0, ok: 0, failed: 0, errors: {} };
    php = null;
    const socketInode = mode === 'activation' ? fs.statSync(socketPath).ino : null;
    return { mode, restarts: daemons.restarts, node: nodeFigures, php: phpFigures, socketInodeKept: mode === 'activation' ? socketInode === daemons.inode : null, daemons };
  } finally {
    if (node) await node.stop();
    if (php) await php.stop().catch(() => {});
    await daemons.stop();
  }
}

module.exports = { restartUnderLoad, writeDaemonConfig, HandoffDaemons, ActivatedDaemons, nodeLoad, phpLoad, CLI };
