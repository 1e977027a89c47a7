/**
 * IPCServer: the pixl-server component. Owns the listeners (Unix socket, and
 * optionally TCP and TLS), the connections, the handler registry, middleware,
 * authentication, stats and the startup/shutdown lifecycle.
 */
import './pixl-server-component';
import Component = require('pixl-server/component');
import { chmodSync, lstatSync, readFileSync } from 'fs';
import * as net from 'net';
import * as tls from 'tls';
import { Authenticator } from './auth';
import { delayHandler, echoHandler, noHandlerFound } from './builtins';
import { defaultConfig, readSettings, Settings } from './config';
import { Connection, ConnectionHost, ConnectionLimits } from './connection';
import { Dispatcher } from './dispatcher';
import { ServerErrorCode, URI, errorLine } from './protocol';
import { Router } from './router';
import { prepareSocketPath, removeSocketFile } from './socket-file';
import { ServerStats } from './stats';
import type { AuthHandler, DisconnectReason, Handler, IPCRequest, Middleware, Transport } from './types';

/** How often shutdown checks whether in-flight requests have finished. */
const DRAIN_POLL_MS = 10;
/** After ending connections at shutdown, how long clients get to close before they are cut off. */
const CLOSE_GRACE_MS = 250;

type Listener = { server: net.Server; transport: Transport };

export class IPCServer extends Component implements ConnectionHost {
  override __name = 'IPCServer';
  override defaultConfig: Record<string, unknown> = { ...defaultConfig };

  settings!: Settings;
  limits: ConnectionLimits = { maxMessageSize: defaultConfig.max_message_size, maxInFlight: defaultConfig.max_in_flight, maxOutputBuffer: defaultConfig.max_output_buffer };
  /** The bound TCP port when `listen_port` is set (null otherwise). */
  tcpPort: number | null = null;
  /** The bound TLS port when `tls_port` is set (null otherwise). */
  tlsPort: number | null = null;

  readonly stats = new ServerStats();
  private readonly router = new Router();
  private readonly dispatcher: Dispatcher;
  private authenticator = new Authenticator();
  private authHook: AuthHandler | null = null;
  private readonly connections = new Map<number, Connection>();
  private endpoints: Listener[] = [];
  private nextConnectionId = 1;
  private sweepTimer: NodeJS.Timeout | null = null;
  private statsListener: (() => void) | null = null;
  private socketInode: number | null = null;
  private shuttingDown = false;
  private logRequests = false;
  /** Totals carried over from connections that have closed. */
  private closedBytesOut = 0;
  /** Requests that arrived while their connection's credentials were being checked, in order. */
  private readonly heldForAuth = new WeakMap<Connection, IPCRequest[]>();

  constructor() {
    super();
    this.dispatcher = new Dispatcher(this.router, this.defaultHandlerWithLog, {
      handlerFailed: (name, request, error) => {
        this.logError('handler_error', `Handler ${name} failed on ${request.uri}: ${(error as Error)?.message ?? error}`, {
          uri: request.uri, ipcReqID: request.ipcReqID, stack: (error as Error)?.stack,
        });
      },
      callbackTwice: (name, request) => {
        this.logError('callback_twice', `Handler ${name} called its callback more than once for ${request.uri}; the extra call was ignored`, {
          uri: request.uri, ipcReqID: request.ipcReqID,
        });
      },
    });
  }

  // ----- Lifecycle -----

  /** Starts listening. Calls back with an Error (and logs it) if it cannot. */
  override startup(callback: (err?: Error | null) => void): void {
    this.start().then(() => callback(), (err: Error) => {
      this.logError('startup', err.message);
      this.closeListeners();
      // pixl-server only logs a failed startup, then exits 1: this lets the app say why on stderr.
      this.emit('startup_failed', err);
      callback(err);
    });
  }

