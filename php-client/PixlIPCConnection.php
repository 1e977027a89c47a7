<?php
/**
 * The connection under PixlIPCClient: options, connecting (identity check,
 * connect hints, authentication), persistent sockets and when they may be
 * reused, and reading and writing lines within a deadline and a memory bound.
 *
 * Reused persistent sockets. A php-fpm page can die at any point (memory_limit,
 * max_execution_time), and the socket it used goes to the next page of that
 * worker. The only state that survives the page is the socket itself, so the
 * socket carries the marker: its PHP chunk size is BUSY_CHUNK_BYTES while a call
 * runs on it (set before the first byte is written, put back to
 * IDLE_CHUNK_BYTES once the call is over and no stream runs), and
 * stream_set_chunk_size() returns the previous value. A socket found BUSY by
 * a later page was left mid-call: it is closed, never read. A socket found IDLE
 * is reused when it holds no more than LEFTOVER_LIMIT bytes of whole lines (late
 * answers of timed-out calls); otherwise it is closed too. After a fatal error
 * a shutdown function closes the sockets still busy, which also stops, on the
 * server, the streams they carried.
 */
abstract class PixlIPCConnection
{
    /** connect() failed: no socket, permission denied, refused, TLS failure. */
    const E_SOCKET_CONNECT = 5001;
    /** The request data was not an array or object (or could not be JSON-encoded). */
    const E_BAD_REQUEST_TYPE = 5002;
    /** The request could not be written in full (in time). */
    const E_SOCKET_WRITE = 5003;
    /** A line from the server was not a JSON object (or not UTF-8). */
    const E_BAD_RESPONSE = 5004;
    /** The server closed the connection; the next call reconnects. */
    const E_SERVER_CLOSE = 5005;
    /** No response within requestTimeout (unless legacyTimeout is on), or the server's deadline_exceeded. */
    const E_TIMEOUT = 5006;
    /** Authentication was refused or is required (server code "access"). */
    const E_ACCESS = 5007;
    /** The server answered with an error code (handler_error, bad_request, ...). */
    const E_SERVER_ERROR = 5008;
    /** The server sent a line longer than maxMessageSize, or a stream overflowed streamHighWaterMark. */
    const E_RESPONSE_TOO_LARGE = 5009;
    /** expectServerUid: the socket is served by another user (or that cannot be told); nothing was sent. */
    const E_SERVER_IDENTITY = 5010;

    /** Server codes after which the server closes the connection (CLOSING_CODES in lib/protocol.ts). */
    const CLOSING_CODES = array(
        'message_too_large' => true,
        'too_many_connections' => true,
        'shutting_down' => true,
        'idle_timeout' => true,
        'auth_timeout' => true,
        'line_timeout' => true,
        'overloaded' => true,
    );

    /** The push a stopping server sends to every connection: send nothing more on it. */
    const GOAWAY_URI = '/ipcserver/goaway';
    /** The control message that cancels a request (a stream closed early, a timed-out call). */
    const CANCEL_URI = '/ipcserver/cancel';

    const SERVER_CLOSE_MESSAGE = 'Server closed the connection (readMessage)';

    /** Request data at least this long (bytes of JSON) is written apart from the rest of its line. */
    const JOIN_LIMIT = 65536;
    /** Bytes per write of a long line (a slice, so a slow reader costs no quadratic copying). */
    const WRITE_SLICE_BYTES = 262144;

    /** Hash bits that tell apart persistent Unix sockets opened with different credentials. */
    const KEY_BITS = 32;
    /** The longest Unix socket path the kernel takes (sun_path less its NUL). */
    const MAX_UNIX_PATH = 107;

    /** PHP's read size on an idle socket; also the "clean" marker (see the class comment). */
    const IDLE_CHUNK_BYTES = 65536;
    /** PHP's read size while a call runs; also the "busy" marker. */
    const BUSY_CHUNK_BYTES = 65537;
    /** Most bytes one read asks for (fread() allocates all it asks for). */
    const READ_PIECE_BYTES = 65536;
    /**
     * Longest wait inside one fread(), ms. PHP restarts an interrupted wait with
     * its whole timeout, so a CLI worker whose signals (pcntl_alarm, SIGCHLD)
     * come more often than its wait would never see the deadline pass.
     */
    const WAIT_SLICE_MS = 10;
    /**
     * The timeout (µs) that makes fread()/fwrite() take only what is ready: PHP's
     * poll() rounds it down to no wait, while a timeout of 0 means "no limit"
     * to PHP's TLS streams.
     */
    const NO_WAIT_US = 1;
    /** Bytes of late answers a reused persistent socket may hold; more and it is replaced. */
    const LEFTOVER_LIMIT = 65536;

    const MiB = 1048576;

    const JSON_FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION;

