'use strict';
// Runs the measurements of one benchmark run and records every figure of every
// repetition as { w: workload, p: point, c: contender, r: repetition, m: metric, v: value }.
//
// Method: each repetition starts fresh servers (the raw baseline, ours once
// per contender and once per variant: every server serves one contender, so
// all have the same share of work and idle time) and one client agent per
// contender, all kept for the whole repetition. Contenders then take turns
// point by point, and within a point in short slices (A B C A B C ..., the
// order rotated by repetition, point and slice), each contender's slices
// pooled into one figure, so bursts of load from other work hit every
// contender alike and cancel in the per-repetition ratios that
// bench/analysis.js turns into intervals.
const path = require('path');
const processes = require('./processes');
const { SIZES, LATENCY_POINTS, ONE_AT_A_TIME, latencySpec, pointName } = require('./messages');
const { median, quantile } = require('./stats');
const { alwaysOverrides } = require('./variants');
const nats = require('./nats');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rotate a list by `n`, so no contender always runs first. */
const rotate = (list, n) => list.map((_, i) => list[(i + n) % list.length]);

/**
 * Points the report shows the variants at. They are measured at every point of
 * the latency and pipelined workloads all the same: a server left idle while
 * the others work measured about twice the CPU per message of an identically
 * configured one that kept busy (perhaps V8 shrinking the idle heap; not verified), so every contender
 * gets the same treatment.
 */
const VARIANT_SIZES = ['100 B', 1, 10, 1024];
const VARIANT_IN_FLIGHT = [1, 64];
const IN_FLIGHT = [1, 16, 64, 256];
const CONNECTIONS_IN_FLIGHT = 16;
/**
 * The contenders measured at a point of a workload. One that serves only as a
 * CPU baseline (the raw server fed by our client) runs only where our server's
 * CPU is judged against it: the one-at-a-time sizes, and pipelined at 1 in flight.
 */
function measuredAt(contenders, workload, point) {
  const judged = (workload === 'latency' && ONE_AT_A_TIME.includes(point)) || (workload === 'pipelined' && point === 1);
  return judged ? contenders : contenders.filter((c) => !c.cpuBaselineOnly);
}

/** Turns each contender takes in the warm-up (see warmUp). */
const WARM_UP_ROUNDS = 7;

class Orchestrator {
  /**
   * `options`: { settings, reps, only, variants, pinned, rawVsRaw }; see run.js.
   * `progress(text)` reports what is going on.
   */
  constructor(options, progress) {
    this.o = options;
    this.s = options.settings;
    this.progress = progress;
    this.records = [];
    this.notes = [];
    this.connectRetries = 0;
    const biggest = Math.max(...this.s.connectionCounts, ...this.s.memory.counts);
    // Every connection is a descriptor on both sides; leave room for the rest.
    const needed = biggest + 256;
    const limits = processes.fdLimits();
    this.fds = limits.soft >= needed ? 0 : needed;
    if (this.fds && limits.hard < needed) {
      this.notes.push(`The open-file limit (hard ${limits.hard}) is below the ${needed} descriptors ${biggest} connections need: those points may fail.`);
      this.fds = limits.hard;
    } else if (this.fds) {
      this.notes.push(`The soft open-file limit (${limits.soft}) was raised to ${needed} for the benchmark's processes.`);
    }
  }

  record(w, p, c, r, m, v) {
    if (Number.isFinite(v)) this.records.push({ w, p, c, r, m, v });
  }

  serverKind(kind) {
    return this.o.rawVsRaw ? 'raw' : kind;
  }

  clientKind(kind) {
    return this.o.rawVsRaw ? 'raw' : kind;
  }

  /** Contenders of the Node workloads: who serves and who asks. */
  contenders() {
    const list = [
      { id: 'raw', server: 'raw', client: 'raw' },
      { id: 'srv', server: 'base', client: 'raw' },
      // A server of its own: one shared by two contenders was busy twice as
      // often as the others and measured ~10% less CPU per message than an
      // identical server serving one (the `control` variant shows the method).
      { id: 'ours', server: 'base-ours', client: 'ipc', clientOptions: {} },
      // The raw server fed our client's lines (they carry pid, userAgent and a
      // string id, which cost any server's JSON.parse more than the raw
      // client's): the baseline for our server's CPU with our client, the same
      // input on both sides. Measured only where that CPU is judged.
      { id: 'rawours', server: 'raw-ours', client: 'ipc', clientOptions: {}, cpuBaselineOnly: true },
    ];
    for (const v of this.o.variants) list.push({ id: `v:${v.name}`, server: `v:${v.name}`, client: 'ipc', clientOptions: v.client, variant: true });
    if (this.o.natsUrl) list.push(nats.natsContender(this.o.natsUrl));
    return list;
  }

