'use strict';
// The API reference (npm run docs:api: TypeDoc over scripts/api-reference.ts)
// builds without the network, without a warning, and documents the public
// classes with their methods.
const assert = require('assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..', '..');

/** `unshare --net` (a network namespace with no interfaces) where this user may make one: proves "offline". */
function offlinePrefix() {
  const probe = spawnSync('unshare', ['--net', 'true']);
  return probe.status === 0 ? ['unshare', '--net'] : [];
}

describe('API reference (TypeDoc)', function () {
  this.timeout(180000);
  let out;
  let result;
  let offline;

  before(function () {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'pixl-ipc-api-'));
    const prefix = offlinePrefix();
    offline = prefix.length > 0;
    const typedoc = path.join(root, 'node_modules', '.bin', 'typedoc');
    const [command, ...args] = [...prefix, typedoc, '--out', out];
    result = spawnSync(command, args, { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  });
  after(function () {
    fs.rmSync(out, { recursive: true, force: true });
  });

  it(`npm run docs:api is TypeDoc, pinned, and builds with no warning${''}`, function () {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    assert.strictEqual(pkg.scripts['docs:api'], 'typedoc');
    assert.match(pkg.devDependencies.typedoc, /^\d+\.\d+\.\d+$/, 'an exact version');
    assert.strictEqual(result.status, 0, `typedoc exited ${result.status}${offline ? ' (without a network)' : ''}\n${result.stdout}\n${result.stderr}`);
    assert.doesNotMatch(result.stdout + result.stderr, /\[(warning|error)\]/);
    if (!offline) console.log('      (unshare --net is not allowed here: built with the network present)');
  });

  it('documents the server, the client, their errors and the handler types', function () {
    const page = (file) => fs.readFileSync(path.join(out, file), 'utf8');
    const server = page('classes/IPCServer.html');
    for (const method of ['addURIHandler', 'removeURIHandler', 'use', 'broadcast', 'getStats', 'getMetrics', 'setAuthHandler', 'getConnections']) {
      assert.match(server, new RegExp(`id="${method.toLowerCase()}"`), `IPCServer.${method}`);
    }
    const client = page('classes/IPCClient.html');
    for (const method of ['connect', 'send', 'stream', 'notify', 'flush', 'close']) {
      assert.match(client, new RegExp(`id="${method.toLowerCase()}"`), `IPCClient.${method}`);
    }
    assert.match(page('classes/IPCError.html'), /id="code"/);
    assert.match(page('interfaces/IPCRequest.html'), /id="signal"/);
    assert.match(page('interfaces/IPCClientOptions.html'), /id="requesttimeout"/i);
    assert.match(page('index.html'), /IPCServer/);
  });
});
