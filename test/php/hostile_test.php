<?php
// Run by test/integration/php-hostile.test.js against the hostile-server
// fixture (test/helpers/hostile-server.js, one server per mode) and a server
// that misbehaves per request (for reused persistent connections). Every call
// must end with a clear exception by its deadline (requestTimeout 500 ms, plus
// slack for a loaded machine) and the peak memory the call added must stay
// under the stated bound.
require_once __DIR__ . '/TestRunner.php';

$t = new TestRunner();

/** The fixture's socket for $mode. */
function hostile($mode)
{
    return env('IPC_HOSTILE_' . strtoupper(str_replace('-', '_', $mode)));
}

const TIMEOUT_MS = 500;
const SLACK_MS = 600;
const MiB = 1048576;

/**
 * Runs $fn, which must throw $code within $maxMs, adding at most $maxBytes to
 * PHP's peak memory. Returns the exception.
 */
function hostileCall($code, $maxMs, $maxBytes, callable $fn, $minMs = 0)
{
    gc_collect_cycles();
    memory_reset_peak_usage();
    $base = memory_get_usage();
    $start = hrtime(true);
    $e = expectIPCException($code, $fn);
    $ms = (hrtime(true) - $start) / 1e6;
    $added = memory_get_peak_usage() - $base;
    assertTrue($ms <= $maxMs, sprintf('ended after %.0f ms, deadline %d ms (%s)', $ms, $maxMs, $e->getMessage()));
    assertTrue($ms >= $minMs, sprintf('ended after %.0f ms, before %d ms (%s)', $ms, $minMs, $e->getMessage()));
    assertTrue($added <= $maxBytes, sprintf('peak memory grew by %.1f MiB, bound %.1f MiB', $added / MiB, $maxBytes / MiB));
    return $e;
}

function client($socket, array $options = array())
{
    return new PixlIPCClient($socket, $options + array('requestTimeout' => TIMEOUT_MS));
}

$t->test('endless line: E_RESPONSE_TOO_LARGE once maxMessageSize (1 MiB) is held, under 3 MiB', function () {
    $ipc = client(hostile('endless-line'), array('maxMessageSize' => MiB));
    $e = hostileCall(PixlIPCClient::E_RESPONSE_TOO_LARGE, TIMEOUT_MS + SLACK_MS, 3 * MiB, function () use ($ipc) {
        $ipc->call('/hostile', array());
    });
    assertContains('longer than maxMessageSize (1048576 bytes', $e->getMessage());
    assertSame(false, $ipc->isConnected(), 'the connection is closed');
});

$t->test('endless line, default maxMessageSize (32 MiB): E_RESPONSE_TOO_LARGE, under 70 MiB', function () {
    $ipc = client(hostile('endless-line'), array('requestTimeout' => 10000));
    hostileCall(PixlIPCClient::E_RESPONSE_TOO_LARGE, 10000, 70 * MiB, function () use ($ipc) {
        $ipc->call('/hostile', array());
    });
});

$t->test('trickle (8 KiB, then a byte per write): E_TIMEOUT at requestTimeout, under 1 MiB', function () {
    hostileCall(PixlIPCClient::E_TIMEOUT, TIMEOUT_MS + SLACK_MS, MiB, function () {
        client(hostile('trickle'))->call('/hostile', array());
    }, TIMEOUT_MS - 5);
});

$t->test('byte drip (a byte every 100 ms): E_TIMEOUT at requestTimeout, not when the drip stops', function () {
    hostileCall(PixlIPCClient::E_TIMEOUT, TIMEOUT_MS + SLACK_MS, MiB, function () {
        client(hostile('byte-drip'))->call('/hostile', array());
    }, TIMEOUT_MS - 5);
});

$t->test('push flood: E_TIMEOUT; at most maxPendingPushes kept, the oldest dropped, under 4 MiB', function () {
    $ipc = client(hostile('push-flood'), array('maxPendingPushes' => 1000));
    hostileCall(PixlIPCClient::E_TIMEOUT, TIMEOUT_MS + SLACK_MS, 4 * MiB, function () use ($ipc) {
        $ipc->call('/hostile', array());
    }, TIMEOUT_MS - 5);
    assertSame(1000, $ipc->pendingPushCount(), 'pushes kept');
    assertTrue($ipc->droppedPushCount() > 0, 'pushes dropped: ' . $ipc->droppedPushCount());
    $first = $ipc->readPush();
    assertSame('/flood', $first['uri'], 'a push');
    assertSame(999, $ipc->pendingPushCount(), 'readPush() takes one');
});

$t->test('push flood, maxPendingBytes: held push bytes stay under it', function () {
    $ipc = client(hostile('push-flood'), array('maxPendingPushes' => 100000, 'maxPendingBytes' => 64 * 1024));
    hostileCall(PixlIPCClient::E_TIMEOUT, TIMEOUT_MS + SLACK_MS, 4 * MiB, function () use ($ipc) {
        $ipc->call('/hostile', array());
    });
    $lineBytes = strlen(json_encode($ipc->readPush())) + 1;
    assertTrue(($ipc->pendingPushCount() + 1) * $lineBytes <= 64 * 1024 + 2 * $lineBytes, 'held: ' . $ipc->pendingPushCount() . ' pushes');
});

