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
    // The hint names the first directory this user may not enter, else the socket.
    $socket = env('IPC_DENIED_SOCKET');
    $blocked = $socket;
    $dirs = array();
    for ($dir = dirname($socket); $dir !== '/'; $dir = dirname($dir)) {
        array_unshift($dirs, $dir);
    }
    foreach ($dirs as $dir) {
        if (!posix_access($dir, POSIX_X_OK)) {
            $blocked = $dir;
            break;
        }
    }
    $stat = stat($blocked);
    $socket = $blocked;
    $user = posix_getpwuid(posix_geteuid())['name'];
    $group = posix_getgrgid($stat['gid'])['name'];
    assertContains(sprintf('permission denied on %s (mode %04o, owner %s(%d), group %s(%d)); ', $socket, $stat['mode'] & 07777,
        posix_getpwuid($stat['uid'])['name'], $stat['uid'], $group, $stat['gid']), $e->getMessage());
    assertContains("this process runs as $user (uid " . posix_geteuid() . ') in groups ' . posix_getgrgid(posix_getegid())['name'] . '(' . posix_getegid() . ')', $e->getMessage());
    assertContains("add it to group $group or change socket_chmod; php-fpm workers keep the groups they started with", $e->getMessage());
});

$t->run();