    /**
     * Lines for streams being read, per connection: routeKey => id => list of
     * [message, bytes] (or a PixlIPCException once the stream overflowed). Static
     * because several client objects in one PHP request may share one
     * persistent socket, and whichever reads a line hands it on.
     *
     * @var array
     */
    protected static $streamQueues = array();
    /** @var array routeKey => bytes of lines queued for that connection's streams */
    protected static $queuedBytes = array();
    /**
     * Bytes read from a connection and not yet taken as lines: routeKey =>
     * [bytes, offset of the first byte not taken]; no entry when none are held.
     * The socket is read unbuffered (see receive()), so these are the only bytes
     * held between reads; static for the reason the stream queues are.
     *
     * @var array
     */
    protected static $received = array();
    /** @var array routeKey => [socket, number of calls running on it], this PHP request's busy persistent sockets */
    protected static $busySockets = array();
    /** @var bool whether this PHP request registered closeBusySocketsAfterFatal() */
    protected static $shutdownRegistered = false;

    /** @var string the target as given */
    protected $target;
    /** @var string address handed to stream_socket_client() */
    protected $address;
    /** @var string|null unix socket path (as in 1.x), null for tcp/tls */
    protected $socketPath;
    /** @var bool */
    protected $isTls;
    /** @var resource|null the connected stream */
    protected $fp = null;
    /** @var bool the persistent option */
    protected $persistent;
    /** @var string|null what stream_socket_client() keys persistent sockets by; null when not persistent */
    protected $persistentAddress = null;
    /** @var string which static stream queues belong to this connection */
    protected $routeKey;
    /** @var int request timeout in nanoseconds */
    protected $timeoutNs;
    /** @var int request timeout in milliseconds, as configured */
    protected $timeoutMs;
    /** @var int whole-stream deadline in nanoseconds, 0 for none */
    protected $streamTimeoutNs;
    /** @var float connect timeout in seconds */
    protected $connectTimeout;
    /** @var int how long (ns) connect failures that sent nothing are retried */
    protected $connectRetryNs;
    /** @var bool */
    protected $legacyTimeout;
    /** @var bool */
    protected $codeToErr;
    /** @var mixed credentials for /ipcserver/auth, null for none */
    protected $auth;
    /** @var array SSL context options for tls:// targets */
    protected $tlsOptions;
    /** @var int|null the uid the server must run as, null for anyone */
    protected $expectServerUid;
    /** @var int longest line held, bytes */
    protected $maxMessageSize;
    /** @var int pushes held for readPush() */
    protected $maxPendingPushes;
    /** @var int bytes of pushes held, and of parts queued per other stream */
    protected $maxPendingBytes;
    /** @var int parts queued per stream not being read */
    protected $streamHighWaterMark;
    /** @var string prefix of request ids: "rq", or "rq<random>-" on persistent connections */
    protected $idPrefix;
    /** @var int */
    protected $serialCounter = 0;
    /** @var int */
    protected $authCounter = 0;
    /** @var int */
    protected $pid;
    /** @var string */
    protected $userAgent;
    /** @var string the end of send() lines: timeoutMs, pid, userAgent, closing brace, line feed */
    protected $requestTail;
    /** @var string the end of other lines (no timeoutMs) */
    protected $plainTail;
    /** @var string|null the string uri last encoded by encodeUri() */
    protected $lastUri = null;
    /** @var string its JSON */
    protected $lastUriJson = '';
    /** @var bool the server said goaway: finish the current request, then reconnect */
    protected $goingAway = false;
    /** @var int calls of this object running on its socket (a send() inside a stream loop makes 2) */
    protected $callDepth = 0;
    /** @var array pushed messages (no ipcReqID) set aside while waiting for responses */
    protected $pushes = array();
    /** @var array bytes of each held push */
    protected $pushSizes = array();
    /** @var int */
    protected $heldPushBytes = 0;
    /** @var int */
    protected $droppedPushes = 0;

