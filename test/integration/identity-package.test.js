'use strict';
// Kernel peer identity from the published package, installed the strictest
// way: `npm install --ignore-scripts --offline` from the `npm pack` tarball
// into a fresh project, with a PATH that has node and npm and no compiler.
const assert = require('assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { packedConsumer } = require('../helpers/consumer');

const CONSUMER_SCRIPT = `
const os = require('os');
const path = require('path');
const fs = require('fs');
const PixlServer = require('pixl-server');
const IPCServer = require('pixl-ipc');
const IPCClient = require('pixl-ipc/client');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixl-ipc-peer-pkg-'));
const server = new PixlServer({
  __name: 'PeerDemo', __version: '1.0',
  config: { foreground: true, log_dir: dir, debug_level: 1, IPCServer: { socket_path: path.join(dir, 'ipc.sock'), log_stats_interval: false } },
  components: [IPCServer],
});
server.startup(async () => {
  const ipc = server.IPCServer;
  ipc.addURIHandler('/peer', 'peer', (request) => request.connection.peer);
  const client = new IPCClient(ipc.settings.socketPath, null, { autoReconnect: false });
  await client.connect();
  const peer = await client.send('/peer');
  await client.close();
  server.shutdown(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    console.log(JSON.stringify(peer));
  });
});
`;

describe('package: peer identity with no compiler and no install scripts', function () {
  this.timeout(180000);
  let dir;
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  it('installs from the tarball with --ignore-scripts --offline and reports the kernel peer', function () {
    if (process.platform !== 'linux' || process.arch !== 'x64') this.skip();
    const { tarball, files } = packedConsumer();
    assert.ok(files.includes('prebuilds/linux-x64/pixl-ipc-native.node'), 'the prebuilt addon ships');
    assert.ok(!files.some((file) => /binding\.gyp$|\.c$/.test(file)), 'nothing to compile ships');

    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixl-ipc-nocc-'));
    // PATH: node and npm only. No cc, make or python: a build step would fail.
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const npmCli = fs.realpathSync(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim());
    fs.writeFileSync(path.join(bin, 'npm'), `#!/bin/sh\nexec "${process.execPath}" "${npmCli}" "$@"\n`, { mode: 0o755 });
    const env = { HOME: process.env.HOME, PATH: bin, npm_config_update_notifier: 'false', CC: '/bin/false', CXX: '/bin/false' };
    assert.notStrictEqual(spawnSync('sh', ['-c', 'command -v cc || command -v gcc'], { env }).status, 0, 'no compiler on the PATH');

    const project = path.join(dir, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'nocc', version: '1.0.0', private: true }));
    const install = spawnSync(path.join(bin, 'npm'), ['install', '--ignore-scripts', '--offline', '--no-audit', '--no-fund', tarball], { cwd: project, env, encoding: 'utf8' });
    assert.strictEqual(install.status, 0, install.stdout + install.stderr);
    assert.doesNotMatch(install.stdout + install.stderr, /install-scripts|gyp|warn/i, install.stdout + install.stderr);

    fs.writeFileSync(path.join(project, 'peer.js'), CONSUMER_SCRIPT);
    const run = spawnSync(path.join(bin, 'node'), ['peer.js'], { cwd: project, env, encoding: 'utf8', timeout: 30000 });
    assert.strictEqual(run.status, 0, run.stderr);
    const peer = JSON.parse(run.stdout.trim().split('\n').pop());
    assert.strictEqual(peer.pid, run.pid, 'the pid of the process that connected');
    assert.strictEqual(peer.uid, process.getuid());
    assert.strictEqual(peer.gid, process.getgid());
    assert.strictEqual(peer.user, os.userInfo().username);
  });
});
