<?php
/**
 * PixlIPCClient: a blocking PHP client for a pixl-ipc server.
 *
 * Talks newline-delimited JSON (see PROTOCOL.md) over a Unix socket, TCP or TLS.
 * One request is in flight at a time: send() writes a request and waits for its
 * response. Scripts written for the original pixl-ipc PHP client keep working:
 * same class name, error constants, request ids and exception messages.
 *
 * PHP 7.4 and 8.x.
 */

/**
 * The exception every PixlIPCClient method throws. getCode() is one of the
 * PixlIPCClient::E_* constants; getServerCode() is the server's error code
 * (such as "access" or "handler_error") when the server sent one.
 */
class PixlIPCException extends Exception
{
    /** @var string|null */
    protected $serverCode;

    /**
     * @param string      $message    human-readable reason
     * @param int         $code       one of the PixlIPCClient::E_* constants
     * @param string|null $serverCode the server's error code, if it sent one
     */
    public function __construct($message, $code, $serverCode = null)
    {
        parent::__construct($message, $code);
        $this->serverCode = $serverCode;
    }

    /**
     * The server's error code (for example "access"), or null when the error
     * happened on the client side.
     *
     * @return string|null
     */
    public function getServerCode()
    {
        return $this->serverCode;
    }
}

class PixlIPCClient
{
    /** connect() failed: no socket, permission denied, refused, TLS failure. */
    const E_SOCKET_CONNECT = 5001;
    /** The request data was not an array or object (or could not be JSON-encoded). */
    const E_BAD_REQUEST_TYPE = 5002;
    /** The request could not be written in full. */
    const E_SOCKET_WRITE = 5003;
    /** A line from the server was not a JSON object. */
    const E_BAD_RESPONSE = 5004;
    /** The server closed the connection; the next call reconnects. */
    const E_SERVER_CLOSE = 5005;
    /** No response within requestTimeout (unless legacyTimeout is on). */
    const E_TIMEOUT = 5006;
    /** Authentication was refused or is required (server code "access"). */
    const E_ACCESS = 5007;
    /** The server answered with an error code (handler_error, bad_request, ...). */
    const E_SERVER_ERROR = 5008;

    /** Server codes after which the server closes the connection. */
    const CLOSING_CODES = array(
        'message_too_large' => true,
        'too_many_connections' => true,
        'shutting_down' => true,
        'idle_timeout' => true,
        'auth_timeout' => true,
    );

    const SERVER_CLOSE_MESSAGE = 'Server closed the connection (readMessage)';

    /** Request data at least this long (bytes of JSON) is written apart from the rest of its line. */
    const JOIN_LIMIT = 65536;

    const JSON_FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION;

    /** @var string the target as given */
    protected $target;
    /** @var string address handed to stream_socket_client() */
    protected $address;
    /** @var bool */
    protected $isTls;
    /** @var resource|null the connected stream */
    protected $fp = null;
    /** @var int request timeout in nanoseconds (for deadlines) */
    protected $timeoutNs;
    /** @var int whole seconds of the request timeout */
    protected $timeoutSec;
    /** @var int microseconds part of the request timeout */
    protected $timeoutUsec;
    /** @var int request timeout in milliseconds, as configured */
    protected $timeoutMs;
    /** @var float connect timeout in seconds */
    protected $connectTimeout;
    /** @var bool true while the stream has a shortened read timeout that must be put back */
    protected $timeoutChanged = false;
    /** @var bool */
    protected $legacyTimeout;
    /** @var mixed credentials for /ipcserver/auth, null for none */
    protected $auth;
    /** @var array SSL context options for tls:// targets */
    protected $tlsOptions;
    /** @var int */
    protected $serialCounter = 0;
    /** @var int */
    protected $authCounter = 0;
    /** @var int */
    protected $pid;
    /** @var string */
    protected $userAgent;
    /** @var string the end of every request line: pid, userAgent, closing brace, line feed */
    protected $requestTail;
    /** @var string bytes of a line whose end has not arrived yet (after a timeout) */
    protected $partial = '';
    /** @var array pushed messages (no ipcReqID) set aside while waiting for responses */
    protected $pushes = array();

