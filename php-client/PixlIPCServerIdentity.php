<?php
/**
 * expectServerUid: who serves a Unix socket, learned before a byte is sent.
 *
 * From the kernel (SO_PEERCRED) where PHP's sockets extension offers it; else
 * from the file system: the socket must be a socket (not a symlink) owned by
 * the expected uid, in a directory that only that uid or root can change (or
 * a sticky one such as /tmp, where nobody else can rename or remove it), so
 * nobody else can have put it there or swap it between the check and the connect.
 */
class PixlIPCServerIdentity
{
    /**
     * The default expectServerUid, as the CLI does: on this user's default
     * socket (the runtime directory's pixl-ipc.sock) this user's own uid, so
     * nothing goes to anyone else; elsewhere none (a daemon may run as another user).
     *
     * @param string|null $socketPath
     * @return int|null
     */
    public static function defaultExpectedUid($socketPath)
    {
        if ($socketPath === null || basename($socketPath) !== 'pixl-ipc.sock' || !function_exists('posix_geteuid')) {
            return null;
        }
        return self::absolute($socketPath) === self::defaultSocketPath() ? posix_geteuid() : null;
    }

    /**
     * The socket `pixl-ipc serve` listens on when given none: $XDG_RUNTIME_DIR/pixl-ipc
     * when that directory is private to this user, else <tmp>/pixl-ipc-<uid>.
     *
     * @return string
     */
    public static function defaultSocketPath()
    {
        $uid = posix_geteuid();
        $xdg = getenv('XDG_RUNTIME_DIR');
        if (is_string($xdg) && $xdg !== '' && $xdg[0] === '/') {
            $stat = @lstat($xdg);
            if ($stat && ($stat['mode'] & 0170000) === 0040000 && $stat['uid'] === $uid && ($stat['mode'] & 077) === 0) {
                return rtrim($xdg, '/') . '/pixl-ipc/pixl-ipc.sock';
            }
        }
        return rtrim(sys_get_temp_dir(), '/') . "/pixl-ipc-$uid/pixl-ipc.sock";
    }

    /**
     * Checks the socket file and its directory before connecting. Returns the
     * socket's lstat() for checkAfterConnect(). Throws E_SERVER_IDENTITY.
     *
     * @param string $socketPath
     * @param int    $expectedUid
     * @return array
     */
    public static function checkBeforeConnect($socketPath, $expectedUid)
    {
        clearstatcache(true);
        $socket = @lstat($socketPath);
        if ($socket === false) {
            // Nothing there: the connect fails with the usual hint.
            return array();
        }
        if (($socket['mode'] & 0170000) !== 0140000) {
            self::refuse("$socketPath is not a socket (a symlink or another file), and expectServerUid is set: nothing was sent");
        }
        if ($socket['uid'] !== $expectedUid) {
            self::refuse(PixlIPCConnectHint::wrongServerUser($socketPath, $socket['uid'], $expectedUid));
        }
        $dir = realpath(dirname(self::absolute($socketPath)));
        $dirStat = $dir === false ? false : @lstat($dir);
        if ($dirStat === false) {
            self::refuse("cannot inspect the directory of $socketPath, and expectServerUid is set: nothing was sent");
        }
        $sticky = ($dirStat['mode'] & 01000) !== 0;
        $othersWrite = ($dirStat['mode'] & 022) !== 0;
        if (($dirStat['uid'] !== $expectedUid && $dirStat['uid'] !== 0) || ($othersWrite && !$sticky)) {
            self::refuse(sprintf('%s is in %s (owner uid %d, mode %04o), which users other than uid %d can change;'
                . ' without the kernel\'s peer credentials (SO_PEERCRED) the client cannot tell who serves it,'
                . ' and expectServerUid is set: nothing was sent', $socketPath, $dir, $dirStat['uid'], $dirStat['mode'] & 07777, $expectedUid));
        }
        return $socket;
    }

    /**
     * After the connect, before anything is written: the kernel's word where
     * PHP can read it, else the socket file must still be the one checked.
     *
     * @param resource $fp
     * @param string   $socketPath
     * @param int      $expectedUid
     * @param array    $checked what checkBeforeConnect() returned
     * @return void
     */
    public static function checkAfterConnect($fp, $socketPath, $expectedUid, array $checked)
    {
        $peerUid = self::peerUid($fp);
        if ($peerUid !== null) {
            if ($peerUid !== $expectedUid) {
                self::refuse(PixlIPCConnectHint::wrongServerUser($socketPath, $peerUid, $expectedUid));
            }
            return;
        }
        clearstatcache(true);
        $now = @lstat($socketPath);
        if (!$checked || $now === false || $now['ino'] !== $checked['ino'] || $now['dev'] !== $checked['dev']) {
            self::refuse("$socketPath changed while connecting, and expectServerUid is set: nothing was sent");
        }
    }

    /**
     * True when the kernel's peer credentials can be read here.
     *
     * @return bool
     */
    public static function canReadPeerCredentials()
    {
        return defined('SO_PEERCRED') && function_exists('socket_import_stream') && function_exists('socket_get_option');
    }

    /**
     * The server's uid from SO_PEERCRED, or null when PHP cannot read it.
     *
     * @param resource $fp
     * @return int|null
     */
    protected static function peerUid($fp)
    {
        if (!self::canReadPeerCredentials()) {
            return null;
        }
        $socket = @socket_import_stream($fp);
        if (!$socket) {
            return null;
        }
        $cred = @socket_get_option($socket, SOL_SOCKET, constant('SO_PEERCRED'));
        return is_array($cred) && isset($cred['uid']) ? (int)$cred['uid'] : null;
    }

    /**
     * @param string $path
     * @return string
     */
    protected static function absolute($path)
    {
        return ($path !== '' && $path[0] === '/') ? $path : getcwd() . '/' . $path;
    }

    /**
     * @param string $message
     * @return void
     */
    protected static function refuse($message)
    {
        throw new PixlIPCException($message, PixlIPCClient::E_SERVER_IDENTITY);
    }
}