  async startServers() {
    const servers = {};
    const start = (key, kind, config) => processes.startServer(this.serverKind(kind), { pinned: this.o.pinned, config: Object.assign({}, alwaysOverrides(), config), fds: this.fds, label: key })
      .then((server) => { servers[key] = server; });
    await start('raw', 'raw', {});
    await start('raw-ours', 'raw', {});
    await start('base', 'ipc', {});
    await start('base-ours', 'ipc', {});
    for (const v of this.o.variants) await start(`v:${v.name}`, 'ipc', v.server);
    if (this.o.natsUrl) await start('nats-ours', 'ipc', nats.natsServerConfig(this.o.natsUrl)).then(() => nats.waitUntilServed(this.o.natsUrl));
    return servers;
  }

  async startAgents(contenders) {
    const agents = {};
    for (const c of contenders) agents[c.id] = processes.startAgent({ pinned: this.o.pinned, fds: this.fds, label: c.id });
    return agents;
  }

  async connect(agent, contender, server, connections = 1) {
    const result = await agent.call('connect', {
      kind: this.clientKind(contender.client),
      socketPath: contender.target || server.socketPath,
      connections,
      clientOptions: contender.clientOptions || {},
    });
    this.connectRetries += result.connectRetries;
    return result;
  }

  /** A pipelined window with the server's CPU time taken around it: { completed, elapsedMs, cpuMicros }. */
  async measuredPipelined(agent, server, inFlight, warmupMs, durationMs) {
    let before = null;
    const result = await agent.call('pipelined', { inFlight, warmupMs, durationMs }, {
      onReady: async () => { before = await server.stats(); },
    });
    const after = await server.stats();
    const cpuMicros = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
    return { completed: result.completed, elapsedMs: result.elapsedMs, cpuMicros };
  }

  /**
   * Sequential round trips for every contender at one point, in `slices`
   * turns (order rotated each turn); each contender's samples pooled. With
   * `serverOf`, the server's CPU time is read around each slice's measured
   * round trips. Returns { id: { median, p99, cpuPerMsg } }.
   */
  async latencyPoint(contenders, agents, spec, cfg, turn, serverOf = null) {
    const slices = Math.max(1, Math.min(cfg.slices || 1, cfg.minCount));
    const samples = Object.fromEntries(contenders.map((c) => [c.id, []]));
    const cpu = Object.fromEntries(contenders.map((c) => [c.id, 0]));
    const cpuOf = (stats) => stats.cpu.user + stats.cpu.system;
    for (let slice = 0; slice < slices; slice++) {
      for (const c of rotate(contenders, turn + slice)) {
        let before = null;
        const onReady = serverOf ? async () => { before = cpuOf(await serverOf(c).stats()); } : null;
        const result = await agents[c.id].call('latency', {
          checkpoint: Boolean(serverOf),
          spec,
          samples: true,
          // The first slice warms up fully; later ones only re-warm caches with a few round trips.
          warmupMs: slice === 0 ? cfg.warmupMs : 0,
          warmupMin: slice === 0 ? cfg.warmupMin : cfg.rewarmMin,
          budgetMs: cfg.budgetMs / slices,
          minCount: Math.ceil(cfg.minCount / slices),
          maxCount: Math.ceil(cfg.maxCount / slices),
        }, { onReady });
        if (serverOf) cpu[c.id] += cpuOf(await serverOf(c).stats()) - before;
        samples[c.id].push(...result.samples);
      }
    }
    return Object.fromEntries(Object.entries(samples).map(([id, list]) => [id, { median: median(list), p99: quantile(list, 0.99), cpuPerMsg: serverOf ? cpu[id] / list.length : NaN }]));
  }

