/**
 * The listening sockets: the Unix socket (and its file), and optionally TCP
 * and TLS. Each is either inherited from systemd (socket activation) or made
 * here; a Unix socket made here may take its path over from a running daemon
 * (hand-off). Hands every accepted socket to `onSocket`; knows nothing of
 * what happens to it next.
 */
import { lstatSync, readFileSync, type Stats } from 'fs';
import * as net from 'net';
import { dirname, resolve as resolvePath } from 'path';
import * as tls from 'tls';
import { defaultConfig, type Settings } from './config';
import { HandoffPeer, handoffStep } from './handoff';
import { findRunning, OWNER_GONE_WAIT_MS, type RunningDaemon } from './takeover';
import { describeSearchPermissionChange, directoryModeFor, ensureDirectory, reconcileSearchPermission, UnsafeDirectoryError } from './safe-dir';
import { claimInherited, describeSocketFd, inheritedSockets, InheritedSocket, releaseInherited } from './socket-activation';
import { checkSocketPathFree, createStagingDir, publishSocket, removeSocketFile, type StagingDir } from './socket-file';
import { lockPathFor, SocketLock } from './socket-lock';
import type { Transport } from './types';
import { NatsListener } from './transports/nats-listener';

export interface ListenerLog {
  debug(level: number, message: string, data?: unknown): void;
  error(code: string, message: string, data?: unknown): void;
}

export type SocketHandler = (socket: net.Socket, transport: Transport) => void;

/**
 * Admission for TLS sockets before their handshake: they hold a descriptor
 * and memory from accept on, so they count against max_connections from then.
 */
export interface HandshakeGate {
  /** A TCP socket arrived on the TLS port: false refuses it. */
  begin(): boolean;
  /** Its handshake finished, failed, or it closed first. */
  end(): void;
}

/** Where a listener listens: a path it binds, a port it binds, or an fd it inherited. */
type Target = { path: string } | { port: number; host: string } | { fd: number };

const PORT_RETRY_MS = 20;
/** After a takeover, how often to look whether the old daemon has let go of the owner lock. */
const OWNER_POLL_MS = 20;

/** A takeover bound privately, waiting for the rest of startup. */
interface PendingTakeover extends RunningDaemon {
  staging: StagingDir;
  mode: number | null;
}

/** The TLS listener's options, from the files the config names. */
function readTlsOptions(s: Settings): tls.TlsOptions {
  if (!s.tlsKey || !s.tlsCert) throw new Error('IPCServer: systemd passed a socket named tls, which needs tls_key and tls_cert');
  const options: tls.TlsOptions = { key: readFileSync(s.tlsKey), cert: readFileSync(s.tlsCert), handshakeTimeout: s.tlsHandshakeTimeout };
  if (s.tlsCa) {
    options.ca = readFileSync(s.tlsCa);
    options.requestCert = true;
    options.rejectUnauthorized = true;
  }
  return options;
}

function describeTarget(transport: Transport, target: Target): string {
  if ('fd' in target) return `${transport} fd ${target.fd} (socket activation)`;
  if ('path' in target) return `${transport} ${target.path}`;
  return `${transport} ${target.host}:${target.port}`;
}

/** An inherited fd, sorted: which listener it is for. */
interface SortedFds {
  unix: InheritedSocket | null;
  tcp: InheritedSocket | null;
  tls: InheritedSocket | null;
}

export class Listeners {
  /** The bound TCP port when `listen_port` is set (null otherwise). */
  tcpPort: number | null = null;
  /** The bound TLS port when `tls_port` is set (null otherwise). */
  tlsPort: number | null = null;
  /** True when the Unix socket came from systemd: its file is never created, moved or removed here. */
  unixInherited = false;
  /** The path of the Unix socket served (for an inherited one, where it is bound, when known). */
  socketPath: string | null = null;
  /** The pid of the daemon this one took the socket path over from, or null. */
  tookOverFrom: number | null = null;

