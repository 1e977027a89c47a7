/**
 * One accepted client: reads its lines, hands each request to the host, writes
 * the answers it is given (several per write when they are ready together),
 * and applies the per-connection limits: line size, requests in flight, unsent
 * output. What it counts it reports to the host's stats as it happens.
 */
import type { Socket } from 'net';
import { performance } from 'perf_hooks';
import type { PartSink } from './answer-stream';
import { Call } from './call';
import type { AbandonReason } from './pipeline';
import { CLAIMED_FIELD_MAX, copyOfStart } from './excerpt';
import { LineReader } from './framing';
import { RunningCalls } from './running-calls';
import { peerGroups, PeerIdentity } from './peer-cred';
import { heldBytesOf } from './held-size';
import type { BudgetScope, MemoryBudget, UserBudget } from './memory-budget';
import { AbortCode, Refusal, ServerErrorCode, errorLine, parseRequest, pushLine, sniffNoReply, sniffRequestId, type RequestId } from './protocol';
import type { ServerStats, TransportBytes } from './stats';
import type { ConnectionCounters, ConnectionInfo, ConnectionLimits, DisconnectReason, IPCConnection, IPCRequest, Transport } from './types';

export type { ConnectionLimits };
import { CLIENT_CLOSE_GRACE_MS } from './grace-periods';


/** What a connection needs from the server that owns it. */
export interface ConnectionHost {
  readonly limits: ConnectionLimits;
  /** Server-wide counts: the connection reports every count here as it happens. */
  readonly stats: ServerStats;
  /** The per-user and server-wide budgets of what requests hold. */
  readonly budget: MemoryBudget;
  /** A well-formed request. Its answer comes back exactly once through connection.answer(). */
  requestReceived(call: Call): void;
  /** A running call whose client has gone (or whose server is stopping): abort it and answer it now. */
  callAbandoned(call: Call, reason: AbandonReason): void;
  /** A line refused before it became a request (bad JSON, wrong shape, too long), for the log. */
  lineRefused(connection: Connection, code: string, message: string): void;
  /** The bytes of unfinished lines this connection holds changed by `delta` (server-wide input budget). */
  inputBuffered(connection: Connection, delta: number): void;
  /**
   * The output this connection has queued in its socket, counted from the
   * moment a write finds the client behind (the socket's buffer past its
   * high-water mark) until it drains, changed by `delta` (per-user and
   * server-wide output budgets).
   */
  outputQueued(connection: Connection, delta: number): void;
  connectionClosed(connection: Connection, reason: DisconnectReason): void;
}

/**
 * How often a client that has ended its side while requests run is checked
 * for being gone entirely (a blank line, which the protocol says to ignore:
 * writing to a closed peer fails, and that failure is how we notice).
 */
const PEER_PROBE_MS = 500;


/** How long a connection refused for an oversized line may keep sending before it is cut off. */
const DISCARD_GRACE_MS = 5000;

function flushConnection(connection: Connection): void {
  connection.flush();
}

export class Connection implements PartSink, IPCConnection {
  readonly id: number;
  readonly transport: Transport;
  readonly connectedAt = Date.now();
  /** The client's process id, as it last reported it (the client chooses it: see `peer`); only a non-negative safe integer is kept. */
  pid: number | null = null;
  /**
   * Who is on the other end, as the kernel recorded it at connect (Unix
   * sockets on Linux): pid, uid, gid, and the user and group names where they
   * resolve. Null for TCP/TLS and where the kernel cannot tell.
   */
  peer: PeerIdentity | null = null;
  /** True once the client presented credentials that were accepted (false when auth is off). */
  credentialsAccepted = false;
  /** The client's user agent, as it last reported it, cut to its first 256 characters (CLAIMED_FIELD_MAX). */
  userAgent: string | null = null;
  readonly counters: ConnectionCounters = { requests: 0, responses: 0, errors: 0, pushes: 0, droppedResponses: 0, bytesIn: 0, bytesOut: 0 };
  /** Requests received and not answered yet. */
  inFlight = 0;
  /** Heap charged for those requests (see held-size.ts), collected answers included. */
  inFlightBytes = 0;
  /** This connection's user's share of the server's budget (set when the connection is admitted). */
  budgetUser: UserBudget | null = null;
  /** When the unfinished line being read began (ms since epoch), 0 when there is none. */
  lineStartedAt = 0;
  /**
   * The event loop's idle time (ms, performance.nodeTiming.idleTime) when
   * that line began: line_timeout counts only the time the server sat
   * waiting for input since then, not time it was busy (parsing other
   * clients' long lines, running handlers).
   */
  lineIdleAtStart = 0;
  /** When the client last sent anything, on the performance.now() clock (one clock read per chunk; see lastActivity). */
  private lastReadAt = performance.now();
  /** Free for the application's own per-connection state. */
  readonly state: Record<string, unknown> = {};
  /** The last socket error, if any (a vanished client shows up here as EPIPE or ECONNRESET). */
  lastError: NodeJS.ErrnoException | null = null;

