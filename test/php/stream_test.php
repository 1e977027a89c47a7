<?php
// stream(): a Generator over the parts of a streamed answer (scripted peer, see test/php.test.js).
require_once __DIR__ . '/TestRunner.php';

$socket = env('IPC_SCRIPTED_SOCKET');
$t = new TestRunner();

$t->test('parts arrive in order and the final data is the return value', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $gen = $ipc->stream('/script/stream', array('parts' => 5, 'final' => array('done' => true)));
    assertTrue($gen instanceof Generator, 'a Generator');
    $seen = array();
    foreach ($gen as $part) {
        $seen[] = $part['n'];
    }
    assertSame(array(0, 1, 2, 3, 4), $seen);
    assertSame(array('done' => true), $gen->getReturn());
    assertSame(array('after' => 1), $ipc->call('/script/echo', array('after' => 1)));
});

$t->test('the request line carries "stream": true and no timeoutMs; nothing is sent before iterating', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('userAgent' => 'stream/1'));
    $gen = $ipc->stream('/script/raw', array('a' => 1));
    assertSame(false, $ipc->isConnected(), 'not connected before iteration');
    $gen->current();
    assertSame(null, $gen->current(), 'the raw answer is a final answer: no parts');
    assertSame('{"ipcReqID":"rq0","uri":"/script/raw","stream":true,"data":{"a":1},"pid":' . getmypid() . ',"userAgent":"stream/1"}', $gen->getReturn()['line']);
});

$t->test('an error after some parts throws from the loop, with the server code', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $seen = 0;
    $e = expectIPCException(PixlIPCClient::E_SERVER_ERROR, function () use ($ipc, &$seen) {
        foreach ($ipc->stream('/script/stream', array('parts' => 2, 'error' => 'my_failure')) as $part) {
            $seen++;
        }
    });
    assertSame(2, $seen, 'parts before the error');
    assertSame('my_failure', $e->getServerCode());
    assertSame(array('ok' => 1), $ipc->call('/script/echo', array('ok' => 1)));
});

$t->test('breaking out of the loop cancels the request and the connection stays usable', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $first = $ipc->call('/script/whoami', array());
    $seen = array();
    foreach ($ipc->stream('/script/stream', array('parts' => 1000, 'delayMs' => 5)) as $part) {
        $seen[] = $part['n'];
        if (count($seen) === 3) {
            break;
        }
    }
    assertSame(array(0, 1, 2), $seen);
    // Parts already on their way and the final "cancelled" answer are dropped.
    for ($i = 0; $i < 5; $i++) {
        assertSame(array('i' => $i), $ipc->call('/script/echo', array('i' => $i)));
        usleep(10000);
    }
    $cancelled = $ipc->call('/script/cancelled', array());
    assertSame(1, count($cancelled), 'one cancel message');
    assertSame('{"uri":"/ipcserver/cancel","data":{"ipcReqID":"rq1"},"noReply":true,"pid":' . getmypid()
        . ',"userAgent":' . json_encode('PHP/PixlIPCClient' . getcwd(), JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE) . '}', $cancelled[0]['line']);
    assertTrue($cancelled[0]['sentParts'] < 1000, 'the stream stopped early');
    assertSame($first['connectionId'], $ipc->call('/script/whoami', array())['connectionId'], 'same connection');
});

$t->test('a generator destroyed unfinished cancels too; one never started sends nothing', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $gen = $ipc->stream('/script/stream', array('parts' => 1000, 'delayMs' => 5));
    assertSame(array('n' => 0), $gen->current());
    $gen = null;
    $never = $ipc->stream('/script/stream', array('parts' => 1000, 'delayMs' => 5));
    $never = null;
    usleep(20000);
    $cancelled = $ipc->call('/script/cancelled', array());
    assertSame(1, count($cancelled), 'one cancel message');
});

$t->test('a stream that stalls longer than requestTimeout throws E_TIMEOUT and is cancelled', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 400));
    $seen = 0;
    expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc, &$seen) {
        foreach ($ipc->stream('/script/stream', array('parts' => 3, 'delayMs' => 3000)) as $part) {
            $seen++;
        }
    });
    assertSame(1, $seen, 'the first part came at once');
    assertSame(1, count($ipc->call('/script/cancelled', array())), 'cancelled');
});

$t->test('time spent in the loop body does not count against the wait for the next part', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 400));
    $parts = 0;
    // Parts 500 ms apart; the body takes 450 ms, so each wait after it is short,
    // while 500 ms since the previous part is past the 400 ms timeout.
    foreach ($ipc->stream('/script/stream', array('parts' => 3, 'delayMs' => 500)) as $part) {
        $parts++;
        usleep(450000);
    }
    assertSame(3, $parts);
});

$t->test('send() while a stream is open keeps that stream\'s parts for it', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $seen = array();
    foreach ($ipc->stream('/script/stream', array('parts' => 6, 'delayMs' => 10, 'final' => 'end')) as $part) {
        $seen[] = $part['n'];
        // Parts arrive while this waits; they are queued for the loop, not dropped.
        assertSame(array('during' => $part['n']), $ipc->call('/script/echo', array('during' => $part['n'])));
        usleep(15000);
    }
    assertSame(array(0, 1, 2, 3, 4, 5), $seen);
});

$t->test('codeToErr applies to the final answer of a stream', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('codeToErr' => true));
    $e = expectIPCException(PixlIPCClient::E_SERVER_ERROR, function () use ($ipc) {
        foreach ($ipc->stream('/script/stream', array('parts' => 1, 'final' => array('code' => 'gone', 'message' => 'x'))) as $part) {
        }
    });
    assertSame('gone', $e->getServerCode());
});

$t->run();
