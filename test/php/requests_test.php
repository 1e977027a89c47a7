<?php
// Round trips, request ids, pid and userAgent, and every kind of error answer.
require_once __DIR__ . '/TestRunner.php';

$socket = env('IPC_SOCKET');
$t = new TestRunner();

$t->test('echo returns the data as associative arrays', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $ipc->connect();
    $msg = array('foo' => 19, 'bar' => true, 'msg' => 'hello', 'nested' => array('list' => array(1, 2.5, null)));
    assertSame($msg, $ipc->send('/ipcserver/test/echo', $msg));
    // Objects go in too; they come back as arrays.
    $obj = new stdClass();
    $obj->a = 'b';
    assertSame(array('a' => 'b'), $ipc->send('/ipcserver/test/echo', $obj));
});

$t->test('a null uri is sent as null (the server says no_uri), twice in a row', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    foreach (array(1, 2) as $attempt) {
        $e = expectIPCException(PixlIPCClient::E_SERVER_ERROR, function () use ($ipc) {
            $ipc->call(null, array('a' => 1));
        });
        assertSame('no_uri', $e->getServerCode(), "attempt $attempt");
    }
    assertSame(array('a' => 2), $ipc->call('/ipcserver/test/echo', array('a' => 2)));
});

$t->test('send connects when not connected, and literals can be passed', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    assertSame(false, $ipc->isConnected(), 'connected before send');
    assertSame(array('x' => 1), $ipc->call('/ipcserver/test/echo', array('x' => 1)));
    assertSame(true, $ipc->isConnected(), 'connected after send');
});

$t->test('delay answers after the delay', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $start = microtime(true);
    assertSame(array('delay' => 50), $ipc->call('/ipcserver/test/delay', array('delay' => 50)));
    assertTrue(microtime(true) - $start >= 0.045, 'took at least the delay');
});

$t->test('an unknown uri answers no_handler_found inside data', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $result = $ipc->call('/no/such/thing', array('foo' => 10));
    assertSame('no_handler_found', $result['code']);
    assertContains('/no/such/thing', $result['message']);
});

$t->test('with codeToErr an unknown uri throws E_SERVER_ERROR no_handler_found', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('codeToErr' => true));
    $e = expectIPCException(PixlIPCClient::E_SERVER_ERROR, function () use ($ipc) {
        $ipc->call('/no/such/thing', array('foo' => 10));
    });
    assertSame('no_handler_found', $e->getServerCode());
    assertContains('/no/such/thing', $e->getMessage());
    assertSame('no_handler_found', $e->getData()['code']);
    assertSame(array('still' => 'usable'), $ipc->call('/ipcserver/test/echo', array('still' => 'usable')));
});

$t->test('a unix:// target is the same socket', function () use ($socket) {
    $ipc = new PixlIPCClient('unix://' . $socket);
    assertSame(array('via' => 'unix://'), $ipc->call('/ipcserver/test/echo', array('via' => 'unix://')));
    assertSame('unix', $ipc->call('/test/whoami', array())['transport']);
    $e = expectIPCException(PixlIPCClient::E_SOCKET_CONNECT, function () use ($socket) {
        (new PixlIPCClient('unix://' . $socket . '.missing'))->connect();
    });
    assertContains('no socket at ' . $socket . '.missing: check that the daemon is running', $e->getMessage());
});

$t->test('request ids are rq0, rq1, ... and pid and default userAgent reach the handler', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    for ($i = 0; $i < 3; $i++) {
        $seen = $ipc->call('/test/whoami', array());
        assertSame("rq$i", $seen['ipcReqID'], 'request id');
        assertSame(getmypid(), $seen['pid'], 'pid');
        assertSame('PHP/PixlIPCClient' . getcwd(), $seen['userAgent'], 'default userAgent');
    }
});

$t->test('a custom userAgent reaches the handler', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('userAgent' => 'phpTestAgent/2 "quoted" ü'));
    $seen = $ipc->call('/test/whoami', array());
    assertSame('phpTestAgent/2 "quoted" ü', $seen['userAgent']);
});

