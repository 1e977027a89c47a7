const { startNatsServer, stopAllNats } = require('./test/helpers/nats-cluster');
const { startServer, cleanupTempDirs } = require('./test/helpers/harness');
const nats = require('nats');
const IPCClient = require('pixl-ipc/client');
async function loop(send, n, conc) {
  const t = process.hrtime.bigint(); let i = 0;
  await Promise.all(Array.from({ length: conc }, async () => { while (i++ < n) await send(); }));
  return Math.round(n / (Number(process.hrtime.bigint() - t) / 1e9));
}
(async () => {
  const ns = await startNatsServer();
  const resp = await nats.connect({ servers: ns.url });
  resp.subscribe('raw.echo', { callback: (e, m) => m.respond(m.data) });
  const d = await startServer({ nats: { servers: [ns.url] } });
  await new Promise((r) => d.ipc.once('nats_serving', r));
  const nc = await nats.connect({ servers: ns.url });
  const c = new IPCClient(ns.url); await c.connect();
  const payload = new TextEncoder().encode(JSON.stringify({ data: 'x'.repeat(100) }));
  for (let k = 0; k < 2; k++) for (const conc of [1, 64]) {
    console.log(conc, 'raw nats/s', await loop(() => nc.request('raw.echo', payload, { timeout: 5000 }), 3000, conc),
      'daemon nc.request/s', await loop(() => nc.request('ipc.ipcserver.test.echo', payload, { timeout: 5000 }), 3000, conc),
      'NatsIPCClient/s', await loop(() => c.send('/ipcserver/test/echo', 'x'.repeat(100)), 3000, conc));
  }
  await c.close(); await nc.close(); await resp.close(); await d.stop(); await stopAllNats(); cleanupTempDirs();
})();
