<?php
// tls:// waits against a peer that misbehaves on demand (test/php.test.js):
// PHP's TLS streams take a timeout of 0 as "no limit", so every read and write
// that must not wait is checked here, not only on Unix sockets.
require_once __DIR__ . '/TestRunner.php';

$t = new TestRunner();

function tlsPeer(array $options = array())
{
    return new PixlIPCClient('tls://127.0.0.1:' . env('IPC_TLS_PEER_PORT'), $options + array(
        'connectTimeout' => 2000,
        'tls' => array('cafile' => env('IPC_TLS_CA'), 'peer_name' => 'localhost'),
    ));
}

$t->test('a tls:// request the peer stops reading throws E_SOCKET_WRITE by requestTimeout', function () {
    $ipc = tlsPeer(array('requestTimeout' => 300));
    assertSame(array('stopped' => true), $ipc->call('/tls/stop_reading', array()));
    $start = microtime(true);
    expectIPCException(PixlIPCClient::E_SOCKET_WRITE, function () use ($ipc) {
        $ipc->call('/ipcserver/test/echo', array('text' => str_repeat('x', 16 * 1024 * 1024)));
    });
    $elapsed = microtime(true) - $start;
    assertTrue($elapsed >= 0.25 && $elapsed < 2, "gave up after $elapsed s");
});

$t->test('a persistent tls:// socket holding a late answer is drained and reused by the next page at once', function () {
    $first = tlsPeer(array('persistent' => true, 'requestTimeout' => 200));
    expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($first) {
        $first->call('/tls/late', array());
    });
    $first = null;
    usleep(600000);
    // The late answer now waits on the socket; the next page finds it, drops it and sends.
    $next = tlsPeer(array('persistent' => true, 'requestTimeout' => 2000));
    $start = microtime(true);
    assertSame(array('page' => 2), $next->call('/echo', array('page' => 2)));
    $elapsed = microtime(true) - $start;
    assertTrue($elapsed < 1, "the second page waited $elapsed s");
});

$t->run();
