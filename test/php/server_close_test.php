<?php
// The server closing the connection: one E_SERVER_CLOSE, then a fresh connection.
require_once __DIR__ . '/TestRunner.php';

$socket = env('IPC_SOCKET');
$t = new TestRunner();

$t->test('after the server closes, the next send throws E_SERVER_CLOSE and the one after succeeds', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $before = $ipc->call('/test/close_after', array());
    assertSame(true, $before['closing']);
    usleep(100000); // let the close reach us
    expectIPCException(PixlIPCClient::E_SERVER_CLOSE, function () use ($ipc) {
        $ipc->call('/ipcserver/test/echo', array('lost' => true));
    }, 'Server closed the connection (readMessage)');
    assertSame(false, $ipc->isConnected(), 'connection dropped');
    assertSame(array('back' => true), $ipc->call('/ipcserver/test/echo', array('back' => true)));
    $after = $ipc->call('/test/whoami', array());
    assertTrue($after['connectionId'] !== $before['connectionId'], 'a new connection');
});

$t->test('a close while waiting for the answer throws E_SERVER_CLOSE', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 2000));
    expectIPCException(PixlIPCClient::E_SERVER_CLOSE, function () use ($ipc) {
        $ipc->call('/test/close_silently', array());
    }, 'Server closed the connection (readMessage)');
    assertSame(array('ok' => 1), $ipc->call('/ipcserver/test/echo', array('ok' => 1)));
});

$t->test('notify after the server closed throws E_SERVER_CLOSE or is lost, and send recovers', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $ipc->call('/test/close_after', array());
    usleep(100000);
    // Over a Unix socket a write to a half-closed peer may still succeed; what matters is the next send.
    try {
        $ipc->notify('/test/notify', array('n' => 'after-close'));
    } catch (PixlIPCException $e) {
        assertSame(PixlIPCClient::E_SERVER_CLOSE, $e->getCode(), 'notify error code');
    }
    $result = null;
    try {
        $result = $ipc->call('/ipcserver/test/echo', array('x' => 1));
    } catch (PixlIPCException $e) {
        assertSame(PixlIPCClient::E_SERVER_CLOSE, $e->getCode(), 'send error code');
        $result = $ipc->call('/ipcserver/test/echo', array('x' => 1));
    }
    assertSame(array('x' => 1), $result);
});

$t->run();
