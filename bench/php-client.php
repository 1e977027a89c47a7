<?php
// Our PHP client (php-client/PixlIPCClient.class.php), timed exactly like the
// plain loop in php-raw.php. Prints {"skipped": why} when the client is missing.
require __DIR__ . '/php-common.php';

$options = bench_options($argv);
$clientFile = __DIR__ . '/../php-client/PixlIPCClient.class.php';
if (!is_file($clientFile)) {
    echo json_encode(['skipped' => 'php-client/PixlIPCClient.class.php does not exist yet']), "\n";
    exit(0);
}
require $clientFile;

// Generous timeouts: a slow answer must show up as a slow figure, not an error.
$client = new PixlIPCClient($options['socket'], ['requestTimeout' => 60000, 'connectTimeout' => 5000]);
bench_connect_with_retry(function () use ($client) {
    $client->connect();
});

bench_run($options, function (array $data) use ($client) {
    return $client->send(BENCH_ECHO_URI, $data);
});
