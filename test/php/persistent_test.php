<?php
// The persistent option, page views simulated in one process: each "page" makes
// its own client object and drops it, as a php-fpm worker does request after
// request (the socket outlives the object; PHP's static state would not).
require_once __DIR__ . '/TestRunner.php';

$socket = env('IPC_SOCKET');
$t = new TestRunner();

/** One "page view": a fresh persistent client for $target, used by $fn, then dropped. */
function page($target, callable $fn, array $options = array())
{
    $ipc = new PixlIPCClient($target, $options + array('persistent' => true, 'requestTimeout' => 3000));
    try {
        return $fn($ipc);
    } finally {
        $ipc = null;
    }
}

/**
 * What a page killed by memory_limit or max_execution_time leaves: a request
 * written, the first bytes of its answer read, then the object and PHP's static
 * state gone without any destructor or finally block (a fatal error runs none).
 */
function killedMidCall(PixlIPCClient $ipc)
{
    $begin = new ReflectionMethod(PixlIPCConnection::class, 'beginCall');
    $begin->setAccessible(true);
    $begin->invoke($ipc);
    $write = new ReflectionMethod(PixlIPCConnection::class, 'writeLine');
    $write->setAccessible(true);
    $write->invoke($ipc, '{"ipcReqID":"killed","uri":"/script/slow_partial","data":{}}' . "\n", hrtime(true) + 1000000000);
    // Read all that has arrived of the answer (its first bytes), as the dying page did:
    // nothing is left unread on the socket when the page dies.
    $fp = new ReflectionProperty(PixlIPCConnection::class, 'fp');
    $fp->setAccessible(true);
    $socket = $fp->getValue($ipc);
    stream_set_timeout($socket, 0);
    $held = '';
    $deadline = hrtime(true) + 200000000;
    while ($held === '' && hrtime(true) < $deadline) {
        while (($got = @fread($socket, 65536)) !== false && $got !== '') {
            $held .= $got;
        }
        usleep(1000);
    }
    assertSame(0, stream_get_meta_data($socket)['unread_bytes'], 'nothing left unread');
    assertTrue($held !== '' && $held[-1] !== "\n", 'read part of the answer');
    forgetWithoutDestructor($ipc);
}

/** The object and the request's static state gone, no destructor run: a page that died. */
function forgetWithoutDestructor(PixlIPCClient $ipc)
{
    foreach (array('fp' => null, 'callDepth' => 0) as $name => $value) {
        $property = new ReflectionProperty(PixlIPCConnection::class, $name);
        $property->setAccessible(true);
        $property->setValue($ipc, $value);
    }
    foreach (array('busySockets', 'streamQueues', 'queuedBytes', 'received') as $name) {
        $property = new ReflectionProperty(PixlIPCConnection::class, $name);
        $property->setAccessible(true);
        $property->setValue(null, array());
    }
}

$t->test('page views reuse one connection; ids never repeat on it', function () use ($socket) {
    $seen = array();
    $connections = array();
    for ($i = 0; $i < 5; $i++) {
        page($socket, function ($ipc) use (&$seen, &$connections, $i) {
            for ($j = 0; $j < 3; $j++) {
                $who = $ipc->call('/test/whoami', array());
                $seen[] = $who['ipcReqID'];
                $connections[$who['connectionId']] = true;
                assertSame(array('page' => $i, 'call' => $j), $ipc->call('/ipcserver/test/echo', array('page' => $i, 'call' => $j)));
            }
        });
    }
    assertSame(1, count($connections), 'one connection for every page');
    assertSame(count($seen), count(array_unique($seen)), 'unique ids');
    assertTrue(strpos($seen[0], 'rq') === 0 && $seen[0] !== 'rq0', 'persistent ids carry a random part: ' . $seen[0]);
    // A client without the option still opens its own connection.
    $plain = (new PixlIPCClient($socket))->call('/test/whoami', array());
    assertTrue(!isset($connections[$plain['connectionId']]), 'a plain client does not share');
});

$t->test('a unix:// target and the bare path share the persistent connection', function () use ($socket) {
    $a = page($socket, function ($ipc) {
        return $ipc->call('/test/whoami', array())['connectionId'];
    });
    $b = page('unix://' . $socket, function ($ipc) {
        return $ipc->call('/test/whoami', array())['connectionId'];
    });
    assertSame($a, $b);
});

$t->test('a page that timed out leaves nothing for the next page, before or after the late answer arrives', function () use ($socket) {
    $before = page($socket, function ($ipc) {
        return $ipc->call('/test/whoami', array())['connectionId'];
    });
    page($socket, function ($ipc) {
        expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc) {
            $ipc->call('/ipcserver/test/delay', array('delay' => 300));
        });
    }, array('requestTimeout' => 100));
    // The late answer is still on its way.
    page($socket, function ($ipc) {
        assertSame(array('n' => 1), $ipc->call('/ipcserver/test/echo', array('n' => 1)));
    });
    page($socket, function ($ipc) {
        expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc) {
            $ipc->call('/ipcserver/test/delay', array('delay' => 150));
        });
    }, array('requestTimeout' => 50));
    usleep(300000);
    // Now it waits in the socket ahead of anything else.
    $after = page($socket, function ($ipc) {
        assertSame(array('n' => 2), $ipc->call('/ipcserver/test/echo', array('n' => 2)));
        assertSame(array('delay' => 5), $ipc->call('/ipcserver/test/delay', array('delay' => 5)));
        return $ipc->call('/test/whoami', array())['connectionId'];
    });
    assertSame($before, $after, 'still the same connection');
});

