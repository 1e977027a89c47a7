'use strict';
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Authenticator, parseUsersFile, secretsEqual } = require('../../dist/lib/auth');

const INFO = { connection: null, transport: 'unix' };

describe('auth', function () {
  let dir;
  before(function () { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixl-ipc-auth-unit-')); });
  after(function () { fs.rmSync(dir, { recursive: true, force: true }); });

  it('secretsEqual compares secrets of any length', function () {
    assert.strictEqual(secretsEqual('abc', 'abc'), true);
    assert.strictEqual(secretsEqual('abc', 'abd'), false);
    assert.strictEqual(secretsEqual('abc', 'abcd'), false);
    assert.strictEqual(secretsEqual('', ''), true);
    assert.strictEqual(secretsEqual('é', 'e'), false);
  });

  it('parseUsersFile: user:password lines, colons allowed in passwords, comments and junk skipped', function () {
    const users = parseUsersFile('# comment\n\nweb:pa:ss:word\r\n  cron:secret  \n:nouser\nnocolon\n');
    assert.deepStrictEqual([...users], [['web', 'pa:ss:word'], ['cron', 'secret']]);
  });

  it('is off with nothing configured and accepts nothing then', async function () {
    const auth = new Authenticator();
    assert.strictEqual(auth.enabled, false);
    assert.strictEqual(await auth.check('anything', INFO), false);
  });

  it('tokens: a string or {token}; anything else is refused', async function () {
    const auth = new Authenticator(['t1', 't2']);
    assert.strictEqual(auth.enabled, true);
    assert.strictEqual(await auth.check('t1', INFO), true);
    assert.strictEqual(await auth.check({ token: 't2' }, INFO), true);
    for (const bad of ['t3', '', { token: 't' }, { token: 5 }, null, 5, ['t1'], { user: 't1', password: 't1' }]) {
      assert.strictEqual(await auth.check(bad, INFO), false, JSON.stringify(bad));
    }
  });

  it('users file: each user with their own password only', async function () {
    const file = path.join(dir, 'users');
    fs.writeFileSync(file, 'web:w-pass\ncron:c:pass\n');
    const auth = new Authenticator([], file);
    assert.strictEqual(auth.enabled, true);
    assert.strictEqual(await auth.check({ user: 'web', password: 'w-pass' }, INFO), true);
    assert.strictEqual(await auth.check({ user: 'cron', password: 'c:pass' }, INFO), true);
    for (const bad of [{ user: 'web', password: 'c:pass' }, { user: 'nobody', password: 'w-pass' }, { user: 'web' }, { user: 'web', password: 1 }, 'w-pass']) {
      assert.strictEqual(await auth.check(bad, INFO), false, JSON.stringify(bad));
    }
  });

  it('the hook decides what the configuration does not accept; only true accepts', async function () {
    const seen = [];
    const auth = new Authenticator(['configured']);
    auth.setHook((credentials, info) => { seen.push([credentials, info.transport]); return credentials === 'hooked' ? true : 'yes'; });
    assert.strictEqual(await auth.check('configured', INFO), true);
    assert.deepStrictEqual(seen, [], 'a configured token does not ask the hook');
    assert.strictEqual(await auth.check('hooked', INFO), true);
    assert.strictEqual(await auth.check('other', INFO), false, 'a truthy non-true answer refuses');
    assert.deepStrictEqual(seen, [['hooked', 'unix'], ['other', 'unix']]);
    auth.setHook(async (credentials) => credentials === 'async');
    assert.strictEqual(await auth.check('async', INFO), true);
    auth.setHook(() => { throw new Error('hook broke'); });
    await assert.rejects(auth.check('x', INFO), /hook broke/, 'the caller decides what a failing hook means');
  });

  it('a hook alone turns authentication on; null turns it off; a non-function is refused', function () {
    const auth = new Authenticator();
    auth.setHook(() => true);
    assert.strictEqual(auth.enabled, true);
    auth.setHook(null);
    assert.strictEqual(auth.enabled, false);
    assert.throws(() => auth.setHook('nope'), TypeError);
  });

  it('describe() names the user but never the secret', function () {
    assert.strictEqual(Authenticator.describe({ user: 'web', password: 'hunter2' }), 'user "web"');
    assert.strictEqual(Authenticator.describe('s3cret'), 'a token');
    assert.strictEqual(Authenticator.describe({ token: 's3cret' }), 'a token');
    assert.strictEqual(Authenticator.describe(42), 'credentials');
    for (const c of [{ user: 'web', password: 'hunter2' }, 's3cret', { token: 's3cret' }]) {
      assert.ok(!/hunter2|s3cret/.test(Authenticator.describe(c)));
    }
  });
});
