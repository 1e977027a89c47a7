'use strict';
// client/options.ts: every default written once, and what "off" means.
const assert = require('assert');
const { resolveOptions, defaultOptions } = require('../../dist/client/options');

describe('client options', function () {
  it('every option has its documented default', function () {
    const d = defaultOptions();
    assert.strictEqual(d.requestTimeout, 10000);
    assert.strictEqual(d.expireRequest, 10000);
    assert.strictEqual(d.userAgent, 'Node/IPCClient' + process.cwd());
    assert.strictEqual(d.autoReconnect, 1000);
    assert.strictEqual(d.maxReconnectDelay, 30000);
    assert.strictEqual(d.retryStrategy, null);
    assert.strictEqual(d.connectTimeout, 5000);
    assert.strictEqual(d.codeToErr, false);
    assert.strictEqual(d.messageTransform, null);
    assert.strictEqual(d.logStatsInterval, 0);
    assert.strictEqual(d.auth, undefined);
    assert.strictEqual(d.tls, undefined);
    assert.strictEqual(d.maxMessageSize, 128 * 1024 * 1024);
    assert.strictEqual(d.offlineQueue, 1000);
    assert.strictEqual(d.expirationFrequency, 5000);
  });

  it('false, 0 and negative numbers turn the millisecond switches off; undefined keeps the default', function () {
    const d = defaultOptions();
    const r = resolveOptions({ autoReconnect: false, requestTimeout: 5, userAgent: undefined, connectTimeout: 0, logStatsInterval: -1, offlineQueue: 'x' });
    assert.strictEqual(r.autoReconnect, 0);
    assert.strictEqual(r.requestTimeout, 5);
    assert.strictEqual(r.userAgent, d.userAgent);
    assert.strictEqual(r.connectTimeout, 0);
    assert.strictEqual(r.logStatsInterval, 0);
    assert.strictEqual(r.offlineQueue, 0);
    assert.deepStrictEqual(resolveOptions(null), d);
    assert.deepStrictEqual(resolveOptions(undefined), d);
  });

  it('a retryStrategy function is kept as given', function () {
    const strategy = (attempt) => (attempt < 3 ? 10 : null);
    assert.strictEqual(resolveOptions({ retryStrategy: strategy }).retryStrategy, strategy);
  });
});
