/**
 * Defaults every pixl-ipc command shares, so that `pixl-ipc serve` and the
 * commands that talk to it meet on the same socket without any flags.
 */
import * as os from 'os';
import * as path from 'path';

/** Environment variable that overrides the default socket path for every command. */
export const SOCKET_ENV = 'PIXL_IPC_SOCKET';

/** Environment variable holding credentials for servers that require authentication (kept out of argv, where `ps` shows it). */
export const AUTH_ENV = 'PIXL_IPC_AUTH';

/** Milliseconds a client command waits to connect and for each answer. */
export const DEFAULT_TIMEOUT_MS = 10000;

/** The directory `serve` uses by default for its socket and its log: `<tmpdir>/pixl-ipc`. */
export function defaultRuntimeDir(): string {
  return path.join(os.tmpdir(), 'pixl-ipc');
}

/** The socket path used when `--socket` is not given: `$PIXL_IPC_SOCKET`, else `<tmpdir>/pixl-ipc/pixl-ipc.sock`. */
export function defaultSocketPath(): string {
  const fromEnv = process.env[SOCKET_ENV];
  return fromEnv ? fromEnv : path.join(defaultRuntimeDir(), 'pixl-ipc.sock');
}
