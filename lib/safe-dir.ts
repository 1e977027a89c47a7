/**
 * Directories the daemon puts its socket and log in must be its own: another
 * local user who can rename files there can move the socket aside and listen
 * in its place, or plant a symlink where the log will be written.
 */
import { chmodSync, lstatSync, mkdirSync, readlinkSync, Stats } from 'fs';
import { dirname } from 'path';
import { userName } from './user-db';

export class UnsafeDirectoryError extends Error {
  readonly code = 'unsafe_directory';
}

function describeUid(uid: number): string {
  const name = userName(uid);
  return name ? `${name} (uid ${uid})` : `uid ${uid}`;
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/**
 * Throws UnsafeDirectoryError unless `dir` is a real directory (not a
 * symlink), owned by this process's user or root, and not writable by group
 * or others unless sticky (like /tmp, where only a file's owner can rename it).
 * `purpose` names what the directory is for, in the message.
 */
export function checkDirectory(dir: string, purpose: string): Stats {
  const stats = lstatSync(dir);
  if (stats.isSymbolicLink()) {
    let target = '';
    try { target = ` -> ${readlinkSync(dir)}`; } catch { /* gone meanwhile */ }
    throw new UnsafeDirectoryError(`${purpose} ${dir} is a symbolic link${target}; refusing to use it (whoever made the link chooses where files go). Remove the link, or configure a path in a directory this user owns.`);
  }
  if (!stats.isDirectory()) {
    throw new UnsafeDirectoryError(`${purpose} ${dir} is not a directory`);
  }
  const me = process.geteuid ? process.geteuid() : 0;
  if (stats.uid !== me && stats.uid !== 0) {
    throw new UnsafeDirectoryError(`${purpose} ${dir} belongs to ${describeUid(stats.uid)}, not to this daemon's user ${describeUid(me)} or root: that user could replace the socket or the log. Remove the directory (as root: rm -r ${dir}) or configure one this user owns.`);
  }
  if ((stats.mode & 0o022) !== 0 && (stats.mode & 0o1000) === 0) {
    throw new UnsafeDirectoryError(`${purpose} ${dir} is writable by ${(stats.mode & 0o002) ? 'every user' : 'its group'} (mode ${octal(stats.mode)}) and not sticky: they could rename the socket and listen in its place. Fix it with: chmod go-w ${dir}`);
  }
  return stats;
}

/**
 * Creates `dir` if it is missing (with `mode`, whatever the umask; missing
 * parents get 0755), then checks it with checkDirectory().
 */
export function ensureDirectory(dir: string, mode: number, purpose: string): Stats {
  try {
    lstatSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
    try {
      mkdirSync(dir, { mode });
      // mkdir's mode is filtered by the umask; set exactly what was asked.
      chmodSync(dir, mode);
    } catch (mkdirErr) {
      if ((mkdirErr as NodeJS.ErrnoException).code !== 'EEXIST') throw mkdirErr;
    }
  }
  return checkDirectory(dir, purpose);
}

/**
 * The mode for a socket's directory when pixl-ipc creates it: private, plus
 * search (x) permission for the classes the socket itself is open to, so they
 * can reach it by name without listing or changing the directory.
 */
export function directoryModeFor(socketMode: number | null): number {
  if (socketMode === null) return 0o700;
  let mode = 0o700;
  if (socketMode & 0o060) mode |= 0o010;
  if (socketMode & 0o006) mode |= 0o001;
  return mode;
}

/** What reconcileSearchPermission() did about a socket directory's mode. */
export interface SearchPermissionChange {
  /** The directory's mode before, and what socket_chmod needs it to be. */
  from: number;
  to: number;
  /** True when the daemon set it; false when it could not (then `command` fixes it). */
  fixed: boolean;
  /** The command that sets it, for the log. */
  command: string;
  /** Who lacked search permission: "its group", "other users", or both. */
  who: string;
}

/**
 * A directory made earlier, under another socket_chmod, keeps its mode: if it
 * lacks the search (x) bits the socket's mode now lets in, those users get
 * "Permission denied" however the socket is set. Adds the missing x bits when
 * the directory is this user's (only search, never read or write); otherwise
 * leaves it. Returns what it found, or null when the mode already fits.
 */
export function reconcileSearchPermission(dir: string, stats: Stats, socketMode: number | null): SearchPermissionChange | null {
  const missing = directoryModeFor(socketMode) & 0o011 & ~stats.mode;
  if (missing === 0) return null;
  const from = stats.mode & 0o7777;
  const to = from | missing;
  const who = [missing & 0o010 ? 'its group' : '', missing & 0o001 ? 'other users' : ''].filter(Boolean).join(' and ');
  const command = `chmod ${(missing & 0o010 ? 'g' : '') + (missing & 0o001 ? 'o' : '')}+x ${dir}`;
  const me = process.geteuid ? process.geteuid() : 0;
  let fixed = false;
  if (stats.uid === me) {
    try {
      chmodSync(dir, to);
      fixed = true;
    } catch {
      fixed = false;
    }
  }
  return { from, to, fixed, command, who };
}

/** The log line for a change reconcileSearchPermission() found. */
export function describeSearchPermissionChange(dir: string, socketMode: number, change: SearchPermissionChange): string {
  const need = `socket_chmod ${octal(socketMode).slice(1)} lets ${change.who} connect, but the socket directory ${dir} had mode ${octal(change.from)}, without search (x) permission for them`;
  return change.fixed
    ? `${need}: set it to ${octal(change.to)} (${change.command})`
    : `${need}, and this user cannot change it: they get "Permission denied" until it is fixed with: ${change.command}`;
}
