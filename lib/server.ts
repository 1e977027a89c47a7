/**
 * IPCServer: the pixl-server component. Keeps the configuration, the
 * startup/shutdown lifecycle and the public API; the work is done by
 * Listeners (sockets), Connections (accepted clients), Pipeline (requests)
 * and ServerStats (counts).
 */
import { Component } from './pixl-server';
import { AccessPolicy, PolicyRuleConfig } from './access-policy';
import { Authenticator } from './auth';
import { delayHandler, echoHandler } from './builtins';
import { defaultConfig, readSettings, type Settings } from './config';
import { unknownKeyWarnings } from './config-keys';
import type { Connection } from './connection';
import { Connections } from './connections';
import { Listeners } from './listeners';
import { processFigures } from './metrics';
import { MetricsListener, readMetricsToken } from './metrics-listener';
import { HandoffStandby } from './handoff-standby';
import { Monitoring } from './monitoring';
import { checkOperationsAccess } from './operations-access';
import { MONITOR_URI, TrafficMonitor } from './traffic-monitor';
import { describePeer, peerCredentialsAvailable, peerCredentialsUnavailableReason } from './peer-cred';
import { Pipeline } from './pipeline';
import { GoawayReason, ServerErrorCode, URI } from './protocol';
import type { AnswerError } from './answer-error';
import { Router } from './router';
import { prepareAppendFile } from './safe-file';
import { guardLogger, type LogGuardStats } from './log-guard';
import { ServerStats } from './stats';
import type { IPCServerStats } from './stats-report';
import type { AuthHandler, ConnectionInfo, ConnectionLimits, Handler, IPCConnection, Middleware } from './types';
import { SHUTDOWN_FLUSH_GRACE_MS, TAKEOVER_PORT_WAIT_MS } from './grace-periods';
import { forwardHandler } from './transports/nats-forward';
import { packageVersion } from './transports/nats-version';

/** While requests run at shutdown, how often it looks for connections it can close. */
const SHUTDOWN_POLL_MS = 5;
/** The longest shutdown sleeps between looks when nothing runs (a quiet client may write again). */
const MAX_SHUTDOWN_WAIT_MS = 100;
/**
 * At shutdown, when a connection with nothing running is closed (see
 * Connections.shutdownStep): an idle client 20 ms after the goaway; a busy
 * one once it has sent nothing for 250 ms (it writes until it has read the
 * goaway, and a loaded machine may take that long), or 1 s after the goaway
 * if it keeps sending. Clients that understand goaway close their side
 * themselves once their answers are in, which closes the connection at once.
 */
const SHUTDOWN_TIMING = { idleQuietMs: 20, busyQuietMs: 250, lingerMs: 1000 };
/** Starts the line printed on stderr when startup fails and no one listens for `startup_failed`. */
export const STARTUP_FAILED_PREFIX = 'pixl-ipc: IPCServer cannot start: ';
/** The stats uri lists at most this many connections. */
const MAX_LISTED_CONNECTIONS = 1000;

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function limitsOf(s: Settings): ConnectionLimits {
  return {
    maxMessageSize: s.maxMessageSize,
    maxMessageSizeBeforeAuth: Math.min(s.maxMessageSizeBeforeAuth, s.maxMessageSize),
    maxInFlight: s.maxInFlight,
    maxInFlightBytes: s.maxInFlightBytes,
    maxOutputBuffer: s.maxOutputBuffer,
  };
}

/**
 * The limits in force before startup reads the configuration: the defaults,
 * read like any configuration (socket_path has no default, so a stand-in is
 * given; it is not used).
 */
const DEFAULT_LIMITS = limitsOf(readSettings((key) => key === 'socket_path' ? 'unconfigured.sock' : defaultConfig[key as keyof typeof defaultConfig]));

/** Route names of the operations endpoints (see operationsRoutes()). */
const OPERATIONS_ROUTES: ReadonlySet<string> = new Set(['IPCServer.stats', 'IPCServer.monitor', 'IPCServer.metrics']);

