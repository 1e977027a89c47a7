'use strict';
const assert = require('assert');
const { AccessPolicy } = require('../../dist/lib/access-policy');

function policy(overrides = {}) {
  return new AccessPolicy(Object.assign({ allowUsers: [], allowGroups: [], allowTcp: false, rules: [], maxConnectionsPerUser: 256 }, overrides));
}

/** A PeerSubject as a connection is one: kernel ids (null for TCP) and supplementary groups. */
function who(ids, groups = null) {
  return { peer: ids, peerGroups: () => groups };
}
const root = who({ uid: 0, gid: 0 });
const other = who({ uid: 4321, gid: 4321 });
const tcp = who(null);

describe('AccessPolicy', function () {
  it('lets everyone connect when no users or groups are named', function () {
    const p = policy();
    assert.strictEqual(p.needsIdentity, false);
    assert.deepStrictEqual(p.checkConnect(other), { ok: true });
    assert.deepStrictEqual(p.checkConnect(tcp), { ok: true });
  });

  it('allow_users takes names and ids; others and TCP are refused unless allow_tcp', function () {
    const p = policy({ allowUsers: ['root', 77] });
    assert.strictEqual(p.needsIdentity, true);
    assert.strictEqual(p.checkConnect(root).ok, true);
    assert.strictEqual(p.checkConnect(who({ uid: 77, gid: 5 })).ok, true);
    const refused = p.checkConnect(other);
    assert.strictEqual(refused.ok, false);
    assert.match(refused.message, /uid 4321/);
    assert.strictEqual(p.checkConnect(tcp).ok, false);
    assert.strictEqual(policy({ allowUsers: ['root'], allowTcp: true }).checkConnect(tcp).ok, true);
  });

  it('allow_groups matches the primary gid or a supplementary group', function () {
    const p = policy({ allowGroups: ['root'] });
    assert.strictEqual(p.checkConnect(who({ uid: 5, gid: 0 })).ok, true);
    assert.strictEqual(p.checkConnect(who({ uid: 5, gid: 9 }, [3, 0])).ok, true);
    assert.strictEqual(p.checkConnect(who({ uid: 5, gid: 9 }, [3])).ok, false);
    assert.strictEqual(p.checkConnect(who({ uid: 5, gid: 9 }, null)).ok, false);
  });

  it('refuses to build with an unknown user or group name, or a bad pattern', function () {
    assert.throws(() => policy({ allowUsers: ['no-such-user-pixl-ipc'] }), /allow_users names user "no-such-user-pixl-ipc"/);
    assert.throws(() => policy({ rules: [{ uri: '^/a', groups: ['no-such-group-pixl-ipc'] }] }), /policy\[0\]\.groups/);
    assert.throws(() => policy({ rules: [{ uri: '(' }] }), /policy\[0\]\.uri is not a valid regular expression/);
    assert.throws(() => policy({ rules: [{ users: ['root'] }] }), /policy\[0\] needs a "uri"/);
  });

  it('per-uri rules: the first match decides, unmatched uris pass, auth and identity combine', function () {
    const p = policy({
      rules: [
        { uri: '^/admin/open$' },
        { uri: '^/admin/', users: ['root'], auth: true },
        { uri: '^/ops/', groups: [0], tcp: true },
      ],
    });
    assert.strictEqual(p.needsIdentity, true);
    assert.strictEqual(p.checkRequest('/admin/open', other, false).ok, true);
    assert.strictEqual(p.checkRequest('/admin/x', root, true).ok, true);
    assert.match(p.checkRequest('/admin/x', root, false).message, /requires authentication/);
    assert.match(p.checkRequest('/admin/x', other, true).message, /uid 4321 may not call \/admin\/x/);
    assert.match(p.checkRequest('/admin/x', tcp, true).message, /restricted to local users/);
    assert.strictEqual(p.checkRequest('/ops/x', tcp, false).ok, true);
    assert.strictEqual(p.checkRequest('/ops/x', other, false).ok, false);
    assert.strictEqual(p.checkRequest('/anything', other, false).ok, true);
  });

  it('decides every uri as a fresh policy would, past the memo of rules per uri and with uris too long to remember', function () {
    const rules = [{ uri: '^/admin/open$' }, { uri: '^/admin/', users: ['root'] }, { uri: 'secret' }];
    const p = policy({ rules });
    const uris = [];
    for (let i = 0; i < 3000; i++) uris.push(i % 3 === 0 ? `/admin/${i}` : i % 3 === 1 ? `/x/${i}/secret` : `/free/${i}`);
    uris.push('/admin/' + 'a'.repeat(1 << 20), '/admin/open', '/free/' + 'b'.repeat(1 << 20));
    for (const uri of uris) {
      for (const subject of [root, other, tcp]) {
        assert.deepStrictEqual(p.checkRequest(uri, subject, false), policy({ rules }).checkRequest(uri, subject, false), uri.slice(0, 40));
      }
    }
  });

  it('counts connections per user up to max_connections_per_user', function () {
    const p = policy({ maxConnectionsPerUser: 2 });
    assert.notStrictEqual(process.getuid(), 1);
    assert.strictEqual(p.openConnection(1), true);
    assert.strictEqual(p.openConnection(1), true);
    assert.strictEqual(p.openConnection(1), false);
    assert.strictEqual(p.openConnection(2), true);
    p.closeConnection(1);
    assert.strictEqual(p.openConnections(1), 1);
    assert.strictEqual(p.openConnection(1), true);
    // The daemon's own user is not limited.
    for (let i = 0; i < 5; i++) assert.strictEqual(p.openConnection(process.getuid()), true);
  });
});
