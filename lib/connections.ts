/**
 * The open connections: admission at accept, the registry, the sweep that
 * closes idle and unauthenticated ones, and closing them all. Implements the
 * host interface every connection reports to.
 */
import type { Socket } from 'net';
import { AccessPolicy } from './access-policy';
import type { Call } from './call';
import { Connection, ConnectionHost, ConnectionLimits } from './connection';
import { describePeer, peerGroups, peerIdentity, PeerIdentity } from './peer-cred';
import { ServerErrorCode, errorLine } from './protocol';
import type { AbandonReason, Pipeline } from './pipeline';
import type { ServerStats } from './stats';
import type { DisconnectReason, Transport } from './types';

/** How long a refused socket may stay open to read its error line. */
const REFUSED_GRACE_MS = 1000;

export interface ConnectionsLog {
  debug(level: number, message: string, data?: unknown): void;
  error(code: string, message: string, data?: unknown): void;
}

export interface ConnectionEvents {
  connected(connection: Connection): void;
  disconnected(connection: Connection, reason: DisconnectReason): void;
}

/** Why a new socket is refused, as the one line it is sent. */
interface Refusal {
  code: string;
  message: string;
}

export class Connections implements ConnectionHost {
  limits: ConnectionLimits;
  maxConnections: number;
  /** Set when the server stops: new sockets are dropped at once. */
  closing = false;
  /** Who may connect, and how many connections per user. */
  policy = new AccessPolicy({ allowUsers: [], allowGroups: [], allowTcp: false, rules: [], maxConnectionsPerUser: 0 });
  /** False where the kernel's peer identity cannot be read (then every `peer` is null). */
  identityAvailable = false;

  private readonly open = new Map<number, Connection>();
  private nextId = 1;
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly stats: ServerStats,
    private readonly pipeline: Pipeline,
    private readonly events: ConnectionEvents,
    private readonly log: ConnectionsLog,
    limits: ConnectionLimits,
    maxConnections: number,
  ) {
    this.limits = limits;
    this.maxConnections = maxConnections;
  }

  get size(): number {
    return this.open.size;
  }

  /** Requests running on open connections. */
  get inFlight(): number {
    let total = 0;
    for (const connection of this.open.values()) total += connection.inFlight;
    return total;
  }

  list(): Connection[] {
    return Array.from(this.open.values());
  }

  values(): IterableIterator<Connection> {
    return this.open.values();
  }

  /** A listener accepted a socket: admit it as a connection, or refuse it. */
  accept(socket: Socket, transport: Transport): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    // The kernel's word on who connected, read once, before anything else.
    const peer = transport === 'unix' && this.identityAvailable ? peerIdentity(socket) : null;
    const refusal = this.admission(socket, transport, peer);
    if (refusal) {
      socket.on('error', () => {});
      socket.end(errorLine(null, refusal.code, refusal.message));
      setTimeout(() => socket.destroy(), REFUSED_GRACE_MS).unref();
      return;
    }
    const connection = new Connection(this.nextId++, socket, transport, this, !this.pipeline.authenticator.enabled);
    connection.peer = peer;
    this.open.set(connection.id, connection);
    this.stats.opened(this.open.size);
    this.log.debug(8, 'client connected', { id: connection.id, transport, peer });
    this.events.connected(connection);
  }

  /** Admission checks for a new socket: resources, then identity. */
  private admission(socket: Socket, transport: Transport, peer: PeerIdentity | null): Refusal | null {
    if (this.open.size >= this.maxConnections) {
      this.stats.rejected();
      this.log.error('too_many_connections', `Refused a ${transport} connection: ${this.open.size} open (max_connections)`);
      return { code: ServerErrorCode.tooManyConnections, message: `Too many connections (max ${this.maxConnections})` };
    }
    const decision = this.policy.checkConnect({ peer, peerGroups: () => peerGroups(socket) });
    if (!decision.ok) {
      this.stats.rejected();
      this.log.error('access', `Refused a ${transport} connection from ${describePeer(peer)}: ${decision.message}`);
      return { code: ServerErrorCode.access, message: decision.message };
    }
    if (peer && !this.policy.openConnection(peer.uid)) {
      this.stats.rejected();
      this.log.error('too_many_connections', `Refused a connection from ${describePeer(peer)}: ${this.policy.maxConnectionsPerUser} open (max_connections_per_user)`);
      return { code: ServerErrorCode.tooManyConnections, message: `Too many connections from uid ${peer.uid} (max_connections_per_user ${this.policy.maxConnectionsPerUser})` };
    }
    return null;
  }

  // ----- ConnectionHost -----

  requestReceived(call: Call): void {
    this.pipeline.receive(call);
  }

  callAbandoned(call: Call, reason: AbandonReason): void {
    this.pipeline.abandon(call, reason);
  }

  lineRefused(connection: Connection, code: string, message: string): void {
    this.log.error(code, `Connection ${connection.id}: ${message}`);
  }

  connectionClosed(connection: Connection, reason: DisconnectReason): void {
    if (!this.open.delete(connection.id)) return;
    if (connection.peer) this.policy.closeConnection(connection.peer.uid);
    this.pipeline.forget(connection);
    this.stats.closed();
    const err = connection.lastError;
    if (err && err.code !== 'ECONNRESET' && err.code !== 'EPIPE') {
      this.log.error('client_socket_err', `Connection ${connection.id}: ${err.message}`);
    }
    this.log.debug(8, 'client disconnected', { id: connection.id, reason });
    this.events.disconnected(connection, reason);
  }

  // ----- Closing -----

  /** Gives up every running request (its handler's signal aborts with `reason`). */
  abandonAll(reason: AbandonReason): void {
    for (const connection of this.open.values()) connection.abandonRunning(reason);
  }

  /** Ends every connection gracefully (each client reads end-of-file). */
  closeAll(reason: DisconnectReason): void {
    for (const connection of this.open.values()) connection.close(reason);
  }

  destroyAll(reason: DisconnectReason): void {
    for (const connection of this.open.values()) connection.destroy(reason);
  }

  /**
   * Closes idle connections (`idleTimeout` ms, 0 for never) and those not
   * authenticated within `authTimeout` (0 when auth is off), on one timer.
   */
  startSweep(idleTimeout: number, authTimeout: number): void {
    this.stopSweep();
    const shortest = Math.min(idleTimeout || Infinity, authTimeout || Infinity);
    if (shortest === Infinity) return;
    const every = Math.max(10, Math.min(1000, Math.floor(shortest / 4)));
    this.sweepTimer = setInterval(() => this.sweep(idleTimeout, authTimeout), every);
    this.sweepTimer.unref();
  }

  stopSweep(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  private sweep(idle: number, authTimeout: number): void {
    const now = Date.now();
    for (const connection of this.open.values()) {
      if (!connection.isOpen) continue;
      if (authTimeout && !connection.authenticated && now - connection.connectedAt > authTimeout) {
        this.log.debug(5, `Connection ${connection.id} did not authenticate within ${authTimeout} ms`);
        connection.refuse(ServerErrorCode.authTimeout, `Not authenticated within ${authTimeout} ms (auth_timeout)`, 'auth_timeout');
      } else if (idle && connection.inFlight === 0 && now - connection.lastActivity > idle) {
        this.log.debug(8, `Connection ${connection.id} idle for ${idle} ms`);
        connection.refuse(ServerErrorCode.idleTimeout, `Idle for more than ${idle} ms (idle_timeout)`, 'idle_timeout');
      }
    }
  }
}
