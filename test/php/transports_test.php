<?php
// tcp:// and tls:// targets.
require_once __DIR__ . '/TestRunner.php';

$t = new TestRunner();

$t->test('a tcp:// target round-trips', function () {
    $ipc = new PixlIPCClient('tcp://127.0.0.1:' . env('IPC_TCP_PORT'), array('userAgent' => 'php-tcp'));
    assertSame(array('over' => 'tcp', 'ü' => '😀'), $ipc->call('/ipcserver/test/echo', array('over' => 'tcp', 'ü' => '😀')));
    $seen = $ipc->call('/test/whoami', array());
    assertSame('tcp', $seen['transport']);
    assertSame('php-tcp', $seen['userAgent']);
});

$t->test('a 1 MiB message round-trips over tcp://', function () {
    $ipc = new PixlIPCClient('tcp://127.0.0.1:' . env('IPC_TCP_PORT'), array('requestTimeout' => 5000));
    $text = str_repeat('0123456789abcdef', 65536);
    assertSame($text, $ipc->call('/ipcserver/test/echo', array('text' => $text))['text']);
});

$t->test('the server closing a tcp:// connection gives E_SERVER_CLOSE, then a new connection', function () {
    $ipc = new PixlIPCClient('tcp://127.0.0.1:' . env('IPC_TCP_PORT'));
    $ipc->call('/test/close_after', array());
    usleep(100000);
    expectIPCException(PixlIPCClient::E_SERVER_CLOSE, function () use ($ipc) {
        $ipc->call('/ipcserver/test/echo', array());
    }, 'Server closed the connection (readMessage)');
    assertSame(array('again' => 1), $ipc->call('/ipcserver/test/echo', array('again' => 1)));
});

$t->test('a tls:// target round-trips with the test CA', function () {
    $ipc = new PixlIPCClient('tls://127.0.0.1:' . env('IPC_TLS_PORT'), array(
        'requestTimeout' => 2000,
        'connectTimeout' => 2000,
        'tls' => array('cafile' => env('IPC_TLS_CA'), 'peer_name' => 'localhost'),
    ));
    assertSame(array('over' => 'tls'), $ipc->call('/ipcserver/test/echo', array('over' => 'tls')));
    $seen = $ipc->call('/test/whoami', array());
    assertSame('tls', $seen['transport']);
    $text = str_repeat('ü', 600000);
    assertSame($text, $ipc->call('/ipcserver/test/echo', array('text' => $text))['text'], 'large message over TLS');
    $ipc->call('/test/push_before', array('tag' => 'tls'));
    assertSame('/events/direct', $ipc->readPush()['uri'], 'push over TLS');
});

$t->test('a tls:// server whose certificate is not trusted is refused with the reason', function () {
    $ipc = new PixlIPCClient('tls://127.0.0.1:' . env('IPC_TLS_PORT'), array('connectTimeout' => 2000));
    $e = expectIPCException(PixlIPCClient::E_SOCKET_CONNECT, function () use ($ipc) {
        $ipc->connect();
    });
    assertContains('certificate verify failed', $e->getMessage());
});

$t->run();
