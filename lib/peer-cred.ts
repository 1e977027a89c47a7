/**
 * Kernel peer identity of a Unix-socket connection: who is on the other end,
 * as the kernel recorded it when the connection was made (SO_PEERCRED on
 * Linux), not as the client claims. On the server side that is the
 * connecting process; on the client side, the process that called listen().
 */
import type { Socket } from 'net';
import { loadNative, nativeUnavailableReason } from './native';
import { groupName, userName } from './user-db';

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** What a connection exposes as `peer`: the kernel's ids plus the names they resolve to. */
export interface PeerIdentity extends PeerCredentials {
  user?: string;
  group?: string;
}

// One scratch array for every call: the addon fills it synchronously.
const ucred = new Int32Array(3);

/** True when peerCredentials() can work on this platform (loads the addon on first call). */
export function peerCredentialsAvailable(): boolean {
  return loadNative() !== null;
}

/** Why peer credentials are unavailable ('' when they are available). */
export function peerCredentialsUnavailableReason(): string {
  return nativeUnavailableReason();
}

/** The socket's file descriptor, or -1 (TLS sockets, closed sockets, Windows pipes). */
export function socketFd(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' ? fd : -1;
}

/**
 * The peer's pid, uid and gid as the kernel reports them, or null when they
 * cannot be read (not a Unix socket, closed, not Linux, addon unavailable).
 */
export function peerCredentials(socket: Socket): PeerCredentials | null {
  const native = loadNative();
  if (!native) return null;
  const fd = socketFd(socket);
  if (fd < 0) return null;
  if (native.peerCred(fd, ucred) !== 0) return null;
  // Sockets the kernel keeps no credentials for (TCP) answer pid 0, uid and gid (uid_t)-1.
  if (ucred[1] === -1 && ucred[0] === 0) return null;
  return { pid: ucred[0], uid: ucred[1] >>> 0, gid: ucred[2] >>> 0 };
}

/** peerCredentials() with the user and group names where they resolve. */
export function peerIdentity(socket: Socket): PeerIdentity | null {
  const credentials: PeerIdentity | null = peerCredentials(socket);
  if (!credentials) return null;
  const now = Date.now();
  const user = userName(credentials.uid, now);
  if (user !== null) credentials.user = user;
  const group = groupName(credentials.gid, now);
  if (group !== null) credentials.group = group;
  return credentials;
}

/**
 * The peer's supplementary group ids as the kernel recorded them at connect
 * (SO_PEERGROUPS, Linux 4.13+), or null when they cannot be read.
 */
export function peerGroups(socket: Socket): number[] | null {
  const native = loadNative();
  if (!native) return null;
  const fd = socketFd(socket);
  return fd < 0 ? null : native.peerGroups(fd);
}

/** "uid 1000 (alice), pid 4242", for logs. */
export function describePeer(peer: PeerIdentity | null): string {
  if (!peer) return 'an unidentified peer';
  return `uid ${peer.uid}${peer.user ? ` (${peer.user})` : ''}, pid ${peer.pid}`;
}