    /**
     * @param string     $target
     * @param array|null $options see PixlIPCClient::__construct()
     */
    public function __construct($target, $options = null)
    {
        $options = is_array($options) ? $options : array();
        $option = function ($name, $default) use ($options) {
            return isset($options[$name]) ? $options[$name] : $default;
        };
        $this->target = $target;
        $this->pid = getmypid();

        $this->timeoutMs = $option('requestTimeout', 500);
        $this->timeoutNs = (int)round($this->timeoutMs * 1000000);
        $this->streamTimeoutNs = (int)round(max(0, $option('streamTimeout', 0)) * 1000000);
        $this->connectTimeout = $option('connectTimeout', 500) / 1000.0;
        $this->connectRetryNs = (int)round(max(0, $option('connectRetry', 0)) * 1000000);
        $this->legacyTimeout = !empty($options['legacyTimeout']);
        $this->codeToErr = !empty($options['codeToErr']);
        $this->persistent = !empty($options['persistent']);
        $this->auth = $option('auth', null);
        $this->tlsOptions = isset($options['tls']) && is_array($options['tls']) ? $options['tls'] : array();
        $this->userAgent = (string)$option('userAgent', 'PHP/PixlIPCClient' . getcwd());
        $this->maxMessageSize = max(1024, (int)$option('maxMessageSize', 32 * self::MiB));
        $this->maxPendingPushes = max(1, (int)$option('maxPendingPushes', 1000));
        $this->maxPendingBytes = max(1024, (int)$option('maxPendingBytes', self::MiB));
        $this->streamHighWaterMark = max(1, (int)$option('streamHighWaterMark', 256));

        if (preg_match('#^(tcp|tls|ssl|unix)://#', $target, $m)) {
            $this->address = $target;
            $this->isTls = ($m[1] === 'tls' || $m[1] === 'ssl');
            $this->socketPath = ($m[1] === 'unix') ? substr($target, 7) : null;
        } else {
            $this->address = 'unix://' . $target;
            $this->isTls = false;
            $this->socketPath = $target;
        }
        $this->expectServerUid = array_key_exists('expectServerUid', $options)
            ? ($options['expectServerUid'] === null ? null : (int)$options['expectServerUid'])
            : PixlIPCServerIdentity::defaultExpectedUid($this->socketPath);
        if ($this->expectServerUid !== null && $this->socketPath === null) {
            throw new PixlIPCException("expectServerUid needs a Unix socket target; $target is not one", self::E_SERVER_IDENTITY);
        }

        if ($this->persistent) {
            $this->persistentAddress = $this->persistentAddressFor();
            // Ids must never repeat on a socket that outlives this object.
            $this->idPrefix = 'rq' . bin2hex(random_bytes(6)) . '-';
        } else {
            $this->idPrefix = 'rq';
        }
        $this->routeKey = $this->persistentAddress !== null ? $this->persistentAddress : 'object' . spl_object_id($this);

        // Everything after "data" is the same for every request: encode it once.
        $this->plainTail = ',"pid":' . $this->pid . ',"userAgent":'
            . json_encode($this->userAgent, self::JSON_FLAGS | JSON_INVALID_UTF8_SUBSTITUTE) . "}\n";
        $this->requestTail = ($this->timeoutMs > 0 ? ',"timeoutMs":' . json_encode($this->timeoutMs) : '') . $this->plainTail;
    }

    /**
     * Opens a connection when there is none (or replaces one the server said
     * goodbye on), marks the socket busy and returns the call's deadline
     * (hrtime): requestTimeout from now, authentication included.
     *
     * @return int
     */
    protected function ready()
    {
        if ($this->fp !== null && ($this->goingAway || !is_resource($this->fp))) {
            // goaway, or another client object sharing this persistent socket closed it.
            $this->disconnect(true);
        }
        if ($this->fp === null) {
            return $this->open();
        }
        $this->beginCall();
        return hrtime(true) + $this->timeoutNs;
    }

    /**
     * Connects (retrying within connectRetry, checking expectServerUid), takes
     * over a clean persistent socket or replaces a dirty one, and authenticates
     * when the socket is new. Leaves the socket marked busy; returns the deadline.
     *
     * @return int
     */
    protected function open()
    {
        $this->goingAway = false;
        $fresh = $this->openSocket();
        if (!$fresh && !$this->takeOverPersistent()) {
            // Left mid-call by an earlier page, or closing: nothing was sent yet, start over.
            $this->disconnect(true);
            $fresh = $this->openSocket();
            if (!$fresh) {
                // Another object of this request holds the new one already.
                $this->takeOverPersistent();
            }
        }
        $deadline = hrtime(true) + $this->timeoutNs;
        if ($this->auth !== null && $fresh) {
            $this->authenticate($deadline);
        }
        return $deadline;
    }

    /**
     * stream_socket_client() with the connectRetry window and the identity
     * check; the socket is left blocking, unbuffered (see receive()) and marked busy. Returns true when
     * nobody has used it yet (a new connection), false for a reused persistent one.
     *
     * @return bool
     */
    protected function openSocket()
    {
        $giveUp = hrtime(true) + $this->connectRetryNs;
        $pauseUs = 5000;
        while (true) {
            $checked = $this->expectServerUid !== null
                ? PixlIPCServerIdentity::checkBeforeConnect($this->socketPath, $this->expectServerUid) : null;
            list($fp, $errno, $errstr) = $this->tryConnect();
            if ($fp) {
                break;
            }
            $left = $giveUp - hrtime(true);
            if ($left <= 0 || !preg_match('/No such file or directory|Connection refused|Resource temporarily unavailable/i', $errstr)) {
                $situation = PixlIPCConnectHint::diagnose($this->socketPath, $this->address, $errstr);
                $hint = $situation !== null ? ': ' . PixlIPCConnectHint::render($situation) : " ({$this->target})";
                throw new PixlIPCException("PixlIPCClient.connect(): stream_socket_client() failed: reason: $errno, $errstr$hint", self::E_SOCKET_CONNECT);
            }
            usleep((int)min($pauseUs, intdiv($left, 1000) + 1));
            $pauseUs = min($pauseUs * 2, 100000);
        }
        // Every byte ever read or written moves the position: 0 means nobody used this socket yet.
        $fresh = !$this->persistent || ftell($fp) === 0;
        if ($checked !== null && !isset(self::$busySockets[$this->routeKey])) {
            try {
                PixlIPCServerIdentity::checkAfterConnect($fp, $this->socketPath, $this->expectServerUid, $checked);
            } catch (PixlIPCException $e) {
                @fclose($fp);
                throw $e;
            }
        }
        $this->fp = $fp;
        if ($fresh) {
            unset(self::$received[$this->routeKey]);
            self::readUnbuffered($fp);
            stream_set_chunk_size($fp, self::BUSY_CHUNK_BYTES);
            $this->beginCall();
        }
        return $fresh;
    }

