/**
 * The old daemon's side of a hand-off (handoff.ts is the new daemon's): it
 * stands behind the new daemon until it has exited itself.
 *
 * At `prepare` it gives its own socket a second name (a hard link in a
 * private directory next to socket_path), so that the socket it still listens
 * on can be put back at the path. If the connection the new daemon prepared
 * on closes before this daemon has started to shut down (the new daemon
 * failed its startup, exited, or was killed, before or after its rename or
 * its commit), the link is renamed back over socket_path: atomic, and at
 * once, since the kernel closes a dead process's connections. This daemon
 * still holds the owner lock (socket-lock.ts) all along, so the path is its
 * to take back.
 *
 * One hand-off at a time: a second daemon asking to prepare meanwhile is
 * refused (the start lock already keeps lock-aware daemons apart).
 */
import { linkSync, lstatSync, mkdtempSync, renameSync, rmdirSync, unlinkSync } from 'fs';
import { dirname, join } from 'path';

const LINK_DIR_PREFIX = '.pixl-standby-';

export class HandoffStandby {
  /** Set by commit: the new daemon says the path leads to it. */
  committed = false;
  private readonly linkDir: string;
  private readonly linkPath: string;

  /**
   * Links the socket at `socketPath` (inode `inode`, ours) to a private name.
   * `peerPid` is the new daemon's pid (the kernel's word), for messages.
   */
  constructor(readonly socketPath: string, private readonly inode: number, readonly peerPid: number) {
    this.linkDir = mkdtempSync(join(dirname(socketPath), LINK_DIR_PREFIX));
    this.linkPath = join(this.linkDir, 's');
    try {
      linkSync(socketPath, this.linkPath);
      if (lstatSync(this.linkPath).ino !== inode) throw new Error(`${socketPath} changed while it was being linked`);
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  /**
   * The new daemon has gone: puts our socket back at the path unless it
   * still leads there. Returns true when it did.
   */
  restore(): boolean {
    let current: number | null = null;
    try {
      current = lstatSync(this.socketPath).ino;
    } catch {
      // No file at the path: put ours back.
    }
    if (current === this.inode) return false;
    renameSync(this.linkPath, this.socketPath);
    return true;
  }

  /** Removes the private name (and its directory). */
  dispose(): void {
    try { unlinkSync(this.linkPath); } catch { /* renamed back, or never made */ }
    try { rmdirSync(this.linkDir); } catch { /* already gone */ }
  }
}
