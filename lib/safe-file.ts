/**
 * Files the daemon writes (its log) are created without following symlinks
 * and refused when they are not plainly its own: a symlink or hard link
 * planted at the log's name would otherwise make a root daemon append to a
 * file of the planter's choosing.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync } from 'fs';

export class UnsafeFileError extends Error {
  readonly code = 'unsafe_file';
}

/**
 * Creates `path` (mode 0600) or opens the existing file for appending, never
 * through a symlink, and checks it: a regular file, owned by this user or
 * root, with no other hard link. Throws UnsafeFileError otherwise. Once it
 * exists and its directory is safe (see safe-dir.ts), writers that open it by
 * name (pixl-logger's appendFileSync) reach this file.
 */
export function prepareAppendFile(path: string, purpose = 'log file'): void {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted at the name must not block the open.
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ELOOP from O_NOFOLLOW; EACCES when the kernel's own protections (fs.protected_*) refuse first.
    if (code === 'ELOOP' || (code === 'EACCES' && isSymlink(path))) {
      throw new UnsafeFileError(`${purpose} ${path} is a symbolic link; refusing to write through it. Remove it (rm ${path}) and check who created it.`);
    }
    if (code === 'ENXIO') throw new UnsafeFileError(`${purpose} ${path} is a FIFO or socket, not a file; remove it`);
    throw err;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new UnsafeFileError(`${purpose} ${path} is not a regular file; remove it`);
    const me = process.geteuid ? process.geteuid() : 0;
    if (stats.uid !== me && stats.uid !== 0) {
      throw new UnsafeFileError(`${purpose} ${path} belongs to uid ${stats.uid}, not to this daemon's user (uid ${me}); remove it`);
    }
    if (stats.nlink > 1) {
      throw new UnsafeFileError(`${purpose} ${path} has ${stats.nlink} hard links (another name points at the same file); remove it`);
    }
  } finally {
    closeSync(fd);
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
