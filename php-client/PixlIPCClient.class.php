<?php
/**
 * PixlIPCClient: a blocking PHP client for a pixl-ipc server.
 *
 * Talks newline-delimited JSON (see PROTOCOL.md) over a Unix socket, TCP or TLS.
 * One request is in flight at a time: send() writes a request and waits for its
 * response. Scripts written for the original pixl-ipc PHP client keep working:
 * same class name, error constants, request ids and exception messages.
 *
 * With the `persistent` option a connection outlives the PHP request that
 * opened it and is reused by later requests of the same process (a php-fpm
 * worker), which saves the connect (and authentication) on every page view.
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
    /** @var mixed */
    protected $data;

    /**
     * @param string      $message    human-readable reason
     * @param int         $code       one of the PixlIPCClient::E_* constants
     * @param string|null $serverCode the server's error code, if it sent one
     * @param mixed       $data       with codeToErr: the response data that carried the code
     */
    public function __construct($message, $code, $serverCode = null, $data = null)
    {
        parent::__construct($message, $code);
        $this->serverCode = $serverCode;
        $this->data = $data;
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

    /**
     * With codeToErr: the response's data (which holds `code` and `message`).
     *
     * @return mixed
     */
    public function getData()
    {
        return $this->data;
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
    /** No response within requestTimeout (unless legacyTimeout is on), or the server's deadline_exceeded. */
    const E_TIMEOUT = 5006;
    /** Authentication was refused or is required (server code "access"). */
    const E_ACCESS = 5007;
    /** The server answered with an error code (handler_error, bad_request, ...). */
    const E_SERVER_ERROR = 5008;

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
    /** The control message that cancels a request (here: a stream closed early). */
    const CANCEL_URI = '/ipcserver/cancel';

    const SERVER_CLOSE_MESSAGE = 'Server closed the connection (readMessage)';

    /** Request data at least this long (bytes of JSON) is written apart from the rest of its line. */
    const JOIN_LIMIT = 65536;

    /** Hash bits that tell apart persistent Unix sockets opened with different credentials. */
    const KEY_BITS = 32;
    /** The longest Unix socket path the kernel takes (sun_path less its NUL). */
    const MAX_UNIX_PATH = 107;

    /** Bytes asked of the socket per read (see openSocket()). */
    const READ_CHUNK_BYTES = 65536;

    const JSON_FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION;

    /**
     * Lines for streams being read, per connection: routeKey => id => list of
     * messages. Static because in one PHP request several client objects may
     * share one persistent socket, and whichever reads a line hands it on.
     *
     * @var array
     */
    protected static $streamQueues = array();

    /** @var string the target as given */
    protected $target;
    /** @var string address handed to stream_socket_client() */
    protected $address;
    /** @var string|null unix socket path (for error messages), null for tcp/tls */
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
    /** @var int how long (ns) connect failures that sent nothing are retried */
    protected $connectRetryNs;
    /** @var bool true while the stream has a shortened read timeout that must be put back */
    protected $timeoutChanged = false;
    /** @var bool */
    protected $legacyTimeout;
    /** @var bool */
    protected $codeToErr;
    /** @var mixed credentials for /ipcserver/auth, null for none */
    protected $auth;
    /** @var array SSL context options for tls:// targets */
    protected $tlsOptions;
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
    /** @var string bytes of a line whose end has not arrived yet (after a timeout) */
    protected $partial = '';
    /** @var bool a reused persistent socket: its first line may be the tail of an earlier request's answer */
    protected $resync = false;
    /** @var bool the server said goaway: finish the current request, then reconnect */
    protected $goingAway = false;
    /** @var array pushed messages (no ipcReqID) set aside while waiting for responses */
    protected $pushes = array();

    /**
     * @param string     $target  a Unix socket path (or unix://path), tcp://host:port or tls://host:port
     * @param array|null $options requestTimeout (ms, 500), connectTimeout (ms, 500),
     *                            userAgent ("PHP/PixlIPCClient" . getcwd()), legacyTimeout (false:
     *                            a timeout throws E_TIMEOUT; true: send() returns false),
     *                            auth (credentials sent to /ipcserver/auth), tls (SSL stream
     *                            context options, e.g. cafile, peer_name), persistent (false:
     *                            reuse the connection across requests of this process),
     *                            connectRetry (ms, 0: retry refused/missing sockets this long),
     *                            codeToErr (false: throw when the answer's data has a truthy code)
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
        $this->connectRetryNs = (int)round(max(0, isset($options['connectRetry']) ? $options['connectRetry'] : 0) * 1000000);
        $this->legacyTimeout = !empty($options['legacyTimeout']);
        $this->codeToErr = !empty($options['codeToErr']);
        $this->persistent = !empty($options['persistent']);
        $this->auth = isset($options['auth']) ? $options['auth'] : null;
        $this->tlsOptions = isset($options['tls']) && is_array($options['tls']) ? $options['tls'] : array();
        $this->userAgent = isset($options['userAgent']) ? (string)$options['userAgent'] : 'PHP/PixlIPCClient' . getcwd();

        if (preg_match('#^(tcp|tls|ssl|unix)://#', $target, $m)) {
            $this->address = $target;
            $this->isTls = ($m[1] === 'tls' || $m[1] === 'ssl');
            $this->socketPath = ($m[1] === 'unix') ? substr($target, 7) : null;
        } else {
            $this->address = 'unix://' . $target;
            $this->isTls = false;
            $this->socketPath = $target;
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

    /** Closes the connection (or, when persistent, leaves it for the next user). */
    public function __destruct()
    {
        $this->close();
    }

    /**
     * Opens the connection (closing any open one first) and, when the auth option
     * is set, authenticates. Throws E_SOCKET_CONNECT with the system's reason
     * ("No such file or directory", "Permission denied", "Connection refused", ...),
     * the socket, the user and what to check; E_ACCESS when the credentials are
     * refused, E_TIMEOUT when authentication gets no answer in time.
     *
     * @return void
     */
    public function connect()
    {
        $this->close();
        $this->open();
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
        $this->ready();
        $id = $this->idPrefix . $this->serialCounter++;
        $head = '{"ipcReqID":"' . $id . '","uri":' . $this->encode($uri) . ',"data":';
        $json = $this->encode($data);
        $this->writeRequestOnce($head, $json, $this->requestTail);

        // Fast path: the next line is our whole response.
        $line = fgets($this->fp);
        if ($line !== false && $this->partial === '' && $line[-1] === "\n") {
            $msg = json_decode($line, true);
            if (isset($msg['ipcReqID']) && $msg['ipcReqID'] === $id && !isset($msg['code'])) {
                $this->resync = false;
                return $this->dataOf($msg);
            }
        }

        $msg = $this->awaitResponse($id, $line, $start + $this->timeoutNs);
        if ($msg !== null && isset($msg['code']) && $msg['code'] === 'shutting_down' && $this->persistent) {
            // Refused before it ran: a restarting daemon. Once more on a new connection.
            $this->close(true);
            $this->open();
            $this->writeRequestOnce($head, $json, $this->requestTail);
            $msg = $this->awaitResponse($id, false, hrtime(true) + $this->timeoutNs);
        }
        if ($msg === null) {
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
    }

    /**
     * Sends a request that accepts a streamed answer ("stream": true) and yields
     * each part as it arrives; the generator's return value (getReturn()) is the
     * final answer's data. The request goes out when iteration starts. Leaving the
     * loop early (break, an exception, the generator destroyed) cancels the
     * request on the server and discards the rest of its answer. requestTimeout
     * bounds the wait for each part, not the whole stream.
     *
     * @param string       $uri
     * @param array|object $data
     * @return Generator
     * @throws PixlIPCException E_BAD_REQUEST_TYPE at once; the others while iterating
     */
    public function stream($uri, $data)
    {
        if (!is_array($data) && !is_object($data)) {
            throw new PixlIPCException('Request must be an object or associative array', self::E_BAD_REQUEST_TYPE);
        }
        return $this->streamParts($uri, $this->encode($uri), $this->encode($data));
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
        $this->ready();
        $this->writeRequestOnce('{"noReply":true,"uri":' . $this->encode($uri) . ',"data":', $this->encode($data), $this->plainTail);
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
     * The next send() connects again. A persistent connection stays open for
     * the next user in this process unless $force is true, or it cannot be
     * reused safely (half a line read).
     *
     * @param bool $force close a persistent connection too
     * @return void
     */
    public function close($force = false)
    {
        if ($this->fp !== null) {
            $fp = $this->fp;
            $this->fp = null;
            if (!$this->persistent || $force || $this->partial !== '' || $this->goingAway) {
                @stream_socket_shutdown($fp, STREAM_SHUT_RDWR);
                // fclose() of a persistent stream removes it from the process's list too.
                @fclose($fp);
                unset(self::$streamQueues[$this->routeKey]);
            }
        }
        if (!$this->persistent) {
            unset(self::$streamQueues[$this->routeKey]);
        }
        $this->partial = '';
        $this->timeoutChanged = false;
        $this->resync = false;
        $this->goingAway = false;
    }

    /**
     * Opens a connection when there is none, or replaces one the server said
     * goodbye on; puts back a read timeout a timed-out wait shortened.
     *
     * @return void
     */
    protected function ready()
    {
        if ($this->fp !== null && $this->goingAway) {
            $this->close(true);
        }
        if ($this->fp !== null && !is_resource($this->fp)) {
            // Another client object sharing this persistent socket closed it.
            $this->fp = null;
            $this->partial = '';
        }
        if ($this->fp === null) {
            $this->open();
        } elseif ($this->timeoutChanged) {
            $this->restoreTimeout();
        }
    }

    /**
     * Connects (retrying within connectRetry), then for a persistent socket
     * discards what an earlier user left on it, and authenticates when the
     * socket is new.
     *
     * @return void
     */
    protected function open()
    {
        $this->fp = $this->openSocket();
        $this->partial = '';
        $this->timeoutChanged = false;
        $this->resync = false;
        $this->goingAway = false;
        stream_set_timeout($this->fp, $this->timeoutSec, $this->timeoutUsec);
        $fresh = true;
        if ($this->persistent) {
            // Every byte ever read or written moves the position: 0 means nobody
            // used this socket yet, so it still needs the credentials.
            $fresh = (ftell($this->fp) === 0);
            if (!$fresh && !$this->discardLeftovers()) {
                // The daemon closed or is closing this socket: nothing was sent yet, start over.
                $this->close(true);
                $this->fp = $this->openSocket();
                stream_set_timeout($this->fp, $this->timeoutSec, $this->timeoutUsec);
                $fresh = (ftell($this->fp) === 0);
            }
        }
        if ($this->auth !== null && $fresh) {
            $this->authenticate();
        }
    }

    /**
     * stream_socket_client() with the connectRetry window: a missing socket or a
     * refused connect (nothing was sent) is retried with short, growing pauses.
     *
     * @return resource
     */
    protected function openSocket()
    {
        $giveUp = hrtime(true) + $this->connectRetryNs;
        $pauseUs = 5000;
        while (true) {
            list($fp, $errno, $errstr) = $this->tryConnect();
            if ($fp) {
                // fgets() refills its buffer chunk_size bytes per read (8 KiB by
                // default): 64 KiB reads cut a 1 MiB answer's client CPU by ~19%
                // and leave small messages as they were.
                stream_set_chunk_size($fp, self::READ_CHUNK_BYTES);
                return $fp;
            }
            $left = $giveUp - hrtime(true);
            if ($left <= 0 || !self::isRetryableConnectError($errno, $errstr)) {
                throw new PixlIPCException("PixlIPCClient.connect(): stream_socket_client() failed: reason: $errno, $errstr"
                    . $this->explainConnectFailure($errno, $errstr), self::E_SOCKET_CONNECT);
            }
            usleep((int)min($pauseUs, intdiv($left, 1000) + 1));
            $pauseUs = min($pauseUs * 2, 100000);
        }
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
     * True for connect failures that mean "no daemon listening right now"
     * (restart in progress): the socket is missing or refused, or its backlog is full.
     *
     * @param int    $errno
     * @param string $errstr
     * @return bool
     */
    protected static function isRetryableConnectError($errno, $errstr)
    {
        return (bool)preg_match('/No such file or directory|Connection refused|Resource temporarily unavailable/i', $errstr);
    }

    /**
     * What a failed connect needs to be fixed: the socket, who we are, what to check.
     *
     * @param int    $errno
     * @param string $errstr
     * @return string
     */
    protected function explainConnectFailure($errno, $errstr)
    {
        if ($this->socketPath === null) {
            $where = "target {$this->target}";
            if (stripos($errstr, 'refused') !== false) {
                return " ($where: nothing listens there; check that the daemon runs and its listen_port/tls_port)";
            }
            return " ($where)";
        }
        $path = $this->socketPath;
        $who = self::describeUser();
        if (stripos($errstr, 'No such file') !== false) {
            return " (socket $path, as $who: no socket there; check that the daemon runs and that its socket_path is this path)";
        }
        if (stripos($errstr, 'Permission denied') !== false) {
            $stat = @stat($path);
            $seen = $stat ? sprintf('socket mode %04o, owner uid %d gid %d', $stat['mode'] & 07777, $stat['uid'], $stat['gid'])
                : 'the socket cannot be inspected';
            return " (socket $path, as $who; $seen: this user needs write permission on the socket (socket_chmod, group)"
                . ' and search (x) permission on every directory above it; php-fpm workers get new group memberships only after php-fpm is reloaded)';
        }
        if (stripos($errstr, 'refused') !== false) {
            return " (socket $path, as $who: the socket file exists but nothing listens on it; check that the daemon runs)";
        }
        return " (socket $path, as $who; check that the daemon runs and the permissions on the socket and its directory)";
    }

    /**
     * The effective user: name, uid, gid and groups with the posix extension,
     * else the script owner's name (all PHP can tell without it).
     *
     * @return string
     */
    protected static function describeUser()
    {
        if (function_exists('posix_geteuid')) {
            $uid = posix_geteuid();
            $pw = function_exists('posix_getpwuid') ? posix_getpwuid($uid) : false;
            $name = $pw ? $pw['name'] : "#$uid";
            $groups = array();
            foreach (function_exists('posix_getgroups') ? (posix_getgroups() ?: array()) : array() as $gid) {
                $gr = function_exists('posix_getgrgid') ? posix_getgrgid($gid) : false;
                $groups[] = $gr ? $gr['name'] : (string)$gid;
            }
            return "user $name (uid $uid, gid " . posix_getegid() . ', groups ' . ($groups ? implode(',', array_unique($groups)) : 'none') . ')';
        }
        return 'user ' . get_current_user() . ' (script owner; the posix extension would tell the effective user)';
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

    /**
     * On a reused persistent socket: reads what an earlier user left (late
     * answers, the rest of a stream), without waiting. Lines of streams this
     * request still reads are handed on; the rest is dropped. Returns false when
     * the socket is closed or closing (end of file, goaway, a closing error).
     *
     * @return bool
     */
    protected function discardLeftovers()
    {
        $this->resync = true;
        $read = array($this->fp);
        $write = null;
        $except = null;
        if (@stream_select($read, $write, $except, 0, 0) < 1) {
            return true;
        }
        stream_set_blocking($this->fp, false);
        $bytes = '';
        while (true) {
            $chunk = fread($this->fp, 65536);
            if ($chunk === false || $chunk === '') {
                break;
            }
            $bytes .= $chunk;
        }
        $eof = stream_get_meta_data($this->fp)['eof'];
        stream_set_blocking($this->fp, true);
        if ($eof) {
            return false;
        }
        $end = strrpos($bytes, "\n");
        $whole = $end === false ? '' : substr($bytes, 0, $end);
        // A line cut short stays as the partial: its rest arrives later and is dropped then.
        $this->partial = $end === false ? $bytes : (string)substr($bytes, $end + 1);
        $alive = true;
        foreach (explode("\n", $whole) as $line) {
            $msg = json_decode($line, true);
            if (!is_array($msg)) {
                continue;
            }
            if (!array_key_exists('ipcReqID', $msg)) {
                if (isset($msg['uri']) && $msg['uri'] === self::GOAWAY_URI) {
                    $alive = false;
                }
            } elseif ($msg['ipcReqID'] === null && isset($msg['code']) && isset(self::CLOSING_CODES[(string)$msg['code']])) {
                $alive = false;
            } elseif (isset(self::$streamQueues[$this->routeKey][$msg['ipcReqID']])) {
                self::$streamQueues[$this->routeKey][$msg['ipcReqID']][] = $msg;
            }
        }
        return $alive;
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
        $this->ready();
        $id = $this->idPrefix . $this->serialCounter++;
        $routeKey = $this->routeKey;
        self::$streamQueues[$routeKey][$id] = array();
        $fp = null;
        $finished = false;
        try {
            $this->writeRequestOnce('{"ipcReqID":"' . $id . '","uri":' . $uriJson . ',"stream":true,"data":', $dataJson, $this->plainTail);
            // The connection the request went out on (a write retry may have replaced it).
            $fp = $this->fp;
            while (true) {
                if (!empty(self::$streamQueues[$routeKey][$id])) {
                    $msg = array_shift(self::$streamQueues[$routeKey][$id]);
                } else {
                    if ($this->fp !== $fp) {
                        throw new PixlIPCException(self::SERVER_CLOSE_MESSAGE, self::E_SERVER_CLOSE);
                    }
                    if ($this->timeoutChanged) {
                        $this->restoreTimeout();
                    }
                    $msg = $this->awaitResponse($id, false, hrtime(true) + $this->timeoutNs);
                    if ($msg === null) {
                        throw new PixlIPCException("Stream $id from $uri: nothing arrived for {$this->timeoutMs} ms", self::E_TIMEOUT);
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
            unset(self::$streamQueues[$routeKey][$id]);
            if (!$finished && $this->fp !== null && $this->fp === $fp) {
                $this->cancel($id);
            }
        }
    }

    /**
     * Tells the server to stop request $id; its remaining lines are dropped as
     * they arrive (their id is no longer awaited). Never throws: it runs while a
     * generator is being torn down.
     *
     * @param string $id
     * @return void
     */
    protected function cancel($id)
    {
        try {
            $this->writeLine('{"uri":"' . self::CANCEL_URI . '","data":{"ipcReqID":"' . $id . '"},"noReply":true' . $this->plainTail);
        } catch (PixlIPCException $e) {
            // The connection is gone, and the request with it.
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
            $this->close(true);
        }
        return $data;
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
     * writeRequest(); on a persistent socket a write the server refused (it had
     * closed: nothing of the line was processed) is retried once on a new connection.
     *
     * @param string $head
     * @param string $dataJson
     * @param string $tail
     * @return void
     */
    protected function writeRequestOnce($head, $dataJson, $tail)
    {
        try {
            $this->writeRequest($head, $dataJson, $tail);
        } catch (PixlIPCException $e) {
            if (!$this->persistent || $e->getCode() !== self::E_SERVER_CLOSE) {
                throw $e;
            }
            $this->open();
            $this->writeRequest($head, $dataJson, $tail);
        }
    }

    /**
     * Writes a request line: $head, the encoded data, then $tail.
     * Large data goes out as its own write: joining it to the rest would copy
     * it twice more, which costs as much as encoding it (measured at 1 MiB).
     *
     * @param string $head
     * @param string $dataJson
     * @param string $tail
     * @return void
     */
    protected function writeRequest($head, $dataJson, $tail)
    {
        if (strlen($dataJson) < self::JOIN_LIMIT) {
            $this->writeLine($head . $dataJson . $tail);
            return;
        }
        $this->writeLine($head);
        $this->writeLine($dataJson);
        $this->writeLine($tail);
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
        $this->close(true);
        if (!$timedOut) {
            // Broken pipe or connection reset: the server went away.
            throw new PixlIPCException(self::SERVER_CLOSE_MESSAGE, self::E_SERVER_CLOSE);
        }
        throw new PixlIPCException("Socket write error, did not write expected number of bytes $written vs. $expected", self::E_SOCKET_WRITE);
    }

    /**
     * Reads lines until the response with id $id arrives (returned, decoded),
     * the deadline passes (null), or, with $untilPush, a pushed message arrives.
     * Pushes are set aside in $this->pushes, lines of streams being read go to
     * their queues, stale responses are dropped.
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
                if (isset($msg['uri']) && $msg['uri'] === self::GOAWAY_URI) {
                    // A stopping server: what was sent is still answered; nothing more goes out here.
                    $this->goingAway = true;
                    continue;
                }
                $this->pushes[] = $msg;
                if ($untilPush) {
                    return null;
                }
            } elseif ($msg['ipcReqID'] === $id) {
                return $msg;
            } elseif ($msg['ipcReqID'] === null && isset($msg['code'])) {
                // An error about the connection itself (idle_timeout, too_many_connections, ...).
                $this->throwServerError($msg);
            } elseif (isset(self::$streamQueues[$this->routeKey][$msg['ipcReqID']])) {
                self::$streamQueues[$this->routeKey][$msg['ipcReqID']][] = $msg;
            }
            // Otherwise: the late answer to a request that timed out or was cancelled. Drop it.
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
                $this->close(true);
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
     * Decodes one line: an array, or null for a blank line (or, on a reused
     * persistent socket, for the cut-off end of an earlier user's answer).
     *
     * @param string $line
     * @return array|null
     */
    protected function decodeLine($line)
    {
        $msg = json_decode($line, true);
        $resync = $this->resync;
        $this->resync = false;
        if (is_array($msg)) {
            return $msg;
        }
        if (trim($line) === '' || $resync) {
            return null;
        }
        $error = json_last_error();
        // A persistent socket that sent garbage is not handed to the next page.
        $this->close(true);
        throw new PixlIPCException('Could not json_decode response, details:' . $error, self::E_BAD_RESPONSE);
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
            $this->close(true);
            throw new PixlIPCException(self::SERVER_CLOSE_MESSAGE . ": $code: $text", self::E_SERVER_CLOSE, $code);
        }
        if ($this->goingAway) {
            $this->close(true);
        }
        if ($code === 'deadline_exceeded') {
            throw new PixlIPCException("Server error $code: $text", self::E_TIMEOUT, $code);
        }
        $errorCode = ($code === 'access') ? self::E_ACCESS : self::E_SERVER_ERROR;
        throw new PixlIPCException("Server error $code: $text", $errorCode, $code);
    }

    /**
     * Sends the auth option's credentials to /ipcserver/auth and checks the
     * answer: only a success whose data has "authenticated": true is accepted.
     * Any failure closes the socket, so an open persistent socket that was ever
     * used has passed authentication.
     *
     * @return void
     */
    protected function authenticate()
    {
        $id = ($this->persistent ? $this->idPrefix : '') . 'auth' . (++$this->authCounter);
        $start = hrtime(true);
        try {
            $this->writeLine('{"ipcReqID":"' . $id . '","uri":"/ipcserver/auth","data":' . $this->encode($this->auth) . $this->plainTail);
            $msg = $this->awaitResponse($id, false, $start + $this->timeoutNs);
        } catch (PixlIPCException $e) {
            $this->close(true);
            throw $e;
        }
        if ($msg === null) {
            $this->close(true);
            throw new PixlIPCException("Authentication timed out after {$this->timeoutMs} ms", self::E_TIMEOUT);
        }
        if (isset($msg['code']) || !isset($msg['data']) || !is_array($msg['data'])
            || !isset($msg['data']['authenticated']) || $msg['data']['authenticated'] !== true) {
            $this->close(true);
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
