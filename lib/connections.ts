/**
 * The open connections: admission at accept, the registry, the sweep that
 * closes idle and unauthenticated ones, and closing them all. Implements the
 * host interface every connection reports to.
 */
import type { Socket } from 'net';
import { performance } from 'perf_hooks';
import { AccessPolicy } from './access-policy';
import type { Call } from './call';
import { Connection, ConnectionHost, ConnectionLimits } from './connection';
import { MemoryBudget, type UserBudget } from './memory-budget';
import { describePeer, peerGroups, peerIdentity, PeerIdentity } from './peer-cred';
import { GoawayReason, ServerErrorCode, URI, errorLine } from './protocol';
import type { AbandonReason, Pipeline } from './pipeline';
import type { ServerStats } from './stats';
import type { DisconnectReason, Transport } from './types';
import { REFUSED_GRACE_MS } from './grace-periods';


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

/** Server-wide budgets across connections. */
export interface Budgets {
  /** Bytes of unfinished lines across all connections. */
  maxInputTotal: number;
  /** Bytes of output queued to clients that are behind, across connections (and half of it for one user's). */
  maxOutputTotal: number;
  /** A line must be complete within this many ms of waiting for the client's bytes, from its first byte (0: no limit). */
  lineTimeout: number;
}

export class Connections implements ConnectionHost {
  limits: ConnectionLimits;
  maxConnections: number;
  budgets: Budgets = { maxInputTotal: Infinity, maxOutputTotal: Infinity, lineTimeout: 0 };
  /** Bytes of unfinished lines held across all connections. */
  inputTotal = 0;
  /** TLS sockets accepted whose handshake has not finished: they count against max_connections. */
  pendingHandshakes = 0;
  /** Set when the server stops (goAway()): new sockets hear goaway as soon as they are admitted. */
  private goaway: { reason: GoawayReason; at: number } | null = null;
  /** Who may connect, and how many connections per user. */
  policy = new AccessPolicy({ allowUsers: [], allowGroups: [], allowTcp: false, rules: [], maxConnectionsPerUser: 0 });
  /** False where the kernel's peer identity cannot be read (then every `peer` is null). */
  identityAvailable = false;
  /** What running requests hold, per user and in all (the limits are set from the configuration at startup). */
  readonly budget = new MemoryBudget(Infinity, Infinity);

  private readonly open = new Map<number, Connection>();
  /** Connections whose unsent output is past max_output_buffer. */
  /** Output queued to clients that are behind (see ConnectionHost.outputQueued). */
  outputTotal = 0;
  private nextId = 1;
  private sweepTimer: NodeJS.Timeout | null = null;
  private emptyWaiters: Array<() => void> = [];

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

  /** Brings the bytes-out counts of every open connection (and the server's totals) up to date, before they are read. */
  countBytesOut(): void {
    for (const connection of this.open.values()) connection.countBytesOut();
  }

  list(): Connection[] {
    return Array.from(this.open.values());
  }

  values(): IterableIterator<Connection> {
    return this.open.values();
  }

  /** A listener accepted a socket: admit it as a connection, or refuse it. */
  accept(socket: Socket, transport: Transport): void {
    // The kernel's word on who connected, read once, before anything else.
    const peer = transport === 'unix' && this.identityAvailable ? peerIdentity(socket) : null;
    // NATS callers were admitted by the NATS server (its accounts and subject permissions), not here.
    const refusal = transport === 'nats' ? null : this.admission(socket, transport, peer);
    if (refusal) {
      socket.on('error', () => {});
      socket.end(errorLine(null, refusal.code, refusal.message));
      setTimeout(() => socket.destroy(), REFUSED_GRACE_MS).unref();
      return;
    }
    const connection = new Connection(this.nextId++, socket, transport, this, transport === 'nats' || !this.pipeline.authenticator.enabled);
    connection.peer = peer;
    connection.budgetUser = this.budgetUserOf(connection);
    this.open.set(connection.id, connection);
    this.stats.opened(this.open.size);
    this.log.debug(8, 'client connected', { id: connection.id, transport, peer });
    this.events.connected(connection);
    // Queued before the listener closed (or before a hand-off): admitted, and told at once.
    if (this.goaway) connection.push(URI.goaway, { reason: this.goaway.reason });
  }