  /** Listeners on sockets made here: closing them resets connections still queued, so they are drained first. */
  private servers: net.Server[] = [];
  /** Listeners on inherited sockets: closing only lets go of our copy; queued connections wait for the next daemon. */
  private inheritedServers: net.Server[] = [];
  private inheritedFds: number[] = [];
  /** The inode of the socket file this process created, so it never removes another's. */
  private socketInode: number | null = null;
  /** The lock beside the socket (null: none, or file locks unavailable). */
  private lock: SocketLock | null = null;
  /** A takeover waiting for publishTakeover(). */
  private pendingTakeover: PendingTakeover | null = null;
  /** After publishTakeover(), the connection to the old daemon, open until it has gone. */
  private handoffPeer: HandoffPeer | null = null;
  /** After publishTakeover(), the old daemon's pid. */
  private takeoverFrom: number | null = null;
  private inheritedPorts: SortedFds = { unix: null, tcp: null, tls: null };
  private tlsOptions: tls.TlsOptions | null = null;

  /** The NATS transport, when `nats` is configured (see transports/nats-listener.ts). */
  nats: NatsListener | null = null;
  /** The version the NATS service announces. */
  version = '0.0.0';
  /** What the NATS service adds to its $SRV.STATS answer. */
  natsStats: () => unknown = () => null;

  /** Counts TLS handshakes in progress (set by the server; none: not counted). */
  handshakes: HandshakeGate | null = null;
  /** How long a TLS handshake may take (ms). */
  tlsHandshakeTimeout = defaultConfig.tls_handshake_timeout;

  constructor(private readonly onSocket: SocketHandler, private readonly log: ListenerLog) {}

