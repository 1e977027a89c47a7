<?php
/**
 * A PHP process for the soak test: holds several PixlIPCClient instances (one
 * connection each) and sends through them in turn until the test creates the
 * stop file, with unique payloads, an occasional slow request, an occasional
 * request that makes the server hang up, and an occasional close() of a random
 * client. (A stop file rather than a fixed duration: the test decides when each
 * server life has seen enough traffic, however slowly this machine runs.)
 *
 * Usage: php worker.php <socket> <stop-file> <clients> <worker-name>
 *
 * Prints one JSON line per request, in order (n counts from 0), with the times
 * it was sent and its outcome came back ("at": [sent, done], ms since the epoch):
 *   {"n": 5, "ok": 1, "at": [..]}                    the answer equals what was sent
 *   {"n": 6, "ok": 1, "hangup": 1, "at": [..]}       ... for a request the server hung up on (a failure)
 *   {"n": 7, "wrong": <answer>, "sent": .., "at": [..]}  an answer that is not ours
 *   {"n": 8, "err": 5005, "sc": null, "msg": "...", "at": [..]}  an exception: its code, the server's code, the message
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

list(, $socket, $stopFile, $clientCount, $name) = $argv;
$clientCount = (int)$clientCount;
mt_srand(crc32($name));

/** Whether the test asked this worker to stop (the file is checked every 50 ms). */
function stopRequested($stopFile)
{
    static $checkedAt = 0.0;
    $now = microtime(true);
    if ($now - $checkedAt < 0.05) {
        return false;
    }
    $checkedAt = $now;
    clearstatcache();
    return file_exists($stopFile);
}

function nowMs()
{
    return round(microtime(true) * 1000, 1);
}

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
while (!stopRequested($stopFile)) {
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
    $sentAt = nowMs();
    try {
        $answer = $clients[$c]->send($uri, $data);
        $at = array($sentAt, nowMs());
        if ($answer === $data) {
            // A hangup request must never succeed: its answer has no connection to go to.
            emit($uri === '/soak/hangup' ? array('n' => $n, 'ok' => 1, 'hangup' => 1, 'at' => $at) : array('n' => $n, 'ok' => 1, 'at' => $at));
        } else {
            emit(array('n' => $n, 'wrong' => $answer, 'sent' => $data, 'at' => $at));
        }
    } catch (PixlIPCException $e) {
        emit(array('n' => $n, 'err' => $e->getCode(), 'sc' => $e->getServerCode(), 'msg' => $e->getMessage(), 'at' => array($sentAt, nowMs())));
        usleep(20000); // the server may be restarting: do not spin
    }
    $n++;
    if (mt_rand(1, 300) === 1) {
        $clients[mt_rand(0, $clientCount - 1)]->close();
    }
}
emit(array('done' => true, 'sent' => $n));
