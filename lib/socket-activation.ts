/**
 * systemd socket activation: the listening sockets a service manager opened
 * for us and passed as fds 3, 4, ... (`LISTEN_FDS`, for the process named by
 * `LISTEN_PID`, with optional `LISTEN_FDNAMES`, colon-separated).
 *
 * The manager keeps its own copy of each socket: closing ours at shutdown
 * leaves it listening, and connections made while no daemon runs wait in its
 * queue for the next one. Nothing here creates or removes a socket file.
 */
import { fstatSync, readFileSync } from 'fs';

/** The first fd systemd passes (after stdin, stdout, stderr). */
export const LISTEN_FDS_START = 3;

export interface InheritedSocket {
  fd: number;
  /** The name from LISTEN_FDNAMES (systemd's FileDescriptorName=, default the .socket unit's name), or null. */
  name: string | null;
}

/**
 * The most fds taken from LISTEN_FDS. The component serves three sockets at
 * most (Unix, tcp, tls); a service that passes a few more for other uses is
 * fine, a number past this is a mistake (or an attack on startup memory).
 */
export const MAX_LISTEN_FDS = 64;
/** systemd's own limit on a FileDescriptorName= (and so on each LISTEN_FDNAMES entry). */
export const MAX_FD_NAME_LENGTH = 255;
/** The largest pid Linux hands out (pid_max can be at most 2^22). */
const MAX_PID = 4194304;

function invalid(message: string): Error {
  return new Error(`IPCServer: socket activation: ${message}`);
}

/** A short, printable excerpt of an inherited value for an error message. */
function shown(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value) + (value.length > 40 ? ` (${value.length} characters)` : '');
}

/**
 * The sockets passed to this process, or null when it was not socket-activated
 * (no LISTEN_FDS, or LISTEN_PID names another process: a variable inherited
 * from a parent by mistake). Throws a clear error when the values are not
 * what systemd passes: LISTEN_PID and LISTEN_FDS decimal numbers (LISTEN_FDS
 * 1 to MAX_LISTEN_FDS), LISTEN_FDNAMES printable names of at most 255
 * characters without ':'.
 */
export function parseListenFds(env: NodeJS.ProcessEnv, pid: number): InheritedSocket[] | null {
  // As sd_listen_fds(3): without LISTEN_PID, nothing was passed to this process.
  if (env.LISTEN_PID === undefined) return null;
  if (!/^[1-9]\d{0,6}$/.test(env.LISTEN_PID) || Number(env.LISTEN_PID) > MAX_PID) {
    throw invalid(`LISTEN_PID must be a process id (got ${shown(env.LISTEN_PID)})`);
  }
  // Meant for another process (inherited through a parent that did not clear it): not ours.
  if (Number(env.LISTEN_PID) !== pid) return null;
  if (env.LISTEN_FDS === undefined) throw invalid('LISTEN_PID names this process but LISTEN_FDS is not set');
  if (!/^\d{1,9}$/.test(env.LISTEN_FDS)) {
    throw invalid(`LISTEN_FDS must be a number of file descriptors (got ${shown(env.LISTEN_FDS)})`);
  }
  const count = Number(env.LISTEN_FDS);
  if (count > MAX_LISTEN_FDS) {
    throw invalid(`LISTEN_FDS is ${count}; at most ${MAX_LISTEN_FDS} inherited sockets are accepted (pixl-ipc serves a Unix, a tcp and a tls socket)`);
  }
  const names = env.LISTEN_FDNAMES === undefined ? [] : env.LISTEN_FDNAMES.split(':', count + 1);
  if (env.LISTEN_FDNAMES !== undefined && env.LISTEN_FDNAMES.length > (MAX_FD_NAME_LENGTH + 1) * count) {
    throw invalid(`LISTEN_FDNAMES is ${env.LISTEN_FDNAMES.length} characters long: more than ${count} name(s) of at most ${MAX_FD_NAME_LENGTH} characters`);
  }
  for (const name of names) {
    if (name.length > MAX_FD_NAME_LENGTH || !/^[\x21-\x7e]*$/.test(name)) {
      throw invalid(`LISTEN_FDNAMES entry ${shown(name)} is not a file descriptor name (printable ASCII without spaces, at most ${MAX_FD_NAME_LENGTH} characters)`);
    }
  }
  // systemd's own rule: names that do not match the fds one to one are ignored.
  const named = names.length === count;
  const sockets: InheritedSocket[] = [];
  for (let i = 0; i < count; i++) sockets.push({ fd: LISTEN_FDS_START + i, name: named && names[i] !== '' ? names[i] : null });
  return sockets;
}

let passed: InheritedSocket[] | null | undefined;
const claimed = new Set<number>();

/**
 * The sockets systemd passed, read once per process; the variables are then
 * removed (as sd_listen_fds(1) does) so child processes do not take them as theirs.
 */
export function inheritedSockets(): InheritedSocket[] | null {
  if (passed === undefined) {
    passed = parseListenFds(process.env, process.pid);
    if (passed !== null) {
      delete process.env.LISTEN_FDS;
      delete process.env.LISTEN_PID;
      delete process.env.LISTEN_FDNAMES;
    }
  }
  return passed === null ? null : passed.filter((socket) => !claimed.has(socket.fd));
}

/** Marks an inherited fd as served, so a second listener never takes it too. */
export function claimInherited(fd: number): void {
  claimed.add(fd);
}

/** Lets go of a claim (the component stopped: a later startup in the same process may serve it again). */
export function releaseInherited(fd: number): void {
  claimed.delete(fd);
}

/**
 * What kind of socket an fd is: 'unix' with the path it is bound to (Linux:
 * its inode looked up in /proc/net/unix), 'other' for a socket not in that
 * table (TCP), or null where the table cannot be read.
 */
export function describeSocketFd(fd: number): { kind: 'unix'; path: string | null } | { kind: 'other' } | { kind: 'not_a_socket' } | null {
  let stats;
  try {
    stats = fstatSync(fd);
  } catch {
    return { kind: 'not_a_socket' };
  }
  if (!stats.isSocket()) return { kind: 'not_a_socket' };
  let table: string;
  try {
    table = readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return null;
  }
  const inode = String(stats.ino);
  for (const line of table.split('\n')) {
    // Num RefCount Protocol Flags Type St Inode [Path]
    const fields = line.trim().split(/\s+/);
    if (fields[6] !== inode) continue;
    const path = fields.length > 7 ? fields.slice(7).join(' ') : null;
    // An abstract socket's name starts with @: no file to compare with.
    return { kind: 'unix', path: path && !path.startsWith('@') ? path : null };
  }
  return { kind: 'other' };
}