    /**
     * @param string     $target  a Unix socket path (or unix://path), tcp://host:port or tls://host:port
     * @param array|null $options requestTimeout (ms, 500), connectTimeout (ms, 500),
     *                            userAgent ("PHP/PixlIPCClient" . getcwd()), legacyTimeout (false:
     *                            a timeout throws E_TIMEOUT; true: send() returns false),
     *                            auth (credentials sent to /ipcserver/auth on every connect),
     *                            tls (SSL stream context options, e.g. cafile, peer_name)
     */
    public function __construct($target, $options = null)
    {
        $options = is_array($options) ? $options : array();
        $this->target = $target;
        $this->pid = getmypid();

        $this->timeoutMs = isset($options['requestTimeout']) ? $options['requestTimeout'] : 500;
        $this->timeoutNs = (int)round($this->timeoutMs * 1000000);
        $this->timeoutSec = (int)floor($this->timeoutMs / 1000);
        $this->timeoutUsec = (int)round(($this->timeoutMs - $this->timeoutSec * 1000) * 1000);
        $this->connectTimeout = (isset($options['connectTimeout']) ? $options['connectTimeout'] : 500) / 1000.0;
        $this->legacyTimeout = !empty($options['legacyTimeout']);
        $this->auth = isset($options['auth']) ? $options['auth'] : null;
        $this->tlsOptions = isset($options['tls']) && is_array($options['tls']) ? $options['tls'] : array();
        $this->userAgent = isset($options['userAgent']) ? (string)$options['userAgent'] : 'PHP/PixlIPCClient' . getcwd();

        if (preg_match('#^(tcp|tls|ssl|unix)://#', $target, $m)) {
            $this->address = $target;
            $this->isTls = ($m[1] === 'tls' || $m[1] === 'ssl');
        } else {
            $this->address = 'unix://' . $target;
            $this->isTls = false;
        }

        // Everything after "data" is the same for every request: encode it once.
        $this->requestTail = ',"pid":' . $this->pid . ',"userAgent":'
            . json_encode($this->userAgent, self::JSON_FLAGS | JSON_INVALID_UTF8_SUBSTITUTE) . "}\n";
    }

    /** Closes the connection when the object goes away. */
    public function __destruct()
    {
        $this->close();
    }

    /**
     * Opens the connection (closing any open one first) and, when the auth option
     * is set, authenticates. Throws E_SOCKET_CONNECT with the system's reason
     * ("No such file or directory", "Permission denied", "Connection refused", ...),
     * E_ACCESS when the credentials are refused, E_TIMEOUT when authentication
     * gets no answer in time.
     *
     * @return void
     */
    public function connect()
    {
        $this->close();
        $errno = 0;
        $errstr = '';
        $warnings = array();
        // Collect PHP's warnings: for TLS failures they hold the only explanation.
        set_error_handler(function ($type, $message) use (&$warnings) {
            $warnings[] = $message;
            return true;
        });
        try {
            $context = stream_context_create($this->isTls ? array('ssl' => $this->tlsOptions) : array());
            $fp = stream_socket_client($this->address, $errno, $errstr, $this->connectTimeout, STREAM_CLIENT_CONNECT, $context);
        } finally {
            restore_error_handler();
        }
        if (!$fp) {
            if ($errstr === '' || $errstr === null) {
                $errstr = $warnings ? implode('; ', $warnings) : 'unknown error';
            }
            throw new PixlIPCException("PixlIPCClient.connect(): stream_socket_client() failed: reason: $errno, $errstr", self::E_SOCKET_CONNECT);
        }
        stream_set_timeout($fp, $this->timeoutSec, $this->timeoutUsec);
        $this->fp = $fp;
        $this->partial = '';
        $this->timeoutChanged = false;

        if ($this->auth !== null) {
            $this->authenticate();
        }
    }

