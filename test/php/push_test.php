<?php
// Messages without a reply: server pushes and broadcasts reaching PHP, and notify().
require_once __DIR__ . '/TestRunner.php';

$socket = env('IPC_SOCKET');
$t = new TestRunner();

$t->test('pushes that arrive before the response are set aside and read in order', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    assertSame(array('pushed' => 2), $ipc->call('/test/push_before', array('tag' => 'a')));
    assertSame(2, $ipc->pendingPushCount(), 'pushes waiting');
    assertSame(array('uri' => '/events/direct', 'data' => array('n' => 1, 'tag' => 'a')), $ipc->readPush());
    assertSame(array('uri' => '/events/all', 'data' => array('n' => 2, 'tag' => 'a')), $ipc->readPush());
    assertSame(null, $ipc->readPush(), 'nothing more');
});

$t->test('set-aside pushes survive further sends', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $ipc->call('/test/push_before', array('tag' => 'b'));
    $ipc->call('/test/push_before', array('tag' => 'c'));
    assertSame(array('n' => 1, 'tag' => 'b'), $ipc->readPush()['data']);
    assertSame(array('n' => 2, 'tag' => 'b'), $ipc->readPush()['data']);
    assertSame(array('n' => 1, 'tag' => 'c'), $ipc->readPush()['data']);
    assertSame(array('n' => 2, 'tag' => 'c'), $ipc->readPush()['data']);
    assertSame(null, $ipc->readPush(0));
});

$t->test('readPush waits for a push sent after the response, and times out when none comes', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    // 300 ms: time for a descheduled PHP process to reach the next line before the push is sent.
    assertSame(array('later' => true), $ipc->call('/test/push_after', array('delay' => 300)));
    assertSame(null, $ipc->readPush(0), 'not there yet');
    $start = microtime(true);
    $push = $ipc->readPush(2000);
    assertSame(array('uri' => '/events/later', 'data' => array('n' => 3)), $push);
    assertTrue(microtime(true) - $start < 1.5, 'returned as soon as it arrived, well before 2 s');
    $start = microtime(true);
    assertSame(null, $ipc->readPush(100));
    $waited = microtime(true) - $start;
    assertTrue($waited >= 0.09 && $waited < 1.5, "waited $waited s for nothing");
    // Requests still work after waiting on pushes.
    assertSame(array('z' => 1), $ipc->call('/ipcserver/test/echo', array('z' => 1)));
});

$t->test('readPush without a connection returns null', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    assertSame(null, $ipc->readPush(50));
});

$t->test('a broadcast from the server reaches a waiting PHP client', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $ipc->connect();
    $ipc->call('/test/whoami', array()); // the server knows us now
    $reply = TestRunner::signal('broadcast', true); // the mocha side broadcasts, then answers
    assertTrue((int)$reply >= 1, "broadcast reached $reply clients");
    $push = $ipc->readPush(2000);
    assertSame(array('uri' => '/events/broadcast', 'data' => array('from' => 'mocha', 'text' => 'héllo 😀')), $push);
});

$t->test('notify runs the handler and nothing is read back', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $ipc->call('/test/notified', array()); // clear the record
    $ipc->notify('/test/notify', array('n' => 1));
    $ipc->notify('/test/notify', array('n' => 2, 'text' => 'ü'));
    $seen = $ipc->call('/test/notified', array());
    assertSame(2, count($seen), 'handler runs');
    assertSame(array('n' => 1), $seen[0]['data']);
    assertSame(array('n' => 2, 'text' => 'ü'), $seen[1]['data']);
    assertSame(null, $seen[0]['ipcReqID'], 'no ipcReqID on the wire');
    assertSame(true, $seen[0]['noReply'], 'marked noReply');
    assertSame('PHP/PixlIPCClient' . getcwd(), $seen[0]['userAgent']);
    assertSame(null, $ipc->readPush(150), 'nothing came back');
});

$t->test('the server writes no bytes for a notify', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    // /test/bytes_out answers with a fixed-size line holding the bytes written to this connection so far.
    $x1 = (int)$ipc->call('/test/bytes_out', array())['written'];
    $x2 = (int)$ipc->call('/test/bytes_out', array())['written'];
    $ipc->notify('/test/notify', array('n' => 3));
    $ipc->notify('/no/handler/for/this', array('n' => 4));
    $x3 = (int)$ipc->call('/test/bytes_out', array())['written'];
    assertTrue($x2 > $x1, 'one answer adds bytes');
    assertSame($x2 - $x1, $x3 - $x2, 'bytes written across two notifies and one answer');
});

$t->test('notify connects when needed and returns without waiting for the handler', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $start = microtime(true);
    $ipc->notify('/test/notify', array('slow' => 300));
    assertTrue(microtime(true) - $start < 1.0, 'notify did not wait');
    assertSame(true, $ipc->isConnected(), 'connected');
});

$t->run();