  /**
   * Pipelined windows for every contender (agents already connected) in
   * `slices` turns; each contender's windows summed. Returns { id: { perSecond, cpuPerMsg } }.
   */
  async pipelinedPoint(contenders, agents, serverOf, inFlight, cfg, turn) {
    const slices = Math.max(1, cfg.slices || 1);
    const sums = Object.fromEntries(contenders.map((c) => [c.id, { completed: 0, elapsedMs: 0, cpuMicros: 0 }]));
    for (let slice = 0; slice < slices; slice++) {
      for (const c of rotate(contenders, turn + slice)) {
        const warmupMs = slice === 0 ? cfg.warmupMs : Math.min(cfg.warmupMs, 30);
        const figures = await this.measuredPipelined(agents[c.id], serverOf(c), inFlight, warmupMs, cfg.durationMs / slices);
        for (const key of ['completed', 'elapsedMs', 'cpuMicros']) sums[c.id][key] += figures[key];
      }
    }
    return Object.fromEntries(Object.entries(sums).map(([id, sum]) => [id, { perSecond: sum.completed / (sum.elapsedMs / 1000), cpuPerMsg: sum.cpuMicros / sum.completed }]));
  }

  /** One repetition of every Node and PHP workload, with fresh servers and agents. */
  async repetition(rep) {
    // The cost curves take longest; they run in the first `curveReps` repetitions only.
    const curves = rep < this.o.curveReps;
    const only = this.o.only.filter((w) => curves || !['sizes', 'connections'].includes(w));
    const contenders = this.contenders();
    const servers = await this.startServers();
    const agents = await this.startAgents(contenders);
    const serverOf = (c) => servers[c.server];
    try {
      const needsOneConnection = ['latency', 'pipelined', 'sizes'].some((w) => only.includes(w));
      if (needsOneConnection) {
        for (const c of contenders) await this.connect(agents[c.id], c, serverOf(c));
        await this.warmUp(contenders, agents);
      }
      if (only.includes('latency')) await this.latency(rep, contenders, agents, serverOf);
      if (only.includes('pipelined')) await this.pipelined(rep, contenders, agents, serverOf);
      const curveContenders = measuredAt(contenders.filter((c) => !c.variant), 'curves');
      if (only.includes('sizes')) await this.sizes(rep, curveContenders, agents);
      if (only.includes('connections')) await this.connections(rep, curveContenders, agents, serverOf);
      if (only.includes('php')) await this.php(rep, servers.base);
    } finally {
      await Promise.all(Object.values(agents).map((a) => a.exit()));
      await Promise.all(Object.values(servers).map((s) => s.stop()));
    }
  }

  /**
   * Fresh servers run slower for their first second or so: V8 is still
   * compiling their hot code, on the same pinned CPU. Our server has more of
   * it than the raw one (1 KiB round trips measured from a fresh start were
   * 1.1-2x the raw ones for ~4,000 round trips, then steady at ~1.06x), so
   * without this the first point measured start-up, not the request path.
   */
  async warmUp(contenders, agents) {
    const ms = this.s.warmupMs;
    if (!ms) return;
    // In rounds, contenders taking turns: warmed one after the other, the
    // first sat idle for the others' whole warm-up (~6 s with the variants and
    // NATS), and every contender's first point (100 B) then measured 1.4-1.6x
    // its 1 KiB round trip, the raw baseline's too, against 0.9x in a run
    // without variants. Idle for seconds, a server pays again for what its
    // hot path had warmed (probably V8's idle-time collections and code
    // ageing, which cost a larger heap and more code more; not verified).
    for (let round = 0; round < WARM_UP_ROUNDS; round++) {
      for (const c of rotate(contenders, round)) await agents[c.id].call('warmup', { specs: [{ keys: 1 }, { small: true }, { bytes: 100 }], ms: ms / WARM_UP_ROUNDS });
    }
    this.progress('warm-up');
  }

  /** Sequential round trips at every point, with the server's CPU per round trip. */
  async latency(rep, contenders, agents, serverOf) {
    for (const [i, point] of LATENCY_POINTS.entries()) {
      const figures = await this.latencyPoint(measuredAt(contenders, 'latency', point), agents, latencySpec(point), this.s.latency, rep + i, serverOf);
      for (const [id, f] of Object.entries(figures)) {
        this.record('latency', point, id, rep, 'median', f.median);
        this.record('latency', point, id, rep, 'p99', f.p99);
        this.record('latency', point, id, rep, 'cpuPerMsg', f.cpuPerMsg);
      }
      this.progress(`latency ${pointName(point)}`);
    }
  }

