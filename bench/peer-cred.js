'use strict';
// Cost of reading the kernel peer identity per accepted connection:
//   node bench/peer-cred.js [connections]
// 1. the calls alone, on one connected socket (SO_PEERCRED; names from the cache);
// 2. connect + accept + close of N connections, with and without reading `peer`.
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { peerCredentials, peerIdentity, peerGroups } = require('../dist/lib/peer-cred');

const N = Number(process.argv[2] || 5000);

function perCall(label, fn, iterations = 200000) {
  for (let i = 0; i < 1000; i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  console.log(`${label.padEnd(44)} ${ns.toFixed(0).padStart(7)} ns per call`);
}

function acceptLoop(socketPath, onAccept) {
  return new Promise((resolve) => {
    const server = net.createServer((socket) => { onAccept(socket); socket.destroy(); });
    server.listen(socketPath, async () => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < N; i++) {
        await new Promise((done) => {
          const client = net.connect(socketPath);
          client.once('close', done);
          client.once('error', done);
        });
      }
      const us = Number(process.hrtime.bigint() - start) / 1000 / N;
      server.close(() => resolve(us));
    });
  });
}

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixl-ipc-bench-peer-'));
  try {
    const listener = net.createServer();
    const socketPath = path.join(dir, 'calls.sock');
    await new Promise((resolve) => listener.listen(socketPath, resolve));
    const client = net.connect(socketPath);
    const [socket] = await Promise.all([
      new Promise((resolve) => listener.once('connection', resolve)),
      new Promise((resolve) => client.once('connect', resolve)),
    ]);
    console.log(`node ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    perCall('peerCredentials (SO_PEERCRED)', () => peerCredentials(socket));
    perCall('peerIdentity (+ user and group names, cached)', () => peerIdentity(socket));
    perCall('peerGroups (SO_PEERGROUPS)', () => peerGroups(socket), 50000);
    socket.destroy(); client.destroy(); listener.close();

    const rounds = [];
    for (let round = 0; round < 3; round++) {
      const plain = await acceptLoop(path.join(dir, `p${round}.sock`), () => {});
      const withPeer = await acceptLoop(path.join(dir, `i${round}.sock`), (s) => { s.peer = peerIdentity(s); });
      rounds.push({ plain, withPeer });
      console.log(`connect+accept+close, ${N} sequential: ${plain.toFixed(1)} µs plain, ${withPeer.toFixed(1)} µs with peerIdentity`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})();
