'use strict';
// The traffic monitor's bounds, attacked: what it holds per watcher per
// window, how many may watch, what a watcher that never reads costs, and
// that the daemon keeps serving everyone else meanwhile.
const assert = require('assert');
const IPCClient = require('../../dist/client');
const { TrafficMonitor, MAX_WATCHERS, WINDOW_MS } = require('../../dist/lib/traffic-monitor');
const { startServer, cleanupTempDirs } = require('../helpers/harness');
const { rawConnect } = require('../helpers/raw');
const { waitFor } = require('../helpers/wait');

describe('traffic monitor: bounds', function () {
  this.timeout(60000);
  after(cleanupTempDirs);

  it('holds at most eventsPerSecond x window per watcher, counting the rest as skipped', function () {
    const pushed = [];
    const watcher = { isOpen: true, id: 1, push: (uri, data) => { pushed.push(data); return true; } };
    const caller = { id: 2, peer: { uid: 1000, pid: 42 } };
    const monitor = new TrafficMonitor(200); // 20 per 100 ms window
    monitor.watch(watcher);
    try {
      const call = { connection: caller, handlerName: 'H', request: { uri: '/x'.repeat(5000) } };
      for (let i = 0; i < 100000; i++) monitor.record(call, null, 0.01, { ok: 1 });
      // The shape held is fixed, whatever was recorded.
      monitor.flush();
      assert.strictEqual(pushed.length, 1);
      assert.strictEqual(pushed[0].events.length, 20);
      assert.strictEqual(pushed[0].skipped, 100000 - 20);
      assert.ok(pushed[0].events[0].uri.length < 300, 'a long uri is cut to an excerpt');
      assert.strictEqual(pushed[0].events[0].uid, 1000);
    } finally {
      monitor.stop();
    }
  });

  it('a watcher whose pushes are refused (it does not read) holds nothing: what it missed is only counted', function () {
    let accepted = false;
    const seen = [];
    const watcher = { isOpen: true, id: 1, push: (uri, data) => { if (accepted) seen.push(data); return accepted; } };
    const monitor = new TrafficMonitor(100);
    monitor.watch(watcher);
    try {
      const call = { connection: { id: 2, peer: null }, handlerName: null, request: { uri: '/y' } };
      for (let window = 0; window < 50; window++) {
        for (let i = 0; i < 1000; i++) monitor.record(call, 'access', 1, undefined);
        monitor.flush();
      }
      accepted = true;
      monitor.flush();
      assert.strictEqual(seen.length, 1);
      assert.strictEqual(seen[0].events.length, 0);
      assert.strictEqual(seen[0].skipped, 50 * 1000);
    } finally {
      monitor.stop();
    }
  });

  it(`lets ${MAX_WATCHERS} connections watch; the next gets too_many_monitors and the rest keep working`, async function () {
    const h = await startServer({ monitor_endpoint: true });
    const clients = [];
    try {
      for (let i = 0; i <= MAX_WATCHERS; i++) {
        const c = new IPCClient(h.socketPath, null, { autoReconnect: false });
        await c.connect();
        clients.push(c);
      }
      for (const c of clients.slice(0, MAX_WATCHERS)) assert.strictEqual((await c.send('/ipcserver/monitor', {})).watching, true);
      await assert.rejects(clients[MAX_WATCHERS].send('/ipcserver/monitor', {}), (err) => err.code === 'too_many_monitors');
      // One stops: a place is free again.
      assert.deepStrictEqual(await clients[0].send('/ipcserver/monitor', { stop: true }), { watching: false });
      assert.strictEqual((await clients[MAX_WATCHERS].send('/ipcserver/monitor', {})).watching, true);
      // A watcher that disconnects frees its place too.
      await clients[1].close();
      await waitFor(() => h.ipc.traffic.watcherCount === MAX_WATCHERS - 1, 'the closed watcher is dropped', 5000, 20);
    } finally {
      for (const c of clients) await c.close().catch(() => {});
      await h.stop();
    }
  });

  it('a watcher that never reads does not hold up the daemon or grow its memory past one output buffer', async function () {
    const maxOutputBuffer = 16 * 1024;
    // 1000 events per 100 ms batch: a batch (~170 KiB) alone passes the output buffer.
    const h = await startServer({ monitor_endpoint: true, max_output_buffer: maxOutputBuffer, monitor_events_per_second: 10000 });
    const stuck = await rawConnect(h.socketPath);
    try {
      await stuck.write({ uri: '/ipcserver/monitor', ipcReqID: 'w', data: {} });
      assert.strictEqual((await stuck.next()).data.watching, true);
      stuck.socket.pause(); // never reads again
      const busy = new IPCClient(h.socketPath, null, { autoReconnect: false });
      await busy.connect();
      const started = Date.now();
      const batch = [];
      // Traffic until the kernel's socket buffer is full and the daemon starts dropping
      // batches (how much the kernel takes first varies with the machine's state), at most 100,000 requests.
      for (let i = 0; i < 100000 && (i < 20000 || h.ipc.getStats().totals.pushesDropped === 0); i++) {
        batch.push(busy.send('/ipcserver/test/echo', { i, pad: 'x'.repeat(200) }));
        if (batch.length === 200) await Promise.all(batch.splice(0));
      }
      await Promise.all(batch);
      await new Promise((resolve) => setTimeout(resolve, 3 * WINDOW_MS));
      const watcher = h.ipc.getConnections().find((c) => c.counters.pushes > 0);
      assert.ok(watcher, 'the watcher got pushes');
      // What the daemon holds for it: one output buffer, plus the one batch that crossed it
      // (at most 1000 events of under 300 bytes each).
      const held = watcher.queuedOutput;
      assert.ok(held <= maxOutputBuffer + 1000 * 300, `held ${held} bytes for a watcher that does not read`);
      assert.ok(h.ipc.getStats().totals.pushesDropped > 0, 'batches past the buffer are dropped, not queued');
      assert.ok(Date.now() - started < 30000);
      await busy.close();
    } finally {
      stuck.destroy();
      await h.stop();
    }
  });
});