$t->test('a never-used persistent socket left non-blocking (as the previous version left it) is waited on, not spun on', function () use ($socket) {
    // The same socket under another name ("/./"), so the other tests' persistent socket is not this one.
    $path = dirname($socket) . '/./' . basename($socket);
    page($path, function ($ipc) {
        $ipc->connect();
        $fp = new ReflectionProperty(PixlIPCConnection::class, 'fp');
        $fp->setAccessible(true);
        stream_set_blocking($fp->getValue($ipc), false);
        forgetWithoutDestructor($ipc);
    }, array('persistent' => true));
    page($path, function ($ipc) {
        $before = getrusage();
        $start = microtime(true);
        expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc) {
            $ipc->call('/ipcserver/test/delay', array('delay' => 2000));
        });
        $elapsed = microtime(true) - $start;
        $after = getrusage();
        $cpuMs = ($after['ru_utime.tv_sec'] - $before['ru_utime.tv_sec']) * 1000 + ($after['ru_utime.tv_usec'] - $before['ru_utime.tv_usec']) / 1000
            + ($after['ru_stime.tv_sec'] - $before['ru_stime.tv_sec']) * 1000 + ($after['ru_stime.tv_usec'] - $before['ru_stime.tv_usec']) / 1000;
        assertTrue($elapsed >= 0.25, "timed out after $elapsed s");
        assertTrue($cpuMs < 100, "$cpuMs ms of CPU while waiting {$elapsed} s");
    }, array('requestTimeout' => 300));
});

$t->test('close() leaves the connection for the next page; close(true) really closes it', function () use ($socket) {
    $ipc = new PixlIPCClient($socket, array('persistent' => true));
    $a = $ipc->call('/test/whoami', array())['connectionId'];
    $ipc->close();
    assertSame(false, $ipc->isConnected());
    $b = $ipc->call('/test/whoami', array())['connectionId'];
    assertSame($a, $b, 'close() kept it');
    $ipc->close(true);
    $c = $ipc->call('/test/whoami', array())['connectionId'];
    assertTrue($c !== $a, 'close(true) closed it');
});

$t->test('credentials are sent once per connection, and different credentials never share one', function () {
    $scripted = env('IPC_SCRIPTED_SOCKET');
    $ask = function ($auth) use ($scripted) {
        return page($scripted, function ($ipc) {
            return $ipc->call('/script/whoami', array());
        }, array('auth' => $auth));
    };
    $a1 = $ask(array('user' => 'a'));
    $a2 = $ask(array('user' => 'a'));
    $a3 = $ask(array('user' => 'a'));
    assertSame($a1['connectionId'], $a3['connectionId'], 'same credentials, same connection');
    assertSame(1, $a3['auths'], 'authenticated once');
    $b = $ask(array('user' => 'b'));
    assertTrue($b['connectionId'] !== $a1['connectionId'], 'other credentials, other connection');
    assertSame(1, $b['auths']);
    $none = page($scripted, function ($ipc) {
        return $ipc->call('/script/whoami', array());
    });
    assertTrue($none['connectionId'] !== $a1['connectionId'] && $none['connectionId'] !== $b['connectionId'], 'no credentials, other connection');
    assertSame(0, $none['auths']);
    assertSame($a1['connectionId'], $ask(array('user' => 'a'))['connectionId'], 'a still reuses its own');
});

$t->test('against a real auth server: a refused page does not spoil the good connection', function () {
    $authSocket = env('IPC_AUTH_SOCKET');
    $token = env('IPC_AUTH_TOKEN');
    $good = page($authSocket, function ($ipc) {
        return $ipc->call('/test/whoami', array())['connectionId'];
    }, array('auth' => $token));
    page($authSocket, function ($ipc) {
        expectIPCException(PixlIPCClient::E_ACCESS, function () use ($ipc) {
            $ipc->call('/test/whoami', array());
        });
    }, array('auth' => 'wrong'));
    page($authSocket, function ($ipc) {
        expectIPCException(PixlIPCClient::E_ACCESS, function () use ($ipc) {
            $ipc->call('/test/whoami', array());
        });
    });
    $again = page($authSocket, function ($ipc) {
        return $ipc->call('/test/whoami', array())['connectionId'];
    }, array('auth' => $token));
    assertSame($good, $again);
});

