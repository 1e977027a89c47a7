<?php
/**
 * What to check when a connection cannot be opened. The texts are the ones
 * the Node client and the CLI show (test/vectors/connect-hints.json holds the
 * cases every client renders alike).
 *
 * Two steps: diagnose() turns a failed connect into a situation (an array in
 * the vectors' shape, with the facts read from the file system), render()
 * turns a situation into one line of text.
 */
class PixlIPCConnectHint
{
    /**
     * The hint for a situation: `kind` is no_socket, stale_socket, not_socket,
     * permission, wrong_server_user or tcp_refused; the other keys are what
     * that kind shows (see the vectors file).
     *
     * @param array $situation
     * @return string
     */
    public static function render(array $situation)
    {
        switch ($situation['kind']) {
            case 'no_socket':
                $path = $situation['path'];
                return "no socket at $path: check that the daemon is running and that $path is the socket_path in its config";
            case 'stale_socket':
                return "nothing is listening on {$situation['path']}: the daemon stopped and left its socket behind;"
                    . ' start it again (it replaces a stale socket)';
            case 'not_socket':
                return "{$situation['path']} is not a socket: check the socket_path";
            case 'permission':
                $groups = array();
                foreach ($situation['groups'] as $group) {
                    $groups[$group['id']] = self::nameAndId($group);
                }
                return sprintf('permission denied on %s (mode %04o, owner %s, group %s); ', $situation['path'],
                        $situation['mode'] & 07777, self::nameAndId($situation['owner']), self::nameAndId($situation['group']))
                    . 'this process runs as ' . self::nameOrId($situation['user']) . " (uid {$situation['user']['id']})"
                    . ' in groups ' . implode(', ', $groups) . ': add it to group ' . self::nameOrId($situation['group'])
                    . ' or change socket_chmod; php-fpm workers keep the groups they started with, so reload php-fpm after changing groups';
            case 'wrong_server_user':
                $actual = $situation['actual'];
                $expected = $situation['expected'];
                return "{$situation['path']} is served by uid {$actual['id']} (" . ($actual['name'] ?: 'no name')
                    . "), not the expected uid {$expected['id']} (" . ($expected['name'] ?: 'no name') . '); nothing was sent';
            case 'tcp_refused':
                $host = strpos($situation['host'], ':') !== false ? '[' . $situation['host'] . ']' : $situation['host'];
                return "nothing is listening on $host:{$situation['port']}: check that the daemon has a tcp listener there";
        }
        return '';
    }

    /**
     * The situation behind a failed connect, or null when no hint fits (a
     * timeout, a TLS failure). $socketPath is null for tcp/tls targets.
     *
     * @param string|null $socketPath
     * @param string      $address    the tcp/tls address (tcp://host:port)
     * @param string      $errstr     stream_socket_client()'s reason
     * @return array|null
     */
    public static function diagnose($socketPath, $address, $errstr)
    {
        if ($socketPath === null) {
            if (stripos($errstr, 'refused') === false) {
                return null;
            }
            $parts = parse_url($address);
            $host = isset($parts['host']) ? trim($parts['host'], '[]') : '';
            return array('kind' => 'tcp_refused', 'host' => $host, 'port' => isset($parts['port']) ? $parts['port'] : 0);
        }
        clearstatcache(true, $socketPath);
        if (stripos($errstr, 'No such file') !== false) {
            return array('kind' => 'no_socket', 'path' => $socketPath);
        }
        if (stripos($errstr, 'non-socket') !== false) {
            return array('kind' => 'not_socket', 'path' => $socketPath);
        }
        if (stripos($errstr, 'refused') !== false) {
            // Linux refuses a connect to a regular file as it refuses one to a socket nobody listens on.
            $type = @filetype($socketPath);
            return array('kind' => ($type !== false && $type !== 'socket') ? 'not_socket' : 'stale_socket', 'path' => $socketPath);
        }
        if (stripos($errstr, 'Permission denied') !== false || stripos($errstr, 'not permitted') !== false) {
            return self::permissionSituation($socketPath);
        }
        return null;
    }

    /**
     * The hint for a server running as another uid than expectServerUid.
     *
     * @param string $socketPath
     * @param int    $actualUid
     * @param int    $expectedUid
     * @return string
     */
    public static function wrongServerUser($socketPath, $actualUid, $expectedUid)
    {
        return self::render(array('kind' => 'wrong_server_user', 'path' => $socketPath,
            'actual' => self::namedUser($actualUid), 'expected' => self::namedUser($expectedUid)));
    }

