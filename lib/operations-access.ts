/**
 * Who may read the daemon's operations endpoints (stats, the live traffic
 * monitor). By default only the daemon's own user, as the kernel reports the
 * caller (SO_PEERCRED): what a client claims in its request never counts.
 * Stats list every client's pid and user agent; traffic shows every uri.
 */
import type { IPCConnection } from './types';
import type { OperationsAccess } from './config-types';
import { ServerErrorCode } from './protocol';

export type { OperationsAccess };

export const OWN_USER = 'own_user';

/** The uid the daemon runs as (its effective uid), or null where there is none. */
export function daemonUid(): number | null {
  return typeof process.geteuid === 'function' ? process.geteuid() : null;
}

/** True when the kernel says this connection's process runs as the daemon's own user. */
export function isDaemonUser(connection: IPCConnection): boolean {
  const uid = daemonUid();
  return uid !== null && connection.peer !== null && connection.peer.uid === uid;
}

/**
 * Throws `forbidden` (a message that says how to open it) unless `access`
 * lets this connection read the endpoint named `what`.
 */
export function checkOperationsAccess(connection: IPCConnection, access: OperationsAccess, what: string, configKey: string): void {
  if (access === true) return;
  if (access === OWN_USER && isDaemonUser(connection)) return;
  const caller = connection.peer ? `uid ${connection.peer.uid}` : `a ${connection.transport} connection (no uid)`;
  const message = access === OWN_USER
    ? `${what} answers only the daemon's own user (uid ${daemonUid()}), not ${caller}: run the command as that user, or set ${configKey}: true to open it to everyone who can connect`
    : `${what} is off (${configKey}: false)`;
  throw Object.assign(new Error(message), { code: ServerErrorCode.forbidden });
}

/** Reads an operations access setting: true, false or "own_user"; anything else is a config error (thrown by `fail`). */
export function parseOperationsAccess(value: unknown, fail: () => never): OperationsAccess {
  if (value === true || value === false || value === OWN_USER) return value;
  if (value === undefined || value === null) return OWN_USER;
  return fail();
}
