<?php
// Timeouts, and late answers to timed-out requests never reaching the next send.
require_once __DIR__ . '/TestRunner.php';

$socket = env('IPC_SOCKET');
$t = new TestRunner();

$t->test('a slow answer throws E_TIMEOUT after requestTimeout', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 100));
    $ipc->connect();
    $start = microtime(true);
    $e = expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc) {
        $ipc->call('/ipcserver/test/delay', array('delay' => 400));
    });
    $elapsed = microtime(true) - $start;
    assertContains('timed out', $e->getMessage());
    // Generous upper bound: a loaded 2-core machine can be slow to wake us.
    assertTrue($elapsed >= 0.095 && $elapsed < 1.5, "timed out after $elapsed s");
});

$t->test('after a timeout the next send gets its own answer, before and after the late one arrives', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 100));
    expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc) {
        $ipc->call('/ipcserver/test/delay', array('delay' => 250));
    });
    // The late answer has not arrived yet.
    assertSame(array('n' => 1), $ipc->call('/ipcserver/test/echo', array('n' => 1)));
    usleep(250000);
    // Now it sits in the socket ahead of this answer.
    assertSame(array('n' => 2), $ipc->call('/ipcserver/test/echo', array('n' => 2)));
    assertSame(array('n' => 3), $ipc->call('/ipcserver/test/echo', array('n' => 3)));
});

$t->test('a late answer that arrives while the next request waits is skipped', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 400));
    expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc) {
        $ipc->call('/ipcserver/test/delay', array('delay' => 600));
    });
    // The stale {delay:600} arrives ~200 ms into this wait (150 ms of slack before its timeout).
    assertSame(array('delay' => 250), $ipc->call('/ipcserver/test/delay', array('delay' => 250)));
});

$t->test('several timed-out requests in a row are all discarded', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 60));
    foreach (array(200, 150, 100) as $delay) {
        expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc, $delay) {
            $ipc->call('/ipcserver/test/delay', array('delay' => $delay));
        });
    }
    usleep(200000);
    for ($i = 0; $i < 3; $i++) {
        assertSame(array('i' => $i), $ipc->call('/ipcserver/test/echo', array('i' => $i)));
    }
});

$t->test('legacyTimeout returns false instead of throwing, like the original client', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 200, 'legacyTimeout' => true));
    $ipc->connect();
    assertSame(false, $ipc->call('/ipcserver/test/delay', array('delay' => 600)));
    assertSame(array('delay' => 10), $ipc->call('/ipcserver/test/delay', array('delay' => 10)));
});

$t->test('the timeout restored after a timed-out wait still lets a long request finish', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 400));
    expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc) {
        $ipc->call('/ipcserver/test/delay', array('delay' => 700));
    });
    usleep(350000);
    // The previous wait ended with a short remaining timeout; this one needs most of the full 400 ms.
    assertSame(array('delay' => 250), $ipc->call('/ipcserver/test/delay', array('delay' => 250)));
});

$t->run();
