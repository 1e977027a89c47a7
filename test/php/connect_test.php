<?php
// connect() failures say why, which socket, as whom; connectRetry and connectTimeout.
require_once __DIR__ . '/TestRunner.php';

$t = new TestRunner();

$t->test('a missing socket throws E_SOCKET_CONNECT in the original wording, then the socket, the user and what to check', function () {
    $path = sys_get_temp_dir() . '/pixl-ipc-php-missing-' . getmypid() . '.sock';
    $ipc = new PixlIPCClient($path);
    $e = expectIPCException(PixlIPCClient::E_SOCKET_CONNECT, function () use ($ipc) {
        $ipc->connect();
    });
    // The 1.x wording, then the hint every client gives (test/vectors/connect-hints.json).
    assertSame('PixlIPCClient.connect(): stream_socket_client() failed: reason: 2, No such file or directory: '
        . "no socket at $path: check that the daemon is running and that $path is the socket_path in its config", $e->getMessage());
    // send() connects first, so it fails the same way.
    expectIPCException(PixlIPCClient::E_SOCKET_CONNECT, function () use ($ipc) {
        $ipc->call('/ipcserver/test/echo', array());
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
        assertContains("nothing is listening on $path: the daemon stopped and left its socket behind; start it again", $e->getMessage());
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
    assertContains("nothing is listening on 127.0.0.1:$port: check that the daemon has a tcp listener there", $e->getMessage());
});

$t->test('connectRetry gives up after its window when no daemon comes', function () {
    $path = sys_get_temp_dir() . '/pixl-ipc-php-never-' . getmypid() . '.sock';
    $start = microtime(true);
    expectIPCException(PixlIPCClient::E_SOCKET_CONNECT, function () use ($path) {
        (new PixlIPCClient($path, array('connectRetry' => 300)))->connect();
    });
    $elapsed = microtime(true) - $start;
    assertTrue($elapsed >= 0.29 && $elapsed < 3, "gave up after $elapsed s");
});

$t->test('connectRetry waits for a daemon that starts listening within the window', function () {
    $path = env('IPC_LATE_SOCKET');
    // The mocha side starts a server on $path about 300 ms after this signal.
    TestRunner::signal('listen_later');
    $start = microtime(true);
    $ipc = new PixlIPCClient($path, array('connectRetry' => 10000));
    assertSame(array('late' => true), $ipc->call('/ipcserver/test/echo', array('late' => true)));
    $elapsed = microtime(true) - $start;
    assertTrue($elapsed >= 0.2, "connected after $elapsed s, before the server existed?");
});

$t->test('connectRetry does not retry a failure that is not about the daemon being away (an untrusted TLS certificate)', function () {
    $start = microtime(true);
    $e = expectIPCException(PixlIPCClient::E_SOCKET_CONNECT, function () {
        (new PixlIPCClient('tls://127.0.0.1:' . env('IPC_TLS_PORT'), array('connectRetry' => 3000, 'connectTimeout' => 2000)))->connect();
    });
    assertContains('certificate verify failed', $e->getMessage());
    assertTrue(microtime(true) - $start < 1.5, 'failed at once');
});

$t->test('connectTimeout bounds a connect that never completes (a TLS peer that never answers the handshake)', function () {
    $port = (int)env('IPC_SILENT_PORT');
    $start = microtime(true);
    $e = expectIPCException(PixlIPCClient::E_SOCKET_CONNECT, function () use ($port) {
        (new PixlIPCClient("tls://127.0.0.1:$port", array('connectTimeout' => 300)))->connect();
    });
    $elapsed = microtime(true) - $start;
    assertTrue($elapsed >= 0.25 && $elapsed < 3, "gave up after $elapsed s: " . $e->getMessage());
});

$t->run();