  /**
   * Stops accepting, lets in-flight requests finish for up to `exit_timeout`,
   * then closes every connection, removes the socket file and calls back.
   */
  override shutdown(callback: (err?: Error | null) => void): void {
    this.stop().then(() => callback(), (err: Error) => {
      this.logError('shutdown', err.message);
      callback();
    });
  }

  private async start(): Promise<void> {
    this.settings = readSettings((key) => this.config.get(key));
    const s = this.settings;
    this.limits = { maxMessageSize: s.maxMessageSize, maxInFlight: s.maxInFlight, maxOutputBuffer: s.maxOutputBuffer };
    this.authenticator = new Authenticator(s.authTokens, s.authUsersFile);
    this.authenticator.setHook(this.authHook);
    this.logRequests = this.debugLevel(9);
    this.logDebug(5, 'IPC Server startup');

    const prepared = await prepareSocketPath(s.socketPath);
    if (prepared === 'stale_removed') this.logDebug(3, `Removed stale socket file ${s.socketPath}`);
    await this.listen(net.createServer({ allowHalfOpen: true }), 'unix', s.socketPath);
    const stat = lstatSync(s.socketPath);
    this.socketInode = stat.ino;
    if (s.socketMode !== null) chmodSync(s.socketPath, s.socketMode);
    this.logDebug(5, `IPCServer listening on ${s.socketPath}`);

    if (s.listenPort) {
      this.tcpPort = await this.listen(net.createServer({ allowHalfOpen: true }), 'tcp', s.listenPort, s.listenHost);
      this.logDebug(5, `IPCServer listening on tcp://${s.listenHost}:${this.tcpPort}`);
    }
    if (s.tlsPort) {
      // Not allowHalfOpen here: a client that hangs up during the handshake
      // must close the socket. Half-open is turned on once the handshake is done.
      const tlsOptions: tls.TlsOptions = {
        key: readFileSync(s.tlsKey),
        cert: readFileSync(s.tlsCert),
      };
      if (s.tlsCa) {
        tlsOptions.ca = readFileSync(s.tlsCa);
        tlsOptions.requestCert = true;
        tlsOptions.rejectUnauthorized = true;
      }
      this.tlsPort = await this.listen(tls.createServer(tlsOptions), 'tls', s.tlsPort, s.listenHost);
      this.logDebug(5, `IPCServer listening on tls://${s.listenHost}:${this.tlsPort}`);
    }
    if ((s.listenPort || s.tlsPort) && !this.authenticator.enabled) {
      this.logDebug(1, 'WARNING: IPCServer listens on the network without authentication; set auth_tokens, auth_users_file or setAuthHandler()');
    }

    this.router.add(/^\/ipcserver\/test\/echo/, 'IPCServer.echo', echoHandler);
    this.router.add(/^\/ipcserver\/test\/delay/, 'IPCServer.delay', delayHandler);
    if (s.statsEndpoint) this.router.add(URI.stats, 'IPCServer.stats', () => this.getStats());

    if (s.logStatsInterval) {
      this.statsListener = () => this.logIntervalStats();
      this.server.on(s.logStatsInterval, this.statsListener);
    }
    this.startSweep();
  }

