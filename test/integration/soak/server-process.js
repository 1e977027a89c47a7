'use strict';
// Runs test/soak/server.js as a child process: start, stop with SIGTERM, read
// its resident memory, and kill whatever is still running when a test fails.
const fs = require('fs');
const path = require('path');
const { spawn, execFileSync } = require('child_process');

const SERVER_SCRIPT = path.join(__dirname, 'server.js');
const running = new Set();

// A test run that dies halfway must not leave servers behind.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Resident set size of a process in bytes, from /proc (Linux) or ps (elsewhere). */
function rssBytes(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    if (match) return Number(match[1]) * 1024;
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) * 1024;
}

class ServerProcess {
  /**
   * Starts a server with this IPCServer config; resolves once it listens.
   * Rejects with the child's output if it exits first.
   */
  static start(ipcConfig, logDir) {
    const child = spawn(process.execPath, ['--expose-gc', SERVER_SCRIPT, JSON.stringify(ipcConfig), logDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    const server = new ServerProcess(child);
    return server.ready.then(() => server);
  }

  constructor(child) {
    this.child = child;
    this.pid = child.pid;
    this.output = '';
    /** The counters the server printed as it shut down (null until then). */
    this.finalStats = null;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(child);
        resolve({ code, signal });
      });
    });
    this.ready = new Promise((resolve, reject) => {
      let pending = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk) => {
        this.output += chunk;
        pending += chunk;
        let nl;
        while ((nl = pending.indexOf('\n')) !== -1) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line.startsWith('READY ')) resolve();
          else if (line.startsWith('STATS ')) this.finalStats = JSON.parse(line.slice(6));
        }
      });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk) => { this.output += chunk; });
      this.exited.then(({ code, signal }) => reject(new Error(`server exited before it was ready (${code || signal}): ${this.output}`)));
    });
    this.ready.catch(() => {});
  }

  /** Resident memory now, in bytes. */
  rss() {
    return rssBytes(this.pid);
  }

  /** SIGTERM (a clean shutdown); resolves to { code, signal } once the process is gone. */
  stop() {
    if (running.has(this.child)) this.child.kill('SIGTERM');
    return this.exited;
  }

  /** SIGKILL if still running (cleanup after a failure). */
  kill() {
    if (running.has(this.child)) this.child.kill('SIGKILL');
    return this.exited;
  }
}

/** Kills every server this module started that is still running. */
function killAllServers() {
  const waits = [];
  for (const child of running) {
    child.kill('SIGKILL');
    waits.push(new Promise((resolve) => child.once('exit', resolve)));
  }
  return Promise.all(waits);
}

module.exports = { ServerProcess, killAllServers, rssBytes };
