<?php
// The plain PHP baseline: a blocking stream-socket loop, json_encode, one
// fwrite per request, fgets for the response line, json_decode.
require __DIR__ . '/php-common.php';

$options = bench_options($argv);
$socket = bench_connect_with_retry(function () use ($options) {
    $socket = @stream_socket_client('unix://' . $options['socket'], $errno, $errstr, 5);
    if (!$socket) throw new RuntimeException("cannot connect: $errstr");
    return $socket;
});
$nextId = 1;

$send = function (array $data) use ($socket, &$nextId) {
    $id = $nextId++;
    $line = json_encode(['ipcReqID' => $id, 'uri' => BENCH_ECHO_URI, 'data' => $data]) . "\n";
    for ($written = 0, $length = strlen($line); $written < $length; $written += $n) {
        $n = fwrite($socket, $written ? substr($line, $written) : $line);
        if (!$n) bench_fail('write failed');
    }
    $reply = fgets($socket);
    if ($reply === false) bench_fail('the server closed the connection');
    $response = json_decode($reply, true);
    if (!is_array($response) || $response['ipcReqID'] !== $id) bench_fail('unexpected response');
    return $response['data'];
};

bench_run($options, $send);
