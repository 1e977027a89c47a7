<?php
// connect() failures say why.
require_once __DIR__ . '/TestRunner.php';

$t = new TestRunner();

$t->test('a missing socket throws E_SOCKET_CONNECT saying so, in the original wording', function () {
    $path = sys_get_temp_dir() . '/pixl-ipc-php-missing-' . getmypid() . '.sock';
    $ipc = new PixlIPCClient($path);
    expectIPCException(PixlIPCClient::E_SOCKET_CONNECT, function () use ($ipc) {
        $ipc->connect();
    }, 'PixlIPCClient.connect(): stream_socket_client() failed: reason: 2, No such file or directory');
    // send() connects first, so it fails the same way.
    expectIPCException(PixlIPCClient::E_SOCKET_CONNECT, function () use ($ipc) {
        $ipc->send('/ipcserver/test/echo', array());
    });
});

$t->test('a socket file nobody listens on throws E_SOCKET_CONNECT: Connection refused', function () {
    $dir = sys_get_temp_dir() . '/pixl-ipc-php-refused-' . getmypid();
    @mkdir($dir, 0700);
    $path = "$dir/dead.sock";
    // A listener closed by PHP leaves its socket file behind.
    $server = stream_socket_server("unix://$path", $errno, $errstr);
    assertTrue($server !== false, "could not create $path: $errstr");
    fclose($server);
    try {
        $e = expectIPCException(PixlIPCClient::E_SOCKET_CONNECT, function () use ($path) {
            (new PixlIPCClient($path))->connect();
        });
        assertContains('Connection refused', $e->getMessage());
    } finally {
        @unlink($path);
        @rmdir($dir);
    }
});

$t->test('a socket path that is a directory fails to connect', function () {
    $e = expectIPCException(PixlIPCClient::E_SOCKET_CONNECT, function () {
        (new PixlIPCClient(sys_get_temp_dir()))->connect();
    });
    assertContains('stream_socket_client() failed: reason:', $e->getMessage());
});

$t->test('a tcp port nobody listens on throws E_SOCKET_CONNECT: Connection refused', function () {
    $port = (int)env('IPC_CLOSED_PORT');
    $e = expectIPCException(PixlIPCClient::E_SOCKET_CONNECT, function () use ($port) {
        (new PixlIPCClient("tcp://127.0.0.1:$port"))->connect();
    });
    assertContains('Connection refused', $e->getMessage());
});

$t->run();
