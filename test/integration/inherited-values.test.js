'use strict';
// Values a daemon inherits from whoever started it (issue 24): LISTEN_FDS,
// LISTEN_PID, LISTEN_FDNAMES are bounded and checked before anything is made
// of them; a bad one is a clear startup error, at once.
const assert = require('assert');
const { spawnSync } = require('child_process');
const path = require('path');
const { makeTempDir, cleanupTempDirs } = require('../helpers/harness');
const { CLI, writeConfig } = require('../helpers/handoff-kit');

/** Runs `pixl-ipc serve` with LISTEN_PID set to its own pid and `env` added; returns its exit, output and time. */
function serveWith(env) {
  const dir = makeTempDir('pixl-ipc-inherit-');
  const config = writeConfig(dir, path.join(dir, 'ipc.sock'));
  const started = Date.now();
  // exec keeps the shell's pid, so $$ is the daemon's own pid, as systemd sets it.
  const result = spawnSync('sh', ['-c', `export LISTEN_PID=$$; exec "${process.execPath}" "${CLI}" serve -c "${config}"`], {
    env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20000,
  });
  return { code: result.status, stderr: result.stderr, ms: Date.now() - started };
}

describe('inherited values: LISTEN_FDS and friends (issue 24)', function () {
  this.timeout(30000);
  after(cleanupTempDirs);

  it('LISTEN_FDS=50000000 is refused at startup with a clear error, without making anything of it', function () {
    const { code, stderr, ms } = serveWith({ LISTEN_FDS: '50000000' });
    assert.strictEqual(code, 1, stderr);
    assert.match(stderr, /^pixl-ipc serve: IPCServer: socket activation: LISTEN_FDS is 50000000; at most 64 inherited sockets are accepted/m);
    console.log(`      LISTEN_FDS=50000000: refused in ${ms} ms (process start included)`);
  });

  it('a LISTEN_FDS that is not a count, and a LISTEN_FDNAMES of 100,000 characters, are refused the same way', function () {
    const notCount = serveWith({ LISTEN_FDS: '3; rm -rf /' });
    assert.strictEqual(notCount.code, 1);
    assert.match(notCount.stderr, /LISTEN_FDS must be a number of file descriptors \(got "3; rm -rf \/"\)/);
    const longNames = serveWith({ LISTEN_FDS: '1', LISTEN_FDNAMES: 'n'.repeat(100000) });
    assert.strictEqual(longNames.code, 1);
    assert.match(longNames.stderr, /LISTEN_FDNAMES is 100000 characters long: more than 1 name\(s\) of at most 255 characters/);
    assert.ok(longNames.stderr.length < 1000, 'the message does not repeat the value');
  });
});