  async pipelined(rep, contenders, agents, serverOf) {
    for (const [i, inFlight] of IN_FLIGHT.entries()) {
      const figures = await this.pipelinedPoint(measuredAt(contenders, 'pipelined', inFlight), agents, serverOf, inFlight, this.s.pipelined, rep + i);
      for (const [id, f] of Object.entries(figures)) {
        this.record('pipelined', inFlight, id, rep, 'perSecond', f.perSecond);
        this.record('pipelined', inFlight, id, rep, 'cpuPerMsg', f.cpuPerMsg);
      }
      this.progress(`pipelined ${inFlight} in flight`);
    }
  }

  /** (a) Round trip against message size. */
  async sizes(rep, contenders, agents) {
    for (const [i, bytes] of this.s.curveBytes.entries()) {
      const figures = await this.latencyPoint(contenders, agents, { bytes }, this.s.sizes, rep + i);
      for (const [id, f] of Object.entries(figures)) this.record('sizes', bytes, id, rep, 'median', f.median);
      this.progress(`size curve ${bytes} B`);
    }
  }

  /** (b) Throughput against connections, each pipelining 16; every contender holds its N connections at once. */
  async connections(rep, contenders, agents, serverOf) {
    for (const [i, count] of this.s.connectionCounts.entries()) {
      for (const c of contenders) await this.connect(agents[c.id], c, serverOf(c), count);
      const figures = await this.pipelinedPoint(contenders, agents, serverOf, CONNECTIONS_IN_FLIGHT, this.s.pipelined, rep + i);
      for (const c of contenders) await agents[c.id].call('close');
      for (const [id, f] of Object.entries(figures)) {
        this.record('connections', count, id, rep, 'perSecond', f.perSecond);
        this.record('connections', count, id, rep, 'cpuPerMsg', f.cpuPerMsg);
      }
      this.progress(`connection curve ${count} × ${CONNECTIONS_IN_FLIGHT}`);
    }
  }

  async php(rep, server) {
    if (!processes.hasPhp()) {
      this.skip('php', 'php is not installed');
      return;
    }
    const cfg = this.s.latency;
    const slices = Math.max(1, Math.min(cfg.slices || 1, cfg.minCount));
    const scripts = { loop: 'php-raw.php', client: this.o.rawVsRaw ? 'php-raw.php' : 'php-client.php' };
    for (const [i, keys] of SIZES.entries()) {
      const samples = { loop: [], client: [] };
      for (let slice = 0; slice < slices; slice++) {
        for (const which of rotate(['loop', 'client'], rep + i + slice)) {
          const args = [path.join(__dirname, scripts[which]), `--socket=${server.socketPath}`, `--sizes=${keys}`, '--samples=1',
            `--warmup_ms=${slice === 0 ? cfg.warmupMs : cfg.warmupMs / slices}`, `--warmup_min=${cfg.warmupMin}`, `--budget_ms=${cfg.budgetMs / slices}`,
            `--min_count=${Math.ceil(cfg.minCount / slices)}`, `--max_count=${Math.ceil(cfg.maxCount / slices)}`];
          const run = await processes.runCommand('php', args, { pinned: this.o.pinned });
          if (run.code !== 0) throw new Error(`${scripts[which]} failed (${run.code}): ${run.stderr.trim() || run.stdout.trim()}`);
          const result = JSON.parse(run.stdout.trim().split('\n').pop());
          if (result.skipped) {
            this.skip('php', result.skipped);
            return;
          }
          samples[which].push(...result.sizes[0].samples);
        }
      }
      for (const which of ['loop', 'client']) {
        this.record('php', keys, which, rep, 'median', median(samples[which]));
        this.record('php', keys, which, rep, 'p99', quantile(samples[which], 0.99));
      }
    }
    this.progress('php');
  }

  skip(workload, why) {
    const note = `${workload}: skipped (${why}).`;
    if (!this.notes.includes(note)) this.notes.push(note);
  }

  /** Highest RSS seen until `done` settles, sampled every 20 ms. */
  async peakRss(server, done) {
    let peak = server.rss();
    let finished = false;
    done.then(() => { finished = true; }, () => { finished = true; });
    while (!finished) {
      peak = Math.max(peak, server.rss());
      await sleep(20);
    }
    return Math.max(peak, server.rss());
  }

  /** Waits until the server has used less than 5 ms of CPU in 200 ms (at most `maxMs`). */
  async untilIdle(server, maxMs) {
    const deadline = Date.now() + maxMs;
    let before = await server.stats();
    while (Date.now() < deadline) {
      await sleep(200);
      const now = await server.stats();
      const used = now.cpu.user + now.cpu.system - before.cpu.user - before.cpu.system;
      if (used < 5000) return;
      before = now;
    }
  }