/** The stats uri's answer: getStats(), with the connection list or the handler list when asked. */
interface StatsAnswer extends Omit<IPCServerStats, 'connections'> {
  connections: number | ConnectionInfo[];
  routes?: Array<{ name: string; uri: string }>;
}

export class IPCServer extends Component {
  override __name = 'IPCServer';
  override defaultConfig: Record<string, unknown> = { ...defaultConfig };

  settings!: Settings;
  private readonly stats = new ServerStats();
  /** Log lines the host's logger could not write (see log-guard.ts). */
  private logGuard: LogGuardStats | null = null;
  private readonly router = new Router();
  private readonly log = {
    debug: (level: number, message: string, data?: unknown) => this.logDebug(level, message, data),
    error: (code: string, message: string, data?: unknown) => this.logError(code, message, data),
  };
  private readonly pipeline = new Pipeline(this.router, this.stats, this.log);
  private readonly connections = new Connections(this.stats, this.pipeline, {
    connected: (connection) => {
      this.monitoring.connectionOpened(connection.transport);
      this.emit('connect', connection);
    },
    disconnected: (connection, reason) => {
      if (this.traffic.watching) this.traffic.unwatch(connection);
      if (connection === this.standbyConnection) this.handoffPeerGone();
      this.emit('disconnect', connection, reason);
    },
  }, this.log, { ...DEFAULT_LIMITS }, defaultConfig.max_connections);
  private readonly listening = new Listeners((socket, transport) => this.connections.accept(socket, transport), this.log);
  private authHook: AuthHandler | null = null;
  /** Per-endpoint figures, slow-response log, per-transport totals (replaced at startup with the configured one). */
  private monitoring = new Monitoring({ endpointStats: true, slowLogPerSecond: defaultConfig.slow_log_per_second }, () => {});
  /** The live traffic view (`pixl-ipc monitor`); records nothing while nobody watches. */
  private readonly traffic = new TrafficMonitor(defaultConfig.monitor_events_per_second);
  private metricsListener: MetricsListener | null = null;
  /** The bound port of the Prometheus listener when `metrics_port` is set (null otherwise). */
  metricsPort: number | null = null;
  private statsListener: (() => void) | null = null;
  private stopping = false;
  /** While a daemon takes socket_path over from this one: what puts our socket back if it dies (see handoff-standby.ts). */
  private standby: HandoffStandby | null = null;
  /** The connection that daemon prepared on: its closing means the daemon has gone. */
  private standbyConnection: Connection | null = null;
  /** After the commit: when this daemon stops watching and shuts down. */
  private handoffTimer: NodeJS.Timeout | null = null;
  /** What the goaway push says when this server stops. */
  private goawayReason: GoawayReason = 'shutdown';

  /**
   * The Unix socket served: socket_path, or where the socket systemd passed
   * is bound (null before startup).
   */
  get socketPath(): string | null {
    return this.listening.socketPath;
  }

  /** True when the Unix socket came from systemd (socket activation). */
  get socketActivated(): boolean {
    return this.listening.unixInherited;
  }

  /** The bound TCP port when `listen_port` is set (null otherwise). */
  get tcpPort(): number | null {
    return this.listening.tcpPort;
  }

  /** The bound TLS port when `tls_port` is set (null otherwise). */
  get tlsPort(): number | null {
    return this.listening.tlsPort;
  }

  /** The per-connection limits in force. */
  get limits(): ConnectionLimits {
    return this.connections.limits;
  }

  // ----- Lifecycle -----

