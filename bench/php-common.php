<?php
// Shared by the PHP benchmark scripts: arguments, messages, the measuring loop
// and statistics. Both scripts time the same loop; only the send differs.

const BENCH_ECHO_URI = '/ipcserver/test/echo';

/** Options from `--name=value` arguments. */
function bench_options(array $argv): array {
    $options = [];
    foreach (array_slice($argv, 1) as $arg) {
        if (preg_match('/^--([a-z_]+)=(.*)$/', $arg, $m)) $options[$m[1]] = $m[2];
    }
    foreach (['socket', 'sizes', 'warmup_ms', 'budget_ms', 'min_count', 'max_count', 'warmup_min'] as $name) {
        if (!isset($options[$name])) bench_fail("missing --$name");
    }
    return $options;
}

/** The same message as bench/messages.js sizedMessage(): $keys keys of 1024-character strings. */
function bench_message(int $keys): array {
    $message = [];
    $alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    for ($i = 0; $i < $keys; $i++) {
        $seed = 'k' . $i . ':' . substr($alphabet, $i % 36) . ':';
        $message['key' . $i] = substr(str_repeat($seed, (int) ceil(1024 / strlen($seed))), 0, 1024);
    }
    return $message;
}

/**
 * Round trips of $send($data) one after another, until $maxCount, or until
 * $budgetMs has passed and at least $minCount were done. Returns µs per trip.
 */
function bench_loop(callable $send, array $data, int $maxCount, int $minCount, float $budgetMs): array {
    $samples = [];
    $deadline = hrtime(true) + (int) ($budgetMs * 1e6);
    for ($count = 0; $count < $maxCount; $count++) {
        $started = hrtime(true);
        $send($data);
        $finished = hrtime(true);
        $samples[] = ($finished - $started) / 1000;
        if ($count + 1 >= $minCount && $finished >= $deadline) break;
    }
    return $samples;
}

/** Nearest-rank quantile, as bench/stats.js computes it. */
function bench_quantile(array $sorted, float $q): float {
    $rank = min(count($sorted) - 1, max(0, (int) ceil($q * count($sorted)) - 1));
    return $sorted[$rank];
}

function bench_median(array $sorted): float {
    $n = count($sorted);
    return $n % 2 ? $sorted[($n - 1) / 2] : ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2;
}

/** Warm up, check the echo, measure each size; prints the JSON summary bench/run.js reads. */
function bench_run(array $options, callable $send): void {
    $results = [];
    foreach (explode(',', $options['sizes']) as $keys) {
        $data = bench_message((int) $keys);
        if (json_encode($send($data)) !== json_encode($data)) bench_fail('the server did not echo the message unchanged');
        bench_loop($send, $data, (int) $options['max_count'], (int) $options['warmup_min'], (float) $options['warmup_ms']);
        $samples = bench_loop($send, $data, (int) $options['max_count'], (int) $options['min_count'], (float) $options['budget_ms']);
        sort($samples);
        $result = ['keys' => (int) $keys, 'count' => count($samples), 'median' => bench_median($samples), 'p99' => bench_quantile($samples, 0.99)];
        // --samples=1: every round trip's µs too, so bench/run.js can pool short slices.
        if (!empty($options['samples'])) $result['samples'] = $samples;
        $results[] = $result;
    }
    echo json_encode(['sizes' => $results]), "\n";
}

/**
 * Calls $connect until it succeeds: a full listen backlog refuses a connect
 * with EAGAIN ("try again"), so retry with a growing, jittered pause.
 */
function bench_connect_with_retry(callable $connect, int $attempts = 10) {
    $delayUs = 5000;
    for ($tried = 1; ; $tried++) {
        try {
            return $connect();
        } catch (Throwable $e) {
            if ($tried >= $attempts) throw $e;
            usleep((int) ($delayUs * (0.5 + mt_rand() / mt_getrandmax())));
            $delayUs = min(1000000, $delayUs * 2);
        }
    }
}

function bench_fail(string $message): void {
    fwrite(STDERR, $message . "\n");
    exit(1);
}
