<?php
// The PHP client's own reading of the shared protocol vectors (test/vectors/protocol.json):
// each expected answer is fed to a real client through a socket pair, as the
// answer to its request (or as a connection-level line when its ipcReqID is
// null), and the client must return the data or throw the right error, accept
// an auth answer only when it is a success with "authenticated": true, and
// close exactly when the vector says the server closes.
require_once __DIR__ . '/TestRunner.php';

$cases = json_decode(file_get_contents(__DIR__ . '/../vectors/protocol.json'));
if (!is_array($cases) || count($cases) < 20) {
    throw new TestFailure('test/vectors/protocol.json is missing or too short');
}
$t = new TestRunner();

/** The ids of the auth requests among a case's lines (some lines are malformed on purpose). */
function authIds(array $lines)
{
    $ids = array();
    foreach ($lines as $line) {
        $request = json_decode($line, true);
        if (is_array($request) && isset($request['uri']) && $request['uri'] === '/ipcserver/auth' && isset($request['ipcReqID'])) {
            $ids[(string)$request['ipcReqID']] = true;
        }
    }
    return $ids;
}

/**
 * A client whose connection is one end of a socket pair; the other end has
 * already written $line. Returns [client, other end] (keep the other end open).
 */
function clientReading($line, array $options = array())
{
    list($mine, $theirs) = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, STREAM_IPPROTO_IP);
    fwrite($theirs, $line . "\n");
    stream_set_timeout($mine, 2);
    $ipc = new PixlIPCClient('/vectors/unused.sock', $options + array('requestTimeout' => 2000));
    $fp = new ReflectionProperty(PixlIPCClient::class, 'fp');
    $fp->setAccessible(true);
    $fp->setValue($ipc, $mine);
    return array($ipc, $theirs);
}

/** The answer line a server would send for an `expect` entry, under the id the client used. */
function answerLine($expected, $id)
{
    $message = array('ipcReqID' => $id);
    if (isset($expected->code)) {
        $message['code'] = $expected->code;
        $message['message'] = 'vector ' . $expected->code;
    }
    if (property_exists($expected, 'data')) {
        $message['data'] = $expected->data;
    }
    return json_encode($message, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION);
}

/** The PixlIPCClient::E_* code an error answer with $code must throw. */
function errorFor($code)
{
    if (isset(PixlIPCClient::CLOSING_CODES[$code])) {
        return PixlIPCClient::E_SERVER_CLOSE;
    }
    if ($code === 'access') {
        return PixlIPCClient::E_ACCESS;
    }
    return $code === 'deadline_exceeded' ? PixlIPCClient::E_TIMEOUT : PixlIPCClient::E_SERVER_ERROR;
}

foreach ($cases as $vector) {
    $t->test($vector->name, function () use ($vector) {
        $auth = authIds($vector->send);
        $closing = false;
        foreach ($vector->expect as $i => $expected) {
            $what = "answer $i";
            $id = isset($expected->ipcReqID) ? (string)$expected->ipcReqID : null;
            if ($id !== null && isset($auth[$id])) {
                // The answer to the client's own /ipcserver/auth request.
                list($ipc, $peer) = clientReading(answerLine($expected, 'auth1'), array('auth' => 'vector'));
                $authenticate = new ReflectionMethod(PixlIPCClient::class, 'authenticate');
                $authenticate->setAccessible(true);
                $accepted = !isset($expected->code) && isset($expected->data->authenticated) && $expected->data->authenticated === true;
                if ($accepted) {
                    $authenticate->invoke($ipc);
                    assertSame(true, $ipc->isConnected(), "$what: accepted, still connected");
                } else {
                    $e = expectIPCException(PixlIPCClient::E_ACCESS, function () use ($authenticate, $ipc) {
                        $authenticate->invoke($ipc);
                    });
                    assertSame(false, $ipc->isConnected(), "$what: a refused connection is closed");
                    $closing = true;
                }
                continue;
            }
            // An answer to a request (as "rq0", the client's first id), or a connection-level line.
            list($ipc, $peer) = clientReading(answerLine($expected, $id === null ? null : 'rq0'));
            if (isset($expected->code)) {
                $e = expectIPCException(errorFor($expected->code), function () use ($ipc) {
                    $ipc->call('/vector', array());
                });
                assertSame($expected->code, $e->getServerCode(), "$what: server code");
                if (!$ipc->isConnected()) {
                    $closing = true;
                }
                assertSame(isset(PixlIPCClient::CLOSING_CODES[$expected->code]), !$ipc->isConnected(), "$what: closed after {$expected->code}");
                continue;
            }
            if ($id === null) {
                // A success for an id-less request: this client never sends one expecting an
                // answer, so it is neither its answer nor a push; it is dropped.
                list($ipc, $peer) = clientReading(answerLine($expected, null) . "\n" . '{"ipcReqID":"rq0","data":"mine"}');
                assertSame('mine', $ipc->call('/vector', array()), "$what: dropped, the next line answers");
                assertSame(0, $ipc->pendingPushCount(), "$what: not a push");
                continue;
            }
            $want = property_exists($expected, 'data') ? json_decode(json_encode($expected->data), true) : null;
            assertSame($want, $ipc->call('/vector', array()), "$what: data");
            assertSame(true, $ipc->isConnected(), "$what: still connected");
            // With codeToErr, data carrying a code is an error.
            if (is_array($want) && !empty($want['code'])) {
                list($strict, $peer2) = clientReading(answerLine($expected, 'rq0'), array('codeToErr' => true));
                $e = expectIPCException(PixlIPCClient::E_SERVER_ERROR, function () use ($strict) {
                    $strict->call('/vector', array());
                });
                assertSame($want['code'], $e->getServerCode(), "$what: codeToErr code");
            }
        }
        assertSame(!empty($vector->closes), $closing, 'the client knows whether the server closes after these answers');
    });
}

$t->run();
