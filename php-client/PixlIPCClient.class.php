<?php
/**
 * PixlIPCClient: a blocking PHP client for a pixl-ipc server.
 *
 * Talks newline-delimited JSON (see PROTOCOL.md) over a Unix socket, TCP or TLS.
 * One request is in flight at a time: send() writes a request and waits for its
 * response. Scripts written for the original pixl-ipc PHP client keep working:
 * same class name, method signatures, error constants, request ids and
 * exception messages.
 *
 * With the `persistent` option a connection outlives the PHP request that
 * opened it and is reused by later requests of the same process (a php-fpm
 * worker), which saves the connect (and authentication) on every page view.
 * It is reused only when known clean (see PixlIPCConnection).
 *
 * Whatever the server does, a call ends by its deadline and the client holds
 * a bounded amount: one line of at most maxMessageSize bytes, at most
 * maxPendingPushes pushes and streamHighWaterMark parts of other streams.
 *
 * PHP 7.4 and 8.x.
 */

require_once __DIR__ . '/PixlIPCException.php';
require_once __DIR__ . '/PixlIPCConnectHint.php';
require_once __DIR__ . '/PixlIPCServerIdentity.php';
require_once __DIR__ . '/PixlIPCConnection.php';

class PixlIPCClient extends PixlIPCConnection
{
    /**
     * @param string     $socketPath a Unix socket path (or unix://path), tcp://host:port or tls://host:port
     * @param array|null $options    see README (docs/php-client.md): requestTimeout (ms, 500),
     *                               connectTimeout (ms, 500), connectRetry (ms, 0), userAgent,
     *                               legacyTimeout (false), codeToErr (false), auth, tls, persistent (false),
     *                               expectServerUid, maxMessageSize (bytes, 32 MiB), maxPendingPushes (1000),
     *                               maxPendingBytes (1 MiB), streamHighWaterMark (256), streamTimeout (ms, 0)
     */
    public function __construct($socketPath, $options = null)
    {
        parent::__construct($socketPath, $options);
    }

    /** Closes the connection (or, when persistent and clean, leaves it for the next user). */
    public function __destruct()
    {
        $this->close();
    }

    /**
     * Opens the connection (closing any open one first) and, when the auth option
     * is set, authenticates. Throws E_SOCKET_CONNECT with the system's reason and
     * what to check, E_SERVER_IDENTITY when the server is not expectServerUid's,
     * E_ACCESS when the credentials are refused, E_TIMEOUT when authentication
     * gets no answer in time.
     *
     * @return void
     */
    public function connect()
    {
        $this->disconnect(false);
        $this->open();
        $this->finishCall();
    }

    /**
     * Closes the connection. Pushed messages already received stay readable.
     * The next send() connects again. A persistent connection stays open for
     * the next user in this process when it is clean; close(true) closes it too.
     * (No declared parameter, as in 1.x, so 1.x subclasses that define close() load.)
     *
     * @return void
     */
    public function close()
    {
        $args = func_get_args();
        $this->disconnect(!empty($args[0]));
    }

    /**
     * Sends a request and waits for its response. Connects first if needed.
     * $request is taken by reference, as in 1.x (so 1.x subclasses overriding
     * send() load); it is never changed. call() takes it by value.
     *
     * @param string       $uri     which server handler runs the request
     * @param array|object $request the request data
     * @return mixed the response's data, decoded with associative arrays (null when
     *               the handler answered nothing); false on a timeout with legacyTimeout
     * @throws PixlIPCException E_BAD_REQUEST_TYPE, E_SOCKET_CONNECT, E_SERVER_IDENTITY, E_SOCKET_WRITE,
     *         E_BAD_RESPONSE, E_SERVER_CLOSE, E_TIMEOUT, E_ACCESS, E_SERVER_ERROR, E_RESPONSE_TOO_LARGE
     */
    public function send($uri, &$request)
    {
        return $this->request($uri, $request);
    }

    /**
     * send() taking the data by value: `$ipc->call('/users/get', ['id' => 42])`.
     *
     * @param string       $uri
     * @param array|object $data
     * @return mixed
     */
    public function call($uri, $data)
    {
        return $this->request($uri, $data);
    }