$t->test('endless parts, streamed: E_TIMEOUT at streamTimeout, parts read one at a time', function () {
    $ipc = client(hostile('endless-parts'), array('streamTimeout' => TIMEOUT_MS));
    $parts = 0;
    hostileCall(PixlIPCClient::E_TIMEOUT, TIMEOUT_MS + SLACK_MS, MiB, function () use ($ipc, &$parts) {
        foreach ($ipc->stream('/hostile', array()) as $part) {
            $parts++;
        }
    }, TIMEOUT_MS - 5);
    assertTrue($parts > 100, "parts read: $parts");
});

$t->test('endless parts to call(): not an answer; E_TIMEOUT at requestTimeout', function () {
    hostileCall(PixlIPCClient::E_TIMEOUT, TIMEOUT_MS + SLACK_MS, MiB, function () {
        client(hostile('endless-parts'))->call('/hostile', array());
    }, TIMEOUT_MS - 5);
});

$t->test('parts of a stream nobody reads: it fails past streamHighWaterMark and is cancelled; memory bounded', function () {
    $ipc = client(hostile('endless-parts'), array('streamHighWaterMark' => 64));
    $stream = $ipc->stream('/hostile', array());
    $stream->current();
    // While call() waits, the stream's parts pile up behind it.
    hostileCall(PixlIPCClient::E_TIMEOUT, TIMEOUT_MS + SLACK_MS, MiB, function () use ($ipc) {
        $ipc->call('/hostile', array());
    });
    $e = expectIPCException(PixlIPCClient::E_RESPONSE_TOO_LARGE, function () use ($stream) {
        while (true) {
            $stream->next();
            $stream->current();
        }
    });
    assertContains('streamHighWaterMark (64)', $e->getMessage());
});

$t->test('answers under unknown ids: dropped; E_TIMEOUT at requestTimeout, under 1 MiB', function () {
    hostileCall(PixlIPCClient::E_TIMEOUT, TIMEOUT_MS + SLACK_MS, MiB, function () {
        client(hostile('unknown-ids'))->call('/hostile', array());
    }, TIMEOUT_MS - 5);
});

$t->test('silence: E_TIMEOUT at requestTimeout', function () {
    hostileCall(PixlIPCClient::E_TIMEOUT, TIMEOUT_MS + SLACK_MS, MiB, function () {
        client(hostile('silence'))->call('/hostile', array());
    }, TIMEOUT_MS - 5);
});

$t->test('invalid UTF-8: E_BAD_RESPONSE at once, connection closed', function () {
    $ipc = client(hostile('invalid-utf8'));
    hostileCall(PixlIPCClient::E_BAD_RESPONSE, SLACK_MS, MiB, function () use ($ipc) {
        $ipc->call('/hostile', array());
    });
    assertSame(false, $ipc->isConnected(), 'closed');
});

$t->test('invalid JSON: E_BAD_RESPONSE at once, connection closed', function () {
    $ipc = client(hostile('invalid-json'));
    hostileCall(PixlIPCClient::E_BAD_RESPONSE, SLACK_MS, MiB, function () use ($ipc) {
        $ipc->call('/hostile', array());
    });
    assertSame(false, $ipc->isConnected(), 'closed');
});

$t->test('half a line, then close: E_SERVER_CLOSE at once', function () {
    hostileCall(PixlIPCClient::E_SERVER_CLOSE, SLACK_MS, MiB, function () {
        client(hostile('half-line'))->call('/hostile', array());
    });
});

$t->test('a server that accepts, reads the request and closes: E_SERVER_CLOSE at once', function () {
    hostileCall(PixlIPCClient::E_SERVER_CLOSE, SLACK_MS, MiB, function () {
        client(hostile('accept-then-close'))->call('/hostile', array());
    });
});

$t->test('persistent: after each hostile mode the next page gets a clean connection and its own answer', function () {
    $socket = env('IPC_MIXED_SOCKET');
    foreach (array('push_flood', 'endless_parts', 'unknown_ids', 'byte_drip', 'trickle', 'endless_line') as $mode) {
        $ipc = client($socket, array('persistent' => true, 'maxMessageSize' => MiB));
        try {
            $ipc->call("/hostile/$mode", array());
            throw new TestFailure("$mode: no exception");
        } catch (PixlIPCException $e) {
            // expected; what matters is the next page
        }
        $ipc = null;
        $next = client($socket, array('persistent' => true));
        $start = hrtime(true);
        assertSame(array('mode' => 'unknown'), $next->call('/hostile/answer', array()), "after $mode");
        $ms = (hrtime(true) - $start) / 1e6;
        assertTrue($ms < 300, "after $mode the next page waited $ms ms");
        $next = null;
    }
});

$t->run();
