'use strict';
// Real nats-server processes on loopback ports for the NATS tests: one
// server, or a cluster whose members are joined by routes. Each writes its
// own config file in a temp dir; stop() kills what is still running.
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { freePort, makeTempDir } = require('./harness');

/** The nats-server binary: on the PATH, or where Debian installs it (/usr/sbin is not on every user's PATH). */
const NATS_SERVER = ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((file) => fs.existsSync(file)) || 'nats-server';

/** Resolves once something accepts TCP connections on the port (nats-server is ready). */
function waitForPort(port, timeoutMs = 5000) {
  const giveUpAt = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > giveUpAt) reject(new Error(`nats-server did not listen on ${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

/**
 * Starts one nats-server. `extra` is config text appended (authorization
 * blocks, cluster settings). Resolves to { port, url, process, stop(), kill() }.
 */
async function startNatsServer(extra = '', { port } = {}) {
  port = port || await freePort();
  const dir = makeTempDir('pixl-ipc-nats-');
  const configPath = path.join(dir, 'nats.conf');
  fs.writeFileSync(configPath, `listen: 127.0.0.1:${port}\n${extra}\n`);
  const child = spawn(NATS_SERVER, ['-c', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-4000); });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await Promise.race([waitForPort(port), exited.then((code) => { throw new Error(`nats-server exited (${code}): ${stderr}`); })]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const server = {
    port,
    url: `nats://127.0.0.1:${port}`,
    process: child,
    exited,
    get log() { return stderr; },
    /** SIGKILL: the server vanishes without telling its clients. */
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  running.add(server);
  exited.then(() => running.delete(server));
  return server;
}

/** A cluster of `size` servers joined by routes (each lists every other). Resolves to the servers. */
async function startNatsCluster(size = 3, extra = '') {
  const ports = [];
  const clusterPorts = [];
  for (let i = 0; i < size; i++) {
    ports.push(await freePort());
    clusterPorts.push(await freePort());
  }
  const servers = await Promise.all(ports.map((port, i) => {
    const routes = clusterPorts.filter((_, j) => j !== i).map((p) => `nats-route://127.0.0.1:${p}`);
    const cluster = `cluster {\n  name: pixl\n  listen: 127.0.0.1:${clusterPorts[i]}\n  routes: [${routes.join(', ')}]\n}\n`;
    return startNatsServer(cluster + extra, { port });
  }));
  return servers;
}

const running = new Set();

/** Kills every nats-server still running (for after hooks). */
async function stopAllNats() {
  await Promise.all(Array.from(running, (server) => server.kill()));
}

/** True when nats-server is installed (the NATS tests need it; .ci/run installs it). */
function natsServerInstalled() {
  return require('child_process').spawnSync(NATS_SERVER, ['--version']).status === 0;
}

module.exports = { startNatsServer, startNatsCluster, stopAllNats, natsServerInstalled };
