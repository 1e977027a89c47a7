<?php
// Line handling against a scripted peer (test/php.test.js) that sends what the
// real server never would: split lines, invalid JSON, blank lines, half lines.
require_once __DIR__ . '/TestRunner.php';

$socket = env('IPC_SCRIPTED_SOCKET');
$t = new TestRunner();

$t->test('a response split over several writes, inside a multi-byte character, is assembled', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    assertSame(array('text' => 'héllo wörld 😀 done'), $ipc->call('/script/split', array()));
});

$t->test('lines that arrive together (pushes and a stale answer around the answer, a push cut in two) are each handled', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    assertSame(array('mine' => true), $ipc->call('/script/bundled', array()));
    assertSame(1, $ipc->pendingPushCount(), 'the push before the answer is held');
    foreach (array(1, 2, 3) as $n) {
        assertSame(array('uri' => '/events/bundled', 'data' => array('n' => $n)), $ipc->readPush(1000), "push $n, in order");
    }
    assertSame(null, $ipc->readPush(0), 'nothing else: the stale answer was dropped');
    assertSame(array('after' => 1), $ipc->call('/script/echo', array('after' => 1)));
});

$t->test('after a long answer the client holds only what followed it, not the answer again', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 5000));
    $ipc->call('/script/echo', array('warm' => 1));
    $before = memory_get_usage();
    $answer = $ipc->call('/script/big_then_push', array());
    assertSame(4 * 1024 * 1024, strlen($answer['text']));
    $answer = null;
    $held = memory_get_usage() - $before;
    assertTrue($held < 256 * 1024, "$held bytes still held after the call");
    assertSame(array('uri' => '/events/after', 'data' => array('n' => 1)), $ipc->readPush(1000));
});

$t->test('blank lines are skipped and CRLF endings are accepted', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    assertSame(array('crlf' => true), $ipc->call('/script/blank_lines', array()));
    assertSame(array('n' => 7), $ipc->call('/script/echo', array('n' => 7)));
});

$t->test('a line that is not JSON throws E_BAD_RESPONSE with the original message', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    expectIPCException(PixlIPCClient::E_BAD_RESPONSE, function () use ($ipc) {
        $ipc->call('/script/bad_json', array());
    }, 'Could not json_decode response, details:' . JSON_ERROR_SYNTAX);
    expectIPCException(PixlIPCClient::E_BAD_RESPONSE, function () use ($ipc) {
        $ipc->call('/script/not_object', array());
    });
});

$t->test('a timeout in the middle of a line keeps the half line and drops it once complete', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 150));
    // The peer sends 10 bytes of the answer now and the rest 600 ms later.
    expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc) {
        $ipc->call('/script/slow_partial', array());
    });
    usleep(700000);
    // The rest of the stale line is there, ahead of this answer; had the half line
    // been thrown away, its rest would read as a line of bad JSON.
    assertSame(array('next' => 1), $ipc->call('/script/echo', array('next' => 1)));
});

$t->test('a connection error line with a null id throws E_SERVER_CLOSE with the server code', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $e = expectIPCException(PixlIPCClient::E_SERVER_CLOSE, function () use ($ipc) {
        $ipc->call('/script/idle_timeout', array());
    });
    assertSame('idle_timeout', $e->getServerCode());
    assertContains('Server closed the connection (readMessage)', $e->getMessage());
    assertSame(false, $ipc->isConnected(), 'closed');
    assertSame(array('n' => 8), $ipc->call('/script/echo', array('n' => 8)));
});

$t->test('a push that arrives right before end of file is still readable', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    expectIPCException(PixlIPCClient::E_SERVER_CLOSE, function () use ($ipc) {
        $ipc->call('/script/push_then_eof', array());
    }, 'Server closed the connection (readMessage)');
    assertSame(array('uri' => '/events/last', 'data' => array('bye' => true)), $ipc->readPush());
});

$t->test('a request is one line with ipcReqID first, pid and userAgent', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('userAgent' => 'framing/1'));
    $raw = $ipc->call('/script/raw', array('a' => 'ü/x'));
    assertSame('{"ipcReqID":"rq0","uri":"/script/raw","data":{"a":"ü/x"},"timeoutMs":500,"pid":' . getmypid() . ',"userAgent":"framing/1"}', $raw['line']);
    $ipc->notify('/script/raw_notify', array('b' => 1.0));
    $raw = $ipc->call('/script/last_notify', array());
    assertSame('{"noReply":true,"uri":"/script/raw_notify","data":{"b":1.0},"pid":' . getmypid() . ',"userAgent":"framing/1"}', $raw['line']);
});

$t->test('requestTimeout travels as timeoutMs, as configured (fractions too)', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 1234.5));
    assertSame(1234.5, $ipc->call('/script/whoami', array())['timeoutMs']);
});

$t->test('the server passing the deadline (deadline_exceeded) is a timeout: E_TIMEOUT, or false with legacyTimeout', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $e = expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc) {
        $ipc->call('/script/deadline', array());
    });
    assertSame('deadline_exceeded', $e->getServerCode());
    assertSame(array('n' => 1), $ipc->call('/script/echo', array('n' => 1)));
    $legacy = new PixlIPCClient($socket, array('legacyTimeout' => true));
    assertSame(false, $legacy->call('/script/deadline', array()));
});

$t->test('codeToErr throws for an answer whose data carries a truthy code; by default the data is returned', function () use ($socket) {
    $plain = new PixlIPCClient($socket);
    assertSame(array('code' => 'not_found', 'message' => 'no such thing', 'extra' => 1), $plain->call('/script/data_code', array()));
    $ipc = new PixlIPCClient($socket, array('codeToErr' => true));
    $e = expectIPCException(PixlIPCClient::E_SERVER_ERROR, function () use ($ipc) {
        $ipc->call('/script/data_code', array());
    }, 'Server error not_found: no such thing');
    assertSame('not_found', $e->getServerCode());
    assertSame(1, $e->getData()['extra']);
    assertSame(array('code' => 0, 'x' => 1), $ipc->call('/script/echo', array('code' => 0, 'x' => 1)), 'a falsy code is data');
});

$t->test('a goaway push is not handed to readPush; the answer is kept and the next request uses a new connection', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $first = $ipc->call('/script/whoami', array());
    assertSame(array('bye' => 'soon'), $ipc->call('/script/goaway', array()));
    // The goaway line is read while waiting for this answer, which still comes on the old connection.
    $second = $ipc->call('/script/whoami', array());
    assertSame($first['connectionId'], $second['connectionId'], 'answered on the old connection');
    $third = $ipc->call('/script/whoami', array());
    assertTrue($third['connectionId'] !== $first['connectionId'], 'a new connection after goaway');
    assertSame(null, $ipc->readPush(), 'goaway is not a push for the caller');
});

$t->run();
