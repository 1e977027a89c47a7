<?php
// Run by test/php.test.js as a user that may not open the socket.
require_once __DIR__ . '/TestRunner.php';

$t = new TestRunner();

$t->test('a socket this user may not open throws E_SOCKET_CONNECT: Permission denied', function () {
    $e = expectIPCException(PixlIPCClient::E_SOCKET_CONNECT, function () {
        (new PixlIPCClient(env('IPC_DENIED_SOCKET')))->connect();
    });
    assertContains('reason: 13, Permission denied', $e->getMessage());
});

$t->run();
