<?php
// A client in a loop recovers when the daemon restarts (the mocha side restarts it).
require_once __DIR__ . '/TestRunner.php';

$socket = env('IPC_SOCKET');
$t = new TestRunner();

$t->test('a sending loop survives a daemon restart without restarting PHP', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $before = $ipc->call('/test/whoami', array());
    TestRunner::signal('restart'); // the mocha side now stops and restarts the server
    $codes = array();
    $successesAfterFailure = 0;
    $until = microtime(true) + 15;
    $i = 0;
    while ($successesAfterFailure < 3 && microtime(true) < $until) {
        $msg = array('i' => $i++, 'msg' => 'hello');
        try {
            $result = $ipc->send('/ipcserver/test/echo', $msg);
            assertSame($msg, $result, 'echo during the restart loop');
            if ($codes) {
                $successesAfterFailure++;
            }
        } catch (PixlIPCException $e) {
            $codes[] = $e->getCode();
            usleep(20000);
            continue;
        }
        usleep(5000);
    }
    assertSame(3, $successesAfterFailure, 'answers after the restart');
    assertSame(PixlIPCClient::E_SERVER_CLOSE, $codes[0], 'first failure is the server closing');
    foreach ($codes as $code) {
        assertTrue(in_array($code, array(PixlIPCClient::E_SERVER_CLOSE, PixlIPCClient::E_SOCKET_CONNECT), true), "failure code $code is a close or a refused connect");
    }
    $after = $ipc->call('/test/whoami', array());
    assertTrue($after['serverStart'] !== $before['serverStart'], 'talking to the restarted server');
});

$t->run();
