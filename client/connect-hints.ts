/**
 * What to check when a connection cannot be opened: the same hint text in the
 * Node client, the CLI and the PHP client (test/vectors/connect-hints.json
 * holds the cases all three render).
 *
 * Two steps: `diagnoseConnectFailure()` turns a socket error into a situation
 * (looking at the file system for the facts a hint needs: is it a socket, its
 * mode and owner, who this process is), and `renderConnectHint()` turns a
 * situation into text. Only the second is shared by the vectors; it is pure.
 */

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { groupName, userName } from '../lib/user-db';
import type { Target } from './target';

/** A user or group: its id, and its name when the system has one. */
export interface NamedId {
  id: number;
  name: string | null;
}

/** Why a connection could not be opened, with what its hint shows. */
export type ConnectSituation =
  | { kind: 'no_socket'; path: string }
  | { kind: 'stale_socket'; path: string }
  | { kind: 'not_socket'; path: string }
  | {
      kind: 'permission';
      /** The socket, or the directory on its way that this process may not enter. */
      path: string;
      /** st_mode (file type bits are ignored). */
      mode: number;
      owner: NamedId;
      group: NamedId;
      /** The effective user of this process. */
      user: NamedId;
      /** All its groups, primary first. */
      groups: NamedId[];
    }
  | { kind: 'wrong_server_user'; path: string; actual: NamedId; expected: NamedId }
  | { kind: 'tcp_refused'; host: string; port: number };

/** `name(id)`, or the bare id when it has no name. */
function nameAndId(who: NamedId): string {
  return who.name ? `${who.name}(${who.id})` : String(who.id);
}

function nameOrId(who: NamedId): string {
  return who.name || String(who.id);
}

/** Permission bits as four octal digits (`0660`). */
function octalMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** Each group once, in the order given. */
function distinctGroups(groups: NamedId[]): NamedId[] {
  const seen = new Set<number>();
  return groups.filter((group) => !seen.has(group.id) && seen.add(group.id));
}

/** The hint for a situation: one line saying what is wrong and what to check. */
export function renderConnectHint(situation: ConnectSituation): string {
  switch (situation.kind) {
    case 'no_socket':
      return `no socket at ${situation.path}: check that the daemon is running and that ${situation.path} is the socket_path in its config`;
    case 'stale_socket':
      return `nothing is listening on ${situation.path}: the daemon stopped and left its socket behind; start it again (it replaces a stale socket)`;
    case 'not_socket':
      return `${situation.path} is not a socket: check the socket_path`;
    case 'permission': {
      const groups = distinctGroups(situation.groups).map(nameAndId).join(', ');
      return (
        `permission denied on ${situation.path} (mode ${octalMode(situation.mode)}, owner ${nameAndId(situation.owner)}, group ${nameAndId(situation.group)}); ` +
        `this process runs as ${nameOrId(situation.user)} (uid ${situation.user.id}) in groups ${groups}: ` +
        `add it to group ${nameOrId(situation.group)} or change socket_chmod; ` +
        'php-fpm workers keep the groups they started with, so reload php-fpm after changing groups'
      );
    }
    case 'wrong_server_user':
      return (
        `${situation.path} is served by uid ${situation.actual.id} (${situation.actual.name || 'no name'}), ` +
        `not the expected uid ${situation.expected.id} (${situation.expected.name || 'no name'}); nothing was sent`
      );
    case 'tcp_refused': {
      const host = situation.host.includes(':') ? `[${situation.host}]` : situation.host;
      return `nothing is listening on ${host}:${situation.port}: check that the daemon has a tcp listener there`;
    }
  }
}

/**
 * The situation behind a failed connect (the socket's error, with its errno
 * `code`), or null when no hint fits (a timeout, a TLS failure...). Reads the
 * file system for Unix targets; never throws.
 */
export function diagnoseConnectFailure(target: Target, error: unknown): ConnectSituation | null {
  const code = (error as { code?: unknown } | null)?.code;
  try {
    if (target.kind !== 'unix') {
      return code === 'ECONNREFUSED' ? { kind: 'tcp_refused', host: target.host, port: target.port } : null;
    }
    const socketPath = target.path;
    switch (code) {
      case 'ENOENT':
        return { kind: 'no_socket', path: socketPath };
      case 'ENOTSOCK':
        return { kind: 'not_socket', path: socketPath };
      case 'ECONNREFUSED': {
        // Linux refuses a connect to a regular file the same way as to a socket nobody listens on.
        const stat = statOrNull(socketPath);
        return stat !== null && !stat.isSocket() ? { kind: 'not_socket', path: socketPath } : { kind: 'stale_socket', path: socketPath };
      }
      case 'EACCES':
      case 'EPERM':
        return permissionSituation(socketPath);
      default:
        return null;
    }
  } catch {
    return null;
  }
}

/** The hint for a failed connect, or null (see diagnoseConnectFailure). */
export function connectHint(target: Target, error: unknown): string | null {
  const situation = diagnoseConnectFailure(target, error);
  return situation === null ? null : renderConnectHint(situation);
}

/** The hint for a server that runs as another uid than `expectServerUid`. */
export function wrongServerUserHint(socketPath: string, actualUid: number, expectedUid: number): string {
  return renderConnectHint({ kind: 'wrong_server_user', path: socketPath, actual: namedUser(actualUid), expected: namedUser(expectedUid) });
}

/** This process: its effective user and all its groups, primary first. */
export function currentIdentity(): { user: NamedId; groups: NamedId[] } {
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : os.userInfo().uid;
  const gid = typeof process.getegid === 'function' ? process.getegid() : os.userInfo().gid;
  const others = typeof process.getgroups === 'function' ? process.getgroups() : [];
  const groups = distinctGroups([gid, ...others].map(namedGroup));
  return { user: namedUser(uid), groups };
}

/**
 * The permission situation for `socketPath`: the first directory on the way
 * this process may not enter, else the socket itself (it may not write to it).
 */
function permissionSituation(socketPath: string): ConnectSituation {
  const absolute = path.resolve(socketPath);
  let blocked = socketPath;
  const directories: string[] = [];
  for (let dir = path.dirname(absolute); ; dir = path.dirname(dir)) {
    directories.unshift(dir);
    if (path.dirname(dir) === dir) break;
  }
  for (const dir of directories) {
    try {
      fs.accessSync(dir, fs.constants.X_OK);
    } catch {
      blocked = dir;
      break;
    }
  }
  const stat = fs.statSync(blocked);
  const { user, groups } = currentIdentity();
  return { kind: 'permission', path: blocked, mode: stat.mode, owner: namedUser(stat.uid), group: namedGroup(stat.gid), user, groups };
}

function statOrNull(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch {
    return null;
  }
}

function namedUser(uid: number): NamedId {
  return { id: uid, name: userName(uid) ?? nameFromFile('/etc/passwd', uid) };
}

function namedGroup(gid: number): NamedId {
  return { id: gid, name: groupName(gid) ?? nameFromFile('/etc/group', gid) };
}

/** Without the native addon: the name of an id from /etc/passwd or /etc/group (`name:x:id:...`). */
function nameFromFile(file: string, id: number): string | null {
  try {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const fields = line.split(':');
      if (fields.length > 2 && fields[2] === String(id)) return fields[0];
    }
  } catch {
    // No such file (not Linux): the id alone is shown.
  }
  return null;
}
