<?php
// A peer that accepts and never reads (test/php.test.js): E_SOCKET_WRITE, and deadlines that hold.
require_once __DIR__ . '/TestRunner.php';

$t = new TestRunner();

$t->test('a request the socket cannot take within requestTimeout throws E_SOCKET_WRITE and drops the connection', function () {
    $ipc = new PixlIPCClient(env('IPC_STALLED_SOCKET'), array('requestTimeout' => 300));
    $ipc->connect();
    $data = array('text' => str_repeat('x', 16 * 1024 * 1024));
    $start = microtime(true);
    $e = expectIPCException(PixlIPCClient::E_SOCKET_WRITE, function () use ($ipc, $data) {
        $ipc->send('/ipcserver/test/echo', $data);
    });
    $elapsed = microtime(true) - $start;
    assertContains('Socket write error, did not write expected number of bytes', $e->getMessage());
    assertTrue($elapsed >= 0.25 && $elapsed < 5, "gave up after $elapsed s");
    assertSame(false, $ipc->isConnected(), 'a half-written line leaves the connection unusable: closed');
});

$t->test('requests under JOIN_LIMIT that fill the socket: the one that no longer fits throws E_SOCKET_WRITE by requestTimeout', function () {
    $ipc = new PixlIPCClient(env('IPC_STALLED_SOCKET'), array('requestTimeout' => 100));
    $ipc->connect();
    $data = array('text' => str_repeat('y', 60000));
    $codes = array();
    $slowest = 0;
    for ($i = 0; $i < 200 && !in_array(PixlIPCClient::E_SOCKET_WRITE, $codes, true); $i++) {
        $start = microtime(true);
        try {
            $ipc->call('/ipcserver/test/echo', $data);
            $codes[] = 0;
        } catch (PixlIPCException $e) {
            $codes[] = $e->getCode();
        }
        $slowest = max($slowest, microtime(true) - $start);
    }
    assertSame(PixlIPCClient::E_SOCKET_WRITE, end($codes), 'the socket filled up: ' . json_encode(array_count_values($codes)));
    assertTrue(in_array(PixlIPCClient::E_TIMEOUT, $codes, true), 'the calls before it were written, then timed out');
    assertTrue($slowest < 0.5, "the slowest call took $slowest s");
});

$t->test('signals more often than the wait do not stretch requestTimeout (PHP restarts an interrupted wait)', function () {
    $ipc = new PixlIPCClient(env('IPC_STALLED_SOCKET'), array('requestTimeout' => 300));
    $ipc->connect();
    $signals = 0;
    pcntl_async_signals(true);
    pcntl_signal(SIGUSR1, function () use (&$signals) {
        $signals++;
    });
    // A child signals this process every 20 ms for 1.5 s.
    $parent = getmypid();
    $child = pcntl_fork();
    if ($child === 0) {
        for ($i = 0; $i < 75; $i++) {
            posix_kill($parent, SIGUSR1);
            usleep(20000);
        }
        exit(0);
    }
    try {
        $start = microtime(true);
        expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc) {
            $ipc->call('/ipcserver/test/echo', array());
        });
        $elapsed = microtime(true) - $start;
    } finally {
        posix_kill($child, SIGKILL);
        pcntl_waitpid($child, $status);
        pcntl_signal(SIGUSR1, SIG_DFL);
    }
    assertTrue($signals >= 5, "$signals signals arrived during the call");
    assertTrue($elapsed >= 0.25 && $elapsed < 0.6, "timed out after $elapsed s");
});

$t->run();
