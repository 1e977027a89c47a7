/**
 * Who owns socket_path before a daemon binds there: nobody (the path is ours
 * to take), a daemon to take over from (it agreed to hand off: prepare), or
 * one that refuses us. Asks the lock beside the socket first (socket-lock.ts),
 * then the daemon itself (handoff.ts); without file locks, only the daemon.
 */
import { lstatSync } from 'fs';
import { HandoffError, HandoffPeer, handoffStep } from './handoff';
import type { ListenerLog } from './listeners';
import type { SocketLock } from './socket-lock';

/** When the owner lock is held but nothing answers at the path, how long to wait for its holder to finish exiting. */
export const OWNER_GONE_WAIT_MS = 1000;
/** How often it asks again meanwhile. */
const RETRY_MS = 20;

/** A running daemon that agreed to hand off (prepare), and the connection to it. */
export interface RunningDaemon {
  peer: HandoffPeer;
  pid: number;
}

/** "the daemon with pid N" from the lock file, or a description without one. */
function describeOwner(pid: number | null): string {
  return pid === null ? 'another daemon' : `the daemon with pid ${pid}`;
}

/**
 * The daemon to take over from, or null when the path is ours to take (no
 * daemon owns it). Without takeOver, a daemon owning it is an error.
 */
export async function findRunning(path: string, lock: SocketLock | null, takeOver: boolean, log: ListenerLog): Promise<RunningDaemon | null> {
  // Without file locks, the socket itself says whether a daemon runs there.
  if (lock === null) return takeOver ? prepareTakeover(path, log) : null;
  const giveUpAt = Date.now() + OWNER_GONE_WAIT_MS;
  for (;;) {
    // Ours: a daemon may still listen there without the lock (an older version): ask it, as without locks.
    if (lock.tryOwner()) return takeOver ? prepareTakeover(path, log, true) : null;
    const owner = describeOwner(lock.ownerPid());
    if (!takeOver) {
      throw new Error(`IPCServer: ${owner} already serves ${path} (it holds the lock ${lock.path}); stop it first, or start this one with handoff: true (pixl-ipc serve --takeover) to take over from it`);
    }
    const running = await prepareTakeover(path, log, true);
    if (running) return running;
    // The owner lock is held but nothing answers: its holder is exiting (the lock goes when it has gone), or lost its socket.
    if (Date.now() >= giveUpAt) {
      throw new Error(`IPCServer: ${owner} holds the lock ${lock.path} but nothing listens on ${path}; stop that daemon first`);
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

/**
 * Before touching the path: connects to the daemon there (null if none
 * listens) and checks it runs as our user and agrees to hand off.
 */
async function prepareTakeover(path: string, log: ListenerLog, goneIsNone = false): Promise<RunningDaemon | null> {
  let stats;
  try {
    stats = lstatSync(path);
  } catch {
    return null;
  }
  // Not a socket: checkSocketPathFree() says so.
  if (!stats.isSocket()) return null;
  const peer = await HandoffPeer.connect(path).catch((err: Error) => {
    throw new Error(`IPCServer: cannot take over ${path}: ${err.message}`);
  });
  if (peer === null) return null;
  try {
    const ownUid = process.geteuid ? process.geteuid() : -1;
    const serverUid = peer.serverUid;
    if (serverUid !== null && serverUid !== ownUid) {
      throw new HandoffError(`the daemon listening there runs as uid ${serverUid}, not as this daemon's uid ${ownUid}`);
    }
    const answer = await peer.prepare();
    log.debug(3, `Taking over ${path} from the daemon with pid ${answer.pid}`);
    await handoffStep('prepared');
    return { peer, pid: answer.pid };
  } catch (err) {
    // A daemon dying as we ask: between letting go of its lock and closing its socket, the kernel still queues connects.
    const gone = peer.isClosed;
    peer.close();
    if (gone && goneIsNone) return null;
    throw new Error(`IPCServer: cannot take over ${path}: ${(err as Error).message}; stop that daemon first, or start this one without handoff`);
  }
}
