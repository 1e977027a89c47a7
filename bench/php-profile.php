<?php
// Where a PHP round trip's time goes, for bench/profile.js (php has no
// built-in sampling profiler). Times the phases of the plain loop (encode,
// write, wait + read, decode) and of our client (its encode and write, by
// overriding them in a subclass; the rest of send() is wait + read + decode),
// for a fixed number of round trips. Prints one JSON object.
require __DIR__ . '/php-common.php';

$options = [];
foreach (array_slice($argv, 1) as $arg) {
    if (preg_match('/^--([a-z_]+)=(.*)$/', $arg, $m)) $options[$m[1]] = $m[2];
}
foreach (['socket', 'keys', 'count'] as $name) {
    if (!isset($options[$name])) bench_fail("missing --$name");
}
$data = bench_message((int) $options['keys']);
$count = (int) $options['count'];

/** Median of a list of ns figures, in µs. */
function median_us(array $values): float {
    sort($values);
    return bench_median($values) / 1000;
}

// The plain loop, phase by phase.
$socket = bench_connect_with_retry(function () use ($options) {
    $socket = @stream_socket_client('unix://' . $options['socket'], $errno, $errstr, 5);
    if (!$socket) throw new RuntimeException("cannot connect: $errstr");
    return $socket;
});
$phases = ['encode' => [], 'write' => [], 'wait_and_read' => [], 'decode' => [], 'total' => []];
for ($i = 0; $i < $count; $i++) {
    $t0 = hrtime(true);
    $line = json_encode(['ipcReqID' => $i, 'uri' => BENCH_ECHO_URI, 'data' => $data]) . "\n";
    $t1 = hrtime(true);
    for ($written = 0, $length = strlen($line); $written < $length; $written += $n) {
        $n = fwrite($socket, $written ? substr($line, $written) : $line);
        if (!$n) bench_fail('write failed');
    }
    $t2 = hrtime(true);
    $reply = fgets($socket);
    $t3 = hrtime(true);
    $response = json_decode($reply, true);
    $t4 = hrtime(true);
    if (!is_array($response) || $response['ipcReqID'] !== $i) bench_fail('unexpected response');
    $phases['encode'][] = $t1 - $t0;
    $phases['write'][] = $t2 - $t1;
    $phases['wait_and_read'][] = $t3 - $t2;
    $phases['decode'][] = $t4 - $t3;
    $phases['total'][] = $t4 - $t0;
}
fclose($socket);

// Our client, with its encode and write timed from a subclass.
require __DIR__ . '/../php-client/PixlIPCClient.class.php';

class TimedPixlIPCClient extends PixlIPCClient
{
    public $encodeNs = 0;
    public $writeNs = 0;

    // Variadic overrides: they stay compatible when the client's parameter lists change.
    protected function encode(...$args)
    {
        $t = hrtime(true);
        $out = parent::encode(...$args);
        $this->encodeNs += hrtime(true) - $t;
        return $out;
    }

    protected function writeRequest(...$args)
    {
        $t = hrtime(true);
        $out = parent::writeRequest(...$args);
        $this->writeNs += hrtime(true) - $t;
        return $out;
    }
}

$client = new TimedPixlIPCClient($options['socket'], ['requestTimeout' => 60000, 'connectTimeout' => 5000]);
bench_connect_with_retry(function () use ($client) {
    $client->connect();
});
$ours = ['encode' => [], 'write' => [], 'wait_read_and_decode' => [], 'total' => []];
for ($i = 0; $i < $count; $i++) {
    $client->encodeNs = 0;
    $client->writeNs = 0;
    $t0 = hrtime(true);
    $client->send(BENCH_ECHO_URI, $data);
    $total = hrtime(true) - $t0;
    $ours['encode'][] = $client->encodeNs;
    $ours['write'][] = $client->writeNs;
    $ours['wait_read_and_decode'][] = $total - $client->encodeNs - $client->writeNs;
    $ours['total'][] = $total;
}

echo json_encode([
    'count' => $count,
    'loop' => array_map('median_us', $phases),
    'client' => array_map('median_us', $ours),
]), "\n";
