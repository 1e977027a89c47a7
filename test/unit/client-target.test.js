'use strict';
// client/target.ts: which strings name which transport.
const assert = require('assert');
const { parseTarget, describeTarget } = require('../../dist/client/target');

describe('client target', function () {
  it('parseTarget understands paths, unix://, tcp:// and tls:// (with IPv6)', function () {
    assert.deepStrictEqual(parseTarget('/var/run/a.sock'), { kind: 'unix', path: '/var/run/a.sock' });
    assert.deepStrictEqual(parseTarget('relative.sock'), { kind: 'unix', path: 'relative.sock' });
    assert.deepStrictEqual(parseTarget('unix:///tmp/b.sock'), { kind: 'unix', path: '/tmp/b.sock' });
    assert.deepStrictEqual(parseTarget('UNIX:///tmp/c.sock'), { kind: 'unix', path: '/tmp/c.sock' });
    assert.deepStrictEqual(parseTarget('tcp://127.0.0.1:9000'), { kind: 'tcp', host: '127.0.0.1', port: 9000 });
    assert.deepStrictEqual(parseTarget('TLS://example.com:443/'), { kind: 'tls', host: 'example.com', port: 443 });
    assert.deepStrictEqual(parseTarget('tcp://[::1]:7000'), { kind: 'tcp', host: '::1', port: 7000 });
  });

  it('refuses what it cannot use, with a TypeError naming the problem', function () {
    assert.throws(() => parseTarget(''), TypeError);
    assert.throws(() => parseTarget(undefined), TypeError);
    assert.throws(() => parseTarget('tcp://:80'), TypeError);
    assert.throws(() => parseTarget('tcp://host'), /tcp:\/\/host:port/);
    assert.throws(() => parseTarget('tls://host:0'), /out of range/);
    assert.throws(() => parseTarget('tcp://host:65536'), /out of range/);
    assert.throws(() => parseTarget('unix://'), /no path/);
    assert.throws(() => parseTarget('http://host:80'), /Unsupported target scheme "http:\/\/"/);
  });

  it('describeTarget gives the short name used in messages', function () {
    assert.strictEqual(describeTarget(parseTarget('tcp://[::1]:7000')), 'tcp://[::1]:7000');
    assert.strictEqual(describeTarget(parseTarget('unix:///tmp/x.sock')), '/tmp/x.sock');
    assert.strictEqual(describeTarget(parseTarget('tls://h:1')), 'tls://h:1');
  });
});
