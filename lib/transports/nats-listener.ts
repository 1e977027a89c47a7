/**
 * The NATS transport, as a listener: connects to the cluster, registers the
 * daemon as a NATS service whose one endpoint takes every uri under the
 * prefix (in a queue group, so each request reaches one daemon), and turns
 * each message into a request line on a NatsSocket that the server accepts
 * like any socket. Answers come back out of that socket and are published to
 * the caller's reply subject.
 *
 * Request ids are the daemon's own on that connection (callers' ids may
 * collide); each answer goes back with the caller's id.
 *
 * Stopping: stopAccepting() drains the service's subscriptions (NATS sends
 * new requests to the other members of the queue group); requests already
 * taken are answered; close() then drains the connection once the server is
 * done with the NatsSocket.
 */
import type { Msg, NatsConnection, Service } from 'nats';
import type { SocketHandler, ListenerLog } from '../listeners';
import { errorLine, MAX_TIMEOUT_MS, ServerErrorCode, type RequestId } from '../protocol';
import { NatsCaller } from './nats-caller';
import type { NatsSettings } from './nats-config';
import { connectOptions, loadNats, redactUrl, TIMEOUT_HEADER } from './nats-options';
import { NatsSocket } from './nats-socket';
import { allUrisSubject, cancelSubject, subjectForUri, uriForSubject } from './nats-subjects';

/** A request taken from NATS and not answered yet. */
interface Taken {
  reply: string;
  /** The caller's own id, given back with the answer. */
  callerId: RequestId | null;
  bytes: number;
}

/** After the server closed the NatsSocket unexpectedly (a refusal, idle_timeout), how long before another is offered. */
const REOPEN_DELAY_MS = 1000;
/** How long the final drain of the NATS connection may take. */
const CLOSE_TIMEOUT_MS = 2000;
const ANSWER_PREFIX = '{"ipcReqID":';

export class NatsListener {
  /** Calls to the cluster over this daemon's connection (forwarding). */
  caller: NatsCaller | null = null;
  private nc: NatsConnection | null = null;
  private service: Service | null = null;
  private socket: NatsSocket | null = null;
  private readonly taken = new Map<number, Taken>();
  private readonly byReply = new Map<string, number>();
  private takenBytes = 0;
  private nextId = 1;
  private accepting = false;
  /** Set once the subscriptions are being drained: what NATS still delivers is handed back to the queue group. */
  private draining = false;
  private closing = false;
  private closed: Promise<void> | null = null;
  private socketOpenedAt = 0;
  /** True once the current NatsSocket has answered a request (the server accepted it). */
  private socketAnswered = false;
  private version = '0.0.0';
  private reopenTimer: NodeJS.Timeout | null = null;
  private readonly encoder = new TextEncoder();
  private readonly maxMessageSize: number;

  constructor(
    private readonly settings: NatsSettings,
    private readonly onSocket: SocketHandler,
    private readonly log: ListenerLog,
    limits: { maxMessageSize: number },
    private readonly statsData: () => unknown = () => null,
  ) {
    this.maxMessageSize = limits.maxMessageSize;
  }

  /** The servers, as they may be logged. */
  get describeServers(): string {
    return this.settings.servers.map(redactUrl).join(', ');
  }

  /** Requests taken from NATS and not answered yet. */
  get pending(): number {
    return this.taken.size;
  }

  /** Connects. Rejects with a message naming the servers, never the credentials. */
  async open(version: string): Promise<void> {
    this.version = version;
    const nats = loadNats();
    const s = this.settings;
    const options = connectOptions(nats, s.connect, 'IPCServer config: nats');
    options.name ??= `pixl-ipc ${s.serviceName} pid ${process.pid}`;
    // A daemon outlives any one NATS server: reconnect for ever, across the cluster.
    options.maxReconnectAttempts = -1;
    options.reconnectTimeWait = 250;
    try {
      this.nc = await nats.connect(options);
    } catch (err) {
      throw new Error(`IPCServer cannot connect to NATS (${this.describeServers}): ${(err as Error).message}`);
    }
    const nc = this.nc;
    this.caller = new NatsCaller(nc, s.prefix);
    this.log.debug(5, `IPCServer connected to NATS at ${redactUrl(nc.getServer())}`);
    void this.watchStatus(nc);
  }

