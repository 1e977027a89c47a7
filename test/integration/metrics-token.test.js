'use strict';
// The metrics listener's guard (issue 24): loopback by default, and a bearer
// token (metrics_token or metrics_token_file) that a real Prometheus sends.
const assert = require('assert');
const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const PixlServer = require('pixl-server');
const { startServer, cleanupTempDirs, makeTempDir, freePort } = require('../helpers/harness');
const { sleep, waitFor } = require('../helpers/wait');

function get(port, headers = {}, host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path: '/metrics', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function commandExists(name) {
  return process.env.PATH.split(path.delimiter).some((dir) => fs.existsSync(path.join(dir, name)));
}

/** Starts a server that must fail; resolves with its startup error (pixl-server would exit the process). */
function failedStartup(ipc) {
  const dir = makeTempDir();
  return new Promise((resolve) => {
    const server = new PixlServer({
      __name: 'MetricsRefused', __version: '1.0',
      config: { foreground: true, log_dir: dir, log_filename: 'refused.log', debug_level: 1, IPCServer: { socket_path: path.join(dir, 'ipc.sock'), ...ipc } },
      components: [require('pixl-ipc')],
    });
    server.IPCServer.once('startup_failed', resolve);
    server.shutdown = () => {};
    server.startup(() => resolve(null));
  });
}

/** A non-loopback IPv4 address of this machine, or null. */
function externalAddress() {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list || []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

describe('metrics listener: loopback and bearer token (issue 24)', function () {
  this.timeout(20000);
  after(cleanupTempDirs);

  it('binds to loopback by default: not reachable on the machine\'s other addresses', async function () {
    const external = externalAddress();
    if (external === null) this.skip(); // no other interface to try
    const h = await startServer({ metrics_port: await freePort() });
    try {
      assert.strictEqual((await get(h.ipc.metricsPort)).status, 200);
      await assert.rejects(get(h.ipc.metricsPort, {}, external), /ECONNREFUSED/);
    } finally {
      await h.stop();
    }
  });

  it('with metrics_token: 401 with WWW-Authenticate unless Authorization: Bearer <token>; nothing of the daemon without it', async function () {
    const token = 's3cret-token-' + 'x'.repeat(20);
    const h = await startServer({ metrics_port: await freePort(), metrics_token: token });
    try {
      for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Authorization: `Bearer ${token}x` }, { Authorization: `Basic ${token}` }, { Authorization: token }, { Authorization: `Bearer ${token.slice(0, -1)}` }]) {
        const res = await get(h.ipc.metricsPort, headers);
        assert.strictEqual(res.status, 401, JSON.stringify(headers));
        assert.strictEqual(res.headers['www-authenticate'], 'Bearer realm="pixl-ipc metrics"');
        assert.doesNotMatch(res.body, /pixl_ipc/);
      }
      // Without the token not even whether a path exists: the same 401 as for /metrics.
      const other = await new Promise((resolve) => http.get({ host: '127.0.0.1', port: h.ipc.metricsPort, path: '/nothing' }, (res) => { res.resume(); resolve(res.statusCode); }));
      assert.strictEqual(other, 401);
      const ok = await get(h.ipc.metricsPort, { Authorization: `Bearer ${token}` });
      assert.strictEqual(ok.status, 200);
      assert.match(ok.body, /^pixl_ipc_/m);
      assert.strictEqual((await get(h.ipc.metricsPort, { Authorization: `bearer ${token}` })).status, 200, 'the scheme is case-insensitive');
    } finally {
      await h.stop();
    }
  });

  it('metrics_token_file: read at startup (first line), refused when every user may read it, empty, or set with metrics_token', async function () {
    const dir = makeTempDir();
    const file = path.join(dir, 'metrics.token');
    fs.writeFileSync(file, 'from-the-file\n', { mode: 0o640 });
    const h = await startServer({ metrics_port: await freePort(), metrics_token_file: file });
    try {
      assert.strictEqual((await get(h.ipc.metricsPort)).status, 401);
      assert.strictEqual((await get(h.ipc.metricsPort, { Authorization: 'Bearer from-the-file' })).status, 200);
    } finally {
      await h.stop();
    }
    fs.chmodSync(file, 0o644);
    assert.match((await failedStartup({ metrics_port: await freePort(), metrics_token_file: file })).message, /metrics_token_file .*metrics\.token: readable by every user \(mode 0644\); chmod o-r it/);
    fs.chmodSync(file, 0o600);
    fs.writeFileSync(file, '\n');
    assert.match((await failedStartup({ metrics_port: await freePort(), metrics_token_file: file })).message, /metrics_token_file .* is empty/);
    assert.match((await failedStartup({ metrics_port: await freePort(), metrics_token_file: path.join(dir, 'missing') })).message, /metrics_token_file .*missing: ENOENT/);
    assert.match((await failedStartup({ metrics_port: await freePort(), metrics_token: 'a', metrics_token_file: file })).message, /set metrics_token or metrics_token_file, not both/);
  });

  it('a real Prometheus scrapes it with authorization.credentials_file; without the token its target is down', async function () {
    if (!commandExists('prometheus')) this.skip(); // .ci/run installs it (Debian: prometheus)
    const dir = makeTempDir('pixl-ipc-prom-');
    const tokenFile = path.join(dir, 'token');
    fs.writeFileSync(tokenFile, 'prom-scrape-token\n', { mode: 0o600 });
    const h = await startServer({ metrics_port: await freePort(), metrics_token_file: tokenFile });
    const webPort = await freePort();
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: with-token',
      '    authorization:',
      '      type: Bearer',
      `      credentials_file: ${tokenFile}`,
      '    static_configs:',
      `      - targets: ['127.0.0.1:${h.ipc.metricsPort}']`,
      '  - job_name: without-token',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${h.ipc.metricsPort}']`,
      '',
    ].join('\n'));
    const prom = spawn('prometheus', [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${webPort}`,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let promLog = '';
    prom.stderr.on('data', (chunk) => { promLog = (promLog + chunk).slice(-4000); });
    const exited = new Promise((resolve) => prom.once('exit', resolve));
    try {
      let up = null;
      await waitFor(async () => {
        try {
          const res = await new Promise((resolve, reject) => http.get({ host: '127.0.0.1', port: webPort, path: '/api/v1/query?query=up' }, (r) => {
            let body = '';
            r.on('data', (c) => { body += c; });
            r.on('end', () => {
              try { resolve(JSON.parse(body)); } catch (err) { reject(err); } // "Service Unavailable" while it starts
            });
          }).on('error', reject));
          const byJob = Object.fromEntries(res.data.result.map((r) => [r.metric.job, r.value[1]]));
          if (byJob['with-token'] !== undefined && byJob['without-token'] !== undefined) up = byJob;
        } catch { /* not up yet */ }
        return up;
      }, 'Prometheus to scrape both jobs', 15000, 200).catch((err) => { throw new Error(`${err.message}\n${promLog}`); });
      assert.deepStrictEqual(up, { 'with-token': '1', 'without-token': '0' });
    } finally {
      prom.kill('SIGTERM');
      await Promise.race([exited, sleep(3000)]);
      if (prom.exitCode === null) prom.kill('SIGKILL');
      await h.stop();
    }
  });
});
