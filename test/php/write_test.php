<?php
// E_SOCKET_WRITE: a peer that accepts and never reads (test/php.test.js).
require_once __DIR__ . '/TestRunner.php';

$t = new TestRunner();

$t->test('a request the socket cannot take within requestTimeout throws E_SOCKET_WRITE and drops the connection', function () {
    $ipc = new PixlIPCClient(env('IPC_STALLED_SOCKET'), array('requestTimeout' => 300));
    $ipc->connect();
    $data = array('text' => str_repeat('x', 16 * 1024 * 1024));
    $start = microtime(true);
    $e = expectIPCException(PixlIPCClient::E_SOCKET_WRITE, function () use ($ipc, $data) {
        $ipc->send('/ipcserver/test/echo', $data);
    });
    $elapsed = microtime(true) - $start;
    assertContains('Socket write error, did not write expected number of bytes', $e->getMessage());
    assertTrue($elapsed >= 0.25 && $elapsed < 5, "gave up after $elapsed s");
    assertSame(false, $ipc->isConnected(), 'a half-written line leaves the connection unusable: closed');
});

$t->run();
