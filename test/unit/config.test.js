'use strict';
const assert = require('assert');
const { defaultConfig, readSettings, parseSocketMode, ConfigError } = require('../../dist/lib/config');

/** A config getter over the defaults plus `overrides`, as pixl-server merges them. */
function getter(overrides) {
  const config = { ...defaultConfig, socket_path: '/tmp/x.sock', ...overrides };
  return (key) => config[key];
}

describe('config', function () {
  it('reads the defaults into typed settings', function () {
    const s = readSettings(getter({}));
    assert.strictEqual(s.socketPath, '/tmp/x.sock');
    assert.strictEqual(s.socketMode, 0o600);
    assert.strictEqual(s.maxMessageSize, 32 * 1024 * 1024);
    assert.strictEqual(s.listenHost, '127.0.0.1');
    assert.strictEqual(s.logStatsInterval, 'minute');
    assert.deepStrictEqual(s.authTokens, []);
    assert.strictEqual(s.statsEndpoint, 'own_user');
    assert.strictEqual(s.monitorEndpoint, 'own_user');
  });

  it('requires socket_path', function () {
    for (const socket_path of [undefined, '', 5]) {
      assert.throws(() => readSettings(getter({ socket_path })), (err) => err instanceof ConfigError && /socket_path is required/.test(err.message));
    }
  });

  it('accepts numbers as numeric strings and refuses anything else, naming the key', function () {
    assert.strictEqual(readSettings(getter({ max_in_flight: '12' })).maxInFlight, 12);
    for (const value of ['lots', -1, NaN, Infinity, null, {}]) {
      assert.throws(() => readSettings(getter({ exit_timeout: value })), /exit_timeout must be a number >= 0/, JSON.stringify(value));
    }
    assert.throws(() => readSettings(getter({ max_message_size: 0 })), /max_message_size must be a number >= 1/);
    assert.strictEqual(readSettings(getter({ idle_timeout: 0 })).idleTimeout, 0);
  });

  it('socket_chmod: octal strings, numbers, and false or "" for leave-as-is', function () {
    assert.strictEqual(parseSocketMode('660'), 0o660);
    assert.strictEqual(parseSocketMode('0666'), 0o666);
    assert.strictEqual(parseSocketMode('1777'), 0o1777);
    assert.strictEqual(parseSocketMode(0o640), 0o640);
    assert.strictEqual(parseSocketMode(false), null);
    assert.strictEqual(parseSocketMode(''), null);
    for (const bad of ['rw-rw----', '999', '66', 'xyz', -1, 0o10000, 1.5, true]) {
      assert.throws(() => parseSocketMode(bad), ConfigError, JSON.stringify(bad));
    }
  });

  it('auth_tokens must be non-empty strings', function () {
    assert.deepStrictEqual(readSettings(getter({ auth_tokens: ['a', 'b'] })).authTokens, ['a', 'b']);
    for (const auth_tokens of ['single', [''], [1], [null]]) {
      assert.throws(() => readSettings(getter({ auth_tokens })), /auth_tokens must be an array of non-empty strings/);
    }
  });

  it('log_stats_interval: a non-empty string or off', function () {
    assert.strictEqual(readSettings(getter({ log_stats_interval: 'hour' })).logStatsInterval, 'hour');
    assert.strictEqual(readSettings(getter({ log_stats_interval: false })).logStatsInterval, false);
    assert.strictEqual(readSettings(getter({ log_stats_interval: '' })).logStatsInterval, false);
  });

  it('tls_port needs tls_key and tls_cert', function () {
    assert.throws(() => readSettings(getter({ tls_port: 7443 })), /tls_port needs tls_key and tls_cert/);
    assert.throws(() => readSettings(getter({ tls_port: 7443, tls_key: '/k.pem' })), /tls_port needs tls_key and tls_cert/);
    assert.strictEqual(readSettings(getter({ tls_port: 7443, tls_key: '/k.pem', tls_cert: '/c.pem' })).tlsPort, 7443);
  });

  it('an empty listen_host falls back to loopback; text keys must be strings', function () {
    assert.strictEqual(readSettings(getter({ listen_host: '' })).listenHost, '127.0.0.1');
    assert.strictEqual(readSettings(getter({ listen_host: '::1' })).listenHost, '::1');
    assert.throws(() => readSettings(getter({ tls_key: 5 })), /tls_key must be a string/);
  });

  it('stats_endpoint and monitor_endpoint are true, false or "own_user"; anything else is refused', function () {
    for (const key of ['stats_endpoint', 'monitor_endpoint']) {
      const field = key === 'stats_endpoint' ? 'statsEndpoint' : 'monitorEndpoint';
      for (const value of [true, false, 'own_user']) assert.strictEqual(readSettings(getter({ [key]: value }))[field], value);
      for (const value of ['yes', 1, 'own-user']) {
        assert.throws(() => readSettings(getter({ [key]: value })), (err) => err instanceof ConfigError && err.message.includes(key));
      }
    }
  });
});
