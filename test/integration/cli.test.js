'use strict';
// The pixl-ipc command, run as a child process against real servers: the
// harness's for send/stats/bench, and `pixl-ipc serve` itself for serve.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { startServer, makeTempDir, cleanupTempDirs, tmpSocketPath } = require('../helpers/harness');
const { runCli, spawnServe, killSpawned, waitForOutput, assertOneLineError } = require('../helpers/cli');
const { waitFor } = require('../helpers/wait');

const VERSION = require('../../package.json').version;

describe('pixl-ipc command', function () {
  this.timeout(20000);

  afterEach(killSpawned);

  after(() => cleanupTempDirs());

  describe('help and version', () => {
    it('prints the package version', async () => {
      const result = await runCli(['--version']);
      assert.strictEqual(result.code, 0);
      assert.strictEqual(result.stdout.trim(), VERSION);
    });

    it('has --help on every command, naming its options', async () => {
      const expected = {
        serve: ['--socket', '--config', '--debug-level', '--echo'],
        send: ['<uri>', '[json]', '--socket', '--timeout', '--notify', '--auth', '--json', 'Exit codes'],
        stats: ['--socket', '--json', 'Exit codes'],
        bench: ['--sizes', '--concurrency', '--duration', '--json'],
      };
      const results = await Promise.all(Object.keys(expected).map((name) => runCli([name, '--help'])));
      Object.keys(expected).forEach((name, i) => {
        assert.strictEqual(results[i].code, 0, name);
        assert.ok(results[i].stdout.startsWith(`Usage: pixl-ipc ${name}`), results[i].stdout);
        for (const word of expected[name]) assert.ok(results[i].stdout.includes(word), `${name} --help lacks ${word}`);
      });
      const top = await runCli(['--help']);
      assert.strictEqual(top.code, 0);
      for (const name of Object.keys(expected)) assert.ok(top.stdout.includes(name), `top-level help lacks ${name}`);
    });

    it('exits 2 on a usage error', async () => {
      const missing = await runCli(['send']);
      assert.strictEqual(missing.code, 2);
      assert.ok(missing.stderr.includes("missing required argument 'uri'"), missing.stderr);
      const badNumber = await runCli(['bench', '--concurrency', 'many']);
      assert.strictEqual(badNumber.code, 2);
      assert.ok(badNumber.stderr.includes('--concurrency'), badNumber.stderr);
    });
  });

  describe('send, stats and bench', () => {
    let h;
    const notified = [];
    /** Callbacks of /cli/held requests, answered only when the test says so. */
    const heldCallbacks = [];

    before(async () => {
      h = await startServer({ stats_endpoint: true });
      h.ipc.addURIHandler('/cli/notified', 'CliNotified', (request, callback) => {
        notified.push(request.data);
        callback(true);
      });
      h.ipc.addURIHandler('/cli/held', 'CliHeld', (request, callback) => { heldCallbacks.push(callback); });
      h.ipc.addURIHandler('/cli/pixl-style-error', 'CliPixlError', (request, callback) => {
        callback({ code: 'no_such_user', description: 'User not found: ' + request.data.user });
      });
    });

    after(() => h.stop());

    it('sends the JSON argument and prints the answer as pretty JSON', async () => {
      const data = { hello: 'world', list: [1, 2, 3], nested: { ok: true }, text: 'ünïcødé ✓' };
      const result = await runCli(['send', '/ipcserver/test/echo', JSON.stringify(data), '--socket', h.socketPath]);
      assert.strictEqual(result.code, 0, result.stderr);
      assert.strictEqual(result.stderr, '');
      assert.deepStrictEqual(JSON.parse(result.stdout), data);
      assert.strictEqual(result.stdout, JSON.stringify(data, null, 2) + '\n');
    });

    it('prints compact JSON on one line with --json', async () => {
      const result = await runCli(['send', '--json', '/ipcserver/test/delay', '{"delay": 5}', '--socket', h.socketPath]);
      assert.strictEqual(result.code, 0, result.stderr);
      assert.strictEqual(result.stdout, '{"delay":5}\n');
    });

    it('reads the JSON from stdin when it is not an argument, and from stdin for "-"', async () => {
      const piped = await runCli(['send', '/ipcserver/test/echo', '--socket', h.socketPath], { input: '{"from": "stdin",\n "n": 42}\n' });
      assert.strictEqual(piped.code, 0, piped.stderr);
      assert.deepStrictEqual(JSON.parse(piped.stdout), { from: 'stdin', n: 42 });
      const dash = await runCli(['send', '/ipcserver/test/echo', '-', '--json', '--socket', h.socketPath], { input: '[1,"two"]' });
      assert.strictEqual(dash.code, 0, dash.stderr);
      assert.strictEqual(dash.stdout, '[1,"two"]\n');
    });

    it('sends no data when stdin is empty, and prints nothing for an answer without data', async () => {
      const result = await runCli(['send', '/ipcserver/test/echo', '--socket', h.socketPath], { input: '' });
      assert.strictEqual(result.code, 0, result.stderr);
      assert.strictEqual(result.stdout, '');
      assert.strictEqual(result.stderr, '');
    });

    it('exits 1 with one line on an error response (top-level code)', async () => {
      const result = await runCli(['send', '/ipcserver/test/delay', '{"delay": -5}', '--socket', h.socketPath]);
      assert.strictEqual(result.code, 1);
      assert.strictEqual(result.stdout, '');
      assertOneLineError(result, 'bad_delay');
    });

    it('prints the answer the clients return for an unknown uri, and exits 5 with one line (docs/errors.md)', async () => {
      const result = await runCli(['send', '/no/such/uri', '{}', '--json', '--socket', h.socketPath]);
      assert.strictEqual(result.code, 5);
      // What the Node client resolves with (it is 1.x's answer): the same object.
      const IPCClient = require('../../dist/client');
      const client = new IPCClient(h.socketPath, null, { autoReconnect: false });
      await client.connect();
      const fromNode = await client.send('/no/such/uri', {});
      await client.close();
      assert.deepStrictEqual(JSON.parse(result.stdout), fromNode);
      assert.strictEqual(fromNode.code, 'no_handler_found');
      assertOneLineError(result, 'no_handler_found: No handler found for /no/such/uri');
    });

    it('a batch prints the unknown uri\'s answers as data and exits 5', async () => {
      const result = await runCli(['send', '/no/such/uri', '--socket', h.socketPath], { input: '{"a":1}\n{"a":2}\n' });
      assert.strictEqual(result.code, 5, result.stderr);
      const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
      assert.deepStrictEqual(lines.map((l) => l.code), ['no_handler_found', 'no_handler_found']);
      assertOneLineError(result, '2 of 2 answers carry a code');
    });

    it('prints a pixl-style {code, description} answer, and fails on it with --code-to-err', async () => {
      const plain = await runCli(['send', '/cli/pixl-style-error', '{"user": "kim"}', '--json', '--socket', h.socketPath]);
      assert.strictEqual(plain.code, 0, plain.stderr);
      assert.deepStrictEqual(JSON.parse(plain.stdout), { code: 'no_such_user', description: 'User not found: kim' });
      const strict = await runCli(['send', '/cli/pixl-style-error', '{"user": "kim"}', '--code-to-err', '--json', '--socket', h.socketPath]);
      assert.strictEqual(strict.code, 5);
      assert.deepStrictEqual(JSON.parse(strict.stdout), { code: 'no_such_user', description: 'User not found: kim' });
      assertOneLineError(strict, 'no_such_user: User not found: kim');
    });

    it('exits 4 on a timeout', async () => {
      // The answer would come after 3 s with exit 0: exit 4 shows the command gave up at its timeout.
      const result = await runCli(['send', '/ipcserver/test/delay', '{"delay": 3000}', '--timeout', '100', '--socket', h.socketPath]);
      assert.strictEqual(result.code, 4, result.stderr);
      assert.strictEqual(result.stdout, '');
      assertOneLineError(result, 'request_timeout');
    });

    it('exits 2 on a bad JSON argument, without sending anything', async () => {
      const before = h.ipc.getStats().totals.requests;
      const result = await runCli(['send', '/ipcserver/test/echo', '{"unterminated": ', '--socket', h.socketPath]);
      assert.strictEqual(result.code, 2);
      assert.strictEqual(result.stdout, '');
      assertOneLineError(result, 'bad JSON on argument');
      assert.strictEqual(h.ipc.getStats().totals.requests, before);
    });

    it('exits 2 on bad JSON from stdin', async () => {
      const result = await runCli(['send', '/ipcserver/test/echo', '--socket', h.socketPath], { input: 'not json\n' });
      assert.strictEqual(result.code, 2);
      assertOneLineError(result, 'bad JSON on stdin');
    });

    it('exits 3 when there is no socket', async () => {
      const missing = path.join(makeTempDir(), 'nobody-here.sock');
      for (const command of [['send', '/ipcserver/test/echo', '{}'], ['stats'], ['bench', '--duration', '0.1']]) {
        const result = await runCli([...command, '--socket', missing]);
        assert.strictEqual(result.code, 3, `${command[0]}: ${result.stderr}`);
        assert.strictEqual(result.stdout, '');
        assertOneLineError(result, `no socket at ${missing}: check that the daemon is running and that ${missing} is the socket_path in its config`);
        // A socket the user named is their own daemon's: no advice to start `pixl-ipc serve`.
        assert.doesNotMatch(result.stderr, /pixl-ipc serve/);
      }
    });

    it('--notify sends without waiting and exits 0', async () => {
      const result = await runCli(['send', '--notify', '/cli/notified', '{"id": "n1"}', '--socket', h.socketPath]);
      assert.strictEqual(result.code, 0, result.stderr);
      assert.strictEqual(result.stdout, '');
      await waitFor(() => notified.some((data) => data && data.id === 'n1'), 'the notification', 10000, 10);
      assert.deepStrictEqual(notified.find((data) => data && data.id === 'n1'), { id: 'n1' });
      // Fire-and-forget does not wait for the handler: this one has not answered when the command exits.
      const slow = await runCli(['send', '-n', '/cli/held', '{"id": "n2"}', '--socket', h.socketPath]);
      assert.strictEqual(slow.code, 0, slow.stderr);
      await waitFor(() => heldCallbacks.length === 1, 'the held request', 10000, 10);
      heldCallbacks.pop()(true);
    });

    it('stats prints a readable summary', async () => {
      const result = await runCli(['stats', '--socket', h.socketPath]);
      assert.strictEqual(result.code, 0, result.stderr);
      assert.ok(result.stdout.startsWith(`pixl-ipc server at ${h.socketPath}\n`), result.stdout);
      for (const label of ['uptime', 'connections open', 'handlers', 'last interval', 'totals since startup', 'bytes in']) {
        assert.ok(result.stdout.includes(label), `stats lacks ${label}:\n${result.stdout}`);
      }
      const handlers = /^ {2}handlers +(\d+)$/m.exec(result.stdout);
      assert.ok(handlers, result.stdout);
      assert.strictEqual(Number(handlers[1]), h.ipc.getStats().handlers);
    });

    it('stats --json prints the raw stats on one line', async () => {
      const result = await runCli(['stats', '--json', '--socket', h.socketPath]);
      assert.strictEqual(result.code, 0, result.stderr);
      assert.strictEqual(result.stdout.trim().split('\n').length, 1);
      const stats = JSON.parse(result.stdout);
      assert.strictEqual(stats.handlers, h.ipc.getStats().handlers);
      // At least the stats command's own connection (earlier commands' connections may still be closing).
      assert.ok(stats.connections >= 1, `connections: ${stats.connections}`);
      assert.ok(stats.totals.requests > 0);
    });

    it('bench prints a table of latency and throughput per size', async () => {
      const result = await runCli(['bench', '--sizes', '1,3', '--duration', '0.3', '--concurrency', '4', '--socket', h.socketPath]);
      assert.strictEqual(result.code, 0, result.stderr);
      assert.strictEqual(result.stderr, '', 'no progress bar when stderr is not a terminal');
      const lines = result.stdout.trim().split('\n');
      assert.ok(lines[0].includes('4 in flight'), lines[0]);
      const header = lines.find((line) => line.includes('p50 µs'));
      assert.ok(header && header.includes('msgs/s') && header.includes('p99 µs') && header.includes('max µs'), result.stdout);
      const rows = lines.slice(lines.indexOf(header) + 1).map((line) => line.trim().split(/\s+/));
      assert.deepStrictEqual(rows.map((row) => row[0]), ['1', '3']);
      for (const row of rows) assert.ok(Number(row[3]) > 0, `msgs/s in ${row}`);
    });

    it('bench --json gives percentiles in order and throughput for each size', async () => {
      const result = await runCli(['bench', '--json', '--sizes', '2', '--duration', '0.3', '--concurrency', '3', '--socket', h.socketPath]);
      assert.strictEqual(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout);
      assert.strictEqual(report.concurrency, 3);
      assert.strictEqual(report.results.length, 1);
      const [size] = report.results;
      assert.strictEqual(size.keys, 2);
      assert.ok(size.messageBytes > 2048, `message of ${size.messageBytes} bytes`);
      assert.ok(size.requests > 0 && size.msgsPerSec > 0 && size.errors === 0, JSON.stringify(size));
      const { p50, p90, p99, max } = size.latencyUs;
      assert.ok(p50 > 0 && p50 <= p90 && p90 <= p99 && p99 <= max, JSON.stringify(size.latencyUs));
    });
  });

  describe('authentication and a disabled stats endpoint', () => {
    let h;
    before(async () => { h = await startServer({ auth_tokens: ['s3cret'], stats_endpoint: false }); });
    after(() => h.stop());

    it('sends credentials from --auth or $PIXL_IPC_AUTH, and exits 1 on refusal', async () => {
      const withFlag = await runCli(['send', '/ipcserver/test/echo', '"ok"', '--auth', 's3cret', '--socket', h.socketPath]);
      assert.strictEqual(withFlag.code, 0, withFlag.stderr);
      assert.strictEqual(withFlag.stdout, '"ok"\n');
      const withEnv = await runCli(['send', '/ipcserver/test/echo', '"ok"', '--socket', h.socketPath], { env: { PIXL_IPC_AUTH: '{"token": "s3cret"}' } });
      assert.strictEqual(withEnv.code, 0, withEnv.stderr);
      const wrong = await runCli(['send', '/ipcserver/test/echo', '"ok"', '--auth', 'wrong', '--socket', h.socketPath]);
      assert.strictEqual(wrong.code, 1);
      assertOneLineError(wrong, 'access');
    });

    it('stats says the endpoint is disabled and exits 1', async () => {
      const result = await runCli(['stats', '--auth', 's3cret', '--socket', h.socketPath]);
      assert.strictEqual(result.code, 1);
      assert.strictEqual(result.stdout, '');
      assertOneLineError(result, 'the server has no stats endpoint: it is off in its config (stats_endpoint: false)');
    });
  });

  describe('serve', () => {
    it('listens on the default socket shared with the other commands, and stops cleanly on SIGTERM', async () => {
      const tmp = makeTempDir();
      const env = { TMPDIR: tmp, XDG_RUNTIME_DIR: '' };
      const runtimeDir = path.join(tmp, `pixl-ipc-${process.getuid()}`);
      const socketPath = path.join(runtimeDir, 'pixl-ipc.sock');
      const proc = spawnServe([], env);
      await waitForOutput(proc, /pixl-ipc listening on (.+)\n/);
      assert.ok(proc.stdout.startsWith(`pixl-ipc listening on ${socketPath}\n`), proc.stdout);
      assert.ok(fs.statSync(socketPath).isSocket());
      assert.ok(fs.existsSync(path.join(runtimeDir, 'pixl-ipc.log')), 'log file in the default directory');
      assert.strictEqual(fs.statSync(runtimeDir).mode & 0o777, 0o700, 'the default directory is private');

      const echoed = await runCli(['send', '/ipcserver/test/echo', '{"via": "default socket"}', '--json'], { env });
      assert.strictEqual(echoed.code, 0, echoed.stderr);
      assert.strictEqual(echoed.stdout, '{"via":"default socket"}\n');
      const stats = await runCli(['stats', '--json'], { env });
      assert.strictEqual(stats.code, 0, 'serve turns the stats endpoint on: ' + stats.stderr);
      assert.strictEqual(JSON.parse(stats.stdout).handlers, 2, 'echo and delay (the operations endpoints are not counted)');

      proc.child.kill('SIGTERM');
      const exit = await proc.exited;
      assert.deepStrictEqual(exit, { code: 0, signal: null }, proc.stderr);
      assert.ok(proc.stdout.endsWith('pixl-ipc stopped\n'), proc.stdout);
      assert.strictEqual(proc.stderr, '');
      assert.ok(!fs.existsSync(socketPath), 'socket file removed');
    });

    it('stops cleanly on SIGINT (Ctrl-C), with --socket and --debug-level', async () => {
      const tmp = makeTempDir();
      const socketPath = path.join(tmp, 'flag.sock');
      const proc = spawnServe(['--socket', socketPath, '--debug-level', '9'], { TMPDIR: tmp });
      await waitForOutput(proc, /pixl-ipc listening on .+\n/);
      assert.ok(proc.stdout.startsWith(`pixl-ipc listening on ${socketPath}\n`), proc.stdout);
      assert.ok(proc.stdout.includes('(debug level 9)'), proc.stdout);
      proc.child.kill('SIGINT');
      const exit = await proc.exited;
      assert.deepStrictEqual(exit, { code: 0, signal: null }, proc.stderr);
      assert.ok(proc.stdout.endsWith('pixl-ipc stopped\n'), proc.stdout);
      assert.ok(!fs.existsSync(socketPath), 'socket file removed');
    });

    it('reads --config: the IPCServer key merges over the defaults, and --socket wins', async () => {
      const tmp = makeTempDir();
      const fromFile = path.join(tmp, 'from-file.sock');
      const configFile = path.join(tmp, 'config.json');
      fs.writeFileSync(configFile, JSON.stringify({
        log_dir: path.join(tmp, 'logs'),
        log_filename: 'custom.log',
        IPCServer: { socket_path: fromFile, stats_endpoint: false, socket_chmod: '660' },
      }));
      const proc = spawnServe(['--config', configFile], { TMPDIR: tmp });
      await waitForOutput(proc, /pixl-ipc listening on .+\n/);
      assert.ok(proc.stdout.startsWith(`pixl-ipc listening on ${fromFile}\n`), proc.stdout);
      assert.strictEqual(fs.statSync(fromFile).mode & 0o777, 0o660);
      assert.ok(fs.existsSync(path.join(tmp, 'logs', 'custom.log')));
      const stats = await runCli(['stats', '--socket', fromFile]);
      assert.strictEqual(stats.code, 1, 'the file turned the stats endpoint off');
      proc.child.kill('SIGTERM');
      assert.strictEqual((await proc.exited).code, 0);

      const flag = path.join(tmp, 'flag.sock');
      const proc2 = spawnServe(['--config', configFile, '--socket', flag], { TMPDIR: tmp });
      await waitForOutput(proc2, /pixl-ipc listening on .+\n/);
      assert.ok(proc2.stdout.startsWith(`pixl-ipc listening on ${flag}\n`), proc2.stdout);
      proc2.child.kill('SIGTERM');
      assert.strictEqual((await proc2.exited).code, 0);
    });

    it('refuses to start on a live server\'s socket, and leaves that server alone', async () => {
      const h = await startServer();
      try {
        const result = await runCli(['serve', '--socket', h.socketPath]);
        assert.notStrictEqual(result.code, 0);
        assert.ok(!result.stdout.includes('listening'), result.stdout);
        assertOneLineError(result, `the daemon with pid ${process.pid} already serves ${h.socketPath} (it holds the lock ${h.socketPath}.lock)`);
        const still = await runCli(['send', '/ipcserver/test/echo', '"still here"', '--socket', h.socketPath]);
        assert.strictEqual(still.code, 0, still.stderr);
        assert.strictEqual(still.stdout, '"still here"\n');
      } finally {
        await h.stop();
      }
    });

    it('exits non-zero with one line on a bad config', async () => {
      const tmp = makeTempDir();
      const missing = await runCli(['serve', '--config', path.join(tmp, 'missing.json')], { env: { TMPDIR: tmp } });
      assert.strictEqual(missing.code, 2);
      assertOneLineError(missing, 'cannot read config file');

      const notJson = path.join(tmp, 'bad.json');
      fs.writeFileSync(notJson, '{ "IPCServer": ');
      const broken = await runCli(['serve', '--config', notJson], { env: { TMPDIR: tmp } });
      assert.strictEqual(broken.code, 2);
      assertOneLineError(broken, 'is not valid JSON');

      const badKey = path.join(tmp, 'bad-key.json');
      fs.writeFileSync(badKey, JSON.stringify({ IPCServer: { socket_path: tmpSocketPath(), socket_chmod: 'rw-rw----' } }));
      const refused = await runCli(['serve', '--config', badKey], { env: { TMPDIR: tmp } });
      assert.notStrictEqual(refused.code, 0);
      assert.ok(!refused.stdout.includes('listening'), refused.stdout);
      assertOneLineError(refused, 'socket_chmod');
    });

    it('$PIXL_IPC_SOCKET is the socket of serve, send and stats when --socket is not given', async () => {
      const tmp = makeTempDir();
      const socketPath = path.join(tmp, 'from-env.sock');
      // No XDG_RUNTIME_DIR: the default socket is then under TMPDIR, this test's own directory.
      const env = { TMPDIR: tmp, XDG_RUNTIME_DIR: '', PIXL_IPC_SOCKET: socketPath };
      const defaultSocket = path.join(tmp, `pixl-ipc-${process.geteuid()}`, 'pixl-ipc.sock');
      const proc = spawnServe([], env);
      await waitForOutput(proc, /pixl-ipc listening on .+\n/);
      assert.ok(proc.stdout.startsWith(`pixl-ipc listening on ${socketPath}\n`), proc.stdout);
      assert.ok(fs.statSync(socketPath).isSocket());
      assert.ok(!fs.existsSync(defaultSocket), 'not the default socket');
      const echoed = await runCli(['send', '/ipcserver/test/echo', '"via env"'], { env });
      assert.strictEqual(echoed.code, 0, echoed.stderr);
      assert.strictEqual(echoed.stdout, '"via env"\n');
      const stats = await runCli(['stats', '--json'], { env });
      assert.strictEqual(stats.code, 0, stats.stderr);
      assert.strictEqual(JSON.parse(stats.stdout).handlers, 2, 'this serve: echo and delay; its stats and monitor endpoints are not counted');
      const elsewhere = await runCli(['send', '/ipcserver/test/echo', '1'], { env: { TMPDIR: tmp, XDG_RUNTIME_DIR: '' } });
      assert.notStrictEqual(elsewhere.code, 0, 'without the variable, send looks at the default socket');
      assert.ok(elsewhere.stderr.includes(defaultSocket), elsewhere.stderr);
      proc.child.kill('SIGTERM');
      assert.strictEqual((await proc.exited).code, 0);
      assert.ok(!fs.existsSync(socketPath));
    });

    it('--echo copies the log lines to stdout', async () => {
      const tmp = makeTempDir();
      const socketPath = path.join(tmp, 'echo.sock');
      const quiet = spawnServe(['--socket', socketPath], { TMPDIR: tmp });
      await waitForOutput(quiet, /pixl-ipc listening on .+\n/);
      quiet.child.kill('SIGTERM');
      await quiet.exited;
      assert.ok(!quiet.stdout.includes('IPC Server startup'), 'no log lines without --echo: ' + quiet.stdout);

      const loud = spawnServe(['--socket', socketPath, '--echo'], { TMPDIR: tmp });
      await waitForOutput(loud, /pixl-ipc listening on .+\n/);
      await waitForOutput(loud, new RegExp('IPCServer listening on ' + socketPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      assert.match(loud.stdout, /IPC Server startup/);
      loud.child.kill('SIGTERM');
      assert.strictEqual((await loud.exited).code, 0);
      const logFile = /pixl-ipc log file (.+) \(debug level/.exec(loud.stdout)[1];
      const log = fs.readFileSync(logFile, 'utf8');
      assert.match(log, /IPC Server startup/, 'the log file still gets them');
    });
  });
});