    /**
     * Sends a request that accepts a streamed answer ("stream": true) and yields
     * each part as it arrives; the generator's return value (getReturn()) is the
     * final answer's data. The request goes out when iteration starts. Leaving the
     * loop early (break, an exception, the generator destroyed, the page dying)
     * cancels the request on the server. requestTimeout bounds the wait for each
     * part; streamTimeout (when set) the whole stream.
     *
     * @param string       $uri
     * @param array|object $data
     * @return Generator
     * @throws PixlIPCException E_BAD_REQUEST_TYPE at once; the others while iterating
     */
    public function stream($uri, $data)
    {
        return $this->streamParts($uri, $this->encode($uri), $this->encodeData($data));
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
        $json = $this->encodeData($data);
        $deadline = $this->ready();
        try {
            $this->writeRequestOnce('{"noReply":true,"uri":' . $this->encode($uri) . ',"data":', $json, $this->plainTail, $deadline);
        } finally {
            $this->finishCall();
        }
    }

    /**
     * The next message the server pushed (broadcasts, connection.push()), as an
     * array with "uri" and "data". Messages that arrived while send() waited are
     * returned first, in order. Waits up to $timeoutMs for one (0: only what has
     * already arrived). Returns null when there is none. At most maxPendingPushes
     * (and maxPendingBytes) are kept; older ones are dropped (droppedPushCount()).
     *
     * @param int|float $timeoutMs
     * @return array|null
     * @throws PixlIPCException E_SERVER_CLOSE, E_BAD_RESPONSE, E_RESPONSE_TOO_LARGE
     */
    public function readPush($timeoutMs = 0)
    {
        if ($this->pushes) {
            return $this->takePush();
        }
        if ($this->fp === null) {
            return null;
        }
        $this->beginCall();
        try {
            $deadline = hrtime(true) + (int)round(max(0, $timeoutMs) * 1000000);
            // An id no response can have: every response read here is a stale one.
            $this->awaitResponse(false, $deadline, true);
        } finally {
            $this->finishCall();
        }
        return $this->pushes ? $this->takePush() : null;
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
     * How many pushes were dropped because maxPendingPushes or maxPendingBytes
     * was reached before readPush() took them.
     *
     * @return int
     */
    public function droppedPushCount()
    {
        return $this->droppedPushes;
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
     * send() and call(): one request, one answer, one deadline (requestTimeout
     * from when the connection is open, authentication included).
     *
     * @param string $uri
     * @param mixed  $data
     * @return mixed
     */
    protected function request($uri, $data)
    {
        $json = $this->encodeData($data);
        $head = '{"ipcReqID":"' . ($id = $this->nextID()) . '","uri":' . $this->encodeUri($uri) . ',"data":';
        $deadline = $this->ready();
        try {
            $msg = $this->exchange($head, $json, $id, $deadline);
            if ($msg !== null && isset($msg['code']) && $msg['code'] === 'shutting_down' && $this->persistent) {
                // Refused before it ran: a restarting daemon. Once more on a new connection, in the time left.
                $this->disconnect(true);
                $this->open();
                $msg = $this->exchange($head, $json, $id, $deadline);
            }
            if ($msg === null) {
                // The server may still be working on it: stop it, and drop its answer if it comes.
                if ($this->fp !== null) {
                    $this->cancel($id);
                }
                if ($this->legacyTimeout) {
                    return false;
                }
                throw new PixlIPCException("Request $id to $uri timed out after {$this->timeoutMs} ms", self::E_TIMEOUT);
            }
            if (isset($msg['code'])) {
                if ($msg['code'] === 'deadline_exceeded' && $this->legacyTimeout) {
                    return false;
                }
                $this->throwServerError($msg);
            }
            return $this->dataOf($msg);
        } finally {
            $this->finishCall();
        }
    }

    /**
     * Writes the request line ($head, the data's JSON, the request tail) and
     * returns the answer to $id, or null at the deadline. The usual call (a
     * line under JOIN_LIMIT, no bytes held, the answer the first thing to
     * arrive) takes one write and one read here, with no calls in between;
     * anything else goes on through writeRequestOnce() and awaitAnswer().
     *
     * @param string $head
     * @param string $json
     * @param string $id
     * @param int    $deadline
     * @return array|null
     */
    protected function exchange($head, $json, $id, $deadline)
    {
        if (strlen($json) >= self::JOIN_LIMIT || isset(self::$received[$this->routeKey])) {
            $this->writeRequestOnce($head, $json, $this->requestTail, $deadline);
            return $this->awaitAnswer($id, $deadline);
        }
        $line = $head . $json . $this->requestTail;
        stream_set_timeout($this->fp, 0, self::NO_WAIT_US);
        $n = @fwrite($this->fp, $line);
        if ($n !== strlen($line)) {
            // Nothing went out (a full or closed socket): writeRequestOnce() tells them apart,
            // waits or retries. Part went out: writeLine() sends the rest.
            if (!$n) {
                $this->writeRequestOnce($head, $json, $this->requestTail, $deadline);
            } else {
                $this->writeLine(substr($line, $n), $deadline);
            }
            return $this->awaitAnswer($id, $deadline);
        }
        $bytes = $this->receive($deadline, min(self::READ_PIECE_BYTES, $this->maxMessageSize + 1));
        if ($bytes === null) {
            return null;
        }
        if (strpos($bytes, "\n") === strlen($bytes) - 1) {
            $msg = json_decode($bytes, true);
            if (is_array($msg) && isset($msg['ipcReqID']) && $msg['ipcReqID'] === $id && !array_key_exists('part', $msg)) {
                return $msg;
            }
        }
        // A push, a late answer, part of a line, several lines: read on as lines.
        self::$received[$this->routeKey] = array($bytes, 0);
        return $this->awaitAnswer($id, $deadline);
    }

    /**
     * The answer to request $id, or null at the deadline. Parts are not an
     * answer: a request sent without "stream" has none, so they are dropped.
     *
     * @param string $id
     * @param int    $deadline
     * @return array|null
     */
    protected function awaitAnswer($id, $deadline)
    {
        do {
            $msg = $this->awaitResponse($id, $deadline);
        } while ($msg !== null && array_key_exists('part', $msg));
        return $msg;
    }

    /**
     * The generator behind stream().
     *
     * @param string $uri
     * @param string $uriJson
     * @param string $dataJson
     * @return Generator
     */
    protected function streamParts($uri, $uriJson, $dataJson)
    {
        $id = $this->nextID();
        $deadline = $this->ready();
        $streamDeadline = $this->streamTimeoutNs > 0 ? hrtime(true) + $this->streamTimeoutNs : PHP_INT_MAX;
        $routeKey = $this->routeKey;
        self::$streamQueues[$routeKey][$id] = array();
        $fp = null;
        $finished = false;
        try {
            $this->writeRequestOnce('{"ipcReqID":"' . $id . '","uri":' . $uriJson . ',"stream":true,"data":', $dataJson, $this->plainTail, $deadline);
            // The connection the request went out on (a write retry may have replaced it).
            $fp = $this->fp;
            while (true) {
                $queued = isset(self::$streamQueues[$routeKey][$id]) ? self::$streamQueues[$routeKey][$id] : array();
                if ($queued instanceof PixlIPCException) {
                    throw $queued;
                }
                if ($queued) {
                    list($msg, $bytes) = array_shift(self::$streamQueues[$routeKey][$id]);
                    self::$queuedBytes[$routeKey][$id] -= $bytes;
                } else {
                    if ($this->fp !== $fp) {
                        throw new PixlIPCException(self::SERVER_CLOSE_MESSAGE, self::E_SERVER_CLOSE);
                    }
                    $partDeadline = min(hrtime(true) + $this->timeoutNs, $streamDeadline);
                    $msg = $this->awaitResponse($id, $partDeadline);
                    if ($msg === null) {
                        $what = $partDeadline === $streamDeadline ? "not finished after streamTimeout"
                            : "nothing arrived for {$this->timeoutMs} ms";
                        throw new PixlIPCException("Stream $id from $uri: $what", self::E_TIMEOUT);
                    }
                }
                if (array_key_exists('part', $msg)) {
                    yield $msg['part'];
                    continue;
                }
                $finished = true;
                if (isset($msg['code'])) {
                    $this->throwServerError($msg);
                }
                return $this->dataOf($msg);
            }
        } finally {
            unset(self::$streamQueues[$routeKey][$id], self::$queuedBytes[$routeKey][$id]);
            if ($this->fp !== null && $this->fp === $fp) {
                if (!$finished) {
                    $this->cancel($id);
                }
                $this->finishCall();
            } elseif ($fp === null) {
                $this->finishCall();
            }
        }
    }

    /**
     * The answer's data; with codeToErr, data carrying a truthy code throws.
     *
     * @param array $msg
     * @return mixed
     */
    protected function dataOf(array $msg)
    {
        $data = isset($msg['data']) ? $msg['data'] : null;
        if ($this->codeToErr && is_array($data) && !empty($data['code'])) {
            $code = (string)$data['code'];
            $text = isset($data['message']) ? (string)$data['message'] : $code;
            throw new PixlIPCException("Server error $code: $text", $code === 'access' ? self::E_ACCESS : self::E_SERVER_ERROR, $code, $data);
        }
        if ($this->goingAway) {
            $this->disconnect(true);
        }
        return $data;
    }

    /**
     * The id of the next request, as in 1.x (a subclass may override it).
     *
     * @return string
     */
    protected function nextID()
    {
        return $this->idPrefix . $this->serialCounter++;
    }
}
