'use strict';
// The connect-error hints (client/connect-hints.ts): every case of the shared
// vectors (test/vectors/connect-hints.json, also rendered by the PHP client)
// renders to its exact text, and real failures on this machine are diagnosed
// as the right situation.
const assert = require('assert');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { renderConnectHint, diagnoseConnectFailure, currentIdentity } = require('../../dist/client/connect-hints');
const { parseTarget } = require('../../dist/client/target');

const cases = require(path.join(__dirname, '..', 'vectors', 'connect-hints.json'));

/** The error a real connect to `target` fails with. */
function connectError(target) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(target);
    socket.on('connect', () => { socket.destroy(); reject(new Error('connected to ' + JSON.stringify(target))); });
    socket.on('error', resolve);
  });
}

describe('connect hints: the shared vectors', () => {
  it('has a case for every kind of situation', () => {
    const kinds = new Set(cases.map((c) => c.situation.kind));
    assert.deepStrictEqual([...kinds].sort(), ['no_socket', 'not_socket', 'permission', 'stale_socket', 'tcp_refused', 'wrong_server_user']);
  });
  for (const c of cases) {
    it(c.name, () => {
      assert.strictEqual(renderConnectHint(c.situation), c.expect);
    });
  }
});

describe('connect hints: diagnosing real failures', () => {
  let dir;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixl-ipc-hints-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('no file at the path is no_socket', async () => {
    const file = path.join(dir, 'missing.sock');
    const err = await connectError({ path: file });
    assert.strictEqual(err.code, 'ENOENT');
    assert.deepStrictEqual(diagnoseConnectFailure(parseTarget(file), err), { kind: 'no_socket', path: file });
  });

  it('a regular file at the path is not_socket', async () => {
    const file = path.join(dir, 'plain.sock');
    fs.writeFileSync(file, 'not a socket');
    const err = await connectError({ path: file });
    assert.deepStrictEqual(diagnoseConnectFailure(parseTarget(file), err), { kind: 'not_socket', path: file });
  });

  it('a socket file left by a process that died is stale_socket', async () => {
    const file = path.join(dir, 'stale.sock');
    // A listener killed by SIGKILL leaves its socket file behind, as a crashed daemon does.
    const child = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(file)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    assert.strictEqual(child.signal, 'SIGKILL');
    assert.ok(fs.statSync(file).isSocket());
    const err = await connectError({ path: file });
    assert.strictEqual(err.code, 'ECONNREFUSED');
    assert.deepStrictEqual(diagnoseConnectFailure(parseTarget(file), err), { kind: 'stale_socket', path: file });
  });

  it('a refused TCP port is tcp_refused; other errors have no hint', async () => {
    const server = net.createServer();
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = server.address().port;
    await new Promise((resolve) => server.close(resolve));
    const err = await connectError({ host: '127.0.0.1', port });
    assert.deepStrictEqual(diagnoseConnectFailure(parseTarget(`tcp://127.0.0.1:${port}`), err), { kind: 'tcp_refused', host: '127.0.0.1', port });
    assert.strictEqual(diagnoseConnectFailure(parseTarget(`tcp://127.0.0.1:${port}`), Object.assign(new Error('x'), { code: 'ETIMEDOUT' })), null);
    assert.strictEqual(diagnoseConnectFailure(parseTarget('/x.sock'), new Error('no code')), null);
  });

  it('this process is described with its primary group first and every group once', () => {
    const { user, groups } = currentIdentity();
    assert.strictEqual(user.id, process.geteuid());
    assert.strictEqual(groups[0].id, process.getegid());
    assert.strictEqual(new Set(groups.map((g) => g.id)).size, groups.length);
    if (process.geteuid() === 0) assert.deepStrictEqual(groups[0], { id: 0, name: 'root' });
  });
});