    /**
     * True while a connection is open (as far as the client knows: a server-side
     * close is noticed on the next call).
     *
     * @return bool
     */
    public function isConnected()
    {
        return $this->fp !== null;
    }

    /**
     * Sends a request and waits for its response. Connects first if needed.
     *
     * @param string       $uri  which server handler runs the request
     * @param array|object $data the request data
     * @return mixed the response's data, decoded with associative arrays (null when
     *               the handler answered nothing); false on a timeout with legacyTimeout
     * @throws PixlIPCException E_BAD_REQUEST_TYPE, E_SOCKET_CONNECT, E_SOCKET_WRITE,
     *         E_BAD_RESPONSE, E_SERVER_CLOSE, E_TIMEOUT, E_ACCESS, E_SERVER_ERROR
     */
    public function send($uri, $data)
    {
        if (!is_array($data) && !is_object($data)) {
            throw new PixlIPCException('Request must be an object or associative array', self::E_BAD_REQUEST_TYPE);
        }
        $start = hrtime(true);
        if ($this->fp === null) {
            $this->connect();
        } elseif ($this->timeoutChanged) {
            $this->restoreTimeout();
        }
        $id = 'rq' . $this->serialCounter++;
        $this->writeRequest('{"ipcReqID":"' . $id . '","uri":' . $this->encode($uri) . ',"data":', $this->encode($data));

        // Fast path: the next line is our whole response.
        $line = fgets($this->fp);
        if ($line !== false && $this->partial === '' && $line[-1] === "\n") {
            $msg = json_decode($line, true);
            if (isset($msg['ipcReqID']) && $msg['ipcReqID'] === $id && !isset($msg['code'])) {
                return isset($msg['data']) ? $msg['data'] : null;
            }
        }

        $msg = $this->awaitResponse($id, $line, $start + $this->timeoutNs);
        if ($msg === null) {
            if ($this->legacyTimeout) {
                return false;
            }
            throw new PixlIPCException("Request $id to $uri timed out after {$this->timeoutMs} ms", self::E_TIMEOUT);
        }
        if (isset($msg['code'])) {
            $this->throwServerError($msg);
        }
        return isset($msg['data']) ? $msg['data'] : null;
    }

    /**
     * Fire-and-forget: sends a request the server runs without answering
     * ("noReply": true, no ipcReqID). Returns once the line is written.
     *
     * @param string       $uri
     * @param array|object $data
     * @return void
     * @throws PixlIPCException E_BAD_REQUEST_TYPE, E_SOCKET_CONNECT, E_SOCKET_WRITE, E_SERVER_CLOSE
     */
    public function notify($uri, $data)
    {
        if (!is_array($data) && !is_object($data)) {
            throw new PixlIPCException('Request must be an object or associative array', self::E_BAD_REQUEST_TYPE);
        }
        if ($this->fp === null) {
            $this->connect();
        }
        $this->writeRequest('{"noReply":true,"uri":' . $this->encode($uri) . ',"data":', $this->encode($data));
    }

    /**
     * The next message the server pushed (broadcasts, connection.push()), as an
     * array with "uri" and "data". Messages that arrived while send() waited are
     * returned first, in order. Waits up to $timeoutMs for one (0: only what has
     * already arrived). Returns null when there is none.
     *
     * @param int|float $timeoutMs
     * @return array|null
     * @throws PixlIPCException E_SERVER_CLOSE, E_BAD_RESPONSE
     */
    public function readPush($timeoutMs = 0)
    {
        if ($this->pushes) {
            return array_shift($this->pushes);
        }
        if ($this->fp === null) {
            return null;
        }
        $deadline = hrtime(true) + (int)round(max(0, $timeoutMs) * 1000000);
        // An id no response can have: every response read here is a stale one.
        $this->awaitResponse(false, false, $deadline, true);
        return $this->pushes ? array_shift($this->pushes) : null;
    }

    /**
     * How many pushed messages are waiting to be read with readPush() without
     * touching the socket.
     *
     * @return int
     */
    public function pendingPushCount()
    {
        return count($this->pushes);
    }