    /**
     * This process: its effective user and all its groups, the primary one first
     * (so root shows root(0), never nothing).
     *
     * @return array array('user' => named id, 'groups' => list of named ids)
     */
    public static function identity()
    {
        if (function_exists('posix_geteuid')) {
            $uid = posix_geteuid();
            $gids = array_merge(array(posix_getegid()), posix_getgroups() ?: array());
        } else {
            list($uid, $gids) = self::identityFromProc();
        }
        $groups = array();
        foreach ($gids as $gid) {
            $groups[$gid] = self::namedGroup($gid);
        }
        return array('user' => self::namedUser($uid), 'groups' => array_values($groups));
    }

    /**
     * The permission situation: the first directory on the way this process
     * may not enter, else the socket itself.
     *
     * @param string $socketPath
     * @return array|null
     */
    protected static function permissionSituation($socketPath)
    {
        $absolute = ($socketPath !== '' && $socketPath[0] === '/') ? $socketPath : getcwd() . '/' . $socketPath;
        $blocked = $socketPath;
        $dirs = array();
        for ($dir = dirname($absolute); ; $dir = dirname($dir)) {
            array_unshift($dirs, $dir);
            if (dirname($dir) === $dir) {
                break;
            }
        }
        foreach ($dirs as $dir) {
            if (!self::canEnter($dir)) {
                $blocked = $dir;
                break;
            }
        }
        $stat = @stat($blocked);
        if ($stat === false) {
            return null;
        }
        $me = self::identity();
        return array('kind' => 'permission', 'path' => $blocked, 'mode' => $stat['mode'],
            'owner' => self::namedUser($stat['uid']), 'group' => self::namedGroup($stat['gid']),
            'user' => $me['user'], 'groups' => $me['groups']);
    }

    /**
     * @param string $dir
     * @return bool
     */
    protected static function canEnter($dir)
    {
        if (function_exists('posix_access')) {
            return posix_access($dir, POSIX_X_OK);
        }
        return is_executable($dir);
    }

    /**
     * Without the posix extension: the effective uid and the groups from /proc.
     *
     * @return array array(uid, list of gids)
     */
    protected static function identityFromProc()
    {
        $uid = getmyuid();
        $gids = array(getmygid());
        $status = @file_get_contents('/proc/self/status');
        if ($status !== false) {
            if (preg_match('/^Uid:\s+\d+\s+(\d+)/m', $status, $m)) {
                $uid = (int)$m[1];
            }
            if (preg_match('/^Gid:\s+\d+\s+(\d+)/m', $status, $m)) {
                $gids = array((int)$m[1]);
            }
            if (preg_match('/^Groups:([\d\s]*)$/m', $status, $m)) {
                foreach (preg_split('/\s+/', trim($m[1]), -1, PREG_SPLIT_NO_EMPTY) as $gid) {
                    $gids[] = (int)$gid;
                }
            }
        }
        return array($uid, $gids);
    }

    /**
     * @param int $uid
     * @return array array('id' => uid, 'name' => name or null)
     */
    public static function namedUser($uid)
    {
        $pw = function_exists('posix_getpwuid') ? @posix_getpwuid($uid) : false;
        return array('id' => (int)$uid, 'name' => $pw ? $pw['name'] : self::nameFromFile('/etc/passwd', $uid));
    }

    /**
     * @param int $gid
     * @return array array('id' => gid, 'name' => name or null)
     */
    public static function namedGroup($gid)
    {
        $gr = function_exists('posix_getgrgid') ? @posix_getgrgid($gid) : false;
        return array('id' => (int)$gid, 'name' => $gr ? $gr['name'] : self::nameFromFile('/etc/group', $gid));
    }

    /**
     * The name of an id in /etc/passwd or /etc/group (name:x:id:...), or null.
     *
     * @param string $file
     * @param int    $id
     * @return string|null
     */
    protected static function nameFromFile($file, $id)
    {
        $lines = @file($file, FILE_IGNORE_NEW_LINES);
        foreach ($lines ?: array() as $line) {
            $fields = explode(':', $line);
            if (count($fields) > 2 && $fields[2] === (string)$id) {
                return $fields[0];
            }
        }
        return null;
    }

    /** @param array $who */
    protected static function nameAndId(array $who)
    {
        return $who['name'] ? "{$who['name']}({$who['id']})" : (string)$who['id'];
    }

    /** @param array $who */
    protected static function nameOrId(array $who)
    {
        return $who['name'] ? (string)$who['name'] : (string)$who['id'];
    }
}