$t->test('a handler returning nothing gives null', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    assertSame(null, $ipc->call('/test/nothing', array()));
});

$t->test('data that is not an array or object throws E_BAD_REQUEST_TYPE', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    foreach (array('a string', null, 42, true) as $bad) {
        expectIPCException(PixlIPCClient::E_BAD_REQUEST_TYPE, function () use ($ipc, $bad) {
            $ipc->send('/ipcserver/test/echo', $bad);
        }, 'Request must be an object or associative array');
    }
    expectIPCException(PixlIPCClient::E_BAD_REQUEST_TYPE, function () use ($ipc) {
        $ipc->notify('/ipcserver/test/echo', 'a string');
    }, 'Request must be an object or associative array');
    assertSame(false, $ipc->isConnected(), 'a refused request does not connect');
});

$t->test('data that cannot be JSON-encoded throws E_BAD_REQUEST_TYPE and the connection stays usable', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $e = expectIPCException(PixlIPCClient::E_BAD_REQUEST_TYPE, function () use ($ipc) {
        $ipc->call('/ipcserver/test/echo', array('bad' => "\xC3\x28"));
    });
    assertContains('JSON', $e->getMessage());
    assertSame(array('ok' => 1), $ipc->call('/ipcserver/test/echo', array('ok' => 1)));
});

$t->test('a handler error throws E_SERVER_ERROR with the server code in the message', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $e = expectIPCException(PixlIPCClient::E_SERVER_ERROR, function () use ($ipc) {
        $ipc->call('/test/fail_plain', array());
    });
    assertContains('handler_error', $e->getMessage());
    assertContains('plain failure', $e->getMessage());
    assertSame('handler_error', $e->getServerCode());

    $e = expectIPCException(PixlIPCClient::E_SERVER_ERROR, function () use ($ipc) {
        $ipc->call('/test/fail_code', array());
    });
    assertContains('my_code', $e->getMessage());
    assertSame('my_code', $e->getServerCode());

    $e = expectIPCException(PixlIPCClient::E_SERVER_ERROR, function () use ($ipc) {
        $ipc->call('/ipcserver/test/delay', array('delay' => -5));
    });
    assertSame('bad_delay', $e->getServerCode());
    // Errors leave the connection usable.
    assertSame(array('after' => true), $ipc->call('/ipcserver/test/echo', array('after' => true)));
});

$t->test('close() ends the connection and the next send reconnects', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $first = $ipc->call('/test/whoami', array());
    $ipc->close();
    assertSame(false, $ipc->isConnected(), 'connected after close');
    $second = $ipc->call('/test/whoami', array());
    assertTrue($first['connectionId'] !== $second['connectionId'], 'a new connection after close');
    assertSame('rq1', $second['ipcReqID'], 'ids keep counting across connections');
});

$t->test('close() and the destructor close the server side of the connection', function () use ($socket) {
    $watcher = new PixlIPCClient($socket);
    $base = $watcher->call('/test/connections', array());
    $ipc = new PixlIPCClient($socket);
    $ipc->connect();
    $other = new PixlIPCClient($socket);
    $other->connect();
    waitForConnections($watcher, $base['count'] + 2);
    $ipc->close();
    waitForConnections($watcher, $base['count'] + 1);
    $other = null; // destructor
    waitForConnections($watcher, $base['count']);
});

/** Polls the server's connection count until it is $count (or fails after 2 s). */
function waitForConnections(PixlIPCClient $watcher, $count)
{
    $until = microtime(true) + 2;
    do {
        $now = $watcher->call('/test/connections', array());
        if ($now['count'] === $count) {
            return;
        }
        usleep(10000);
    } while (microtime(true) < $until);
    assertSame($count, $now['count'], 'server connection count');
}

$t->test('connect() twice replaces the connection', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $ipc->connect();
    $a = $ipc->call('/test/whoami', array());
    $ipc->connect();
    $b = $ipc->call('/test/whoami', array());
    assertTrue($a['connectionId'] !== $b['connectionId'], 'new connection');
});

$t->run();