  private readonly socket: Socket;
  private readonly host: ConnectionHost;
  private readonly stats: ServerStats;
  private readonly transportBytes: TransportBytes;
  private readonly reader: LineReader;
  /**
   * Output queued for the next write: the first line alone (one answer per
   * turn, the usual case, needs no array), later ones in outMore.
   */
  private outFirst: string | null = null;
  private outMore: string[] = [];
  /** Characters queued (close to bytes: most output is ASCII JSON). */
  private outQueueSize = 0;
  private flushScheduled = false;
  /** True while a chunk's lines are being handled: answers given meanwhile are written together when it is done. */
  private handlingChunk = false;
  /** Calls read and not answered yet, oldest first, for cancel, disconnect and shutdown. */
  private readonly running = new RunningCalls();
  /** Stream writers waiting for the client to catch up. */
  private drainWaiters: Array<() => void> = [];
  private peerProbe: NodeJS.Timeout | null = null;
  private isAuthenticated: boolean;
  /** The queued output last reported to the host (0 while the client keeps up). */
  private reportedOutput = 0;
  private discarding = false;
  private blockedByOutput = false;
  private readingPaused = false;
  private peerEnded = false;
  private closeReason: DisconnectReason | null = null;
  private closed = false;
  private readingStopped = false;
  private supplementaryGroups: number[] | null | undefined;
  /** A line read but not parsed yet, waiting for the requests in flight to leave room for it. */
  private waitingLine: string | null = null;
  private waitingLineBytes = 0;
  private waitingLineHeld = 0;

