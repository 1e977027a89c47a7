/**
 * The Unix socket file: never steal a live server's socket, but clear a stale
 * one left by a crashed process.
 */
import { lstatSync, mkdirSync, unlinkSync } from 'fs';
import { connect } from 'net';
import { dirname } from 'path';

const PROBE_TIMEOUT_MS = 1000;

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
 * Makes `path` ready to listen on: creates its directory if missing, removes
 * a stale socket, and fails if a live server owns it or it is not a socket.
 */
export async function prepareSocketPath(path: string): Promise<'fresh' | 'stale_removed'> {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    throw new Error(`IPCServer: cannot create the socket's directory ${dirname(path)}: ${(err as Error).message}`);
  }
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
    throw new Error(`IPCServer: another server is already listening on ${path}`);
  }
  removeSocketFile(path);
  return 'stale_removed';
}

export function removeSocketFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