  /**
   * Joins the queue group (unless `serve` is false). Called once the host has
   * started, so the application's handlers are registered before NATS sends
   * this daemon its share of the requests.
   */
  async serve(): Promise<{ subject: string; queue: string } | null> {
    const s = this.settings;
    const nc = this.nc;
    if (!s.serve || nc === null || this.closing || this.service !== null) return null;
    const version = this.version;
    this.openSocket();
    this.service = await nc.services.add({
      name: s.serviceName,
      version,
      description: 'pixl-ipc handlers (uri /a/b is subject ' + s.prefix + '.a.b)',
      queue: s.queue,
      metadata: { prefix: s.prefix, pid: String(process.pid) },
      statsHandler: async () => this.statsData(),
    });
    this.service.addEndpoint('uris', {
      subject: allUrisSubject(s.prefix),
      handler: (err, msg) => {
        if (!err) this.receive(msg);
      },
      metadata: { prefix: s.prefix },
    });
    // Cancels go to every daemon (no queue group): only the one running the request acts.
    // Kept until the connection drains at close: a request still running can be cancelled meanwhile.
    nc.subscribe(cancelSubject(s.prefix), { callback: (err, msg) => { if (!err) this.cancel(msg); } });
    await nc.flush();
    this.accepting = true;
    this.log.debug(5, `IPCServer serving on NATS: subjects ${allUrisSubject(s.prefix)}, queue group ${s.queue}, service ${s.serviceName}`);
    return { subject: allUrisSubject(s.prefix), queue: s.queue };
  }

  /**
   * Stops taking requests: the service's subscriptions are drained, so NATS
   * gives new requests to the other daemons of the queue group; requests
   * already taken are still answered.
   */
  async stopAccepting(): Promise<void> {
    if (!this.accepting) return;
    this.accepting = false;
    this.draining = true;
    try {
      // Sends the unsubscribes now (before any message is handed back, on the same connection).
      await this.service?.stop();
      await this.nc?.flush();
      this.log.debug(5, 'IPCServer stopped taking NATS requests (subscriptions drained)');
    } catch (err) {
      this.log.error('nats', `Draining the NATS subscriptions failed: ${(err as Error).message}`);
    }
  }

  /**
   * Lets go of the NATS connection once the server has finished with the
   * NatsSocket (its answers published), or at once when it has none.
   * Resolves when the connection is closed.
   */
  close(): Promise<void> {
    if (this.closed) return this.closed;
    this.closing = true;
    this.accepting = false;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    const socket = this.socket;
    // Nothing taken (a failed startup, or nothing was running): the socket can go now.
    if (socket !== null && this.taken.size === 0) socket.destroy();
    const socketDone = socket === null || socket.destroyed ? Promise.resolve() : new Promise<void>((resolve) => socket.once('close', () => resolve()));
    this.closed = socketDone.then(() => this.closeConnection());
    return this.closed;
  }

