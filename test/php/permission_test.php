<?php
// Run by test/php.test.js as a user that may not open the socket.
require_once __DIR__ . '/TestRunner.php';

$t = new TestRunner();

$t->test('a socket this user may not open throws E_SOCKET_CONNECT: Permission denied', function () {
    $e = expectIPCException(PixlIPCClient::E_SOCKET_CONNECT, function () {
        (new PixlIPCClient(env('IPC_DENIED_SOCKET')))->connect();
    });
    assertContains('reason: 13, Permission denied', $e->getMessage());
    // Which socket, as whom, and what to check.
    assertContains('socket ' . env('IPC_DENIED_SOCKET') . ', as user ' . posix_getpwuid(posix_geteuid())['name'], $e->getMessage());
    assertContains('needs write permission on the socket', $e->getMessage());
    assertContains('search (x) permission on every directory above it', $e->getMessage());
    assertContains('php-fpm is reloaded', $e->getMessage());
});

$t->run();
