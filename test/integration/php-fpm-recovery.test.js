'use strict';
// A php-fpm page that dies mid-call (killed by memory_limit while reading an
// answer, or by max_execution_time inside a stream) must change nothing for the
// next pages of that worker: they get their own answers, at the usual speed,
// and the server stops the stream the dead page left. A server dripping a byte
// every 100 ms cannot hold a page past requestTimeout. Real nginx + php-fpm,
// one worker, so every page runs in the same process.
const assert = require('assert');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { startServer, cleanupTempDirs } = require('../helpers/harness');
const { startWebStack, missingParts, get } = require('../helpers/web-stack');
const { waitFor } = require('../helpers/wait');

const MiB = 1024 * 1024;

const PAGES = {
  // One call on the worker's persistent connection, timed inside PHP.
  'innocent.php': `<?php
require __DIR__ . '/config.php';
$tag = (string)$_GET['tag'];
$ipc = new PixlIPCClient(IPC_SOCKET, array('persistent' => true, 'requestTimeout' => 3000));
$start = hrtime(true);
$who = $ipc->call('/test/whoami', array('tag' => $tag));
echo json_encode(array('pid' => getmypid(), 'ms' => (hrtime(true) - $start) / 1e6, 'who' => $who)), "\\n";
`,
  // Killed by memory_limit while the answer (64 MiB) is still arriving.
  'big.php': `<?php
require __DIR__ . '/config.php';
ini_set('memory_limit', '24M');
$ipc = new PixlIPCClient(IPC_SOCKET, array('persistent' => true, 'requestTimeout' => 10000, 'maxMessageSize' => 256 * 1048576));
$ipc->call('/test/big', array('bytes' => 64 * 1048576));
echo "survived\\n";
`,
  // Killed by max_execution_time (CPU time) between two parts of an endless stream.
  'endless.php': `<?php
require __DIR__ . '/config.php';
set_time_limit(1);
$ipc = new PixlIPCClient(IPC_SOCKET, array('persistent' => true, 'requestTimeout' => 5000));
$busy = 0;
foreach ($ipc->stream('/test/endless', array()) as $part) {
    for ($i = 0; $i < 200000; $i++) {
        $busy++;
    }
}
echo "survived\\n";
`,
  // A call to a server that drips its answer a byte every 100 ms.
  'drip.php': `<?php
require __DIR__ . '/config.php';
set_time_limit(30);
$ipc = new PixlIPCClient((string)$_GET['socket'], array('persistent' => true, 'requestTimeout' => 500));
$start = hrtime(true);
try {
    $ipc->call('/drip', array());
    $code = 0;
} catch (PixlIPCException $e) {
    $code = $e->getCode();
}
echo json_encode(array('code' => $code, 'ms' => (hrtime(true) - $start) / 1e6)), "\\n";
`,
};

function registerHandlers(ipc) {
  const stream = { running: 0, aborted: [] };
  ipc.addURIHandler('/test/whoami', 'whoami', (request, callback) => callback({ tag: request.data.tag, connectionId: request.connection.id }));
  ipc.addURIHandler('/test/big', 'big', (request, callback) => callback({ text: 'x'.repeat(request.data.bytes) }));
  ipc.addURIHandler('/test/endless', 'endless', async function* (request) {
    stream.running++;
    try {
      for (let n = 0; !request.signal.aborted; n++) {
        yield { n };
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    } finally {
      stream.running--;
      stream.aborted.push(request.signal.aborted ? request.signal.reason && request.signal.reason.code : 'finished');
    }
    return null;
  });
  return stream;
}

/** A server that answers every line with a valid answer, one byte every 100 ms. */
function startDripServer(socketPath) {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', (chunk) => {
      const id = JSON.parse(chunk.toString().split('\n')[0]).ipcReqID;
      const answer = JSON.stringify({ ipcReqID: id, data: { text: 'd'.repeat(200) } }) + '\n';
      let i = 0;
      const timer = setInterval(() => {
        if (socket.destroyed || i >= answer.length) return clearInterval(timer);
        socket.write(answer[i++]);
      }, 100);
      socket.on('close', () => clearInterval(timer));
    });
  });
  return new Promise((resolve) => server.listen(socketPath, () => {
    fs.chmodSync(socketPath, 0o666);
    resolve({ close: () => new Promise((done) => { for (const s of sockets) s.destroy(); server.close(done); }) });
  }));
}