  /**
   * (c) Memory per connection: a fresh server per point (started with
   * --expose-gc). Idle: N connections that each answered one request, RSS and
   * JS heap after a full GC, less the same before they connected, over N.
   * Busy: the peak RSS while all N pipeline 16 (garbage included, as the
   * operating system sees it), less RSS before, over N. The raw client
   * connects to both servers: this is the server's cost.
   */
  async memory(rep) {
    const cfg = this.s.memory;
    for (const [i, count] of cfg.counts.entries()) {
      for (const id of rotate(['raw', 'srv'], rep + i)) {
        const server = await processes.startServer(this.serverKind(id === 'raw' ? 'raw' : 'ipc'), { pinned: this.o.pinned, fds: this.fds, label: `${id} memory`, nodeArgs: ['--expose-gc'], config: alwaysOverrides() });
        const agent = processes.startAgent({ pinned: this.o.pinned, fds: this.fds, label: `${id} memory` });
        try {
          await this.untilIdle(server, 3000);
          const before = await server.stats({ gc: true });
          await this.connect(agent, { client: 'raw' }, server, count);
          await agent.call('touch');
          await this.untilIdle(server, 3000);
          const idle = await server.stats({ gc: true });
          let busyDone = null;
          const busy = new Promise((resolve) => { busyDone = resolve; });
          const peak = this.peakRss(server, busy);
          await agent.call('pipelined', { inFlight: CONNECTIONS_IN_FLIGHT, warmupMs: cfg.busyMs / 2, durationMs: cfg.busyMs }).finally(busyDone);
          this.record('memory', count, id, rep, 'idlePerConn', (idle.rss - before.rss) / count);
          this.record('memory', count, id, rep, 'idleHeapPerConn', (idle.heapUsed - before.heapUsed) / count);
          this.record('memory', count, id, rep, 'busyPerConn', ((await peak) - before.rss) / count);
          this.record('memory', count, id, rep, 'baseRss', before.rss);
        } finally {
          await agent.exit();
          await server.stop();
        }
      }
      this.progress(`memory ${count} connections`);
    }
  }

  /** A fresh server flooded by a client that never reads: how far its RSS climbs. */
  async flood(rep) {
    const cfg = this.s.memory;
    for (const id of rotate(['raw', 'srv'], rep)) {
      const server = await processes.startServer(this.serverKind(id === 'raw' ? 'raw' : 'ipc'), { pinned: false, label: `${id} flood` });
      const agent = processes.startAgent({ label: `${id} flood` });
      try {
        await this.untilIdle(server, 3000);
        const before = server.rss();
        let settled = null;
        const done = new Promise((resolve) => { settled = resolve; });
        const peak = this.peakRss(server, done);
        let written = 0;
        let stalled = false;
        await agent.call('flood', { socketPath: server.socketPath, count: cfg.floodCount, batch: 1000, stallMs: cfg.stallMs }, {
          onReady: async (message) => {
            ({ written, stalled } = message);
            await this.untilIdle(server, 20000);
            settled();
          },
        }).finally(settled);
        this.record('flood', cfg.floodCount, id, rep, 'growth', (await peak) - before);
        this.record('flood', cfg.floodCount, id, rep, 'written', written);
        this.record('flood', cfg.floodCount, id, rep, 'stalled', stalled ? 1 : 0);
      } finally {
        await agent.exit();
        await server.stop();
      }
    }
    this.progress('flood');
  }

  async run() {
    const only = this.o.only;
    const perRep = ['latency', 'pipelined', 'sizes', 'connections', 'php'].some((w) => only.includes(w));
    for (let rep = 0; perRep && rep < this.o.reps; rep++) {
      this.progress(`repetition ${rep + 1} of ${this.o.reps}`);
      await this.repetition(rep);
    }
    if (only.includes('memory')) {
      for (let rep = 0; rep < this.o.curveReps; rep++) {
        this.progress(`memory repetition ${rep + 1} of ${this.o.curveReps}`);
        await this.memory(rep);
      }
      if (this.s.memory.flood) await this.flood(0);
    }
    if (this.connectRetries) this.notes.push(`Connects retried after EAGAIN or a refusal: ${this.connectRetries} times.`);
  }
}

module.exports = { Orchestrator, IN_FLIGHT, VARIANT_SIZES, VARIANT_IN_FLIGHT, CONNECTIONS_IN_FLIGHT };