    /**
     * Closes the connection. Pushed messages already received stay readable.
     * The next send() connects again.
     *
     * @return void
     */
    public function close()
    {
        if ($this->fp !== null) {
            $fp = $this->fp;
            $this->fp = null;
            @stream_socket_shutdown($fp, STREAM_SHUT_RDWR);
            @fclose($fp);
        }
        $this->partial = '';
        $this->timeoutChanged = false;
    }

    /**
     * JSON for the request line; unencodable data is the caller's mistake.
     *
     * @param mixed $value
     * @return string
     */
    protected function encode($value)
    {
        $json = json_encode($value, self::JSON_FLAGS);
        if ($json === false) {
            throw new PixlIPCException('Request could not be encoded as JSON: ' . json_last_error_msg(), self::E_BAD_REQUEST_TYPE);
        }
        return $json;
    }

    /**
     * Writes a request line: $head, the encoded data, then the shared tail.
     * Large data goes out as its own write: joining it to the rest would copy
     * it twice more, which costs as much as encoding it (measured at 1 MiB).
     *
     * @param string $head
     * @param string $dataJson
     * @return void
     */
    protected function writeRequest($head, $dataJson)
    {
        if (strlen($dataJson) < self::JOIN_LIMIT) {
            $this->writeLine($head . $dataJson . $this->requestTail);
            return;
        }
        $this->writeLine($head);
        $this->writeLine($dataJson);
        $this->writeLine($this->requestTail);
    }

    /**
     * Writes a whole line, looping when the socket takes it in parts.
     *
     * @param string $line
     * @return void
     */
    protected function writeLine($line)
    {
        $expected = strlen($line);
        $n = @fwrite($this->fp, $line);
        if ($n === $expected) {
            return;
        }
        $written = 0;
        while ($n !== false && $n !== 0) {
            $written += $n;
            if ($written >= $expected) {
                return;
            }
            $n = @fwrite($this->fp, substr($line, $written));
        }
        $timedOut = stream_get_meta_data($this->fp)['timed_out'];
        // Either way this connection is unusable (part of a line may be on the wire).
        $this->close();
        if (!$timedOut) {
            // Broken pipe or connection reset: the server went away.
            throw new PixlIPCException(self::SERVER_CLOSE_MESSAGE, self::E_SERVER_CLOSE);
        }
        throw new PixlIPCException("Socket write error, did not write expected number of bytes $written vs. $expected", self::E_SOCKET_WRITE);
    }

    /**
     * Reads lines until the response with id $id arrives (returned, decoded),
     * the deadline passes (null), or, with $untilPush, a pushed message arrives.
     * Pushes are set aside in $this->pushes; stale responses are dropped.
     *
     * @param string|false $id       the request id, false when waiting for pushes only
     * @param string|false $line     a line already read by fgets(), or false
     * @param int          $deadline hrtime(true) value
     * @param bool         $untilPush return as soon as a push has been set aside
     * @return array|null
     */
    protected function awaitResponse($id, $line, $deadline, $untilPush = false)
    {
        $first = ($line !== false);
        while (true) {
            if (!$first) {
                $line = $this->readChunk($deadline);
            }
            $first = false;
            if ($this->partial !== '' || $line === false || $line[-1] !== "\n") {
                $line = $this->completeLine($line, $deadline);
                if ($line === null) {
                    return null;
                }
            }
            $msg = $this->decodeLine($line);
            if ($msg === null) {
                continue;
            }
            if (!array_key_exists('ipcReqID', $msg)) {
                $this->pushes[] = $msg;
                if ($untilPush) {
                    return null;
                }
            } elseif ($msg['ipcReqID'] === $id) {
                return $msg;
            } elseif ($msg['ipcReqID'] === null && isset($msg['code'])) {
                // An error about the connection itself (idle_timeout, too_many_connections, ...).
                $this->throwServerError($msg);
            }
            // Otherwise: the late answer to a request that timed out. Drop it.
        }
    }

