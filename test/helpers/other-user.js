'use strict';
// A second local user for identity tests: created with useradd when the tests
// run as root (as CI does). Code runs as that user in child processes
// (spawn's uid/gid options; libuv also drops the supplementary groups).
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const NAME = 'pixlipc-other';
const FIXTURE = path.join(__dirname, '..', 'integration', 'fixtures', 'as-other-user.js');

let fixtureCopy = null;

/**
 * The fixture, copied where the other user can read it: the checkout may sit
 * in a directory only its owner can enter (a 0700 home or mktemp -d). The
 * fixture loads nothing outside itself, so the copy runs alone.
 */
function fixtureForOtherUser() {
  if (fixtureCopy) return fixtureCopy;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixl-ipc-other-user-'));
  fs.chmodSync(dir, 0o755);
  fixtureCopy = path.join(dir, 'as-other-user.js');
  fs.copyFileSync(FIXTURE, fixtureCopy);
  fs.chmodSync(fixtureCopy, 0o644);
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return fixtureCopy;
}

function lookup(name) {
  const result = spawnSync('getent', ['passwd', name], { encoding: 'utf8' });
  if (result.status !== 0) return null;
  const [, , uid, gid] = result.stdout.trim().split(':');
  return { name, uid: Number(uid), gid: Number(gid) };
}

/**
 * { name, uid, gid } of the second user, or { skip: reason } when the tests
 * cannot create or act as one (not root).
 */
function otherUser() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return { skip: 'needs root to create and act as a second local user (CI runs the tests as root)' };
  }
  let user = lookup(NAME);
  if (!user) {
    const made = spawnSync('useradd', ['--system', '--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', NAME], { encoding: 'utf8' });
    if (made.status !== 0 && !lookup(NAME)) return { skip: `useradd ${NAME} failed: ${(made.stderr || made.error || '').toString().trim()}` };
    user = lookup(NAME);
  }
  return user;
}

/**
 * Runs fixtures/as-other-user.js as `user` with `job`; resolves to its JSON
 * output. `child` is handed to onSpawn (to learn its pid, or to end it).
 */
function runAs(user, job, onSpawn) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixtureForOtherUser(), JSON.stringify(job)], {
      uid: user.uid, gid: user.gid, stdio: ['pipe', 'pipe', 'pipe'], cwd: '/',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve(Object.assign(JSON.parse(stdout), { pid: child.pid }));
      } catch {
        reject(new Error(`as-other-user exited ${code}: ${stderr || stdout}`));
      }
    });
    if (onSpawn) onSpawn(child);
  });
}

module.exports = { otherUser, runAs, OTHER_USER_NAME: NAME };
