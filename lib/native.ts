/**
 * pixl-ipc's native addon (native/pixl_ipc_native.c): the few C library calls
 * Node has no API for (peer credentials, the user and group database, file locks). Its
 * binary ships prebuilt in prebuilds/<platform>-<arch>/, so installing needs
 * no compiler and runs no install script. Loaded on first use; where there is
 * no binary for this platform, or it does not load, callers get null and the
 * reason is in `nativeUnavailableReason()`.
 */
import * as path from 'path';

export interface NativeAddon {
  /** SO_PEERCRED into out[0..2] = pid, uid, gid; returns 0 or an errno. */
  peerCred(fd: number, out: Int32Array): number;
  /** SO_PEERGROUPS: the peer's supplementary gids, or null. */
  peerGroups(fd: number): number[] | null;
  userName(uid: number): string | null;
  groupName(gid: number): string | null;
  userId(name: string): number | null;
  groupId(name: string): number | null;
  /** An open-file-description lock on one byte (F_OFD_SETLK): lock true takes it without waiting, false lets go; returns 0 or an errno (EAGAIN: held). */
  lockByte(fd: number, offset: number, lock: boolean): number;
}

let loaded: NativeAddon | null | undefined;
let reason = '';

/** The directory holding prebuilds/, from dist/lib/ (built) or lib/ (sources). */
function packageRoot(): string {
  const here = __dirname;
  return path.basename(path.dirname(here)) === 'dist' ? path.join(here, '..', '..') : path.join(here, '..');
}

/** The addon, or null where it cannot load. */
export function loadNative(): NativeAddon | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.platform !== 'linux') {
    reason = `kernel peer credentials (SO_PEERCRED) are implemented for Linux only, not ${process.platform}`;
    return null;
  }
  const file = path.join(packageRoot(), 'prebuilds', `${process.platform}-${process.arch}`, 'pixl-ipc-native.node');
  try {
    loaded = require(file) as NativeAddon;
  } catch (err) {
    const message = (err as Error).message.split('\n')[0];
    reason = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND'
      ? `no prebuilt native addon for ${process.platform}-${process.arch} (build one with scripts/build-native.sh)`
      : `the native addon ${file} did not load: ${message}`;
  }
  return loaded;
}

/** Why the addon is unavailable ('' when it loaded). */
export function nativeUnavailableReason(): string {
  loadNative();
  return reason;
}
