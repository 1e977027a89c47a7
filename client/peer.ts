/**
 * The server's identity as the kernel reports it, for `expectServerUid`.
 * lib/peer-cred reads it (SO_PEERCRED, through a small native addon); where
 * that is unavailable the answer is null, and a client that requires an
 * identity refuses to go on rather than trust the server blindly.
 */

import type * as net from 'net';
import { PeerCredentials, peerCredentials, peerCredentialsUnavailableReason } from '../lib/peer-cred';

export type { PeerCredentials };

/** The server's pid, uid and gid, or null when the kernel cannot be asked here. */
export function readPeerCredentials(socket: net.Socket): PeerCredentials | null {
  try {
    return peerCredentials(socket);
  } catch {
    return null;
  }
}

/** Why readPeerCredentials() gives null ('' when it works). */
export function peerCredentialsProblem(): string {
  return peerCredentialsUnavailableReason();
}