  private async closeConnection(): Promise<void> {
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    // drain() publishes what is buffered (the last answers) and closes.
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref());
    await Promise.race([nc.drain().catch(() => nc.close()), timeout]);
    if (!nc.isClosed()) await nc.close().catch(() => {});
    this.caller?.connectionClosed();
  }

  /** Logs the connection's ups and downs (server addresses redacted), and tells the caller about refused publishes. */
  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      const data = typeof status.data === 'string' ? redactUrl(status.data) : '';
      switch (status.type) {
        case 'disconnect':
          this.log.error('nats_disconnected', `Lost the NATS server ${data}; reconnecting to the cluster`);
          break;
        case 'reconnect':
          this.log.debug(3, `Reconnected to NATS at ${data}`);
          break;
        case 'error':
          if (status.permissionContext?.operation === 'publish') this.caller?.publishRefused(status.permissionContext.subject);
          this.log.error('nats', `NATS error: ${String(status.data)}`);
          break;
        case 'ldm':
          this.log.debug(3, `NATS server ${data} is entering lame duck mode`);
          break;
        default:
          break;
      }
    }
    this.caller?.connectionClosed();
  }

  private openSocket(): void {
    const socket = new NatsSocket((line) => this.answer(line));
    this.socket = socket;
    this.socketOpenedAt = Date.now();
    this.socketAnswered = false;
    socket.on('close', () => this.socketClosed(socket));
    socket.on('error', () => {});
    this.onSocket(socket as unknown as import('net').Socket, 'nats');
  }

  /** The server closed the NatsSocket: answer what it held, and offer another unless stopping. */
  private socketClosed(socket: NatsSocket): void {
    if (this.socket !== socket) return;
    this.socket = null;
    for (const [id, taken] of this.taken) {
      this.taken.delete(id);
      this.publish(taken.reply, errorLine(taken.callerId, ServerErrorCode.interrupted, 'The daemon closed its NATS transport while the request was waiting'));
    }
    this.byReply.clear();
    this.takenBytes = 0;
    if (this.closing || !this.settings.serve) return;
    // idle_timeout, or a refusal the server has logged already.
    this.log.debug(3, 'The server closed the NATS transport\'s connection; opening another');
    // At once, unless the last one was refused as soon as it opened (max_connections): then a second later.
    if (this.socketAnswered || Date.now() - this.socketOpenedAt >= REOPEN_DELAY_MS) {
      this.openSocket();
      return;
    }
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      if (!this.closing) this.openSocket();
    }, REOPEN_DELAY_MS);
    this.reopenTimer.unref();
  }

  /** Answers a message before it reaches the server (refused on the way in). */
  private refuse(msg: Msg, callerId: RequestId | null, code: string, message: string): void {
    if (msg.reply) this.publish(msg.reply, errorLine(callerId, code, message));
    this.log.debug(5, `NATS request on ${msg.subject} refused: ${code}: ${message}`);
  }

  private publish(reply: string, line: string): void {
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    try {
      nc.publish(reply, this.encoder.encode(line.endsWith('\n') ? line.slice(0, -1) : line));
    } catch (err) {
      this.log.debug(5, `Could not publish an answer on NATS: ${(err as Error).message}`);
    }
  }

  /** One NATS message on a uri subject: checked, given a local id and handed to the server as a request line. */
  private receive(msg: Msg): void {
    const s = this.settings;
    if (msg.subject === cancelSubject(s.prefix)) return;
    if (this.draining) {
      // Delivered before nats-server read our unsubscribe, while the server is already refusing new
      // requests: published again, NATS gives it to another daemon of the queue group (or answers
      // no responders when there is none). Our unsubscribe went first, so it cannot come back here.
      try {
        this.nc?.publish(msg.subject, msg.data, { reply: msg.reply, headers: msg.headers });
      } catch {
        this.refuse(msg, null, ServerErrorCode.shuttingDown, 'The server is shutting down');
      }
      return;
    }
    const size = msg.data.length;
    if (size > this.maxMessageSize) {
      this.refuse(msg, null, ServerErrorCode.messageTooLarge, `Message exceeds the server's limit of ${this.maxMessageSize} bytes (max_message_size)`);
      return;
    }
    let request: Record<string, unknown>;
    try {
      request = size === 0 ? {} : JSON.parse(Buffer.from(msg.data.buffer, msg.data.byteOffset, size).toString('utf8'));
    } catch {
      this.refuse(msg, null, ServerErrorCode.badJson, 'The message is not valid JSON');
      return;
    }
    if (request === null || typeof request !== 'object' || Array.isArray(request)) {
      this.refuse(msg, null, ServerErrorCode.badRequest, 'The message must be a JSON object like {"uri": "/a/b", "data": ...}');
      return;
    }
    const callerId = typeof request.ipcReqID === 'string' || typeof request.ipcReqID === 'number' ? request.ipcReqID : null;
    // The subject is what NATS permissions checked: the uri must be the one it stands for.
    if (request.uri === undefined) {
      const uri = uriForSubject(s.prefix, msg.subject);
      if (uri === null) {
        this.refuse(msg, callerId, ServerErrorCode.badRequest, `${msg.subject} is not a uri subject (see docs/nats.md for the mapping)`);
        return;
      }
      request.uri = uri;
    } else {
      let expected: string | null = null;
      try {
        expected = typeof request.uri === 'string' ? subjectForUri(s.prefix, request.uri) : null;
      } catch { /* not a uri NATS can carry */ }
      if (expected !== msg.subject) {
        this.refuse(msg, callerId, ServerErrorCode.badRequest, `The uri ${JSON.stringify(request.uri)} is not the one subject ${msg.subject} stands for (a uri is sent to the subject it maps to; see docs/nats.md)`);
        return;
      }
    }
    const socket = this.socket;
    if (socket === null || this.closing) {
      this.refuse(msg, callerId, ServerErrorCode.shuttingDown, 'The server is shutting down');
      return;
    }
    const reply = msg.reply || '';
    if (socket.waiting > s.maxPendingBytes) {
      // The server is not reading (max_in_flight): fire-and-forget messages are bounded here too.
      this.refuse(msg, callerId, ServerErrorCode.overloaded, 'The daemon is not keeping up with its NATS requests (nats.max_pending_bytes); try again');
      return;
    }
    if (reply !== '' && (this.taken.size >= s.maxPending || this.takenBytes + size > s.maxPendingBytes)) {
      this.refuse(msg, callerId, ServerErrorCode.overloaded, `The daemon holds ${this.taken.size} NATS requests (${this.takenBytes} bytes) not answered yet (nats.max_pending, nats.max_pending_bytes); try again`);
      return;
    }
    const header = msg.headers?.get(TIMEOUT_HEADER);
    if (header) {
      const timeoutMs = Math.min(Number(header), MAX_TIMEOUT_MS);
      if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
        const own = request.timeoutMs;
        request.timeoutMs = typeof own === 'number' && own > 0 ? Math.min(own, timeoutMs) : timeoutMs;
      }
    }
    if (reply === '' || request.noReply === true) {
      // Published without a reply subject: nothing to answer, nothing to remember.
      request.noReply = true;
      delete request.ipcReqID;
      socket.deliver(JSON.stringify(request) + '\n');
      return;
    }
    const id = this.nextId++;
    request.ipcReqID = id;
    this.taken.set(id, { reply, callerId, bytes: size });
    this.byReply.set(reply, id);
    this.takenBytes += size;
    socket.deliver(JSON.stringify(request) + '\n');
  }

  /** A line the server wrote: an answer or a part goes to its caller; pushes have nobody to go to over NATS. */
  private answer(line: string): void {
    if (!line.startsWith(ANSWER_PREFIX)) return;
    let end = ANSWER_PREFIX.length;
    while (end < line.length && line.charCodeAt(end) >= 48 && line.charCodeAt(end) <= 57) end++;
    const id = Number(line.slice(ANSWER_PREFIX.length, end));
    const taken = end > ANSWER_PREFIX.length ? this.taken.get(id) : undefined;
    // An answer to no request of ours: a connection-level refusal, logged by the server.
    if (taken === undefined) return;
    const rest = line.slice(end);
    this.socketAnswered = true;
    this.publish(taken.reply, ANSWER_PREFIX + JSON.stringify(taken.callerId) + rest);
    if (rest.startsWith(',"part":')) return;
    this.taken.delete(id);
    this.byReply.delete(taken.reply);
    this.takenBytes -= taken.bytes;
  }

  /** A caller gave up: if this daemon runs the request, the server cancels it (its handler's signal aborts). */
  private cancel(msg: Msg): void {
    const reply = Buffer.from(msg.data).toString('utf8');
    const id = this.byReply.get(reply);
    if (id === undefined || this.socket === null) return;
    this.socket.deliver('{"uri":"/ipcserver/cancel","noReply":true,"data":{"ipcReqID":' + id + '}}\n');
  }
}
