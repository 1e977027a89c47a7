'use strict';
// `pixl-ipc top` (issue 17): --once and --json as child processes, a server
// whose stats lack the newer fields, and the live view in a real terminal
// (tmux): header and both tables, updates after traffic, sorting from the
// keyboard, resizing, and quitting on q.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { startServer, makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { CLI, runCli, spawnCli, killSpawned } = require('../helpers/cli');
const { Tmux, tmuxAvailable } = require('../helpers/tmux');
const { waitFor } = require('../helpers/wait');
const IPCClient = require('pixl-ipc/client');

const ECHO = '/ipcserver/test/echo';

async function connectedClient(socketPath, userAgent) {
  const client = new IPCClient(socketPath, null, { autoReconnect: false, userAgent });
  await client.connect();
  return client;
}

describe('pixl-ipc top', function () {
  this.timeout(40000);
  afterEach(killSpawned);
  after(() => cleanupTempDirs());

  describe('for scripts', () => {
    let h;
    let busy;
    before(async () => {
      h = await startServer({ stats_endpoint: true });
      busy = await connectedClient(h.socketPath, 'busy-client/1.0');
      for (let i = 0; i < 20; i++) await busy.send(ECHO, { i });
    });
    after(async () => {
      await busy.close();
      await h.stop();
    });

    it('--once prints the header and both tables as plain text, then exits 0', async () => {
      const result = await runCli(['top', '--once', '--interval', '0.3', '--socket', h.socketPath]);
      assert.strictEqual(result.code, 0, result.stderr);
      assert.ok(!result.stdout.includes('\u001b'), 'no terminal control in --once output');
      const lines = result.stdout.split('\n');
      assert.ok(lines[0].startsWith(`pixl-ipc top  ${h.socketPath}  up `), lines[0]);
      assert.ok(/^rss .+ heap .+ cpu .+ connections \d+  in flight \d+$/.test(lines[1]), lines[1]);
      assert.ok(/^requests\/s [\d.]+  in .+\/s  out .+\/s  errors\/s [\d.]+  slow responses \d+ /.test(lines[2]), lines[2]);
      assert.ok(lines.some((line) => line.startsWith('ENDPOINTS (sorted by')), result.stdout);
      assert.ok(lines.some((line) => line.startsWith('CONNECTIONS (sorted by req/s ▼)')), result.stdout);
      const header = lines.find((line) => line.startsWith('ID '));
      for (const column of ['TRANSPORT', 'PEER', 'USER AGENT', 'IN FLIGHT', 'REQ/S', 'REQUESTS', 'BYTES IN', 'BYTES OUT', 'IDLE']) {
        assert.ok(header.includes(column), `${column} missing from ${header}`);
      }
      const busyRow = lines.find((line) => line.includes('busy-client/1.0'));
      assert.ok(busyRow && /\b20\b/.test(busyRow), `busy-client with 20 requests: ${result.stdout}`);
      assert.ok(lines.some((line) => line.includes('pixl-ipc-top/')), 'top sees its own connection');
      if (h.ipc.getStats().endpoints) {
        const echoRow = lines.find((line) => line.startsWith('IPCServer.echo'));
        assert.ok(echoRow, result.stdout);
      }
    });

    it('--once --sort requests orders connections by their request count', async () => {
      const result = await runCli(['top', '--once', '--interval', '0.2', '--sort', 'requests', '--socket', h.socketPath]);
      assert.strictEqual(result.code, 0, result.stderr);
      const lines = result.stdout.split('\n');
      const headerAt = lines.findIndex((line) => line.startsWith('ID '));
      assert.ok(lines[headerAt - 1].startsWith('CONNECTIONS (sorted by requests ▼)'), lines[headerAt - 1]);
      assert.ok(lines[headerAt + 1].includes('busy-client/1.0'), `busiest first:\n${result.stdout}`);
    });

    it('--json prints one line per refresh with rates computed between samples', async () => {
      const traffic = setInterval(() => busy.send(ECHO, { x: 1 }).catch(() => {}), 10);
      let result;
      try {
        result = await runCli(['top', '--json', '--count', '2', '--interval', '0.3', '--socket', h.socketPath]);
      } finally {
        clearInterval(traffic);
      }
      assert.strictEqual(result.code, 0, result.stderr);
      const samples = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
      assert.strictEqual(samples.length, 2);
      for (const sample of samples) {
        assert.ok(sample.header.requestsPerSec > 1, `traffic shows in requests/s: ${JSON.stringify(sample.header)}`);
        assert.ok(sample.header.bytesInPerSec > 0);
        const row = sample.connections.find((c) => c.userAgent === 'busy-client/1.0');
        assert.ok(row.requestsPerSec > 0 && row.requests > 20, JSON.stringify(row));
        assert.strictEqual(row.transport, 'unix');
      }
    });

    it('refuses to draw into a pipe (exit 2), pointing at --once and --json', async () => {
      const result = await runCli(['top', '--socket', h.socketPath]);
      assert.strictEqual(result.code, 2);
      assert.ok(result.stderr.includes('use --once or --json'), result.stderr);
    });
  });

  it('degrades on a server whose stats have no endpoints, process figures or connection list', async () => {
    // An older server: the stats uri answers only the original counts.
    const h = await startServer({ stats_endpoint: false });
    h.ipc.addURIHandler('/ipcserver/stats', 'OldStats', () => ({ connections: 7, handlers: 3, inFlight: 0, uptime: 61000, totals: { requests: 10, errors: 0 } }));
    try {
      const result = await runCli(['top', '--once', '--interval', '0.2', '--socket', h.socketPath]);
      assert.strictEqual(result.code, 0, result.stderr);
      assert.ok(result.stdout.includes('up 1m 1s'), result.stdout);
      assert.ok(result.stdout.includes('rss -  heap -  cpu -  connections 7'), result.stdout);
      assert.ok(result.stdout.includes('(not reported by this server: it has no per-endpoint figures)'), result.stdout);
      assert.ok(result.stdout.includes('(not reported by this server: it does not list connections)'), result.stdout);
      assert.ok(result.stdout.includes('requests/s 0'), result.stdout);
    } finally {
      await h.stop();
    }
  });

  it('exits 3 with one line when the server goes away, and 0 on Ctrl-C', async () => {
    const h = await startServer({ stats_endpoint: true });
    const lost = spawnCli(['top', '--json', '--interval', '0.2', '--socket', h.socketPath]);
    const stopped = spawnCli(['top', '--json', '--interval', '0.2', '--socket', h.socketPath]);
    await waitFor(() => lost.stdout.includes('\n') && stopped.stdout.includes('\n'), 'a first refresh from both', 15000, 50);
    stopped.child.kill('SIGINT');
    assert.deepStrictEqual(await stopped.exited, { code: 0, signal: null }, stopped.stderr);
    await h.stop();
    const exit = await lost.exited;
    assert.strictEqual(exit.code, 3, lost.stderr);
    assert.strictEqual(lost.stderr.trim().split('\n').length, 1, lost.stderr);
    assert.ok(lost.stderr.startsWith('pixl-ipc top: '), lost.stderr);
  });

  describe('live in a terminal (tmux)', function () {
    let tmux;
    let h;
    let busy;
    before(async function () {
      if (!tmuxAvailable()) {
        console.log('      (skipped: tmux is not installed; .ci/run installs it)');
        this.skip();
      }
      tmux = new Tmux();
      h = await startServer({ stats_endpoint: true });
      // A hostile user agent: raw escape sequences must not reach the terminal.
      busy = await connectedClient(h.socketPath, 'busy-client\u001b[2J\u001b[31m');
      for (let i = 0; i < 30; i++) await busy.send(ECHO, { i });
    });
    after(async () => {
      if (tmux) tmux.kill();
      if (busy) await busy.close();
      if (h) await h.stop();
    });

    let screen = '';
    async function waitForScreen(test, what, ms = 15000) {
      try {
        await waitFor(() => test(screen = tmux.capture('top')), what, ms, 100);
      } catch (err) {
        throw new Error(`${err.message}; screen:\n${screen}`);
      }
      return screen;
    }
    /** The REQUESTS cell of the row whose text includes `marker`. */
    function requestsOf(text, marker) {
      const lines = text.split('\n');
      const header = lines.find((line) => line.startsWith('ID '));
      const row = lines.find((line) => line.includes(marker));
      if (!header || !row) return null;
      const end = header.indexOf('REQUESTS') + 'REQUESTS'.length;
      return Number(row.slice(0, end + 1).trim().split(/\s+/).pop());
    }

    it('shows the header and both tables, updates, sorts on keys, fits a resize, and quits on q', async () => {
      const dir = makeTempDir();
      const exitFile = path.join(dir, 'exit-code');
      tmux.start('top', `"${process.execPath}" "${CLI}" top --socket "${h.socketPath}"; echo $? > "${exitFile}"`, { width: 120, height: 40 });

      await waitForScreen((s) => s.includes('CONNECTIONS (sorted by') && /busy-client/.test(s) && /requests\/s [\d.]+ /.test(s), 'the first full screen with rates');
      assert.ok(screen.startsWith(`pixl-ipc top  ${h.socketPath}  up `), screen);
      assert.ok(/^rss .+ heap .+ connections \d+/m.test(screen), screen);
      assert.ok(screen.includes('ENDPOINTS (sorted by'), screen);
      assert.ok(screen.includes('busy-client\\u001b[2J\\u001b[31m'), 'the user agent is shown escaped');
      const lines = screen.split('\n');
      assert.ok(lines.every((line) => line.length <= 120), 'fits 120 columns');
      assert.ok(lines[39].startsWith('q quit'), `key help on the last of 40 lines: ${JSON.stringify(lines[39])}`);

      // Updates: traffic from busy-client shows in its row.
      assert.strictEqual(requestsOf(screen, 'busy-client'), 30);
      for (let i = 0; i < 25; i++) await busy.send(ECHO, { more: i });
      await waitForScreen((s) => requestsOf(s, 'busy-client') === 55, 'busy-client at 55 requests');

      // Sorting: s moves the connection sort to the next column (requests), r reverses it.
      tmux.sendKeys('top', 's');
      await waitForScreen((s) => s.includes('▸ CONNECTIONS (sorted by requests ▼)'), 'sorted by requests');
      const firstRow = (s) => { const l = s.split('\n'); return l[l.findIndex((line) => line.startsWith('ID ')) + 1] || ''; };
      assert.ok(firstRow(screen).includes('busy-client'), `busiest first: ${firstRow(screen)}`);
      tmux.sendKeys('top', 'r');
      await waitForScreen((s) => s.includes('CONNECTIONS (sorted by requests ▲)'), 'reversed');
      assert.ok(firstRow(screen).includes('pixl-ipc-top/'), `quietest first: ${firstRow(screen)}`);
      tmux.sendKeys('top', 'Tab');
      await waitForScreen((s) => s.includes('▸ ENDPOINTS (sorted by'), 'endpoint table focused');

      // Resizing: the screen is redrawn to the new size.
      tmux.resize('top', 70, 16);
      await waitForScreen((s) => { const l = s.trimEnd().split('\n'); return l.length === 16 && l[15].startsWith('q quit') && l.every((line) => line.length <= 70); }, 'a 70x16 screen');

      tmux.sendKeys('top', 'q');
      await waitFor(() => !tmux.hasSession('top'), 'top to quit on q', 10000, 50);
      assert.strictEqual(fs.readFileSync(exitFile, 'utf8').trim(), '0');
    });
  });
});