    /**
     * A reused persistent socket: usable when no call was left running on it and
     * what it holds is at most LEFTOVER_LIMIT bytes of whole lines (late answers,
     * dropped; lines of streams this request reads are handed on). Marks it busy.
     *
     * @return bool false when it must be replaced
     */
    protected function takeOverPersistent()
    {
        if (isset(self::$busySockets[$this->routeKey])) {
            // This PHP request's own socket, in use by another client object.
            $this->beginCall();
            return true;
        }
        $previous = stream_set_chunk_size($this->fp, self::BUSY_CHUNK_BYTES);
        $this->beginCall();
        if ($previous === self::BUSY_CHUNK_BYTES) {
            return false;
        }
        self::readUnbuffered($this->fp);
        // Usually nothing waits: one select() says so (and sees bytes PHP buffered, or the end).
        // The reads below take what has arrived and never wait.
        stream_set_timeout($this->fp, 0, self::NO_WAIT_US);
        $read = array($this->fp);
        $none = null;
        if (@stream_select($read, $none, $none, 0, 0) === 0) {
            return true;
        }
        $bytes = '';
        while (strlen($bytes) <= self::LEFTOVER_LIMIT) {
            $chunk = fread($this->fp, self::LEFTOVER_LIMIT + 1 - strlen($bytes));
            if ($chunk === false || $chunk === '') {
                break;
            }
            $bytes .= $chunk;
        }
        if ($bytes === '') {
            return !stream_get_meta_data($this->fp)['eof'];
        }
        if (strlen($bytes) > self::LEFTOVER_LIMIT || $bytes[-1] !== "\n" || stream_get_meta_data($this->fp)['eof']) {
            return false;
        }
        foreach (explode("\n", substr($bytes, 0, -1)) as $line) {
            $msg = json_decode($line, true);
            if (!is_array($msg)) {
                return false;
            }
            if (!array_key_exists('ipcReqID', $msg)) {
                if (isset($msg['uri']) && $msg['uri'] === self::GOAWAY_URI) {
                    return false;
                }
            } elseif ($msg['ipcReqID'] === null && isset($msg['code']) && isset(self::CLOSING_CODES[(string)$msg['code']])) {
                return false;
            } else {
                $this->queueStreamLine($msg, strlen($line));
            }
        }
        return true;
    }

    /**
     * Sets a socket up for receive(): blocking (a persistent socket left by an
     * earlier version of this client is not) and unbuffered.
     *
     * @param resource $fp
     * @return void
     */
    protected static function readUnbuffered($fp)
    {
        if (!stream_get_meta_data($fp)['blocked']) {
            stream_set_blocking($fp, true);
        }
        stream_set_read_buffer($fp, 0);
    }

