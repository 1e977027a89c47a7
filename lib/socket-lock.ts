/**
 * The lock beside the socket, `<socket_path>.lock`: which daemon owns the
 * path, decided by the kernel rather than by probing the socket.
 *
 * Two bytes of the file are locked with open-file-description locks (see
 * native/pixl_ipc_native.c):
 *   - byte 0, the owner lock: held by the daemon that serves socket_path, for
 *     its whole life;
 *   - byte 1, the start lock: held while a daemon starts up on the path or
 *     takes it over, so that starters and hand-offs happen one at a time.
 * The kernel drops both when the holder exits, however it exits (SIGKILL
 * included), so the lock never goes stale and a reused pid means nothing.
 * The file holds the owner's pid as text, for error messages only. It is
 * never removed: removing a lock file races with someone opening it.
 */
import { closeSync, constants, fstatSync, openSync, readSync, ftruncateSync, writeSync } from 'fs';
import { constants as osConstants } from 'os';
import { loadNative, nativeUnavailableReason, type NativeAddon } from './native';
import { UnsafeFileError } from './safe-file';

const OWNER_BYTE = 0;
const START_BYTE = 1;
/** How often a wait for a lock looks again. */
const POLL_MS = 10;
/** The longest pid the file may hold (Linux pid_max is at most 4194304). */
const MAX_PID_TEXT = 16;

/** The lock file for a socket path. */
export function lockPathFor(socketPath: string): string {
  return `${socketPath}.lock`;
}

export class SocketLock {
  private fd: number | null;
  /** True while this process holds the owner lock. */
  owner = false;
  /** True while this process holds the start lock. */
  starting = false;

  private constructor(private readonly native: NativeAddon, fd: number, readonly path: string) {
    this.fd = fd;
  }

  /**
   * Opens (creating, mode 0600) the lock file of `socketPath`, never through
   * a symlink; null where file locks are unavailable (no native addon: the
   * reason is in `SocketLock.unavailableReason()`). Throws UnsafeFileError
   * when the name is not a plain file of this user's.
   */
  static open(socketPath: string): SocketLock | null {
    const native = loadNative();
    if (native === null || typeof native.lockByte !== 'function') return null;
    const path = lockPathFor(socketPath);
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw new UnsafeFileError(`IPCServer: the lock file ${path} is a symbolic link; refusing to use it. Remove it and check who created it.`);
      if (code === 'ENXIO') throw new UnsafeFileError(`IPCServer: the lock file ${path} is a FIFO or socket, not a file; remove it`);
      throw new Error(`IPCServer: cannot open the lock file ${path}: ${(err as Error).message}`);
    }
    try {
      const stats = fstatSync(fd);
      const me = process.geteuid ? process.geteuid() : 0;
      let problem: string | null = null;
      if (!stats.isFile()) problem = 'is not a regular file';
      else if (stats.uid !== me) problem = `belongs to uid ${stats.uid}, not to this daemon's user (uid ${me})`;
      // The pid is written into it: a second name would let a planted link point the write elsewhere.
      else if (stats.nlink !== 1) problem = `has ${stats.nlink} hard links`;
      if (problem !== null) throw new UnsafeFileError(`IPCServer: the lock file ${path} ${problem}; remove it`);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return new SocketLock(native, fd, path);
  }

  /** Why `open()` gives null here. */
  static unavailableReason(): string {
    return nativeUnavailableReason() || 'the native addon has no file locks';
  }

  /** Takes the owner lock if nobody holds it; true when this process holds it. */
  tryOwner(): boolean {
    if (!this.owner) this.owner = this.take(OWNER_BYTE);
    return this.owner;
  }

  /** Takes the start lock if nobody holds it; true when this process holds it. */
  tryStart(): boolean {
    if (!this.starting) this.starting = this.take(START_BYTE);
    return this.starting;
  }

  /** Lets go of the start lock (startup or hand-off done). */
  releaseStart(): void {
    if (!this.starting || this.fd === null) return;
    this.native.lockByte(this.fd, START_BYTE, false);
    this.starting = false;
  }

  /** Waits up to `timeoutMs` for the lock `tryLock` takes; true once held. */
  static async waitFor(tryLock: () => boolean, timeoutMs: number): Promise<boolean> {
    const giveUpAt = Date.now() + timeoutMs;
    for (;;) {
      if (tryLock()) return true;
      if (Date.now() >= giveUpAt) return false;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Writes this process's pid into the file (once it holds the owner lock). */
  writePid(): void {
    if (this.fd === null || !this.owner) return;
    const text = `${process.pid}\n`;
    ftruncateSync(this.fd, 0);
    writeSync(this.fd, text, 0);
  }

  /** The pid the owner wrote, or null (none yet, or not a pid). */
  ownerPid(): number | null {
    if (this.fd === null) return null;
    const buffer = Buffer.alloc(MAX_PID_TEXT);
    let length: number;
    try {
      length = readSync(this.fd, buffer, 0, MAX_PID_TEXT, 0);
    } catch {
      return null;
    }
    const text = buffer.toString('latin1', 0, length);
    return /^[1-9]\d{0,6}\n$/.test(text) ? Number(text.trim()) : null;
  }

  /** Lets go of both locks and closes the file. */
  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
    this.owner = false;
    this.starting = false;
  }

  private take(byte: number): boolean {
    if (this.fd === null) return false;
    const err = this.native.lockByte(this.fd, byte, true);
    if (err === 0) return true;
    // EAGAIN/EACCES: another process holds it. Anything else is not a question of who owns the path.
    if (err === osConstants.errno.EAGAIN || err === osConstants.errno.EACCES) return false;
    throw new Error(`IPCServer: cannot lock ${this.path} (errno ${err})`);
  }
}
