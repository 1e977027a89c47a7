<?php
// The auth option against a server with auth_tokens.
require_once __DIR__ . '/TestRunner.php';

$socket = env('IPC_AUTH_SOCKET');
$token = env('IPC_AUTH_TOKEN');
$t = new TestRunner();

$t->test('good credentials are sent on connect and requests are served', function () use ($socket, $token) {
    $ipc = new PixlIPCClient($socket, array('auth' => $token));
    $ipc->connect();
    assertSame(array('in' => true), $ipc->call('/ipcserver/test/echo', array('in' => true)));
    assertSame('rq1', $ipc->call('/test/whoami', array())['ipcReqID'], 'authentication takes no request id');
});

$t->test('credentials as an object are accepted too', function () use ($socket, $token) {
    $ipc = new PixlIPCClient($socket, array('auth' => array('token' => $token)));
    assertSame(array('in' => 2), $ipc->call('/ipcserver/test/echo', array('in' => 2)));
});

$t->test('wrong credentials throw E_ACCESS from connect() and from send()', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('auth' => 'wrong-token'));
    $e = expectIPCException(PixlIPCClient::E_ACCESS, function () use ($ipc) {
        $ipc->connect();
    });
    assertSame('access', $e->getServerCode());
    assertContains('access', $e->getMessage());
    assertSame(false, $ipc->isConnected(), 'not connected after refusal');
    expectIPCException(PixlIPCClient::E_ACCESS, function () use ($ipc) {
        $ipc->call('/ipcserver/test/echo', array());
    });
});

$t->test('without credentials a request throws E_ACCESS and the connection can still be used to fail again', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $e = expectIPCException(PixlIPCClient::E_ACCESS, function () use ($ipc) {
        $ipc->call('/ipcserver/test/echo', array());
    });
    assertSame('access', $e->getServerCode());
    expectIPCException(PixlIPCClient::E_ACCESS, function () use ($ipc) {
        $ipc->call('/ipcserver/test/echo', array());
    });
});

$t->test('after the server closes the connection the client authenticates again', function () use ($socket, $token) {
    $ipc = new PixlIPCClient($socket, array('auth' => $token));
    $before = $ipc->call('/test/close_after', array());
    usleep(100000);
    expectIPCException(PixlIPCClient::E_SERVER_CLOSE, function () use ($ipc) {
        $ipc->call('/ipcserver/test/echo', array());
    });
    assertSame(array('re' => 'authenticated'), $ipc->call('/ipcserver/test/echo', array('re' => 'authenticated')));
    $after = $ipc->call('/test/whoami', array());
    assertTrue($after['connectionId'] !== $before['connectionId'], 'a new connection');
});

$t->test('only a success with "authenticated": true is accepted; 1, "true", a missing field or an error are refusals', function () {
    $scripted = env('IPC_SCRIPTED_SOCKET');
    $ipc = new PixlIPCClient($scripted, array('auth' => array('mode' => 'true')));
    assertSame(1, $ipc->call('/script/whoami', array())['auths']);
    foreach (array('one', 'string', 'missing', 'refuse') as $mode) {
        $ipc = new PixlIPCClient($scripted, array('auth' => array('mode' => $mode)));
        $e = expectIPCException(PixlIPCClient::E_ACCESS, function () use ($ipc) {
            $ipc->connect();
        });
        assertSame('access', $e->getServerCode(), "server code for $mode");
        assertSame(false, $ipc->isConnected(), "closed after refusal ($mode)");
    }
});

$t->run();
