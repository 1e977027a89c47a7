<?php
/**
 * A tiny test runner for the PHP client tests (no PHPUnit needed).
 *
 * Each test script registers named tests and calls run(). Results go to stdout
 * as JSON lines that test/php.test.js reads:
 *   {"test": "...", "ok": true, "ms": 1.2}
 *   {"test": "...", "ok": false, "error": "..."}
 *   {"signal": "ready"}            (the script asks the mocha side to act)
 *   {"done": true, "passed": N, "failed": M}
 * The exit status is 0 only when every test passed.
 */

require_once __DIR__ . '/../../php-client/PixlIPCClient.class.php';

// Any warning or notice the client lets through is a test failure.
set_error_handler(function ($errno, $errstr, $file, $line) {
    if (!(error_reporting() & $errno)) {
        return false;
    }
    throw new ErrorException($errstr, 0, $errno, $file, $line);
});

class TestFailure extends Exception
{
}

class TestRunner
{
    /** @var array list of [name, callable] */
    private $tests = array();

    /**
     * Registers a test.
     *
     * @param string   $name
     * @param callable $fn
     */
    public function test($name, callable $fn)
    {
        $this->tests[] = array($name, $fn);
    }

    /** Runs every test in order, prints the results and exits. */
    public function run()
    {
        $passed = 0;
        $failed = 0;
        foreach ($this->tests as list($name, $fn)) {
            $start = hrtime(true);
            try {
                $fn();
                $passed++;
                self::emit(array('test' => $name, 'ok' => true, 'ms' => round((hrtime(true) - $start) / 1e6, 2)));
            } catch (Throwable $e) {
                $failed++;
                $where = basename($e->getFile()) . ':' . $e->getLine();
                self::emit(array('test' => $name, 'ok' => false, 'error' => get_class($e) . ': ' . $e->getMessage() . " ($where)"));
            }
        }
        self::emit(array('done' => true, 'passed' => $passed, 'failed' => $failed));
        exit($failed ? 1 : 0);
    }

    /**
     * Tells the mocha side something happened, then (when $waitForReply) waits
     * for its one-line answer on stdin, returned without the line feed.
     *
     * @param string $name
     * @param bool   $waitForReply
     * @return string|null
     */
    public static function signal($name, $waitForReply = false)
    {
        self::emit(array('signal' => $name));
        if (!$waitForReply) {
            return null;
        }
        $reply = fgets(STDIN);
        if ($reply === false) {
            throw new TestFailure("no reply to signal $name");
        }
        return rtrim($reply, "\n");
    }

    /** @param array $record */
    private static function emit(array $record)
    {
        fwrite(STDOUT, json_encode($record, JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE) . "\n");
        fflush(STDOUT);
    }
}

/**
 * A required environment variable set by test/php.test.js.
 *
 * @param string $name
 * @return string
 */
function env($name)
{
    $value = getenv($name);
    if ($value === false || $value === '') {
        throw new TestFailure("environment variable $name is not set");
    }
    return $value;
}

/** Fails unless $actual === $expected. */
function assertSame($expected, $actual, $what = 'value')
{
    if ($expected !== $actual) {
        throw new TestFailure("$what: expected " . describe($expected) . ', got ' . describe($actual));
    }
}

/** Fails unless $condition is true. */
function assertTrue($condition, $what)
{
    if ($condition !== true) {
        throw new TestFailure("expected true: $what");
    }
}

/** Fails unless $haystack contains $needle. */
function assertContains($needle, $haystack, $what = 'string')
{
    if (!is_string($haystack) || strpos($haystack, $needle) === false) {
        throw new TestFailure("$what: expected to contain " . describe($needle) . ', got ' . describe($haystack));
    }
}

/**
 * Runs $fn, which must throw a PixlIPCException with code $code (and, when
 * given, a message equal to $message). Returns the exception.
 *
 * @return PixlIPCException
 */
function expectIPCException($code, callable $fn, $message = null)
{
    try {
        $fn();
    } catch (PixlIPCException $e) {
        assertSame($code, $e->getCode(), 'exception code (message: ' . $e->getMessage() . ')');
        if ($message !== null) {
            assertSame($message, $e->getMessage(), 'exception message');
        }
        return $e;
    }
    throw new TestFailure("expected a PixlIPCException with code $code, none was thrown");
}

/** A short printable form of a value for failure messages. */
function describe($value)
{
    $json = json_encode($value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE);
    if ($json === false) {
        $json = gettype($value);
    }
    return strlen($json) > 200 ? substr($json, 0, 200) . '...(' . strlen($json) . ' bytes)' : $json;
}
