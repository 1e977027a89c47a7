/**
 * The Unix socket file: never steal a live server's socket, never let it be
 * reachable with a mode looser than configured, and clear a stale one left
 * by a crashed process.
 *
 * The socket is bound at a temporary name inside a fresh private (0700)
 * directory next to its final path, given its final mode there, then
 * renamed into place: rename() is atomic and replaces a stale socket in the
 * same step, so nobody can connect before the mode is right. It also means
 * the path libuv unlinks when the listener closes is the temporary one,
 * never the real path (where a newer daemon may listen by then).
 */
import { chmodSync, lstatSync, mkdtempSync, renameSync, rmdirSync, unlinkSync } from 'fs';
import { connect } from 'net';
import { dirname, join } from 'path';
import { MAX_SOCKET_PATH_BYTES } from './socket-path-limit';

const PROBE_TIMEOUT_MS = 1000;
const STAGING_PREFIX = '.pixl-';

/** Resolves true if something accepts connections at `path`. */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = connect(path);
    const timer = setTimeout(() => { probe.destroy(); resolve(true); }, PROBE_TIMEOUT_MS);
    probe.once('connect', () => { clearTimeout(timer); probe.destroy(); resolve(true); });
    probe.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(new Error(`Cannot probe socket ${path}: ${err.message}`));
    });
  });
}

/**
 * Checks that `path` may be taken: nothing there, or a stale socket (which
 * the rename will replace). Fails if a live server owns it (still live after
 * `liveForMs`: a server that is exiting stops answering within milliseconds)
 * or it is not a socket.
 */
export async function checkSocketPathFree(path: string, liveForMs = 0): Promise<'fresh' | 'stale'> {
  const giveUpAt = Date.now() + liveForMs;
  for (;;) {
    try {
      return await checkOnce(path);
    } catch (err) {
      if (!(err instanceof LiveSocketError) || Date.now() >= giveUpAt) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

class LiveSocketError extends Error {}

async function checkOnce(path: string): Promise<'fresh' | 'stale'> {
  let stats;
  try {
    stats = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'fresh';
    throw err;
  }
  if (!stats.isSocket()) {
    throw new Error(`IPCServer: ${path} exists and is not a socket; refusing to replace it`);
  }
  if (await isLive(path)) {
    throw new LiveSocketError(`IPCServer: another server is already listening on ${path}`);
  }
  return 'stale';
}

/** A private directory to bind in, next to the final socket path (same filesystem, so rename works). */
export interface StagingDir {
  /** Where to bind. */
  readonly socketPath: string;
  /** Removes the directory (and the socket, if it is still there). */
  remove(): void;
}

export function createStagingDir(finalPath: string): StagingDir {
  const dir = dirname(finalPath);
  const needed = Buffer.byteLength(join(dir, STAGING_PREFIX + 'XXXXXX', 's'));
  if (needed > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`IPCServer: socket_path ${finalPath} is too long: binding it safely needs ${needed} bytes of a Unix socket's ${MAX_SOCKET_PATH_BYTES}; use a shorter directory`);
  }
  // mkdtemp creates the directory 0700 with an unpredictable name.
  const staging = mkdtempSync(join(dir, STAGING_PREFIX));
  const socketPath = join(staging, 's');
  return {
    socketPath,
    remove() {
      removeSocketFile(socketPath);
      try { rmdirSync(staging); } catch { /* already gone */ }
    },
  };
}

/**
 * Gives the bound socket its final mode, then renames it to `finalPath`
 * (atomically replacing a stale socket). Returns the socket's inode.
 */
export function publishSocket(boundPath: string, finalPath: string, mode: number | null): number {
  if (mode !== null) chmodSync(boundPath, mode);
  // Between the liveness check and now another server may have appeared; do not replace it blindly.
  const existing = lstatOrNull(finalPath);
  if (existing && !existing.isSocket()) {
    throw new Error(`IPCServer: ${finalPath} exists and is not a socket; refusing to replace it`);
  }
  renameSync(boundPath, finalPath);
  return lstatSync(finalPath).ino;
}

function lstatOrNull(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

export function removeSocketFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
