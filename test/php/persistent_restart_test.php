<?php
// Persistent connections across a daemon restart (the mocha side restarts it on the same path).
require_once __DIR__ . '/TestRunner.php';

$socket = env('IPC_SOCKET');
$t = new TestRunner();

function whoami($socket, array $options = array())
{
    $ipc = new PixlIPCClient($socket, $options + array('persistent' => true));
    return $ipc->call('/test/whoami', array());
}

$t->test('the page after a restart reconnects on its own, without an error', function () use ($socket) {
    $before = whoami($socket);
    assertSame($before['connectionId'], whoami($socket)['connectionId'], 'reused before the restart');
    TestRunner::signal('restart', true); // answered once the new server listens
    $after = whoami($socket);
    assertTrue($after['serverStart'] !== $before['serverStart'], 'talking to the new server');
    assertSame($after['connectionId'], whoami($socket)['connectionId'], 'and reusing that connection');
});

$t->test('connectRetry rides out the gap while no daemon listens', function () use ($socket) {
    $before = whoami($socket);
    TestRunner::signal('restart_slow', true); // answered when the old server is gone; the new one comes ~300 ms later
    $start = microtime(true);
    $ipc = new PixlIPCClient($socket, array('persistent' => true, 'connectRetry' => 10000));
    // The built-in echo exists as soon as the server listens (the test handlers come a moment later).
    assertSame(array('back' => true), $ipc->call('/ipcserver/test/echo', array('back' => true)));
    assertTrue(microtime(true) - $start >= 0.2, 'waited for it');
    for ($i = 0; $i < 40; $i++) {
        $after = $ipc->call('/test/whoami', array());
        if (isset($after['serverStart'])) {
            break;
        }
        usleep(50000);
    }
    assertTrue($after['serverStart'] !== $before['serverStart'], 'talking to the new server');
});

$t->run();