    /**
     * One fgets() bounded by the deadline (the stream's timeout is shortened to
     * the time left and put back by the next send()).
     *
     * @param int $deadline
     * @return string|false
     */
    protected function readChunk($deadline)
    {
        $left = $deadline - hrtime(true);
        $usec = $left > 0 ? intdiv($left, 1000) : 0;
        stream_set_timeout($this->fp, intdiv($usec, 1000000), $usec % 1000000);
        $this->timeoutChanged = true;
        return fgets($this->fp);
    }

    /**
     * Joins what fgets() returned with any earlier partial line and keeps reading
     * until a line feed. Returns the whole line, or null at the deadline (the
     * bytes read so far are kept for next time). Throws E_SERVER_CLOSE at end of file.
     *
     * @param string|false $line
     * @param int          $deadline
     * @return string|null
     */
    protected function completeLine($line, $deadline)
    {
        $buffer = $this->partial . ($line === false ? '' : $line);
        $this->partial = '';
        while ($buffer === '' || $buffer[-1] !== "\n") {
            // The eof flag of the last read; feof() itself would wait on the socket.
            if (stream_get_meta_data($this->fp)['eof']) {
                $this->close();
                throw new PixlIPCException(self::SERVER_CLOSE_MESSAGE, self::E_SERVER_CLOSE);
            }
            if (hrtime(true) >= $deadline) {
                $this->partial = $buffer;
                return null;
            }
            $chunk = $this->readChunk($deadline);
            if ($chunk !== false) {
                $buffer .= $chunk;
            }
        }
        return $buffer;
    }

    /**
     * Decodes one line: an array, or null for a blank line.
     *
     * @param string $line
     * @return array|null
     */
    protected function decodeLine($line)
    {
        $msg = json_decode($line, true);
        if (is_array($msg)) {
            return $msg;
        }
        if (trim($line) === '') {
            return null;
        }
        throw new PixlIPCException('Could not json_decode response, details:' . json_last_error(), self::E_BAD_RESPONSE);
    }

    /**
     * Throws the exception for an error response; closes the connection when
     * the server closes it after this code.
     *
     * @param array $msg
     * @return void
     */
    protected function throwServerError(array $msg)
    {
        $code = (string)$msg['code'];
        $text = isset($msg['message']) ? (string)$msg['message'] : '';
        if (isset(self::CLOSING_CODES[$code])) {
            $this->close();
            throw new PixlIPCException(self::SERVER_CLOSE_MESSAGE . ": $code: $text", self::E_SERVER_CLOSE, $code);
        }
        $errorCode = ($code === 'access') ? self::E_ACCESS : self::E_SERVER_ERROR;
        throw new PixlIPCException("Server error $code: $text", $errorCode, $code);
    }

    /**
     * Sends the auth option's credentials to /ipcserver/auth and checks the answer.
     *
     * @return void
     */
    protected function authenticate()
    {
        $id = 'auth' . (++$this->authCounter);
        $start = hrtime(true);
        $this->writeLine('{"ipcReqID":"' . $id . '","uri":"/ipcserver/auth","data":' . $this->encode($this->auth) . $this->requestTail);
        $msg = $this->awaitResponse($id, false, $start + $this->timeoutNs);
        if ($msg === null) {
            $this->close();
            throw new PixlIPCException("Authentication timed out after {$this->timeoutMs} ms", self::E_TIMEOUT);
        }
        if (isset($msg['code']) || empty($msg['data']['authenticated'])) {
            $this->close();
            $code = isset($msg['code']) ? (string)$msg['code'] : 'access';
            $text = isset($msg['message']) ? (string)$msg['message'] : 'not authenticated';
            throw new PixlIPCException("Authentication refused: $code: $text", self::E_ACCESS, $code);
        }
    }

    /**
     * Puts back the configured read timeout after a read that shortened it.
     *
     * @return void
     */
    protected function restoreTimeout()
    {
        stream_set_timeout($this->fp, $this->timeoutSec, $this->timeoutUsec);
        $this->timeoutChanged = false;
    }
}
