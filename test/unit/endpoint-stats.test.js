'use strict';
const assert = require('assert');
const { EndpointStats, OVERFLOW } = require('../../dist/lib/endpoint-stats');

describe('EndpointStats', function () {
  it('counts per name into the interval; totals add the interval; cycle moves it to last', function () {
    const stats = new EndpointStats();
    const echo = stats.get('echo');
    assert.strictEqual(stats.get('echo'), echo, 'one object per name');
    echo.record(1, false, 10, 20);
    echo.record(3, true, 5, 7);
    let report = stats.toJSON();
    assert.deepStrictEqual(report.echo.interval, {
      requests: 2, errors: 1, bytesIn: 15, bytesOut: 27,
      latencyMs: report.echo.interval.latencyMs,
    });
    assert.strictEqual(report.echo.interval.latencyMs.count, 2);
    assert.strictEqual(report.echo.interval.latencyMs.max, 3);
    assert.strictEqual(report.echo.totals.requests, 2);
    assert.strictEqual(report.echo.last.requests, 0);

    stats.cycle();
    echo.record(2, false, 1, 1);
    report = stats.toJSON();
    assert.strictEqual(report.echo.last.requests, 2);
    assert.strictEqual(report.echo.last.errors, 1);
    assert.strictEqual(report.echo.interval.requests, 1);
    assert.strictEqual(report.echo.totals.requests, 3);
    assert.strictEqual(report.echo.totals.latencyMs.count, 3);
    assert.strictEqual(report.echo.totals.bytesIn, 16);

    stats.cycle();
    stats.cycle();
    report = stats.toJSON();
    assert.strictEqual(report.echo.last.requests, 0, 'an idle interval leaves last empty');
    assert.strictEqual(report.echo.totals.requests, 3, 'totals survive cycles');
    assert.strictEqual(report.echo.totals.latencyMs.max, 3);
  });

  it('keeps at most maxEndpoints names; further names count under "(other)"', function () {
    const stats = new EndpointStats(3);
    for (let i = 0; i < 100; i++) stats.get('name' + i).record(1, false, 0, 0);
    assert.strictEqual(stats.size, 4);
    const report = stats.toJSON();
    assert.deepStrictEqual(Object.keys(report), ['name0', 'name1', 'name2', OVERFLOW]);
    assert.strictEqual(report[OVERFLOW].interval.requests, 97);
  });
});