  private listen(server: net.Server, transport: Transport, pathOrPort: string | number, host?: string): Promise<number | null> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`IPCServer cannot listen on ${transport} ${pathOrPort}: ${err.message}`));
      server.once('error', onError);
      const onListening = () => {
        server.removeListener('error', onError);
        server.on('error', (err) => this.logError('ipc_server_err', `${transport} listener error: ${err.message}`));
        this.endpoints.push({ server, transport });
        const address = server.address();
        resolve(address && typeof address === 'object' ? address.port : null);
      };
      if (transport === 'tls') {
        server.on('secureConnection', (socket: tls.TLSSocket) => {
          // Like the other listeners: a client that ends its side still gets its answers.
          socket.allowHalfOpen = true;
          this.accept(socket, transport);
        });
        server.on('tlsClientError', (err, socket: tls.TLSSocket) => {
          this.logDebug(5, `TLS handshake failed: ${err.message}`);
          // Node reports a handshake timeout here without closing the socket.
          socket.destroy();
        });
      } else {
        server.on('connection', (socket: net.Socket) => this.accept(socket, transport));
      }
      if (typeof pathOrPort === 'string') server.listen(pathOrPort, onListening);
      else server.listen(pathOrPort, host, onListening);
    });
  }

  private closeListeners(): void {
    for (const { server } of this.endpoints) server.close();
    this.endpoints = [];
  }

  private async stop(): Promise<void> {
    const exitTimeout = this.settings?.exitTimeout ?? defaultConfig.exit_timeout;
    const deadline = Date.now() + exitTimeout;
    this.logDebug(5, `IPC Server shutdown, with timeout set to: ${exitTimeout}`);
    this.shuttingDown = true;
    this.closeListeners();
    this.stopSweep();
    if (this.statsListener && this.settings?.logStatsInterval) {
      this.server.removeListener(this.settings.logStatsInterval, this.statsListener);
      this.statsListener = null;
    }
    // Let running requests finish and send their answers.
    while (this.totalInFlight() > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
    if (this.totalInFlight() > 0) {
      this.logError('shutdown_timeout', `Shutdown: ${this.totalInFlight()} requests still running after ${exitTimeout} ms; closing their connections`);
    }
    for (const connection of this.connections.values()) connection.close('shutdown');
    const closeBy = Math.max(deadline, Date.now() + CLOSE_GRACE_MS);
    while (this.connections.size > 0 && Date.now() < closeBy) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
    for (const connection of this.connections.values()) connection.destroy('shutdown');
    this.removeOwnSocketFile();
  }

  /** Removes the socket file only if it is still the one this server created. */
  private removeOwnSocketFile(): void {
    if (!this.settings || this.socketInode === null) return;
    try {
      if (lstatSync(this.settings.socketPath).ino !== this.socketInode) return;
    } catch {
      return;
    }
    removeSocketFile(this.settings.socketPath);
    this.socketInode = null;
  }

  private totalInFlight(): number {
    let total = 0;
    for (const connection of this.connections.values()) total += connection.inFlight;
    return total;
  }

  // ----- Connections -----

  private accept(socket: net.Socket, transport: Transport): void {
    if (this.shuttingDown) {
      socket.destroy();
      return;
    }
    if (this.connections.size >= this.settings.maxConnections) {
      this.stats.totals.connectionsRejected++;
      this.logError('too_many_connections', `Refused a ${transport} connection: ${this.connections.size} open (max_connections)`);
      socket.on('error', () => {});
      socket.end(errorLine(null, ServerErrorCode.tooManyConnections, `Too many connections (max ${this.settings.maxConnections})`));
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    const connection = new Connection(this.nextConnectionId++, socket, transport, this, !this.authenticator.enabled);
    this.connections.set(connection.id, connection);
    this.stats.opened(this.connections.size);
    this.logDebug(8, 'client connected', { id: connection.id, transport });
    this.emit('connect', connection);
  }

  /** ConnectionHost: a connection has closed. */
  connectionClosed(connection: Connection, reason: DisconnectReason): void {
    if (!this.connections.delete(connection.id)) return;
    this.stats.closed();
    this.stats.totals.bytesIn += connection.counters.bytesIn;
    this.closedBytesOut += connection.bytesOut;
    this.stats.totals.droppedResponses += connection.counters.droppedResponses;
    this.stats.totals.pushes += connection.counters.pushes;
    const err = connection.lastError;
    if (err && err.code !== 'ECONNRESET' && err.code !== 'EPIPE') {
      this.logError('client_socket_err', `Connection ${connection.id}: ${err.message}`);
    }
    this.logDebug(8, 'client disconnected', { id: connection.id, reason });
    this.emit('disconnect', connection, reason);
  }

  /** ConnectionHost: a line was refused before it became a request. */
  requestRefused(connection: Connection, code: string, message: string): void {
    this.stats.error();
    this.logError(code, `Connection ${connection.id}: ${message}`);
  }

  /** ConnectionHost: route one request and answer it exactly once. */
  handleRequest(connection: Connection, request: IPCRequest): void {
    this.stats.request();
    if (this.logRequests) this.logDebug(9, 'Request ' + request.uri, { id: connection.id, ipcReqID: request.ipcReqID });
    const held = this.heldForAuth.get(connection);
    if (held) {
      // Sent right behind the credentials: answer it once they are checked, not with access now.
      held.push(request);
      return;
    }
    this.route(connection, request);
  }

  private route(connection: Connection, request: IPCRequest): void {
    if (this.shuttingDown) {
      this.finish(connection, request, Date.now(), { code: ServerErrorCode.shuttingDown, message: 'The server is shutting down' });
      return;
    }
    if (request.uri === URI.auth) {
      this.authenticate(connection, request);
      return;
    }
    if (!connection.authenticated) {
      this.finish(connection, request, Date.now(), { code: ServerErrorCode.access, message: 'Authenticate first: send /ipcserver/auth with your credentials' });
      return;
    }
    if (request.pid === undefined && connection.pid !== null) request.pid = connection.pid;
    if (request.userAgent === undefined && connection.userAgent !== null) request.userAgent = connection.userAgent;
    const started = Date.now();
    this.dispatcher.dispatch(request, (error, data) => this.finish(connection, request, started, error, data));
  }

  private finish(connection: Connection, request: IPCRequest, started: number, error: { code: string; message: string } | null, data?: unknown): void {
    if (Date.now() - started > this.settings.slowThresholdMs) this.stats.slow();
    if (request.noReply) this.stats.totals.notifications++;
    if (error) {
      this.stats.error();
      connection.respondError(request, error.code, error.message);
    } else {
      this.stats.totals.responses++;
      connection.respond(request, data);
    }
  }

  private authenticate(connection: Connection, request: IPCRequest): void {
    if (!this.authenticator.enabled || connection.authenticated) {
      connection.authenticated = true;
      this.finish(connection, request, Date.now(), null, { authenticated: true });
      return;
    }
    const started = Date.now();
    const held: IPCRequest[] = [];
    this.heldForAuth.set(connection, held);
    this.authenticator.check(request.data, { connection, transport: connection.transport }).then((ok) => ok, (err: Error) => {
      this.logError('auth_handler', `Auth handler failed: ${err.message}`);
      return false;
    }).then((ok) => {
      this.heldForAuth.delete(connection);
      if (ok) {
        connection.authenticated = true;
        this.logDebug(8, `Connection ${connection.id} authenticated (${Authenticator.describe(request.data)})`);
        this.finish(connection, request, started, null, { authenticated: true });
        for (const next of held) this.route(connection, next);
        return;
      }
      this.stats.totals.authFailures++;
      this.logError('access', `Connection ${connection.id}: authentication failed (${Authenticator.describe(request.data)})`);
      this.finish(connection, request, started, { code: ServerErrorCode.access, message: 'Authentication failed' });
      for (const next of held) this.finish(connection, next, started, { code: ServerErrorCode.access, message: 'Authentication failed' });
      connection.close('access');
    });
  }

  /** Closes idle and unauthenticated connections; one timer for all of them. */
  private startSweep(): void {
    this.stopSweep();
    const idle = this.settings.idleTimeout;
    const auth = this.authenticator.enabled ? this.settings.authTimeout : 0;
    const shortest = Math.min(idle || Infinity, auth || Infinity);
    if (shortest === Infinity) return;
    const every = Math.max(10, Math.min(1000, Math.floor(shortest / 4)));
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
  }

  private stopSweep(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  private sweep(): void {
    const now = Date.now();
    const idle = this.settings.idleTimeout;
    const authTimeout = this.settings.authTimeout;
    for (const connection of this.connections.values()) {
      if (!connection.isOpen) continue;
      if (!connection.authenticated && this.authenticator.enabled && now - connection.connectedAt > authTimeout) {
        this.logDebug(5, `Connection ${connection.id} did not authenticate within ${authTimeout} ms`);
        connection.refuse(ServerErrorCode.authTimeout, `Not authenticated within ${authTimeout} ms (auth_timeout)`, 'auth_timeout');
      } else if (idle && connection.inFlight === 0 && now - connection.lastActivity > idle) {
        this.logDebug(8, `Connection ${connection.id} idle for ${idle} ms`);
        connection.refuse(ServerErrorCode.idleTimeout, `Idle for more than ${idle} ms (idle_timeout)`, 'idle_timeout');
      }
    }
  }

  private readonly defaultHandlerWithLog: Handler = (request, callback) => {
    this.logError('no_handler_found', 'No handler found for request', { uri: request.uri, ipcReqID: request.ipcReqID });
    noHandlerFound(request, callback);
  };

  // ----- Public API -----

  /**
   * Registers a handler. `pattern` is a RegExp tested against the uri, or a
   * string the uri must equal exactly. The first registered match wins.
   */
  addURIHandler(pattern: RegExp | string, name: string, handler: Handler): void {
    this.router.add(pattern, name, handler);
  }

  /** Removes every handler registered under `name`; returns how many were removed. */
  removeURIHandler(name: string): number {
    return this.router.remove(name);
  }

  /** Replaces the handler for uris no pattern matches. */
  setDefaultHandler(handler: Handler): void {
    if (typeof handler !== 'function') throw new TypeError('setDefaultHandler: handler must be a function');
    this.dispatcher.defaultRoute = { pattern: '', name: 'DefaultHandler', handler };
  }

  /** Adds middleware, run before the handler in registration order. */
  use(fn: Middleware): this {
    if (typeof fn !== 'function') throw new TypeError('use: middleware must be a function');
    this.dispatcher.middleware.push(fn);
    return this;
  }

  /**
   * Sets the authentication hook. With a hook (or configured credentials),
   * every connection must authenticate before anything else.
   */
  setAuthHandler(handler: AuthHandler | null): void {
    this.authHook = handler;
    this.authenticator.setHook(handler);
    // Set after startup, the hook turns authentication on: auth_timeout must now be enforced.
    if (this.settings && !this.shuttingDown) this.startSweep();
  }

  /**
   * Pushes a message to every authenticated connection, or to those `filter`
   * keeps. Returns how many it was sent to.
   */
  broadcast(uri: string, data?: unknown, filter?: (connection: Connection) => boolean): number {
    let sent = 0;
    for (const connection of this.connections.values()) {
      if (!connection.authenticated || (filter && !filter(connection))) continue;
      if (connection.push(uri, data)) sent++;
    }
    return sent;
  }

  /** The open connections. */
  getConnections(): Connection[] {
    return Array.from(this.connections.values());
  }

  /** Closes every client connection now, gracefully (the client reads end-of-file). */
  closeConnections(): void {
    for (const connection of this.connections.values()) connection.close('server');
  }

  /**
   * Stats: live figures, the last completed interval (as the original
   * reported), and running totals since startup.
   */
  getStats(): Record<string, any> {
    const totals = { ...this.stats.totals };
    let inFlight = 0;
    let bytesOut = this.closedBytesOut;
    for (const connection of this.connections.values()) {
      inFlight += connection.inFlight;
      totals.bytesIn += connection.counters.bytesIn;
      bytesOut += connection.bytesOut;
      totals.droppedResponses += connection.counters.droppedResponses;
      totals.pushes += connection.counters.pushes;
    }
    totals.bytesOut = bytesOut;
    return {
      connections: this.connections.size,
      handlers: this.router.size,
      inFlight,
      uptime: Date.now() - this.stats.startedAt,
      ...this.stats.lastCycle,
      totals,
    };
  }

  /** Ends the current stats interval now and logs it. */
  logIntervalStats(): void {
    this.stats.cycle(this.connections.size);
    this.logDebug(5, 'IPCServer Stats', this.getStats());
  }
}