    /**
     * One stream_socket_client() call. Returns [stream or false, errno, errstr].
     *
     * @return array
     */
    protected function tryConnect()
    {
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
            if ($this->persistentAddress !== null) {
                $fp = stream_socket_client($this->persistentAddress, $errno, $errstr, $this->connectTimeout,
                    STREAM_CLIENT_CONNECT | STREAM_CLIENT_PERSISTENT, $context);
            } else {
                $fp = stream_socket_client($this->address, $errno, $errstr, $this->connectTimeout, STREAM_CLIENT_CONNECT, $context);
            }
        } finally {
            restore_error_handler();
        }
        if (!$fp && ($errstr === '' || $errstr === null)) {
            $errstr = $warnings ? implode('; ', $warnings) : 'unknown error';
        }
        return array($fp, $errno, $errstr);
    }

    /**
     * A call starts on this object's socket: mark the socket busy (persistent
     * sockets: see the class comment).
     *
     * @return void
     */
    protected function beginCall()
    {
        if ($this->fp === null || $this->callDepth++ > 0 || !$this->persistent) {
            return;
        }
        $key = $this->routeKey;
        if (!isset(self::$busySockets[$key])) {
            stream_set_chunk_size($this->fp, self::BUSY_CHUNK_BYTES);
            self::$busySockets[$key] = array($this->fp, 0);
        }
        self::$busySockets[$key][1]++;
        if (!self::$shutdownRegistered) {
            self::$shutdownRegistered = true;
            register_shutdown_function(array(__CLASS__, 'closeBusySocketsAfterFatal'));
        }
    }

    /**
     * A call ended: once no call or stream runs on the socket and no half line
     * is held, a persistent socket is marked clean for the next user.
     *
     * @return void
     */
    protected function finishCall()
    {
        if ($this->callDepth === 0 || --$this->callDepth > 0) {
            return;
        }
        $key = $this->routeKey;
        if (!$this->persistent || !isset(self::$busySockets[$key])) {
            return;
        }
        if (--self::$busySockets[$key][1] > 0) {
            return;
        }
        $fp = self::$busySockets[$key][0];
        unset(self::$busySockets[$key]);
        if (!$this->holdsHalfLine() && !$this->goingAway && $fp === $this->fp && is_resource($fp)) {
            stream_set_chunk_size($fp, self::IDLE_CHUNK_BYTES);
        }
    }

    /**
     * Shutdown function: after a fatal error (memory_limit, max_execution_time)
     * no destructor runs, so the persistent sockets of calls cut short are closed
     * here: the server stops what it was sending, and the next page starts clean.
     *
     * @return void
     */
    public static function closeBusySocketsAfterFatal()
    {
        $error = error_get_last();
        $fatal = E_ERROR | E_CORE_ERROR | E_COMPILE_ERROR | E_USER_ERROR | E_RECOVERABLE_ERROR;
        if ($error === null || !($error['type'] & $fatal)) {
            return;
        }
        foreach (self::$busySockets as $entry) {
            if (is_resource($entry[0])) {
                @stream_socket_shutdown($entry[0], STREAM_SHUT_RDWR);
                @fclose($entry[0]);
            }
        }
        self::$busySockets = array();
    }

    /**
     * Closes the connection. A persistent socket stays open for the next user
     * unless $force, or it cannot be reused safely (a half line read, goaway).
     *
     * @param bool $force
     * @return void
     */
    protected function disconnect($force)
    {
        if ($this->fp !== null) {
            $fp = $this->fp;
            $dirty = !$this->persistent || $force || $this->holdsHalfLine() || $this->goingAway;
            if ($this->callDepth > 0) {
                $this->callDepth = 1;
                $this->finishCall();
            }
            $this->fp = null;
            if ($dirty && is_resource($fp)) {
                @stream_socket_shutdown($fp, STREAM_SHUT_RDWR);
                // fclose() of a persistent stream removes it from the process's list too.
                @fclose($fp);
                unset(self::$streamQueues[$this->routeKey], self::$queuedBytes[$this->routeKey], self::$busySockets[$this->routeKey],
                    self::$received[$this->routeKey]);
            }
        }
        if (!$this->persistent) {
            unset(self::$streamQueues[$this->routeKey], self::$queuedBytes[$this->routeKey], self::$received[$this->routeKey]);
        }
        $this->callDepth = 0;
        $this->goingAway = false;
    }

    /**
     * Reads lines until the response with id $id arrives (returned, decoded),
     * the deadline passes (null), or, with $untilPush, a pushed message arrives.
     * Pushes are set aside (bounded), lines of streams being read go to their
     * queues (bounded), stale responses and parts of other requests are dropped.
     *
     * @param string|false $id        the request id, false when waiting for pushes only
     * @param int          $deadline  hrtime(true) value
     * @param bool         $untilPush return as soon as a push has been set aside
     * @return array|null
     */
    protected function awaitResponse($id, $deadline, $untilPush = false)
    {
        while (true) {
            $line = $this->readLine($deadline);
            if ($line === null) {
                return null;
            }
            $msg = $this->decodeLine($line);
            if ($msg === null) {
                continue;
            }
            if (!array_key_exists('ipcReqID', $msg)) {
                if (isset($msg['uri']) && $msg['uri'] === self::GOAWAY_URI) {
                    // A stopping server: what was sent is still answered; nothing more goes out here.
                    $this->goingAway = true;
                    continue;
                }
                $this->holdPush($msg, strlen($line));
                if ($untilPush) {
                    return null;
                }
            } elseif ($msg['ipcReqID'] === $id) {
                return $msg;
            } elseif ($msg['ipcReqID'] === null && isset($msg['code'])) {
                // An error about the connection itself (idle_timeout, too_many_connections, ...).
                $this->throwServerError($msg);
            } else {
                // A line of a stream another reader waits for, or a late answer (dropped).
                $this->queueStreamLine($msg, strlen($line));
            }
            // A server that never pauses (a flood) must not keep the call past its deadline either.
            if (hrtime(true) >= $deadline) {
                return null;
            }
        }
    }

    /**
     * The next whole line, or null at the deadline (a line cut by the deadline
     * is kept for the next call). Never holds more than maxMessageSize + 1 bytes
     * of one line: a longer one closes the connection with E_RESPONSE_TOO_LARGE.
     * Throws E_SERVER_CLOSE at end of file.
     *
     * @param int $deadline
     * @return string|null
     */
    protected function readLine($deadline)
    {
        $key = $this->routeKey;
        if (isset(self::$received[$key])) {
            list($bytes, $from) = self::$received[$key];
            unset(self::$received[$key]);
        } else {
            // Nothing held, the usual case: one read brings one whole answer.
            $bytes = $this->receive($deadline, min(self::READ_PIECE_BYTES, $this->maxMessageSize + 1));
            if ($bytes === null) {
                return null;
            }
            if (strpos($bytes, "\n") === strlen($bytes) - 1) {
                return $bytes;
            }
            $from = 0;
        }
        $scanFrom = $from;
        while (true) {
            $end = strpos($bytes, "\n", $scanFrom);
            if ($end !== false) {
                if ($end + 1 < strlen($bytes)) {
                    // Past a long line, keep only what follows it (at most one read), not the line too.
                    self::$received[$key] = $end < self::READ_PIECE_BYTES ? array($bytes, $end + 1) : array(substr($bytes, $end + 1), 0);
                }
                return substr($bytes, $from, $end + 1 - $from);
            }
            // No whole line: keep only the unfinished one. Reads never take more than
            // maxMessageSize + 1 bytes of it, so a longer one is caught here.
            if ($from > 0) {
                $bytes = substr($bytes, $from);
                $from = 0;
            }
            $held = strlen($bytes);
            if ($held > $this->maxMessageSize) {
                $this->disconnect(true);
                throw new PixlIPCException("The server sent a line longer than maxMessageSize ({$this->maxMessageSize} bytes;"
                    . " $held held): the connection was closed", self::E_RESPONSE_TOO_LARGE);
            }
            $got = $this->receive($deadline, min(self::READ_PIECE_BYTES, $this->maxMessageSize + 1 - $held));
            if ($got === null) {
                if ($held > 0) {
                    self::$received[$key] = array($bytes, 0);
                }
                return $this->abandonPartial();
            }
            $scanFrom = $held;
            $bytes .= $got;
        }
    }

    /**
     * One read of at most $max bytes, waiting for them until $deadline: the
     * bytes, or null at the deadline. Throws E_SERVER_CLOSE at end of file.
     * The socket is blocking and unbuffered, so on a Unix or TCP socket fread()
     * is one poll() with the time left (WAIT_SLICE_MS at most) and one recv():
     * what has arrived, however little. A server that drips its answer cannot
     * stretch the wait (a blocking fgets() would wait again after each byte),
     * and the wait costs no select() of its own. (TLS: PHP's OpenSSL layer
     * keeps to the same timeout.)
     *
     * @param int $deadline
     * @param int $max
     * @return string|null
     */
    protected function receive($deadline, $max)
    {
        while (true) {
            $left = $deadline - hrtime(true);
            if ($left <= 0) {
                return null;
            }
            // Whole milliseconds, rounded up: poll() takes milliseconds, and PHP rounds a fraction down to no wait.
            $ms = $left < self::WAIT_SLICE_MS * 1000000 ? intdiv($left + 999999, 1000000) : self::WAIT_SLICE_MS;
            stream_set_timeout($this->fp, 0, $ms * 1000);
            $got = @fread($this->fp, $max);
            if ($got !== false && $got !== '') {
                return $got;
            }
            // Timed out, a wakeup with nothing to read, the end, or an error (which PHP reports as the end).
            if (stream_get_meta_data($this->fp)['eof']) {
                $this->disconnect(true);
                throw new PixlIPCException(self::SERVER_CLOSE_MESSAGE, self::E_SERVER_CLOSE);
            }
        }
    }

    /**
     * Whether the bytes held for this connection end inside a line (whole lines
     * held are late answers or pushes nobody waits for: dropped with the page).
     *
     * @return bool
     */
    protected function holdsHalfLine()
    {
        $key = $this->routeKey;
        return isset(self::$received[$key]) && self::$received[$key][0][-1] !== "\n";
    }

    /**
     * The deadline passed inside a line: a non-persistent client keeps the bytes
     * (the next call drops the rest of that line); a persistent socket, which
     * other objects may share, cannot be used any more.
     *
     * @return null
     */
    protected function abandonPartial()
    {
        if ($this->persistent && $this->holdsHalfLine()) {
            $this->disconnect(true);
        }
        return null;
    }

    /**
     * Waits until the socket can take more bytes, at most until $deadline.
     *
     * @param int $deadline
     * @return bool false when the deadline passed first
     */
    protected function waitWritable($deadline)
    {
        $left = $deadline - hrtime(true);
        if ($left <= 0) {
            return false;
        }
        $w = array($this->fp);
        $none = null;
        $ready = @stream_select($none, $w, $none, intdiv($left, 1000000000), intdiv($left % 1000000000, 1000));
        if ($ready === false) {
            // Interrupted by a signal, or a descriptor past FD_SETSIZE (select() cannot
            // watch it): look again in a millisecond; the caller checks the clock.
            usleep(1000);
            return true;
        }
        return $ready > 0;
    }

    /**
     * Decodes one line: an array, or null for a blank line. Anything else
     * (including invalid UTF-8) closes the connection with E_BAD_RESPONSE.
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
        $error = json_last_error();
        // A socket that sent garbage is not handed to the next page.
        $this->disconnect(true);
        throw new PixlIPCException('Could not json_decode response, details:' . $error, self::E_BAD_RESPONSE);
    }

    /**
     * Sets a push aside for readPush(), dropping the oldest beyond
     * maxPendingPushes or maxPendingBytes.
     *
     * @param array $msg
     * @param int   $bytes
     * @return void
     */
    protected function holdPush(array $msg, $bytes)
    {
        $this->pushes[] = $msg;
        $this->pushSizes[] = $bytes;
        $this->heldPushBytes += $bytes;
        while (count($this->pushes) > $this->maxPendingPushes || $this->heldPushBytes > $this->maxPendingBytes) {
            array_shift($this->pushes);
            $this->heldPushBytes -= array_shift($this->pushSizes);
            $this->droppedPushes++;
        }
    }

    /** @return array the oldest held push */
    protected function takePush()
    {
        $this->heldPushBytes -= array_shift($this->pushSizes);
        return array_shift($this->pushes);
    }

    /**
     * Queues a line for the stream that awaits it (dropped when none does). A
     * stream whose queue passes streamHighWaterMark parts or maxPendingBytes
     * fails (E_RESPONSE_TOO_LARGE when read) and is cancelled.
     *
     * @param array $msg
     * @param int   $bytes
     * @return void
     */
    protected function queueStreamLine(array $msg, $bytes)
    {
        $key = $this->routeKey;
        $id = $msg['ipcReqID'];
        if (!is_string($id) || !isset(self::$streamQueues[$key][$id]) || !is_array(self::$streamQueues[$key][$id])) {
            return;
        }
        $queue = &self::$streamQueues[$key][$id];
        $queue[] = array($msg, $bytes);
        self::$queuedBytes[$key][$id] = (isset(self::$queuedBytes[$key][$id]) ? self::$queuedBytes[$key][$id] : 0) + $bytes;
        if (count($queue) > $this->streamHighWaterMark || self::$queuedBytes[$key][$id] > $this->maxPendingBytes) {
            $queue = new PixlIPCException("Stream $id: more than streamHighWaterMark ({$this->streamHighWaterMark}) parts"
                . " or maxPendingBytes ({$this->maxPendingBytes}) arrived while another read the connection; it was cancelled",
                self::E_RESPONSE_TOO_LARGE);
            unset(self::$queuedBytes[$key][$id]);
            $this->cancel($id);
        }
    }

    /**
     * Writes a request line: $head, the encoded data, then $tail, by the deadline.
     * Large data goes out as its own write: joining it to the rest would copy
     * it twice more, which costs as much as encoding it (measured at 1 MiB).
     *
     * @param string $head
     * @param string $dataJson
     * @param string $tail
     * @param int    $deadline
     * @return void
     */
    protected function writeRequest($head, $dataJson, $tail, $deadline)
    {
        if (strlen($dataJson) < self::JOIN_LIMIT) {
            $this->writeLine($head . $dataJson . $tail, $deadline);
            return;
        }
        $this->writeLine($head, $deadline);
        $this->writeLine($dataJson, $deadline);
        $this->writeLine($tail, $deadline);
    }

    /**
     * Writes all of $bytes by the deadline, waiting while the socket is full.
     *
     * @param string $bytes
     * @param int    $deadline
     * @return void
     */
    protected function writeLine($bytes, $deadline)
    {
        $expected = strlen($bytes);
        // No wait inside fwrite(): a full socket returns what fit, and the wait below keeps to the deadline.
        stream_set_timeout($this->fp, 0, self::NO_WAIT_US);
        $n = @fwrite($this->fp, $expected > self::WRITE_SLICE_BYTES ? substr($bytes, 0, self::WRITE_SLICE_BYTES) : $bytes);
        if ($n === $expected) {
            return;
        }
        $written = 0;
        while (true) {
            if ($n === false && stream_get_meta_data($this->fp)['timed_out']) {
                $n = 0;
            }
            if ($n === false) {
                // Broken pipe or connection reset: the server went away.
                $this->disconnect(true);
                throw new PixlIPCException(self::SERVER_CLOSE_MESSAGE, self::E_SERVER_CLOSE);
            }
            $written += $n;
            if ($written >= $expected) {
                return;
            }
            if ($n === 0 && !$this->waitWritable($deadline)) {
                // Part of a line may be on the wire: this connection is unusable.
                $this->disconnect(true);
                throw new PixlIPCException("Socket write error, did not write expected number of bytes $written vs. $expected"
                    . " (the server read nothing for {$this->timeoutMs} ms)", self::E_SOCKET_WRITE);
            }
            $n = @fwrite($this->fp, substr($bytes, $written, self::WRITE_SLICE_BYTES));
        }
    }

    /**
     * writeRequest(); on a persistent socket a write the server refused (it had
     * closed: nothing of the line was processed) is retried once on a new connection.
     *
     * @param string $head
     * @param string $dataJson
     * @param string $tail
     * @param int    $deadline
     * @return void
     */
    protected function writeRequestOnce($head, $dataJson, $tail, $deadline)
    {
        try {
            $this->writeRequest($head, $dataJson, $tail, $deadline);
        } catch (PixlIPCException $e) {
            if (!$this->persistent || $e->getCode() !== self::E_SERVER_CLOSE) {
                throw $e;
            }
            $this->open();
            $this->writeRequest($head, $dataJson, $tail, $deadline);
        }
    }

    /**
     * Tells the server to stop request $id; its remaining lines are dropped as
     * they arrive (their id is no longer awaited). Never waits: when the socket
     * cannot take the line at once, the connection is closed, which stops
     * everything on it. Never throws: it runs while a generator is torn down.
     *
     * @param string $id
     * @return void
     */
    protected function cancel($id)
    {
        try {
            $this->writeLine('{"uri":"' . self::CANCEL_URI . '","data":{"ipcReqID":' . json_encode($id) . '},"noReply":true' . $this->plainTail, 0);
        } catch (PixlIPCException $e) {
            // The connection is gone, and the request with it.
        }
    }

    /**
     * Sends the auth option's credentials to /ipcserver/auth and checks the
     * answer: only a success whose data has "authenticated": true is accepted.
     * Any failure closes the socket, so an open persistent socket that was ever
     * used has passed authentication.
     *
     * @param int|null $deadline hrtime(true) value; null: requestTimeout from now
     * @return void
     */
    protected function authenticate($deadline = null)
    {
        $deadline = $deadline === null ? hrtime(true) + $this->timeoutNs : $deadline;
        $id = ($this->persistent ? $this->idPrefix : '') . 'auth' . (++$this->authCounter);
        try {
            $this->writeLine('{"ipcReqID":"' . $id . '","uri":"/ipcserver/auth","data":' . $this->encode($this->auth) . $this->plainTail, $deadline);
            $msg = $this->awaitResponse($id, $deadline);
        } catch (PixlIPCException $e) {
            $this->disconnect(true);
            throw $e;
        }
        if ($msg === null) {
            $this->disconnect(true);
            throw new PixlIPCException("Authentication timed out after {$this->timeoutMs} ms", self::E_TIMEOUT);
        }
        if (isset($msg['code']) || !isset($msg['data']) || !is_array($msg['data'])
            || !isset($msg['data']['authenticated']) || $msg['data']['authenticated'] !== true) {
            $this->disconnect(true);
            $code = isset($msg['code']) ? (string)$msg['code'] : 'access';
            $text = isset($msg['message']) ? (string)$msg['message'] : 'not authenticated';
            throw new PixlIPCException("Authentication refused: $code: $text", self::E_ACCESS, $code);
        }
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
            $this->disconnect(true);
            throw new PixlIPCException(self::SERVER_CLOSE_MESSAGE . ": $code: $text", self::E_SERVER_CLOSE, $code);
        }
        if ($this->goingAway) {
            $this->disconnect(true);
        }
        if ($code === 'deadline_exceeded') {
            throw new PixlIPCException("Server error $code: $text", self::E_TIMEOUT, $code);
        }
        throw new PixlIPCException("Server error $code: $text", $code === 'access' ? self::E_ACCESS : self::E_SERVER_ERROR, $code);
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
     * The uri's JSON; a client calls few uris, mostly the same one, so the last is kept.
     *
     * @param string $uri
     * @return string
     */
    protected function encodeUri($uri)
    {
        if (is_string($uri) && $uri === $this->lastUri) {
            return $this->lastUriJson;
        }
        $json = $this->encode($uri);
        if (is_string($uri)) {
            $this->lastUri = $uri;
            $this->lastUriJson = $json;
        }
        return $json;
    }

    /**
     * The request data's JSON: data must be an array or an object.
     *
     * @param mixed $data
     * @return string
     */
    protected function encodeData($data)
    {
        if (!is_array($data) && !is_object($data)) {
            throw new PixlIPCException('Request must be an object or associative array', self::E_BAD_REQUEST_TYPE);
        }
        $json = json_encode($data, self::JSON_FLAGS);
        return $json !== false ? $json : $this->encode($data);
    }

    /**
     * The address persistent sockets are keyed by: stream_socket_client() keys
     * them by the address string alone, so sockets opened with credentials get a
     * variant of the address that reaches the same server but names a hash of
     * the credentials. tcp/tls: a path after the port, which PHP ignores. Unix:
     * the hash's bits written as "./" (1) and "/" (0) segments before the path,
     * which the kernel resolves away ("/run/x.sock" -> "/.//./run/x.sock").
     * A Unix path longer than 43 bytes has no room for the hash: with
     * credentials such a client is not persistent.
     *
     * @return string|null
     */
    protected function persistentAddressFor()
    {
        $secret = array($this->auth, $this->isTls ? $this->tlsOptions : null);
        if ($secret === array(null, null)) {
            return $this->address;
        }
        $hash = hash('sha256', serialize($secret));
        if ($this->socketPath === null) {
            return $this->address . '/pixl-ipc-' . substr($hash, 0, 32);
        }
        $path = $this->socketPath;
        if ($path === '' || $path[0] !== '/') {
            $path = getcwd() . '/' . $path;
        }
        $bits = '';
        foreach (str_split(substr($hash, 0, self::KEY_BITS / 4)) as $hex) {
            $bits .= str_pad(decbin(hexdec($hex)), 4, '0', STR_PAD_LEFT);
        }
        // Room for the longest encoding (every bit "./"), so whether a path can be
        // persistent does not depend on the credentials.
        if (strlen($path) + 2 * self::KEY_BITS > self::MAX_UNIX_PATH) {
            // No room for the hash in sun_path: never share, connect per object instead.
            $this->persistent = false;
            return null;
        }
        return 'unix:///' . strtr($bits, array('1' => './', '0' => '/')) . ltrim($path, '/');
    }
}