  /** Starts listening. Calls back with an Error (and logs it) if it cannot. */
  override startup(callback: (err?: Error | null) => void): void {
    this.start().then(() => callback(), (err: Error) => {
      this.logError('startup', err.message);
      this.listening.close();
      this.listening.removeSocketFile();
      this.closeMetricsListener();
      // pixl-server only logs a failed startup, then exits 1: the app may say why itself, else we say it on stderr.
      if (this.listenerCount('startup_failed') > 0) this.emit('startup_failed', err);
      else process.stderr.write(`${STARTUP_FAILED_PREFIX}${err.message}\n`);
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
    const authenticator = new Authenticator(s.authTokens, s.authUsersFile);
    authenticator.setHook(this.authHook);
    this.pipeline.authenticator = authenticator;
    this.pipeline.slowThresholdMs = s.slowThresholdMs;
    const monitoring = new Monitoring(s, (message, data) => {
      // Logged from a response's path: a log that cannot be written must not fail the response.
      try { this.logError('slow_response', message, data); } catch { /* the log is gone (e.g. its directory was removed) */ }
    });
    this.monitoring = monitoring;
    const traffic = this.traffic;
    traffic.setRate(s.monitorEventsPerSecond);
    this.pipeline.onSettled = (call, isError, ms, answerLength, slow, errorCode, data) => {
      monitoring.settled(call, isError, ms, answerLength, slow, errorCode);
      if (traffic.watching) traffic.record(call, errorCode, ms, data);
    };
    this.pipeline.logRequests = this.debugLevel(9);
    this.connections.limits = limitsOf(s);
    this.connections.maxConnections = s.maxConnections;
    this.applyIdentitySettings(s);
    this.connections.budgets = { maxInputTotal: s.maxInputTotal, maxOutputTotal: s.maxOutputTotal, lineTimeout: s.lineTimeout };
    this.connections.budget.perUser = s.maxInFlightBytesPerUser;
    this.connections.budget.total = s.maxInFlightTotal;
    this.listening.handshakes = {
      begin: () => this.connections.size + this.connections.pendingHandshakes < s.maxConnections && (this.connections.pendingHandshakes++, true),
      end: () => { this.connections.pendingHandshakes--; },
    };
    // A full disk or no free descriptors must not turn a log line into an exit.
    this.logGuard = guardLogger(this.logger);
    this.logDebug(5, 'IPC Server startup');
    for (const warning of unknownKeyWarnings(this.config.get())) this.logDebug(1, `WARNING: ${warning}`);

    this.checkLogFile();
    this.pipeline.handoff = (connection, data) => this.handoffRequest(connection, data);
    this.listening.version = packageVersion();
    // $SRV.STATS carries this daemon's figures for NATS requests, by handler.
    this.listening.natsStats = () => {
      const endpoints: Record<string, unknown> = {};
      for (const stat of this.monitoring.byTransport.get('nats')?.values() ?? []) endpoints[stat.name] = stat.totals().toJSON();
      return { endpoints, inFlight: this.listening.nats?.pending ?? 0 };
    };
    await this.listening.open(s);
    // Taking over: the path is taken once every component and the app's own setup have started (pixl-server's ready).
    this.server.once('ready', () => {
      if (this.listening.takeoverPending) this.publishTakeover(s);
      else this.listening.startupDone();
    });
    if ((s.listenPort || s.tlsPort) && !authenticator.enabled) {
      this.logDebug(1, 'WARNING: IPCServer listens on the network without authentication; set auth_tokens, auth_users_file or setAuthHandler()');
    }

    this.router.add(/^\/ipcserver\/test\/echo/, 'IPCServer.echo', echoHandler);
    this.router.add(/^\/ipcserver\/test\/delay/, 'IPCServer.delay', delayHandler);
    if (s.statsEndpoint !== false) {
      this.router.add(URI.stats, 'IPCServer.stats', (request) => {
        checkOperationsAccess(request.connection, s.statsEndpoint, 'the stats endpoint', 'stats_endpoint');
        return this.statsAnswer(request.data);
      });
    }
    if (s.monitorEndpoint !== false) {
      this.router.add(MONITOR_URI, 'IPCServer.monitor', (request) => {
        checkOperationsAccess(request.connection, s.monitorEndpoint, 'the traffic monitor', 'monitor_endpoint');
        const stop = request.data !== null && typeof request.data === 'object' && (request.data as { stop?: unknown }).stop === true;
        if (stop) {
          this.traffic.unwatch(request.connection as Connection);
          return { watching: false };
        }
        // Handlers see the public interface; this one is ours, and its connection the class behind it.
        return this.traffic.watch(request.connection as Connection);
      });
    }
    if (s.metricsEndpoint) this.router.add(URI.metrics, 'IPCServer.metrics', () => this.getMetrics());
    for (const pattern of s.nats?.forward ?? []) {
      this.router.add(pattern, 'IPCServer.natsForward', forwardHandler(() => this.listening.nats?.caller ?? null, s.nats!.forwardTimeout));
    }
    if (s.metricsPort) {
      this.metricsListener = new MetricsListener(() => this.getMetrics(), readMetricsToken(s));
      // Taking over: the old daemon holds the port until it goes (publishTakeover binds it).
      if (!this.listening.takeoverPending) await this.openMetrics(s, 0);
    }

    if (s.logStatsInterval) {
      this.statsListener = () => this.logIntervalStats();
      this.server.on(s.logStatsInterval, this.statsListener);
    }
    this.restartSweep();
    if (this.listening.nats) this.serveNatsWhenReady();
  }

  /**
   * Joins the NATS queue group once the host has started and the code in its
   * startup callback (which usually registers the handlers) has run: the
   * cluster sends a daemon requests as soon as it subscribes.
   */
  private serveNatsWhenReady(): void {
    const serve = () => setImmediate(() => {
      this.listening.serveNats().then((serving) => {
        if (serving) this.emit('nats_serving', serving);
      }, (err: Error) => this.logError('nats', `Cannot serve on NATS: ${err.message}`));
    });
    const host = this.server as { started?: number; once?: (event: string, listener: () => void) => void } | undefined;
    if (host && typeof host.once === 'function' && !host.started) host.once('ready', serve);
    else serve();
  }

  /** Binds the metrics listener; a port still busy is retried for `portWaitMs` (after a takeover, while the old daemon lets go of it). */
  private async openMetrics(s: Settings, portWaitMs: number): Promise<void> {
    const listener = this.metricsListener;
    if (listener === null) return;
    const giveUpAt = Date.now() + portWaitMs;
    for (;;) {
      try {
        this.metricsPort = await listener.listen(s.metricsPort, s.metricsHost);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() >= giveUpAt || this.metricsListener !== listener) {
          throw new Error(`IPCServer cannot listen on metrics port ${s.metricsHost}:${s.metricsPort}: ${(err as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    this.logDebug(5, `IPCServer metrics on http://${s.metricsHost}:${this.metricsPort}/metrics${listener.requiresToken ? ' (bearer token required)' : ''}`);
    if (!isLoopback(s.metricsHost)) {
      this.logDebug(1, `WARNING: the metrics listener (${s.metricsHost}) is reachable from the network${listener.requiresToken ? '' : ', without a token (set metrics_token_file)'}`);
    }
  }

  /**
   * Every component and the app's setup have started: take the path over
   * (see Listeners.publishTakeover), then bind the ports the old daemon lets
   * go of once its watch is over. A port that stays busy is logged; the Unix
   * socket is served meanwhile.
   */
  private publishTakeover(s: Settings): void {
    if (this.stopping) return;
    try {
      this.listening.publishTakeover(s);
    } catch (err) {
      // The path still leads to the old daemon: this one never served, so it goes.
      this.logError('handoff', `Cannot take ${s.socketPath} over: ${(err as Error).message}; the daemon there serves on, this one stops`);
      this.emit('startup_failed', err as Error);
      if (this.server && !this.server.shut) this.server.shutdown();
      return;
    }
    const portWait = TAKEOVER_PORT_WAIT_MS + s.handoffWatch;
    this.listening.completeTakeover(s, portWait)
      .then(() => {
        if (this.listening.tookOverFrom !== null) this.emit('takeover', { pid: this.listening.tookOverFrom });
        return this.openMetrics(s, portWait);
      })
      .catch((err: Error) => this.logError('handoff', `After taking over ${s.socketPath}: ${err.message}`));
  }

  /**
   * Access policy on the kernel's peer identity. Where the identity cannot be
   * read, a config that depends on it refuses to start (never silently allows).
   */
  private applyIdentitySettings(s: Settings): void {
    const policy = new AccessPolicy({
      allowUsers: s.allowUsers,
      allowGroups: s.allowGroups,
      allowTcp: s.allowTcp,
      rules: s.policy as PolicyRuleConfig[],
      maxConnectionsPerUser: s.maxConnectionsPerUser,
    });
    const available = peerCredentialsAvailable();
    if (!available) {
      const reason = peerCredentialsUnavailableReason();
      if (policy.needsIdentity) {
        throw new Error(`IPCServer: allow_users, allow_groups and policy users/groups need the kernel's peer identity, which is unavailable here (${reason}); remove them or run where it is available`);
      }
      this.logDebug(1, `Kernel peer identity unavailable (${reason}): connections have peer: null and max_connections_per_user is not enforced`);
    }
    this.pipeline.throttle.configure({ freeFailures: s.authThrottleAfter, maxDelayMs: s.authThrottleMaxMs });
    this.connections.identityAvailable = available;
    this.connections.policy = policy;
    this.pipeline.policy = policy;
  }

  /**
   * pixl-server's logger appends to its file by name; make sure that name is
   * a plain file of ours, not a symlink or hard link someone planted.
   */
  private checkLogFile(): void {
    const logPath = this.server?.logger?.path;
    if (typeof logPath !== 'string' || logPath === '' || logPath.includes('[')) return;
    prepareAppendFile(logPath);
  }

  /**
   * Lame duck, then exit: stop accepting, tell every client (goaway), answer
   * what is running (requests read from now on get shutting_down), and close
   * each connection as soon as nothing runs on it; idle ones are not waited
   * for. Running requests get until exit_timeout, then are answered
   * shutting_down and their signals abort.
   */
  private async stop(): Promise<void> {
    const exitTimeout = this.settings?.exitTimeout ?? defaultConfig.exit_timeout;
    const deadline = Date.now() + exitTimeout;
    const reason = this.goawayReason;
    this.logDebug(5, `IPC Server shutdown (${reason}), with timeout set to: ${exitTimeout}`);
    this.stopping = true;
    this.pipeline.closing = true;
    this.endStandby();
    this.connections.goAway(reason);
    this.traffic.stop();
    const accepting = this.listening.stopAccepting();
    this.closeMetricsListener();
    this.connections.stopSweep();
    if (this.statsListener && this.settings?.logStatsInterval) {
      this.server.removeListener(this.settings.logStatsInterval, this.statsListener);
      this.statsListener = null;
    }
    await accepting;
    // Each connection is closed as soon as nothing runs on it and its client is quiet.
    const empty = this.connections.whenEmpty();
    for (;;) {
      const untilQuiet = this.connections.shutdownStep(SHUTDOWN_TIMING);
      const left = deadline - Date.now();
      if (this.connections.size === 0 || left <= 0) break;
      // Running requests end at any moment: look again every few ms while some run.
      const wait = Math.min(left, this.connections.inFlight > 0 ? SHUTDOWN_POLL_MS : untilQuiet, MAX_SHUTDOWN_WAIT_MS);
      await Promise.race([empty, new Promise((resolve) => setTimeout(resolve, wait))]);
    }
    if (this.connections.size > 0) {
      const running = this.connections.inFlight;
      if (running > 0) {
        this.logError('shutdown_timeout', `Shutdown: ${running} requests still running after ${exitTimeout} ms; answering them shutting_down and closing their connections`);
        // Their handlers' signals abort, and their callers hear shutting_down rather than end-of-file.
        this.connections.abandonAll('shutting_down');
      }
      // Their answers are handed to the kernel, then the connections go (a client that does not read is cut off).
      this.connections.closeAllForShutdown();
      await Promise.race([empty, new Promise((resolve) => setTimeout(resolve, SHUTDOWN_FLUSH_GRACE_MS))]);
      this.connections.destroyAll('shutdown');
    }
    await this.listening.closed();
    this.listening.removeSocketFile();
  }

  /**
   * `/ipcserver/handoff` from a daemon taking over socket_path (see
   * handoff.ts). Only the daemon's own user, on the Unix socket, as the
   * kernel says; never for a socket systemd passed (its path is not ours to
   * give away).
   */
  private handoffRequest(connection: Connection, data: unknown): { error: AnswerError } | { data: unknown } {
    const step = data && typeof data === 'object' ? (data as { step?: unknown }).step : undefined;
    if (step !== 'prepare' && step !== 'commit') {
      return { error: { code: ServerErrorCode.badRequest, message: 'handoff needs data.step, "prepare" or "commit"' } };
    }
    const ownUid = process.geteuid ? process.geteuid() : -1;
    if (connection.transport !== 'unix' || !connection.peer || connection.peer.uid !== ownUid) {
      this.logError('handoff', `Refused a hand-off ${step} from ${describePeer(connection.peer)}: only this daemon's own user (uid ${ownUid}) may take over`);
      return { error: { code: ServerErrorCode.forbidden, message: `Hand-off is accepted only on the Unix socket from this daemon's own user (uid ${ownUid}), as the kernel reports it` } };
    }
    if (this.listening.unixInherited) {
      return { error: { code: ServerErrorCode.forbidden, message: 'This daemon serves a socket systemd passed (socket activation): restart the service instead; the socket stays open meanwhile' } };
    }
    if (step === 'prepare') return this.handoffPrepare(connection);
    if (connection !== this.standbyConnection || this.standby === null) {
      return { error: { code: ServerErrorCode.badRequest, message: 'handoff commit needs a prepare on the same connection first' } };
    }
    if (this.listening.ownsSocketFile()) {
      return { error: { code: ServerErrorCode.badRequest, message: 'socket_path still leads to this daemon: rename your socket over it before commit' } };
    }
    this.standby.committed = true;
    const newPid = connection.peer.pid;
    const watch = this.settings.handoffWatch;
    this.logDebug(3, `Hand-off: the daemon with pid ${newPid} took over socket_path; this one serves what it has for ${watch} ms (taking the path back if that daemon dies), then shuts down`);
    this.handoffTimer = setTimeout(() => {
      this.handoffTimer = null;
      this.endStandby();
      this.handOff(newPid);
    }, watch);
    return { data: { ready: true, pid: process.pid } };
  }

  /** `prepare`: one hand-off at a time, from a daemon whose socket_path still leads here. */
  private handoffPrepare(connection: Connection): { error: AnswerError } | { data: unknown } {
    if (!this.server?.started) {
      return { error: { code: ServerErrorCode.forbidden, message: 'This daemon is still starting; try again once it has started' } };
    }
    if (this.standbyConnection !== null && this.standbyConnection !== connection) {
      const pid = this.standby?.peerPid;
      return { error: { code: ServerErrorCode.forbidden, message: `A hand-off to the daemon with pid ${pid} is in progress; try again once it is over` } };
    }
    const inode = this.listening.ownSocketInode;
    if (inode === null) {
      return { error: { code: ServerErrorCode.forbidden, message: 'socket_path no longer leads to this daemon: nothing to hand off' } };
    }
    if (this.standby === null) {
      try {
        this.standby = new HandoffStandby(this.settings.socketPath, inode, connection.peer?.pid ?? 0);
      } catch (err) {
        this.logError('handoff', `Cannot prepare a hand-off: ${(err as Error).message}`);
        return { error: { code: ServerErrorCode.forbidden, message: `This daemon cannot stand by for a hand-off: ${(err as Error).message}` } };
      }
      this.standbyConnection = connection;
      // Its closing means the new daemon died: never close it for being quiet or unauthenticated.
      this.connections.sweepExempt = connection;
    }
    return { data: { ready: true, pid: process.pid } };
  }

  /**
   * The daemon taking over closed its connection (it failed its startup,
   * stopped, or died) before this one started to shut down: socket_path
   * leads here again.
   */
  private handoffPeerGone(): void {
    const standby = this.standby;
    this.endStandby(false);
    if (standby === null || this.stopping) {
      standby?.dispose();
      return;
    }
    const when = standby.committed ? 'after its commit' : 'before its commit';
    try {
      if (standby.restore()) {
        this.logError('handoff', `The daemon with pid ${standby.peerPid} that was taking over ${standby.socketPath} went away ${when}; the path leads to this daemon again`);
      } else {
        this.logDebug(3, `The hand-off to the daemon with pid ${standby.peerPid} was called off ${when}; this daemon serves on`);
      }
    } catch (err) {
      this.logError('handoff', `The daemon with pid ${standby.peerPid} that was taking over went away ${when}, and the path could not be put back: ${(err as Error).message}`);
    } finally {
      standby.dispose();
    }
  }

  /** Stops standing by (hand-off over, or this daemon stops): the watch timer and the socket's second name go. */
  private endStandby(dispose = true): void {
    if (this.handoffTimer !== null) clearTimeout(this.handoffTimer);
    this.handoffTimer = null;
    if (dispose) this.standby?.dispose();
    this.standby = null;
    this.standbyConnection = null;
    this.connections.sweepExempt = null;
  }

  /** Another daemon serves socket_path now: this one goes away, as on SIGTERM, saying why. */
  private handOff(newPid: number): void {
    if (this.stopping) return;
    this.goawayReason = 'handoff';
    this.emit('handoff', { pid: newPid });
    if (this.server && typeof this.server.shutdown === 'function' && !this.server.shut) this.server.shutdown();
    else void this.stop();
  }

  private closeMetricsListener(): void {
    this.metricsListener?.close();
    this.metricsListener = null;
  }

  /** The sweep's timeouts follow the settings and whether authentication is on. */
  private restartSweep(): void {
    if (!this.settings || this.stopping) return;
    const auth = this.pipeline.authenticator.enabled ? this.settings.authTimeout : 0;
    this.connections.startSweep(this.settings.idleTimeout, auth);
  }


  // ----- Public API -----

  /**
   * Registers a handler. `pattern` is a RegExp tested against the uri, or a
   * string read as the anchored regular expression `^pattern$` (as in 1.x: a
   * plain string matches only itself). The first registered match wins.
   * `Data` and `Result` are inferred from a typed handler: `request.data` is
   * `Data`, and the handler must answer `Result`.
   * @throws TypeError for a pattern that is neither, a string that is not a valid regular expression, or a handler that is not a function.
   */
  addURIHandler<Data = unknown, Result = unknown>(pattern: RegExp | string, name: string, handler: Handler<Data, Result>): void {
    this.router.add(pattern, name, handler as Handler);
  }

  /** Removes every handler registered under `name`; returns how many were removed. */
  removeURIHandler(name: string): number {
    return this.router.remove(name);
  }

  /** Replaces the handler for uris no pattern matches. */
  setDefaultHandler(handler: Handler): void {
    if (typeof handler !== 'function') throw new TypeError('setDefaultHandler: handler must be a function');
    this.pipeline.dispatcher.defaultRoute = { pattern: '', name: 'DefaultHandler', handler };
  }

  /** Adds middleware, run before the handler in registration order. */
  use(fn: Middleware): this {
    if (typeof fn !== 'function') throw new TypeError('use: middleware must be a function');
    this.pipeline.dispatcher.middleware.push(fn);
    return this;
  }

  /**
   * Sets the authentication hook. With a hook (or configured credentials),
   * every connection must authenticate before anything else.
   */
  setAuthHandler(handler: AuthHandler | null): void {
    this.pipeline.authenticator.setHook(handler);
    this.authHook = handler;
    // Set after startup, the hook turns authentication on or off: auth_timeout follows.
    this.restartSweep();
  }

  /**
   * Pushes a message to every authenticated connection, or to those `filter`
   * keeps. Returns how many it was sent to.
   */
  broadcast(uri: string, data?: unknown, filter?: (connection: IPCConnection) => boolean): number {
    let sent = 0;
    for (const connection of this.connections.values()) {
      if (!connection.authenticated || (filter && !filter(connection))) continue;
      if (connection.push(uri, data)) sent++;
    }
    return sent;
  }

  /** The open connections. */
  getConnections(): IPCConnection[] {
    return this.connections.list();
  }

  /** Closes every client connection now, gracefully (the client reads end-of-file). */
  closeConnections(): void {
    this.connections.closeAll('server');
  }

  /**
   * Stats: live figures, the last completed interval (as the original
   * reported), and running totals since startup.
   */
  getStats(): IPCServerStats {
    this.connections.countBytesOut();
    return {
      connections: this.connections.size,
      handlers: this.router.size - this.operationsRoutes(),
      inFlight: this.connections.inFlight,
      uptime: Date.now() - this.stats.startedAt,
      ...this.stats.lastCycle,
      totals: { ...this.stats.totals, logWriteFailures: this.logGuard?.failedWrites ?? 0 },
      bufferedInput: this.connections.inputTotal,
      inFlightBytes: this.connections.budget.held,
      queuedOutput: this.connections.outputTotal,
      process: processFigures(),
      endpoints: this.monitoring.endpoints.toJSON(),
    };
  }

  /**
   * The Prometheus text exposition of the server's figures (what the
   * `metrics_port` listener and the `/ipcserver/metrics` uri serve).
   */
  getMetrics(): string {
    this.connections.countBytesOut();
    return this.monitoring.render({ startedAt: this.stats.startedAt, inFlight: this.connections.inFlight, totals: this.stats.totals }, this.connections.values(), this.stats);
  }

  /** The stats uri's answer: getStats(), with the connection list for `{ connections: true }` and the handler list for `{ handlers: true }`. */
  private statsAnswer(options: unknown): StatsAnswer {
    const stats: StatsAnswer = this.getStats();
    if (options && typeof options === 'object' && (options as { connections?: unknown }).connections === true) {
      const list: ConnectionInfo[] = [];
      for (const connection of this.connections.values()) {
        if (list.length >= MAX_LISTED_CONNECTIONS) break;
        list.push(connection.toJSON());
      }
      stats.connections = list;
    }
    if (options && typeof options === 'object' && (options as { handlers?: unknown }).handlers === true) {
      stats.routes = this.router.list().map((r) => ({ name: r.name, uri: typeof r.pattern === 'string' ? r.pattern : String(r.pattern) }));
    }
    return stats;
  }

  /**
   * Routes of the operations endpoints (stats, monitor, metrics): not counted
   * in getStats().handlers, which counts what 1.x counted (the two test uris
   * and the application's handlers; 1.x programs and tests check it).
   */
  private operationsRoutes(): number {
    let count = 0;
    for (const route of this.router.list()) if (OPERATIONS_ROUTES.has(route.name)) count++;
    return count;
  }

  /** Ends the current stats interval now and logs it. */
  logIntervalStats(): void {
    this.connections.countBytesOut();
    this.stats.cycle(this.connections.size);
    this.monitoring.cycle();
    // Per-endpoint figures stay out of the log line: up to 1000 endpoints would make it huge.
    const { endpoints, ...logged } = this.getStats();
    this.logDebug(5, 'IPCServer Stats', logged);
  }
}