  constructor(id: number, socket: Socket, transport: Transport, host: ConnectionHost, authenticated: boolean) {
    this.id = id;
    this.socket = socket;
    this.transport = transport;
    this.host = host;
    this.stats = host.stats;
    this.transportBytes = host.stats.transportBytes(transport);
    this.isAuthenticated = authenticated;
    this.reader = new LineReader(authenticated ? host.limits.maxMessageSize : host.limits.maxMessageSizeBeforeAuth, {
      onLine: (line, bytes) => this.onLine(line, bytes),
      onOverflow: (head) => this.onOverflow(head),
    });
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onPeerEnd());
    socket.on('drain', () => this.onDrain());
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!this.closeReason) this.closeReason = 'error';
      this.lastError = err;
    });
    socket.on('close', () => this.onClose());
  }

  /** Last time the client sent anything (ms since epoch), worked out when asked rather than read from the clock per chunk. */
  get lastActivity(): number {
    return Math.floor(Date.now() - (performance.now() - this.lastReadAt));
  }

  /** Whether the connection may make requests (always, when the server has no authentication). */
  get authenticated(): boolean {
    return this.isAuthenticated;
  }

  set authenticated(value: boolean) {
    this.isAuthenticated = value;
    // The auth request is tiny: only an authenticated client may send long lines.
    this.reader.maxLineBytes = value ? this.host.limits.maxMessageSize : this.host.limits.maxMessageSizeBeforeAuth;
  }

  /** True while the server has stopped reading this connection (too much in flight, or its output is behind). */
  get readingIsPaused(): boolean {
    return this.readingPaused;
  }

  /** Bytes of unfinished lines held for this connection, and of a read line waiting for room. */
  get bufferedInput(): number {
    return this.reader.bufferedBytes + this.waitingLineBytes;
  }

  /**
   * Forgets the unfinished line and ignores whatever the client sends from
   * now on (a connection refused for holding too much of the input budget):
   * its bytes stop counting at once, not when its socket finally closes.
   */
  discardInput(): void {
    this.discarding = true;
    const held = this.bufferedInput;
    this.reader.reset();
    this.forgetWaitingLine();
    this.lineStartedAt = 0;
    if (held > 0) this.host.inputBuffered(this, -held);
  }

  /** Output queued for this client and not yet taken by the kernel. */
  get queuedOutput(): number {
    return this.outQueueSize + this.socket.writableLength;
  }

  get isOpen(): boolean {
    return !this.closed && !this.closeReason;
  }

  /**
   * At shutdown: ends the connection gracefully and lets go of it as soon as
   * the end has been sent (every queued byte handed to the kernel), without
   * waiting for the client to close its side.
   */
  closeForShutdown(): void {
    if (this.closed) return;
    this.close('shutdown');
    if (this.socket.writableFinished) this.destroy('shutdown');
    else this.socket.once('finish', () => this.destroy('shutdown'));
  }

  /** Bytes written to this client so far. */
  get bytesOut(): number {
    this.countBytesOut();
    return this.counters.bytesOut;
  }

  get remoteAddress(): string | null {
    return this.socket.remoteAddress ?? null;
  }

  /**
   * Sends a message to this client outside any request (a server push).
   * Returns false when the connection is closed or closing.
   */
  push(uri: string, data?: unknown): boolean {
    if (!this.isOpen) return false;
    if (this.queuedOutput > this.host.limits.maxOutputBuffer) {
      // A client that does not read gets no more pushes than one output buffer's worth.
      this.stats.pushDropped();
      return false;
    }
    this.write(pushLine(uri, data));
    this.counters.pushes++;
    this.stats.push();
    return true;
  }

  /**
   * Sends a request's single answer (`line` is null for a noReply request,
   * which gets nothing). Every answer is counted here, sent or not.
   */
  answer(call: Call, line: string | null, isError: boolean): void {
    this.inFlight--;
    this.inFlightBytes -= call.held;
    this.host.budget.release(this.budgetUser!, call.held);
    call.held = 0;
    this.running.remove(call);
    if (isError) this.counters.errors++;
    if (call.request.noReply) {
      // Fire-and-forget: nothing goes back, not even an error.
      this.stats.answered(isError, 'noReply');
    } else if (this.closed || this.socket.destroyed || this.socket.writableEnded || line === null) {
      this.counters.droppedResponses++;
      this.stats.answered(isError, 'dropped');
    } else {
      this.counters.responses++;
      this.stats.answered(isError, 'sent');
      this.write(line);
    }
    if (this.readingPaused) this.updateReading();
    if (this.peerEnded && this.inFlight === 0) this.close('client');
  }

  /** Ends the connection gracefully: queued output is sent, then the client sees end-of-file. */
  close(reason: DisconnectReason = 'server'): void {
    if (this.closed || this.closeReason) return;
    this.closeReason = reason;
    this.flush();
    this.socket.end();
    // A client that never closes its side must not keep the slot.
    if (reason !== 'client') setTimeout(() => this.destroy(reason), CLIENT_CLOSE_GRACE_MS).unref();
  }

  /**
   * Reads nothing more from this client, not even lines already received
   * in the same chunk (after wrong credentials: whatever follows is never acted on).
   */
  stopReading(): void {
    this.readingStopped = true;
    this.socket.pause();
    this.reader.pause();
  }

  /** The peer's supplementary groups as the kernel recorded them (read once, on first use). */
  peerGroups(): number[] | null {
    if (this.supplementaryGroups === undefined) this.supplementaryGroups = this.peer ? peerGroups(this.socket) : null;
    return this.supplementaryGroups;
  }

  /** Closes at once, dropping unsent output (for clients that do not go away when asked). */
  destroy(reason: DisconnectReason = 'server'): void {
    if (this.closed) return;
    if (!this.closeReason) this.closeReason = reason;
    this.socket.destroy();
    // Its queued output is let go now, not when 'close' comes.
    this.reportOutput(0);
  }

  /** Sends one error line that answers no particular request, then closes. */
  refuse(code: string, message: string, reason: DisconnectReason): void {
    if (!this.isOpen) return;
    this.write(errorLine(null, code, message));
    this.close(reason);
  }

  /** The running call with this id (other than `except`), or null; in constant time. */
  findRunning(id: RequestId, except: Call): Call | null {
    return this.running.find(id, except);
  }

  /** Gives up every running call (at shutdown, once the drain time is over). */
  abandonRunning(reason: AbandonReason): void {
    for (let call = this.running.first; call !== null;) {
      // Abandoning answers the call, which takes it off the list.
      const next = call.nextRunning;
      this.host.callAbandoned(call, reason);
      call = next;
    }
  }

  /** PartSink: the limit a stream writer waits under. */
  get outputLimit(): number {
    return this.host.limits.maxOutputBuffer;
  }

  /** PartSink: queues one part of a streamed answer. */
  writePart(line: string): void {
    if (this.isOpen || this.peerEnded) this.write(line);
  }

  /** PartSink: null when unsent output is within `limit`, else a promise of the next drain (or close). */
  whenBelow(limit: number): Promise<void> | null {
    if (this.closed || this.outQueueSize + this.socket.writableLength <= limit) return null;
    // Hand the queue to the socket now: its 'drain' is what wakes the writer.
    this.flush();
    if (!this.socket.writableNeedDrain) return null;
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Writes everything queued, in one write. Called on the tick after output was queued. */
  flush(): void {
    this.flushScheduled = false;
    const first = this.outFirst;
    if (first === null) return;
    let text = first;
    if (this.outMore.length > 0) {
      text = first + this.outMore.join('');
      this.outMore = [];
    }
    this.outFirst = null;
    this.outQueueSize = 0;
    if (this.socket.destroyed || this.socket.writableEnded) return;
    const writable = this.socket.write(text);
    // A client that keeps up costs nothing here: output counts once a write finds it behind.
    if (writable && this.reportedOutput === 0) return;
    const queued = this.socket.writableLength;
    this.reportOutput(queued);
    if (!writable && queued > this.host.limits.maxOutputBuffer) {
      // The client is not reading: stop reading its requests until it catches up.
      this.blockedByOutput = true;
      this.updateReading();
    }
  }

  /** Output the host counts against the output budgets. */
  get countedOutput(): number {
    return this.reportedOutput;
  }

  private reportOutput(queued: number): void {
    const delta = queued - this.reportedOutput;
    if (delta === 0) return;
    this.reportedOutput = queued;
    this.host.outputQueued(this, delta);
  }

  toJSON(): ConnectionInfo {
    this.countBytesOut();
    return {
      id: this.id,
      transport: this.transport,
      peer: this.peer,
      pid: this.pid,
      userAgent: this.userAgent,
      connectedAt: this.connectedAt,
      lastActivity: this.lastActivity,
      authenticated: this.authenticated,
      inFlight: this.inFlight,
      queuedOutputBytes: this.socket.writableLength + this.outQueueSize,
      counters: { ...this.counters },
    };
  }

  private write(line: string): void {
    if (this.outFirst === null) this.outFirst = line;
    else this.outMore.push(line);
    this.outQueueSize += line.length;
    // Answers given while a chunk is handled go out when it is done (onData
    // flushes): no tick to wait for. Others wait one tick, so answers that
    // settle together (promises resolved at once) share a write.
    if (!this.flushScheduled && !this.handlingChunk) {
      this.flushScheduled = true;
      process.nextTick(flushConnection, this);
    }
  }

  /**
   * Brings counters.bytesOut (and the server's totals) up to the socket's
   * count. Done when someone looks (stats, metrics, this connection's
   * figures), at 'drain' and at close, not per write: a write that reads it
   * costs the one-request-at-a-time path ~3% of the server's instructions.
   */
  countBytesOut(): void {
    const socket = this.socket as Socket & { _bytesDispatched?: unknown; _pendingData?: unknown };
    // With nothing queued, the count is the bytes handed to the kernel; the
    // public getter would first copy the socket's write queue to sum it.
    const dispatched = socket._bytesDispatched;
    const written = typeof dispatched === 'number' && socket.writableLength === 0 && !socket._pendingData ? dispatched : socket.bytesWritten;
    if (typeof written !== 'number') return;
    const added = written - this.counters.bytesOut;
    if (added <= 0) return;
    this.counters.bytesOut = written;
    this.stats.bytesOut(added, this.transportBytes);
  }

  private onData(chunk: Buffer): void {
    this.counters.bytesIn += chunk.length;
    this.stats.bytesIn(chunk.length, this.transportBytes);
    if (this.discarding) return;
    this.lastReadAt = performance.now();
    const before = this.reader.bufferedBytes;
    this.handlingChunk = true;
    try {
      this.reader.push(chunk);
    } finally {
      this.handlingChunk = false;
    }
    if (this.outFirst !== null) this.flush();
    if (this.closed) return;
    const after = this.reader.bufferedBytes;
    // A line that began in an earlier chunk keeps its start time, however slowly it arrives.
    if (after === 0) this.lineStartedAt = 0;
    else if (before === 0 || after < before + chunk.length) {
      this.lineStartedAt = Date.now();
      this.lineIdleAtStart = performance.nodeTiming.idleTime;
    }
    if (after !== before) this.host.inputBuffered(this, after - before);
  }

  private onLine(line: string, bytes: number): void {
    if (this.readingStopped) return;
    const held = heldBytesOf(line, bytes);
    if (!this.hasRoomFor(held)) {
      // The running requests hold too much to add this one: it waits,
      // unparsed (counted as buffered input), and reading stops until they finish.
      this.waitingLine = line;
      this.waitingLineBytes = bytes;
      this.waitingLineHeld = held;
      this.host.inputBuffered(this, bytes);
      this.updateReading();
      return;
    }
    this.admitLine(line, bytes, held);
  }

  /** True when a request holding `held` fits beside those running (one alone always does: the user's and the server's budgets decide). */
  private hasRoomFor(held: number): boolean {
    return this.inFlight === 0 || this.inFlightBytes + held <= this.host.limits.maxInFlightBytes;
  }

  /** Charges a line to the budgets, then parses it and hands its request on; or refuses it. */
  private admitLine(line: string, bytes: number, held: number): void {
    const user = this.budgetUser!;
    const scope = this.host.budget.charge(user, held);
    if (scope !== null) {
      this.refuseOverBudget(line, held, scope);
      return;
    }
    const parsed = parseRequest(line);
    if (parsed === null || parsed instanceof Refusal) {
      this.host.budget.release(user, held);
      if (parsed !== null) this.refuseLine(parsed.id, parsed.code, parsed.message, parsed.noReply);
      return;
    }
    const request = parsed as IPCRequest;
    // What the client claims about itself is kept for later requests and the
    // stats: only a process id that is one, and a userAgent cut to CLAIMED_FIELD_MAX.
    const { pid, userAgent } = request;
    if (typeof pid === 'number') {
      if (pid !== this.pid && Number.isSafeInteger(pid) && pid >= 0) this.pid = pid;
    } else if (pid === undefined && this.pid !== null) request.pid = this.pid;
    if (typeof userAgent === 'string') {
      if (userAgent !== this.userAgent) this.userAgent = copyOfStart(userAgent, CLAIMED_FIELD_MAX);
    } else if (userAgent === undefined && this.userAgent !== null) request.userAgent = this.userAgent;
    this.counters.requests++;
    this.stats.request();
    this.inFlight++;
    if (this.inFlight >= this.host.limits.maxInFlight) this.updateReading();
    // The chunk's arrival time stands for the line's: no clock read per request.
    const call = new Call(request, this, this.lastReadAt, bytes);
    call.held = held;
    this.inFlightBytes += held;
    this.running.add(call);
    this.host.requestReceived(call);
  }

  /** Answers a line no budget has room for, without parsing it (its id is read from its start). */
  private refuseOverBudget(line: string, held: number, scope: BudgetScope): void {
    const budget = this.host.budget;
    let message: string;
    if (scope === 'user') {
      const user = this.budgetUser!;
      message = `The requests in flight from ${user.label} hold ${user.held} bytes; this one, about ${held} bytes once parsed, would pass max_in_flight_bytes_per_user (${budget.perUser}): retry once some have finished`;
    } else {
      message = `The server's requests in flight hold ${budget.held} bytes; this one, about ${held} bytes once parsed, would pass max_in_flight_total (${budget.total}): retry once some have finished`;
    }
    this.stats.overBudget();
    this.refuseLine(sniffRequestId(line), ServerErrorCode.overBudget, message, sniffNoReply(line));
  }

  /**
   * PartSink: charges `bytes` more to a running call (the parts of an answer
   * collected for a caller that did not ask for a stream). Returns null, or
   * why there is no room.
   */
  holdFor(call: Call, bytes: number): string | null {
    const scope = this.host.budget.charge(this.budgetUser!, bytes);
    if (scope !== null) {
      const key = scope === 'user' ? 'max_in_flight_bytes_per_user' : 'max_in_flight_total';
      return `The answer being collected would pass ${key}; ask for it with stream: true, or retry once other requests have finished`;
    }
    this.inFlightBytes += bytes;
    call.held += bytes;
    if (this.inFlightBytes >= this.host.limits.maxInFlightBytes && !this.readingPaused) this.updateReading();
    return null;
  }

  /** Lets go of a line that was waiting for room (closing, or refused for the input budget). */
  private forgetWaitingLine(): void {
    this.waitingLine = null;
    this.waitingLineBytes = 0;
    this.waitingLineHeld = 0;
  }

  private refuseLine(id: IPCRequest['ipcReqID'], code: string, message: string, noReply: boolean): void {
    this.counters.errors++;
    this.stats.error();
    this.host.lineRefused(this, code, message);
    if (!noReply && this.isOpen) this.write(errorLine(id, code, message));
  }

  private onOverflow(head: Buffer): void {
    const limit = this.host.limits.maxMessageSize;
    this.refuseLine(sniffRequestId(head), ServerErrorCode.messageTooLarge, `Message exceeds the server's limit of ${limit} bytes (max_message_size)`, false);
    this.close('message_too_large');
    // Keep reading (and dropping) what the client is still sending, so a
    // blocking client can finish its write and read the error.
    this.socket.resume();
    setTimeout(() => this.destroy('message_too_large'), DISCARD_GRACE_MS).unref();
  }

  private onPeerEnd(): void {
    // The client will send nothing more; answer what is running, then close.
    this.peerEnded = true;
    if (this.inFlight === 0) {
      this.close('client');
      return;
    }
    // Ended its side only (it still reads), or gone entirely? Only a write tells.
    this.probePeer();
    this.peerProbe = setInterval(() => this.probePeer(), PEER_PROBE_MS);
    this.peerProbe.unref();
  }

  private probePeer(): void {
    if (this.closed || this.inFlight === 0 || this.socket.destroyed || this.socket.writableEnded) return;
    if (this.outFirst === null && this.socket.writableLength === 0) this.socket.write('\n');
  }

  private onDrain(): void {
    this.countBytesOut();
    this.wakeWriters();
    this.reportOutput(this.socket.writableLength);
    if (!this.blockedByOutput) return;
    this.blockedByOutput = false;
    this.updateReading();
  }

  private updateReading(): void {
    if (this.closeReason || this.readingStopped) return;
    if (this.waitingLine !== null && this.hasRoomFor(this.waitingLineHeld)) {
      const line = this.waitingLine;
      const bytes = this.waitingLineBytes;
      const held = this.waitingLineHeld;
      this.forgetWaitingLine();
      this.host.inputBuffered(this, -bytes);
      this.admitLine(line, bytes, held);
    }
    const limits = this.host.limits;
    const shouldPause = this.waitingLine !== null || this.blockedByOutput || this.inFlight >= limits.maxInFlight || this.inFlightBytes >= limits.maxInFlightBytes;
    if (shouldPause === this.readingPaused) return;
    this.readingPaused = shouldPause;
    if (shouldPause) {
      this.socket.pause();
      this.reader.pause();
    } else {
      this.socket.resume();
      this.reader.resume();
    }
  }

  private wakeWriters(): void {
    if (this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.outFirst = null;
    this.outMore = [];
    this.outQueueSize = 0;
    if (this.peerProbe) clearInterval(this.peerProbe);
    const held = this.bufferedInput;
    this.reader.reset();
    this.forgetWaitingLine();
    if (held > 0) this.host.inputBuffered(this, -held);
    this.reportOutput(0);
    // The client has gone: running handlers learn it through their signal.
    this.abandonRunning(AbortCode.disconnected);
    this.wakeWriters();
    this.countBytesOut();
    const reason = this.closeReason ?? 'client';
    if (!this.closeReason) this.closeReason = reason;
    this.host.connectionClosed(this, reason);
  }
}
