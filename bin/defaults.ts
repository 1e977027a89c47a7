/**
 * Defaults every pixl-ipc command shares, so that `pixl-ipc serve` and the
 * commands that talk to it meet on the same socket without any flags.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Environment variable that overrides the default socket path for every command. */
export const SOCKET_ENV = 'PIXL_IPC_SOCKET';

/** Environment variable holding credentials for servers that require authentication (kept out of argv, where `ps` shows it). */
export const AUTH_ENV = 'PIXL_IPC_AUTH';

/** Milliseconds a client command waits to connect and for each answer. */
export const DEFAULT_TIMEOUT_MS = 10000;

/**
 * The directory `serve` uses by default for its socket and its log, private
 * to the user: `$XDG_RUNTIME_DIR/pixl-ipc` when that is set and usable (a
 * directory of this user's, closed to others, as systemd-logind makes it),
 * else `<tmpdir>/pixl-ipc-<uid>`. The server creates it 0700 and refuses one
 * that another user owns or can write to.
 */
export function defaultRuntimeDir(): string {
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (xdg && path.isAbsolute(xdg) && isPrivateDirectory(xdg)) return path.join(xdg, 'pixl-ipc');
  const uid = process.geteuid ? process.geteuid() : 0;
  return path.join(os.tmpdir(), `pixl-ipc-${uid}`);
}

function isPrivateDirectory(dir: string): boolean {
  try {
    const stats = fs.lstatSync(dir);
    const uid = process.geteuid ? process.geteuid() : 0;
    return stats.isDirectory() && stats.uid === uid && (stats.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/** The socket path used when `--socket` is not given: `$PIXL_IPC_SOCKET`, else `<runtime dir>/pixl-ipc.sock`. */
export function defaultSocketPath(): string {
  const fromEnv = process.env[SOCKET_ENV];
  return fromEnv ? fromEnv : path.join(defaultRuntimeDir(), 'pixl-ipc.sock');
}
