/**
 * The server's identity as the kernel reports it, for `expectServerUid`.
 * lib/peer-cred reads it (SO_PEERCRED, through a small native addon); where
 * that is unavailable the answer is null, and a client that requires an
 * identity refuses to go on rather than trust the server blindly.
 */

import type * as net from 'net';
import { PeerCredentials, peerCredentials, peerCredentialsUnavailableReason } from '../lib/peer-cred';
import { wrongServerUserHint } from './connect-hints';
import { ErrorCode, IPCError } from './errors';
import type { Target } from './target';

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

/**
 * With expectServerUid: the error that refuses this server (before anything
 * is written), or null when the kernel says it runs as `expected`.
 */
export function serverIdentityError(socket: net.Socket, target: Target, targetName: string, expected: number | null | undefined): IPCError | null {
  if (expected === null || expected === undefined) return null;
  if (target.kind !== 'unix') {
    return new IPCError(ErrorCode.serverIdentity, 'expectServerUid needs a Unix socket target; ' + targetName + ' is not one');
  }
  const peer = readPeerCredentials(socket);
  if (peer === null) {
    const why = peerCredentialsProblem() || 'the kernel did not say';
    return new IPCError(ErrorCode.serverIdentity, 'Cannot read the uid of the server at ' + targetName + ' (' + why + '), and expectServerUid is set: nothing was sent to it');
  }
  if (peer.uid !== Number(expected)) {
    return new IPCError(ErrorCode.serverIdentity, wrongServerUserHint(targetName, peer.uid, Number(expected)) + ' (expectServerUid)');
  }
  return null;
}