$t->test('a page that stopped mid-line does not hand the rest of that line to the next page', function () {
    $scripted = env('IPC_SCRIPTED_SOCKET');
    // The peer sends 10 bytes of the answer now and the rest 600 ms later.
    $first = page($scripted, function ($ipc) {
        $id = $ipc->call('/script/whoami', array())['connectionId'];
        expectIPCException(PixlIPCClient::E_TIMEOUT, function () use ($ipc) {
            $ipc->call('/script/slow_partial', array());
        });
        return $id;
    }, array('requestTimeout' => 100));
    $next = page($scripted, function ($ipc) {
        return $ipc->call('/script/whoami', array())['connectionId'];
    });
    assertTrue($next !== $first, 'a connection holding half a line is closed, not reused');
    // A page killed mid-answer (no destructor, no finally): the next page finds the socket marked busy and replaces it.
    $lost = page($scripted, function ($ipc) {
        $id = $ipc->call('/script/whoami', array())['connectionId'];
        killedMidCall($ipc);
        return $id;
    }, array('requestTimeout' => 100));
    // The rest of the line arrives while the next page waits for its answer.
    $after = page($scripted, function ($ipc) {
        return $ipc->call('/script/whoami', array());
    }, array('requestTimeout' => 2000));
    assertTrue($lost !== $after['connectionId'], 'a socket left mid-answer is not reused');
});

$t->test('a stream left early by one page does not reach the next', function () {
    $scripted = env('IPC_SCRIPTED_SOCKET');
    $first = page($scripted, function ($ipc) {
        foreach ($ipc->stream('/script/stream', array('parts' => 1000, 'delayMs' => 2)) as $part) {
            if ($part['n'] === 2) {
                break;
            }
        }
        return $ipc->call('/script/whoami', array())['connectionId'];
    });
    usleep(50000);
    $next = page($scripted, function ($ipc) {
        assertSame(array('x' => 1), $ipc->call('/script/echo', array('x' => 1)));
        return $ipc->call('/script/whoami', array())['connectionId'];
    });
    assertSame($first, $next, 'reused');
});

$t->test('a goaway left on the socket makes the next page reconnect before sending', function () {
    $scripted = env('IPC_SCRIPTED_SOCKET');
    $first = page($scripted, function ($ipc) {
        $ipc->call('/script/goaway', array());
        return $ipc->call('/script/whoami', array())['connectionId'];
    });
    usleep(20000);
    $next = page($scripted, function ($ipc) {
        return $ipc->call('/script/whoami', array())['connectionId'];
    });
    assertTrue($next !== $first, 'a new connection');
});

$t->test('a request refused with shutting_down (it never ran) is sent once more on a new connection; plain clients throw as before', function () {
    $scripted = env('IPC_SCRIPTED_SOCKET');
    page($scripted, function ($ipc) {
        $first = $ipc->call('/script/whoami', array())['connectionId'];
        $ipc->call('/script/arm_shutdown', array());
        $answer = $ipc->call('/script/maybe_refused', array());
        assertSame(true, $answer['served']);
        assertTrue($answer['connectionId'] !== $first, 'served on a new connection');
    });
    $plain = new PixlIPCClient($scripted);
    $plain->call('/script/arm_shutdown', array());
    $e = expectIPCException(PixlIPCClient::E_SERVER_CLOSE, function () use ($plain) {
        $plain->call('/script/maybe_refused', array());
    });
    assertSame('shutting_down', $e->getServerCode());
    assertSame(true, $plain->call('/script/maybe_refused', array())['served'], 'the next send reconnects');
});

$t->test('two objects sharing a persistent socket in one request: one closing it does not break the other', function () use ($socket) {
    $a = new PixlIPCClient($socket, array('persistent' => true));
    $b = new PixlIPCClient($socket, array('persistent' => true));
    $idA = $a->call('/test/whoami', array())['connectionId'];
    $idB = $b->call('/test/whoami', array())['connectionId'];
    assertSame($idA, $idB, 'shared');
    $a->close(true);
    $again = $b->call('/test/whoami', array())['connectionId'];
    assertTrue($again !== $idA, 'b reconnected');
});

$t->test('a Unix path too long to carry the credentials hash (over 43 bytes) is not persistent with credentials', function () {
    $long = '/' . str_repeat('d', 34) . '/ipc.sock'; // 44 bytes
    $ok = '/' . str_repeat('d', 33) . '/ipc.sock';   // 43 bytes
    $persistentOk = new PixlIPCClient($ok, array('persistent' => true, 'auth' => 'x'));
    $ipc = new PixlIPCClient($long, array('persistent' => true, 'auth' => 'x'));
    $persistent = new ReflectionProperty(PixlIPCClient::class, 'persistent');
    $persistent->setAccessible(true);
    assertSame(false, $persistent->getValue($ipc));
    assertSame(true, $persistent->getValue($persistentOk), '43 bytes fit');
    $ipc = new PixlIPCClient($long, array('persistent' => true));
    assertSame(true, $persistent->getValue($ipc), 'without credentials it can be');
});

$t->run();
