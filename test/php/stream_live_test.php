<?php
// stream() and timeoutMs against the real server (its streaming handlers, cancel and deadlines).
require_once __DIR__ . '/TestRunner.php';

$socket = env('IPC_SOCKET');
$t = new TestRunner();

/** Polls /test/count_state until the handler has finished (or 3 s). */
function finishedState(PixlIPCClient $ipc)
{
    $until = microtime(true) + 3;
    do {
        $state = $ipc->call('/test/count_state', array());
        if ($state['finished']) {
            return $state;
        }
        usleep(10000);
    } while (microtime(true) < $until);
    throw new TestFailure('the stream handler did not finish: ' . json_encode($state));
}

$t->test('an async generator handler streams every part in order, then its return value', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    $gen = $ipc->stream('/test/count', array('parts' => 500));
    $n = 0;
    foreach ($gen as $part) {
        assertSame(array('n' => $n), $part, 'part in order');
        $n++;
    }
    assertSame(500, $n);
    assertSame(array('total' => 500), $gen->getReturn());
    assertSame(null, finishedState($ipc)['aborted']);
});

$t->test('breaking out of the loop cancels the handler (its signal aborts with cancelled) and the connection stays usable', function () use ($socket) {
    $ipc = new PixlIPCClient($socket);
    foreach ($ipc->stream('/test/count', array('parts' => 100000, 'delayMs' => 2)) as $part) {
        if ($part['n'] === 5) {
            break;
        }
    }
    $state = finishedState($ipc);
    assertSame('cancelled', $state['aborted'], 'abort reason');
    assertTrue($state['produced'] < 100000, 'stopped early after ' . $state['produced'] . ' parts');
    for ($i = 0; $i < 3; $i++) {
        assertSame(array('i' => $i), $ipc->call('/ipcserver/test/echo', array('i' => $i)));
    }
});

$t->test('requestTimeout reaches the handler as its deadline', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 5000));
    $seen = $ipc->call('/test/time_left', array());
    assertTrue($seen['timeLeft'] !== null && $seen['timeLeft'] > 3000 && $seen['timeLeft'] <= 5000, 'time left: ' . json_encode($seen));
});

$t->test('a handler slower than requestTimeout is answered deadline_exceeded or times out: E_TIMEOUT either way, and the connection stays usable', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('requestTimeout' => 200));
    $e = expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc) {
        $ipc->call('/ipcserver/test/delay', array('delay' => 2000));
    });
    assertTrue(in_array($e->getServerCode(), array(null, 'deadline_exceeded'), true), 'server code ' . json_encode($e->getServerCode()));
    assertSame(array('after' => 1), $ipc->call('/ipcserver/test/echo', array('after' => 1)));
});

$t->run();