  /** Admission checks for a new socket: resources, then identity. */
  private admission(socket: Socket, transport: Transport, peer: PeerIdentity | null): Refusal | null {
    if (this.open.size + this.pendingHandshakes >= this.maxConnections) {
      this.stats.rejected();
      this.log.error('too_many_connections', `Refused a ${transport} connection: ${this.open.size} open, ${this.pendingHandshakes} in TLS handshakes (max_connections)`);
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

  /** Whose share of the budget a connection draws on: its uid on a Unix socket, else its address. */
  private budgetUserOf(connection: Connection): UserBudget {
    const peer = connection.peer;
    if (peer) return this.budget.join(`uid:${peer.uid}`, `uid ${peer.uid}`);
    if (connection.transport === 'unix') return this.budget.join('unix', 'this socket (no peer identity)');
    const address = connection.remoteAddress ?? 'unknown';
    return this.budget.join(`address:${address}`, `address ${address}`);
  }

  // ----- ConnectionHost -----

  requestReceived(call: Call): void {
    this.pipeline.receive(call);
  }

  callAbandoned(call: Call, reason: AbandonReason): void {
    this.pipeline.abandon(call, reason);
  }

  inputBuffered(_connection: Connection, delta: number): void {
    this.inputTotal += delta;
    if (delta > 0 && this.inputTotal > this.budgets.maxInputTotal) {
      this.refuseBiggest((c) => c.bufferedInput, `buffered input across connections passed max_input_total (${this.budgets.maxInputTotal} bytes)`);
    }
  }

  outputQueued(connection: Connection, delta: number): void {
    this.outputTotal += delta;
    const user = connection.budgetUser;
    if (user) user.output += delta;
    if (delta <= 0) return;
    const limit = this.budgets.maxOutputTotal;
    if (this.outputTotal > limit) {
      this.refuseBiggest((c) => c.countedOutput, `output queued to slow readers passed max_output_total (${limit} bytes)`, true);
    } else if (user && user.output > limit / 2) {
      this.refuseBiggest((c) => (c.budgetUser === user ? c.countedOutput : 0), `output queued to ${user.label}'s slow readers passed half of max_output_total (${limit / 2} bytes)`, true);
    }
  }

  /**
   * Keeps a server-wide budget by refusing the connection that holds the most
   * of it: the one client hogging memory pays, not everyone. `destroy` drops
   * its queued output too (it is not reading, so an error line would not reach it).
   */
  private refuseBiggest(holding: (c: Connection) => number, why: string, destroy = false): void {
    let biggest: Connection | null = null;
    let most = 0;
    for (const c of this.open.values()) {
      const held = holding(c);
      if (held > most && c.isOpen) {
        most = held;
        biggest = c;
      }
    }
    if (!biggest) return;
    this.stats.overloadRefusal();
    this.log.error('overloaded', `Connection ${biggest.id} refused: it holds ${most} bytes and ${why}`);
    biggest.discardInput();
    if (destroy) biggest.destroy('overloaded');
    else biggest.refuse(ServerErrorCode.overloaded, `The server is overloaded and this connection holds the most buffered data (${most} bytes)`, 'overloaded');
  }

  lineRefused(connection: Connection, code: string, message: string): void {
    this.log.error(code, `Connection ${connection.id}: ${message}`);
  }

  connectionClosed(connection: Connection, reason: DisconnectReason): void {
    if (!this.open.delete(connection.id)) return;
    if (connection.peer) this.policy.closeConnection(connection.peer.uid);
    if (connection.budgetUser) this.budget.leave(connection.budgetUser);
    this.pipeline.forget(connection);
    this.stats.closed();
    const err = connection.lastError;
    if (err && err.code !== 'ECONNRESET' && err.code !== 'EPIPE') {
      this.log.error('client_socket_err', `Connection ${connection.id}: ${err.message}`);
    }
    this.log.debug(8, 'client disconnected', { id: connection.id, reason });
    this.events.disconnected(connection, reason);
    if (this.open.size === 0 && this.emptyWaiters.length > 0) {
      const waiters = this.emptyWaiters;
      this.emptyWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  // ----- Closing -----

  /**
   * The server is stopping: tells every client (the goaway push), and every
   * client admitted from now on. Requests read after this are refused by the
   * pipeline (shutting_down).
   */
  goAway(reason: GoawayReason): void {
    if (this.goaway) return;
    this.goaway = { reason, at: Date.now() };
    for (const connection of this.open.values()) connection.push(URI.goaway, { reason });
  }

  /**
   * One step of a shutdown: closes each connection that has nothing running
   * and whose client has gone quiet, without waiting for the client to close.
   * A client idle before the goaway is quiet `timing.idleQuietMs` after it (a
   * request it wrote just before reading the goaway still gets its
   * shutting_down answer); a busy client must send nothing for
   * `timing.busyQuietMs` (it may be slow to read the goaway, and writes until
   * it does), or is closed `timing.lingerMs` after the goaway if it keeps
   * sending (it ignores the goaway: whatever it sends is refused anyway).
   * Returns how long until the next connection could become closable
   * (Infinity when none waits for that).
   */
  shutdownStep(timing: { idleQuietMs: number; busyQuietMs: number; lingerMs: number }): number {
    const now = Date.now();
    const since = this.goaway ? this.goaway.at : 0;
    let next = Infinity;
    for (const connection of this.open.values()) {
      if (!connection.isOpen || connection.inFlight > 0) continue;
      const busy = connection.lastActivity > since - timing.busyQuietMs;
      const quietAt = busy
        ? Math.min(connection.lastActivity + timing.busyQuietMs, since + timing.lingerMs)
        : since + timing.idleQuietMs;
      if (quietAt <= now) connection.closeForShutdown();
      else next = Math.min(next, quietAt - now);
    }
    return next;
  }

  /** Resolves when no connection is open (at once if none is). */
  whenEmpty(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

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

  /** At shutdown: ends every connection and lets go of each once its end has been sent. */
  closeAllForShutdown(): void {
    for (const connection of this.open.values()) connection.closeForShutdown();
  }

  /**
   * Closes idle connections (`idleTimeout` ms, 0 for never) and those not
   * authenticated within `authTimeout` (0 when auth is off), on one timer.
   */
  /**
   * A connection the sweep leaves alone: the one a daemon taking over
   * prepared its hand-off on, open (and quiet) until this daemon has gone.
   */
  sweepExempt: Connection | null = null;

  startSweep(idleTimeout: number, authTimeout: number): void {
    this.stopSweep();
    const shortest = Math.min(idleTimeout || Infinity, authTimeout || Infinity, this.budgets.lineTimeout || Infinity);
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
    const lineTimeout = this.budgets.lineTimeout;
    // Time spent waiting for input, not busy: see Connection.lineIdleAtStart.
    const idleNow = lineTimeout ? performance.nodeTiming.idleTime : 0;
    for (const connection of this.open.values()) {
      if (!connection.isOpen || connection === this.sweepExempt) continue;
      if (authTimeout && !connection.authenticated && now - connection.connectedAt > authTimeout) {
        this.log.debug(5, `Connection ${connection.id} did not authenticate within ${authTimeout} ms`);
        connection.refuse(ServerErrorCode.authTimeout, `Not authenticated within ${authTimeout} ms (auth_timeout)`, 'auth_timeout');
      } else if (lineTimeout && connection.lineStartedAt && !connection.readingIsPaused && idleNow - connection.lineIdleAtStart > lineTimeout) {
        // However slowly its bytes arrive, a line may not hold a slot for ever.
        this.stats.lineTimeout();
        this.log.error('line_timeout', `Connection ${connection.id}: a line was not complete within ${lineTimeout} ms`);
        connection.refuse(ServerErrorCode.lineTimeout, `A line was not complete within ${lineTimeout} ms (line_timeout)`, 'line_timeout');
      } else if (idle && connection.inFlight === 0 && now - connection.lastActivity > idle) {
        this.log.debug(8, `Connection ${connection.id} idle for ${idle} ms`);
        connection.refuse(ServerErrorCode.idleTimeout, `Idle for more than ${idle} ms (idle_timeout)`, 'idle_timeout');
      }
    }
  }
}
