'use strict';
// The uri-to-subject mapping of the NATS transport, and the checks of the
// `nats` config block and of NATS connect options.
const assert = require('assert');
const { subjectForUri, uriForSubject, cancelSubject, allUrisSubject } = require('../../dist/lib/transports/nats-subjects');
const { readNatsSettings } = require('../../dist/lib/transports/nats-config');
const { connectOptions, redactUrl } = require('../../dist/lib/transports/nats-options');
const nats = require('nats');

describe('NATS subjects', () => {
  it('maps each uri segment to one subject token', () => {
    assert.strictEqual(subjectForUri('ipc', '/app/users/get'), 'ipc.app.users.get');
    assert.strictEqual(subjectForUri('acme.ipc', '/ipcserver/test/echo'), 'acme.ipc.ipcserver.test.echo');
    assert.strictEqual(allUrisSubject('ipc'), 'ipc.>');
  });

  it('escapes what a token may not hold, so no uri reaches a wildcard, another token or the cancel subject', () => {
    assert.strictEqual(subjectForUri('ipc', '/v1.2/a b'), 'ipc.v1%2E2.a%20b');
    assert.strictEqual(subjectForUri('ipc', '/*/>'), 'ipc.%2A.%3E');
    assert.strictEqual(subjectForUri('ipc', '/a//b/'), 'ipc.a.%.b.%');
    assert.strictEqual(subjectForUri('ipc', '/%cancel'), 'ipc.%25cancel');
    assert.notStrictEqual(subjectForUri('ipc', '/%cancel'), cancelSubject('ipc'));
    assert.strictEqual(subjectForUri('ipc', '/é'), 'ipc.%C3%A9');
    assert.strictEqual(subjectForUri('ipc', '/tab\there'), 'ipc.tab%09here');
    assert.throws(() => subjectForUri('ipc', 'no-slash'), /must start with "\/"/);
  });

  it('is one-to-one: every uri comes back from its subject, and odd subjects are refused', () => {
    const uris = ['/', '/a', '/a/b/c', '/a//b/', '/v1.2/x', '/ünï/cödé/😀', '/%41', '/a%2Eb', '/$SRV/x', '/a b/c\nd', '/-_~!$&\'()+,;=:@'];
    const subjects = new Set();
    for (const uri of uris) {
      const subject = subjectForUri('ipc', uri);
      assert.ok(!/\s/.test(subject) && !subject.split('.').some((t) => t === '' || t === '*' || t === '>'), subject);
      assert.strictEqual(uriForSubject('ipc', subject), uri, subject);
      subjects.add(subject);
    }
    assert.strictEqual(subjects.size, uris.length);
    assert.strictEqual(uriForSubject('ipc', 'other.a'), null);
    assert.strictEqual(uriForSubject('ipc', 'ipc.a..b'), null);
    assert.strictEqual(uriForSubject('ipc', 'ipc.%zz'), null);
  });
});

describe('NATS settings', () => {
  it('reads the config block with its defaults', () => {
    assert.strictEqual(readNatsSettings(false), null);
    const s = readNatsSettings({ servers: 'nats://a:4222, nats://b:4222', forward: ['^/billing/'] });
    assert.deepStrictEqual(s.servers, ['nats://a:4222', 'nats://b:4222']);
    assert.strictEqual(s.prefix, 'ipc');
    assert.strictEqual(s.queue, 'pixl-ipc');
    assert.strictEqual(s.serve, true);
    assert.ok(s.forward[0].test('/billing/x'));
  });

  it('refuses bad settings with a message naming the key', () => {
    assert.throws(() => readNatsSettings({}), /nats\.servers/);
    assert.throws(() => readNatsSettings({ servers: ['nats://a'], prefix: 'a.*' }), /nats\.prefix/);
    assert.throws(() => readNatsSettings({ servers: ['nats://a'], queue: 'a b' }), /nats\.queue/);
    assert.throws(() => readNatsSettings({ servers: ['nats://a'], forward: ['('] }), /nats\.forward\[0\]/);
    assert.throws(() => readNatsSettings({ servers: ['nats://a'], max_pending: 0 }), /nats\.max_pending/);
    assert.throws(() => connectOptions(nats, { servers: ['nats://a'], user: 'u', pass: 'p', token: 't' }, 'nats'), /one kind of credentials/);
    assert.throws(() => connectOptions(nats, { servers: ['nats://a'], creds_file: '/nonexistent/x.creds' }, 'nats'), /cannot read \/nonexistent\/x\.creds: ENOENT/);
  });

  it('redacts credentials in server URLs', () => {
    assert.strictEqual(redactUrl('nats://user:secret@10.0.0.1:4222'), 'nats://***@10.0.0.1:4222');
    assert.strictEqual(redactUrl('nats://10.0.0.1:4222'), 'nats://10.0.0.1:4222');
  });
});
