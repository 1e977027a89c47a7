/**
 * The server's identity as the kernel reports it, for `expectServerUid`.
 * Reading it needs lib/peer-cred (native); where that is unavailable the
 * answer is null, and a client that requires an identity refuses to go on.
 */

import type * as net from 'net';

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export function readPeerCredentials(socket: net.Socket): PeerCredentials | null {
  let peerCred: { peerCredentials(socket: net.Socket): PeerCredentials | null };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    peerCred = require('../lib/peer-cred');
  } catch {
    return null;
  }
  try {
    return peerCred.peerCredentials(socket);
  } catch {
    return null;
  }
}