/** `count` innocent pages one after another; each must get its own answer. */
async function innocentPages(stack, count, prefix) {
  const pages = [];
  for (let i = 0; i < count; i++) {
    const tag = `${prefix}-${i}`;
    const res = await get(`${stack.baseUrl}/innocent.php?tag=${tag}`);
    assert.strictEqual(res.status, 200, `page ${tag}: ${res.body}`);
    const page = JSON.parse(res.body);
    assert.strictEqual(page.who.tag, tag, `page ${tag} got another page's answer`);
    pages.push(page);
  }
  return pages;
}

const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];

function assertNormalSpeed(before, after, what) {
  const usual = median(before.map((p) => p.ms));
  const now = median(after.map((p) => p.ms));
  const slowest = Math.max(...after.map((p) => p.ms));
  assert.ok(now <= usual * 2 + 1, `${what}: median call ${now.toFixed(2)} ms, before ${usual.toFixed(2)} ms`);
  assert.ok(slowest < 250, `${what}: slowest call ${slowest.toFixed(1)} ms`);
}

describe('PHP client under php-fpm: pages that die mid-call, a dripping server', function () {
  this.timeout(120000);
  let stack;
  let server;
  let drip;
  let streamState;

  before(async function () {
    const missing = missingParts();
    if (missing) {
      console.log(`    (${missing.join(' and ')} not installed: .ci/run installs them)`);
      this.skip();
    }
    stack = await startWebStack({ workers: 1, pages: PAGES });
    server = await startServer({ socket_path: stack.socketPath, socket_chmod: '660' });
    streamState = registerHandlers(server.ipc);
  });

  after(async function () {
    if (drip) await drip.close();
    if (server) await server.stop();
    if (stack) await stack.stop();
    cleanupTempDirs();
  });

  const phpErrors = () => fs.readFileSync(path.join(stack.dir, 'php-errors.log'), 'utf8');

  it('a page killed by memory_limit mid-answer, then one killed by max_execution_time mid-stream: the next 100 pages each are correct, as fast as before', async function () {
    const baseline = await innocentPages(stack, 100, 'before');
    const worker = baseline[0].pid;
    assert.ok(baseline.every((p) => p.pid === worker), 'one worker');

    const big = await get(`${stack.baseUrl}/big.php`);
    assert.ok(!big.body.includes('survived'), 'the big page died');
    await waitFor(() => /Allowed memory size of \d+ bytes exhausted/.test(phpErrors()), 'the memory_limit fatal error in the log', 5000);
    const afterBig = await innocentPages(stack, 100, 'after-memory');
    assert.ok(afterBig.every((p) => p.pid === worker), 'the same worker served them');
    assertNormalSpeed(baseline, afterBig, 'after memory_limit');

    const endless = await get(`${stack.baseUrl}/endless.php`);
    assert.ok(!endless.body.includes('survived'), 'the stream page died');
    await waitFor(() => /Maximum execution time of 1 second exceeded/.test(phpErrors()), 'the max_execution_time fatal error in the log', 5000);
    // The dead page's stream is stopped on the server, not left writing to the worker.
    await waitFor(() => streamState.running === 0, 'the server to stop the dead page\'s stream', 3000);
    assert.deepStrictEqual(streamState.aborted.length, 1);
    assert.notStrictEqual(streamState.aborted[0], 'finished');
    const afterStream = await innocentPages(stack, 100, 'after-stream');
    assert.ok(afterStream.every((p) => p.pid === worker), 'the same worker served them');
    assertNormalSpeed(baseline, afterStream, 'after max_execution_time');
  });

  it('a server dripping a byte every 100 ms cannot hold a page past requestTimeout (500 ms)', async function () {
    const dripPath = path.join(stack.socketDir, 'drip.sock');
    drip = await startDripServer(dripPath);
    const start = Date.now();
    const res = await get(`${stack.baseUrl}/drip.php?socket=${encodeURIComponent(dripPath)}`);
    const elapsed = Date.now() - start;
    assert.strictEqual(res.status, 200, res.body);
    const page = JSON.parse(res.body);
    assert.strictEqual(page.code, 5006, 'E_TIMEOUT');
    assert.ok(page.ms >= 495 && page.ms < 1000, `the call ended after ${page.ms} ms`);
    assert.ok(elapsed < 2000, `the page took ${elapsed} ms`);
  });
});