  /** Opens every configured listener; rejects (leaving none open) if one cannot be. */
  async open(s: Settings): Promise<void> {
    try {
      const inherited = this.sortInherited(s);
      this.inheritedPorts = inherited;
      // Read before the Unix socket is taken over, so a bad key fails the startup while the old daemon still serves.
      if (inherited.tls || s.tlsPort) this.tlsOptions = readTlsOptions(s);
      if (inherited.unix) {
        await this.openInheritedUnix(inherited.unix, s.socketPath);
      } else {
        await this.openUnixSocket(s.socketPath, s.socketMode, s.handoff);
      }
      // Taking over: the ports are bound once the path is ours (the old daemon holds them until then).
      if (this.pendingTakeover === null) await this.openPorts(s, 0);
      if (s.nats) {
        // Connected now, so a daemon that cannot reach NATS fails its startup (while an old one still serves);
        // it joins the queue group later (serveNats()), once the application's handlers are registered.
        this.nats = new NatsListener(s.nats, this.onSocket, this.log, s, () => this.natsStats());
        await this.nats.open(this.version);
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }


  /**
   * The TCP and TLS listeners, from systemd or bound here. A port still busy
   * is retried for up to `portWaitMs` (after a takeover, while the old daemon
   * lets go of it).
   */
  private async openPorts(s: Settings, portWaitMs: number): Promise<void> {
    const inherited = this.inheritedPorts;

    if (inherited.tcp || s.listenPort) {
      const target: Target = inherited.tcp ? { fd: inherited.tcp.fd } : { port: s.listenPort, host: s.listenHost };
      if (inherited.tcp && s.listenPort) this.log.debug(3, `listen_port ${s.listenPort} not bound: serving the TCP socket systemd passed (fd ${inherited.tcp.fd})`);
      this.tcpPort = await this.listen(() => net.createServer({ allowHalfOpen: true }), 'tcp', target, portWaitMs);
      this.log.debug(5, `IPCServer listening on tcp://${s.listenHost}:${this.tcpPort}${inherited.tcp ? ' (socket activation)' : ''}`);
    }
    if (inherited.tls || s.tlsPort) {
      const tlsOptions = this.tlsOptions as tls.TlsOptions;
      // Not allowHalfOpen here: a client that hangs up during the handshake
      // must close the socket. Half-open is turned on once the handshake is done.
      this.tlsHandshakeTimeout = s.tlsHandshakeTimeout;
      const target: Target = inherited.tls ? { fd: inherited.tls.fd } : { port: s.tlsPort, host: s.listenHost };
      this.tlsPort = await this.listen(() => tls.createServer(tlsOptions), 'tls', target, portWaitMs);
      this.log.debug(5, `IPCServer listening on tls://${s.listenHost}:${this.tlsPort}${inherited.tls ? ' (socket activation)' : ''}`);
    }
  }

  /**
   * Sorts the sockets systemd passed: one named `tcp` or `tls`
   * (FileDescriptorName=) is for that listener; the Unix listener takes the
   * Unix socket bound at socket_path, or the only Unix socket passed.
   */
  private sortInherited(s: Settings): SortedFds {
    const sorted: SortedFds = { unix: null, tcp: null, tls: null };
    const passed = inheritedSockets();
    if (passed === null || passed.length === 0) return sorted;
    const unix: Array<{ socket: InheritedSocket; path: string | null }> = [];
    for (const socket of passed) {
      if (socket.name === 'tcp' || socket.name === 'tls') {
        sorted[socket.name] = socket;
        continue;
      }
      const kind = describeSocketFd(socket.fd);
      // Where /proc/net/unix cannot be read, the fd is tried as the Unix socket (and refused if it is not one).
      if (kind === null) unix.push({ socket, path: null });
      else if (kind.kind === 'unix') unix.push({ socket, path: kind.path });
      else if (kind.kind === 'other') this.log.debug(1, `Socket activation: fd ${socket.fd}${socket.name ? ` (${socket.name})` : ''} is not a Unix socket; name it tcp or tls (FileDescriptorName=) to serve it; left alone`);
      else this.log.debug(1, `Socket activation: fd ${socket.fd} is not a socket; left alone`);
    }
    if (unix.length === 0) return sorted;
    const wanted = resolvePath(s.socketPath);
    const match = unix.find((entry) => entry.path !== null && resolvePath(entry.path) === wanted) ?? (unix.length === 1 ? unix[0] : null);
    if (match === null) {
      const paths = unix.map((entry) => `fd ${entry.socket.fd}: ${entry.path ?? 'unknown path'}`).join(', ');
      throw new Error(`IPCServer: systemd passed ${unix.length} Unix sockets (${paths}) and none is socket_path ${s.socketPath}; set socket_path to the one to serve`);
    }
    for (const entry of unix) {
      if (entry !== match) this.log.debug(1, `Socket activation: fd ${entry.socket.fd} (${entry.path ?? 'unknown path'}) is not socket_path; left alone`);
    }
    sorted.unix = match.socket;
    if (match.path !== null && resolvePath(match.path) !== wanted) {
      this.log.debug(1, `Socket activation: serving the Unix socket systemd passed, bound at ${match.path}; socket_path ${s.socketPath} is not used`);
    }
    this.socketPath = match.path ?? s.socketPath;
    return sorted;
  }

  /** Serves the Unix socket systemd passed: its path, mode and owner are the .socket unit's business. */
  private async openInheritedUnix(socket: InheritedSocket, configuredPath: string): Promise<void> {
    await this.listen(() => net.createServer({ allowHalfOpen: true }), 'unix', { fd: socket.fd }, 0);
    this.unixInherited = true;
    this.log.debug(5, `IPCServer listening on ${this.socketPath ?? configuredPath} (socket activation, fd ${socket.fd})`);
  }

  /**
   * The Unix socket, never reachable with a mode looser than `mode`: checks
   * its directory, takes the lock beside the socket (see socket-lock.ts),
   * binds in a private staging directory, sets the mode, then renames it
   * into place (see socket-file.ts). With `takeOver`, a daemon already
   * serving there is asked to hand off (see handoff.ts): the socket is then
   * bound privately and published by publishTakeover(), once the whole
   * startup has succeeded.
   */
  private async openUnixSocket(path: string, mode: number | null, takeOver: boolean): Promise<void> {
    let directory: Stats;
    try {
      directory = ensureDirectory(dirname(path), directoryModeFor(mode), 'The socket directory');
    } catch (err) {
      if (err instanceof UnsafeDirectoryError) throw err;
      throw new Error(`IPCServer: cannot create the socket's directory ${dirname(path)}: ${(err as Error).message}`);
    }
    // A directory made under an earlier socket_chmod may keep out the users the socket now lets in.
    const change = reconcileSearchPermission(dirname(path), directory, mode);
    if (change && mode !== null) {
      const message = describeSearchPermissionChange(dirname(path), mode, change);
      if (change.fixed) this.log.debug(1, message);
      else this.log.error('socket_dir_mode', message);
    }
    const lock = SocketLock.open(path);
    if (lock === null) {
      this.log.debug(1, `No lock beside ${path} (${SocketLock.unavailableReason()}): two daemons started at once on it are not kept apart`);
    } else if (!lock.tryStart()) {
      lock.close();
      throw new Error(`IPCServer: another daemon is starting on ${path} or taking it over (it holds the start lock of ${lockPathFor(path)}); try again once it has started`);
    }
    this.lock = lock;
    if (takeOver) await handoffStep('starting');
    const running = await findRunning(path, lock, takeOver, this.log);
    const staging = createStagingDir(path);
    if (running) {
      // Bound privately: nobody reaches it until publishTakeover().
      this.pendingTakeover = { ...running, staging, mode };
      this.socketPath = path;
      await this.listen(() => net.createServer({ allowHalfOpen: true }), 'unix', { path: staging.socketPath }, 0);
      this.log.debug(5, `IPCServer bound ${path} privately; it takes the path over once startup has succeeded`);
      return;
    }
    try {
      // Holding the owner lock, a socket that still answers belongs to a daemon dying (its lock went first) or to one without the lock.
      const previous = await checkSocketPathFree(path, lock?.owner ? OWNER_GONE_WAIT_MS : 0);
      await this.listen(() => net.createServer({ allowHalfOpen: true }), 'unix', { path: staging.socketPath }, 0);
      this.socketInode = publishSocket(staging.socketPath, path, mode);
      this.socketPath = path;
      if (previous === 'stale') this.log.debug(3, `Replaced stale socket file ${path}`);
    } finally {
      staging.remove();
    }
    // The start lock is kept until the whole startup is done (startupDone()): nobody takes over a daemon that is still starting.
    lock?.writePid();
    this.log.debug(5, `IPCServer listening on ${path}`);
  }

  /** The whole startup has succeeded: a daemon that owns the path lets others start (and take over) from now on. */
  startupDone(): void {
    if (this.lock?.owner) this.lock.releaseStart();
  }

  /** True while a takeover waits for publishTakeover(). */
  get takeoverPending(): boolean {
    return this.pendingTakeover !== null;
  }

  /**
   * The whole startup has succeeded: renames our socket over the path (from
   * now on new connections reach us). completeTakeover() then tells the old
   * daemon (commit) and binds the TCP/TLS ports as it lets go of them. The connection to the old
   * daemon stays open: it is how the old daemon knows we are alive (if we
   * die before it has exited, it takes the path back). We own the path once
   * its owner lock is ours, when the old daemon has exited.
   */
  publishTakeover(s: Settings): void {
    const pending = this.pendingTakeover;
    if (pending === null) return;
    this.pendingTakeover = null;
    this.handoffPeer = pending.peer;
    try {
      this.socketInode = publishSocket(pending.staging.socketPath, s.socketPath, pending.mode);
    } finally {
      pending.staging.remove();
    }
    this.takeoverFrom = pending.pid;
    this.log.debug(5, `IPCServer listening on ${s.socketPath}`);
  }

  /** After publishTakeover(): the commit, then the ports. */
  async completeTakeover(s: Settings, portWaitMs: number): Promise<void> {
    const peer = this.handoffPeer;
    const pid = this.takeoverFrom;
    if (peer === null || pid === null) return;
    try {
      await handoffStep('renamed');
      await peer.commit();
      this.tookOverFrom = pid;
      await handoffStep('committed');
      this.log.debug(3, `Took over ${s.socketPath} from the daemon with pid ${pid}: it serves what it has for handoff_watch, then goes`);
    } catch (err) {
      // We serve the path already; the old daemon (if it is still there) keeps the connections it has.
      this.log.error('handoff', `The daemon with pid ${pid} did not confirm the hand-off (${(err as Error).message}); new connections reach this daemon`);
    }
    void this.awaitOwnerLock();
    await this.openPorts(s, portWaitMs);
  }

  /** After a takeover: the owner lock becomes ours when the old daemon has gone. */
  private async awaitOwnerLock(): Promise<void> {
    const lock = this.lock;
    if (lock === null) return;
    while (this.lock === lock && !lock.tryOwner()) await new Promise((resolve) => setTimeout(resolve, OWNER_POLL_MS));
    if (this.lock !== lock) return;
    lock.writePid();
    lock.releaseStart();
    this.handoffPeer?.close();
    this.handoffPeer = null;
    this.log.debug(5, `IPCServer owns ${lock.path}`);
  }

  /** The inode of our socket while socket_path leads to it, else null. */
  get ownSocketInode(): number | null {
    return this.ownsSocketFile() ? this.socketInode : null;
  }

  /** True while socket_path is still the socket this process created (false when inherited, or replaced by a newer daemon). */
  ownsSocketFile(): boolean {
    if (this.socketPath === null || this.socketInode === null) return false;
    try {
      return lstatSync(this.socketPath).ino === this.socketInode;
    } catch {
      return false;
    }
  }

  /**
   * Stops accepting, for a shutdown. Connections already queued on a socket
   * made here (the kernel accepted them; after a hand-off no new ones can
   * arrive) are accepted first: closing the listener would reset them. An
   * inherited socket is let go of at once: its queue stays with systemd's
   * copy, for the next daemon.
   */
  async stopAccepting(): Promise<void> {
    // NATS first: its queue group gives new requests to the other daemons at once.
    await this.nats?.stopAccepting();
    this.closeInherited();
    if (this.servers.length === 0) return;
    // libuv accepts everything queued each time a listener polls readable:
    // two turns of the event loop include a full poll.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    this.close();
  }

  /** Stops accepting now (a takeover not yet published is called off). The socket file stays until removeSocketFile(). */
  close(): void {
    const pending = this.pendingTakeover;
    if (pending !== null) {
      // The path was never touched: the old daemon sees us go and serves on.
      this.pendingTakeover = null;
      pending.peer.close();
      pending.staging.remove();
    }
    // The NATS connection stays until the server has finished with its requests (see closed()).
    void this.nats?.close();
    this.closeInherited();
    for (const server of this.servers) server.close();
    this.servers = [];
  }

  private closeInherited(): void {
    for (const server of this.inheritedServers) server.close();
    this.inheritedServers = [];
    for (const fd of this.inheritedFds) releaseInherited(fd);
    this.inheritedFds = [];
  }

  /** Starts serving NATS requests (once the application's handlers are registered). */
  async serveNats(): Promise<{ subject: string; queue: string } | null> {
    return this.nats ? this.nats.serve() : null;
  }

  /** Resolves once every transport has let go (the NATS connection publishes its last answers first). */
  async closed(): Promise<void> {
    await this.nats?.close();
  }

  /**
   * Removes the socket file only if it is still the one this process
   * created, then lets go of the lock (the path is free for the next daemon).
   */
  removeSocketFile(): void {
    if (this.ownsSocketFile()) {
      removeSocketFile(this.socketPath as string);
      this.socketInode = null;
    }
    this.lock?.close();
    this.lock = null;
    this.handoffPeer?.close();
    this.handoffPeer = null;
  }

  private acceptErrors = 0;
  private acceptErrorLoggedAt = 0;

  /**
   * Out of descriptors (EMFILE/ENFILE), accept fails for every waiting client;
   * libuv drops them and accepting goes on, and it serves again as soon as
   * descriptors are free. Logged at most once a second, with a count.
   */
  private listenerError(transport: Transport, err: NodeJS.ErrnoException): void {
    if (err.code === 'EMFILE' || err.code === 'ENFILE') {
      this.acceptErrors++;
      const now = Date.now();
      if (now - this.acceptErrorLoggedAt < 1000) return;
      this.acceptErrorLoggedAt = now;
      this.log.error('accept_failed', `${transport} listener: out of file descriptors (${err.code}); ${this.acceptErrors} connections dropped so far`);
      return;
    }
    this.log.error('ipc_server_err', `${transport} listener error: ${err.message}`);
  }

  /**
   * Listens with a server from `make`. A port still busy is retried for up
   * to `portWaitMs` (while the daemon being taken over lets go of it).
   */
  private async listen(make: () => net.Server, transport: Transport, target: Target, portWaitMs: number): Promise<number | null> {
    const giveUpAt = Date.now() + portWaitMs;
    for (;;) {
      try {
        return await this.listenOnce(make(), transport, target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() >= giveUpAt) {
          throw new Error(`IPCServer cannot listen on ${describeTarget(transport, target)}: ${(err as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, PORT_RETRY_MS));
      }
    }
  }

  private listenOnce(server: net.Server, transport: Transport, target: Target): Promise<number | null> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      const onListening = () => {
        server.removeListener('error', reject);
        const address = server.address();
        if ('fd' in target) {
          // The fd must be the kind of socket its listener serves.
          const isTcp = address !== null && typeof address === 'object';
          if (isTcp !== (transport !== 'unix')) {
            server.close();
            reject(new Error(`systemd passed fd ${target.fd} as ${transport === 'unix' ? 'the Unix socket' : `the ${transport} socket`}, but it is ${isTcp ? 'a TCP' : 'a Unix'} socket`));
            return;
          }
          claimInherited(target.fd);
          this.inheritedFds.push(target.fd);
          this.inheritedServers.push(server);
        } else {
          this.servers.push(server);
        }
        server.on('error', (err: NodeJS.ErrnoException) => this.listenerError(transport, err));
        resolve(address && typeof address === 'object' ? address.port : null);
      };
      if (transport === 'tls') {
        const handshakeDone = new WeakMap<net.Socket, () => void>();
        server.on('connection', (raw: net.Socket) => {
          const gate = this.handshakes;
          if (!gate) return;
          if (!gate.begin()) {
            raw.destroy();
            return;
          }
          let counted = true;
          const end = () => {
            if (!counted) return;
            counted = false;
            gate.end();
          };
          handshakeDone.set(raw, end);
          raw.once('close', end);
        });
        server.on('secureConnection', (socket: tls.TLSSocket) => {
          // The handshake is over: from here the socket counts as a connection.
          const raw = (socket as unknown as { _parent?: net.Socket })._parent;
          if (raw) handshakeDone.get(raw)?.();
          // Like the other listeners: a client that ends its side still gets its answers.
          socket.allowHalfOpen = true;
          this.onSocket(socket, transport);
        });
        server.on('tlsClientError', (err, socket: tls.TLSSocket) => {
          this.log.debug(5, `TLS handshake failed: ${err.message}`);
          // Node reports a handshake timeout here without closing the socket.
          socket.destroy();
        });
      } else {
        server.on('connection', (socket: net.Socket) => this.onSocket(socket, transport));
      }
      if ('fd' in target) server.listen({ fd: target.fd }, onListening);
      else if ('path' in target) server.listen(target.path, onListening);
      else server.listen(target.port, target.host, onListening);
    });
  }
}
