'use strict';
// The package's server entry point: what require() and import give, and the types.
const assert = require('assert');
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const PixlServer = require('pixl-server');
const { makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { typeCheck } = require('../helpers/typecheck');
const IPCServer = require('pixl-ipc');

describe('module: pixl-ipc', function () {
  after(cleanupTempDirs);

  it('require("pixl-ipc") is the component class named IPCServer, with codes and uris attached', function () {
    assert.strictEqual(require('pixl-ipc'), IPCServer);
    assert.strictEqual(typeof IPCServer, 'function');
    assert.strictEqual(new IPCServer().__name, 'IPCServer');
    assert.strictEqual(IPCServer.ErrorCode.badJson, 'bad_json');
    assert.strictEqual(IPCServer.URI.echo, '/ipcserver/test/echo');
  });

  it('is the default export of an ES module import', async function () {
    const mod = await import('pixl-ipc');
    assert.strictEqual(mod.default, IPCServer);
  });

  it('plugs into pixl-server as server.IPCServer, with the four built-in handlers (echo, delay, stats, monitor)', function (done) {
    const dir = makeTempDir();
    const server = new PixlServer({
      __name: 'ModuleTest',
      __version: '1.0',
      config: { foreground: true, log_dir: dir, debug_level: 1, IPCServer: { socket_path: path.join(dir, 'ipc.sock') } },
      components: [require('pixl-ipc')],
    });
    server.startup(() => {
      try {
        assert.ok(server.IPCServer instanceof IPCServer);
        assert.strictEqual(server.IPCServer.getStats().handlers, 2, 'as in 1.x: the operations endpoints are not counted');
        assert.ok(fs.statSync(path.join(dir, 'ipc.sock')).isSocket());
      } catch (err) {
        server.shutdown(() => done(err));
        return;
      }
      server.shutdown(() => done());
    });
  });

  it('type-checks `import IPCServer from "pixl-ipc"` against the files the package publishes', function () {
    this.timeout(180000);
    const root = path.join(__dirname, '..', '..');
    // Lay out the published files as an installed package, so the check sees
    // what users get (declarations only, no TypeScript sources beside them).
    const dir = makeTempDir();
    const installed = path.join(dir, 'node_modules', 'pixl-ipc');
    const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }));
    for (const { path: file } of packed[0].files) {
      fs.mkdirSync(path.dirname(path.join(installed, file)), { recursive: true });
      fs.copyFileSync(path.join(root, file), path.join(installed, file));
    }
    assert.ok(!packed[0].files.some((f) => /(?<!\.d)\.ts$/.test(f.path)), 'no TypeScript sources are published');
    const file = path.join(dir, 'usage.ts');
    fs.writeFileSync(file, [
      "import IPCServer from 'pixl-ipc';",
      "import IPCClient from 'pixl-ipc/client';",
      "declare const ipc: IPCServer.IPCServer;",
      "const handler: IPCServer.Handler = async (request: IPCServer.IPCRequest) => ({ echo: request.data, who: request.userAgent });",
      "ipc.addURIHandler(/^\\/api\\//, 'Api', handler);",
      "ipc.addURIHandler('/cb', 'Cb', (request, callback) => callback(request.uri));",
      "ipc.use((request, next) => { if (request.uri === '/x') next(null, 1); else next(); });",
      "ipc.setAuthHandler((credentials: unknown, info: IPCServer.AuthInfo) => info.transport === 'unix' && credentials === 't');",
      "ipc.on('disconnect', (connection: IPCServer.Connection, reason: IPCServer.DisconnectReason) => { void connection.id; void reason; });",
      "ipc.logDebug(5, 'inherited from the pixl-server component');",
      "const count: number = ipc.broadcast('/news', { a: 1 }, (c) => c.pid !== null);",
      "const code: string = IPCServer.ErrorCode.access;",
      "const client = new IPCClient('/tmp/x.sock', null, { requestTimeout: 5 });",
      "void client.send('/a', { b: 1 }).then((answer: unknown) => answer);",
      "void count; void code;",
      "// @ts-expect-error: a handler needs a name",
      "ipc.addURIHandler('/x', handler);",
      "// Listeners, handlers and the auth hook get their argument types without annotations.",
      "// @ts-expect-error: reason is a DisconnectReason",
      "ipc.on('disconnect', (connection, reason) => { const n: number = reason; void connection.id; void n; });",
      "// @ts-expect-error: the startup_failed listener gets an Error",
      "ipc.once('startup_failed', (err) => { const n: number = err; void n; });",
      "// @ts-expect-error: request is an IPCRequest",
      "ipc.addURIHandler('/typed', 'Typed', (request) => { const n: number = request; void n; });",
      "ipc.setAuthHandler(async (credentials, info) => info.transport === 'unix' && (credentials as { app?: string } | null)?.app === 'billing');",
      "// @ts-expect-error: credentials are unknown until narrowed",
      "ipc.setAuthHandler((credentials) => credentials.app === 'billing');",
      "declare const host: object;",
      "const typed: IPCServer.IPCServer = IPCServer.from(host);",
      "void typed;",
    ].join('\n'));
    assert.deepStrictEqual(typeCheck(file), []);
  });
});
