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
        $ipc->send('/ipcserver/test/delay', array('delay' => 400));
    });
    $elapsed = microtime(true) - $start;
    assertContains('timed out', $e->getMessage());
    assertTrue($elapsed >= 0.095 && $elapsed < 0.350, "timed out after $elapsed s");
});

$t->test('after a timeout the next send gets its own answer, before and after the late one arrives', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 100));
    expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc) {
        $ipc->send('/ipcserver/test/delay', array('delay' => 250));
    });
    // The late answer has not arrived yet.
    assertSame(array('n' => 1), $ipc->send('/ipcserver/test/echo', array('n' => 1)));
    usleep(250000);
    // Now it sits in the socket ahead of this answer.
    assertSame(array('n' => 2), $ipc->send('/ipcserver/test/echo', array('n' => 2)));
    assertSame(array('n' => 3), $ipc->send('/ipcserver/test/echo', array('n' => 3)));
});

$t->test('a late answer that arrives while the next request waits is skipped', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 100));
    expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc) {
        $ipc->send('/ipcserver/test/delay', array('delay' => 150));
    });
    // The stale {delay:150} arrives ~50 ms into this wait.
    assertSame(array('delay' => 90), $ipc->send('/ipcserver/test/delay', array('delay' => 90)));
});

$t->test('several timed-out requests in a row are all discarded', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 60));
    foreach (array(200, 150, 100) as $delay) {
        expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc, $delay) {
            $ipc->send('/ipcserver/test/delay', array('delay' => $delay));
        });
    }
    usleep(200000);
    for ($i = 0; $i < 3; $i++) {
        assertSame(array('i' => $i), $ipc->send('/ipcserver/test/echo', array('i' => $i)));
    }
});

$t->test('legacyTimeout returns false instead of throwing, like the original client', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 100, 'legacyTimeout' => true));
    $ipc->connect();
    assertSame(false, $ipc->send('/ipcserver/test/delay', array('delay' => 300)));
    assertSame(array('delay' => 10), $ipc->send('/ipcserver/test/delay', array('delay' => 10)));
});

$t->test('the timeout restored after a timed-out wait still lets a long request finish', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 300));
    expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc) {
        $ipc->send('/ipcserver/test/delay', array('delay' => 500));
    });
    usleep(250000);
    // The previous wait ended with a short remaining timeout; this one needs the full 300 ms.
    assertSame(array('delay' => 200), $ipc->send('/ipcserver/test/delay', array('delay' => 200)));
});

$t->run();
