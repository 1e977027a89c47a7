<?php
/**
 * A PHP process for the soak test: holds several PixlIPCClient instances (one
 * connection each) and sends through them in turn until its time is up, with
 * unique payloads, an occasional slow request, an occasional request that makes
 * the server hang up, and an occasional close() of a random client.
 *
 * Usage: php worker.php <socket> <seconds> <clients> <worker-name>
 *
 * Prints one JSON line per request, in order (n counts from 0):
 *   {"n": 5, "ok": 1}                       the answer equals what was sent
 *   {"n": 6, "ok": 1, "hangup": 1}          ... for a request the server hung up on (a failure)
 *   {"n": 7, "wrong": <answer>, "sent": ..} an answer that is not ours
 *   {"n": 8, "err": 5005, "sc": null, "msg": "..."}  an exception: its code, the server's code, the message
 * and at the end {"done": true, "sent": N}. The test checks that the n values
 * run 0..N-1 with no gap and no repeat.
 */

require_once __DIR__ . '/../../../php-client/PixlIPCClient.class.php';

// Any warning or notice the client lets through (not silenced with @) is a
// failure: it ends the worker with an uncaught exception on stderr.
set_error_handler(function ($errno, $errstr, $file, $line) {
    if (!(error_reporting() & $errno)) {
        return false;
    }
    throw new ErrorException($errstr, 0, $errno, $file, $line);
});

list(, $socket, $seconds, $clientCount, $name) = $argv;
$clientCount = (int)$clientCount;
$until = microtime(true) + (float)$seconds;
mt_srand(crc32($name));

/** @param array $record */
function emit(array $record)
{
    fwrite(STDOUT, json_encode($record, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE) . "\n");
}

// Text with one- to three-byte UTF-8 characters; payloads are slices of it.
// (An array of characters, so slicing never splits one; mbstring may not be installed.)
$pool = array();
$alphabet = array('a', 'b', 'c', 'x', 'y', 'z', '0', '7', ' ', 'é', 'ß', '中', '文', '€', 'ж', '"', '\\', '/');
for ($i = 0; $i < 2048; $i++) {
    $pool[] = $alphabet[mt_rand(0, count($alphabet) - 1)];
}

$clients = array();
for ($i = 0; $i < $clientCount; $i++) {
    $clients[] = new PixlIPCClient($socket, array(
        'requestTimeout' => 10000,
        'connectTimeout' => 2000,
        'userAgent' => "soak-php/$name/$i",
    ));
}

$n = 0;
while (microtime(true) < $until) {
    $c = $n % $clientCount;
    $data = array(
        'w' => $name,
        'c' => $c,
        'n' => $n,
        'r' => implode('', array_slice($pool, mt_rand(0, count($pool) - 1), mt_rand(0, 200))),
    );
    $roll = mt_rand(1, 1000);
    if ($roll <= 2) {
        $uri = '/soak/hangup';
    } elseif ($roll <= 40) {
        $uri = '/soak/slow';
        $data['delay'] = mt_rand(1, 15);
    } else {
        $uri = '/ipcserver/test/echo';
    }
    try {
        $answer = $clients[$c]->send($uri, $data);
        if ($answer === $data) {
            // A hangup request must never succeed: its answer has no connection to go to.
            emit($uri === '/soak/hangup' ? array('n' => $n, 'ok' => 1, 'hangup' => 1) : array('n' => $n, 'ok' => 1));
        } else {
            emit(array('n' => $n, 'wrong' => $answer, 'sent' => $data));
        }
    } catch (PixlIPCException $e) {
        emit(array('n' => $n, 'err' => $e->getCode(), 'sc' => $e->getServerCode(), 'msg' => $e->getMessage()));
        usleep(20000); // the server may be restarting: do not spin
    }
    $n++;
    if (mt_rand(1, 300) === 1) {
        $clients[mt_rand(0, $clientCount - 1)]->close();
    }
}
emit(array('done' => true, 'sent' => $n));
