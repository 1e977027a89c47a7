/**
 * One accepted client: reads its requests, writes its responses (several per
 * write when they are ready together), tracks what is in flight, and applies
 * the per-connection limits: line size, requests in flight, unsent output.
 */
import type { Socket } from 'net';
import { LineReader } from './framing';
import { ServerErrorCode, errorLine, isRequestId, pushLine, responseLine, sniffRequestId } from './protocol';
import type { DisconnectReason, IPCRequest, Transport } from './types';

export interface ConnectionLimits {
  maxMessageSize: number;
  maxInFlight: number;
  maxOutputBuffer: number;
}

/** What a connection needs from the server that owns it. */
export interface ConnectionHost {
  readonly limits: ConnectionLimits;
  /** A well-formed request. The host must settle it exactly once with respond() or respondError(). */
  handleRequest(connection: Connection, request: IPCRequest): void;
  /** A line refused before it became a request (bad JSON, wrong shape, too long). */
  requestRefused(connection: Connection, code: string, message: string): void;
  connectionClosed(connection: Connection, reason: DisconnectReason): void;
}

export interface ConnectionCounters {
  requests: number;
  responses: number;
  errors: number;
  pushes: number;
  droppedResponses: number;
  bytesIn: number;
}

/** How long a connection refused for an oversized line may keep sending before it is cut off. */
const DISCARD_GRACE_MS = 5000;

/**
 * JSON.parse's reason for refusing a line, without the excerpt of the line that
 * V8 quotes in some messages: the line may carry a secret (a malformed auth
 * request), and the reason is logged.
 */
function jsonErrorReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.includes(' is not valid JSON') ? 'unexpected token' : message;
}

function flushConnection(connection: Connection): void {
  connection.flush();
}

export class Connection {
  readonly id: number;
  readonly transport: Transport;
  readonly connectedAt = Date.now();
  /** The client's process id, as it last reported it. */
  pid: number | null = null;
  /** The client's user agent, as it last reported it. */
  userAgent: string | null = null;
  authenticated: boolean;
  readonly counters: ConnectionCounters = { requests: 0, responses: 0, errors: 0, pushes: 0, droppedResponses: 0, bytesIn: 0 };
  /** Requests received and not answered yet. */
  inFlight = 0;
  /** Last time the client sent anything (ms since epoch). */
  lastActivity = Date.now();
  /** Free for the application's own per-connection state. */
  readonly state: Record<string, unknown> = {};

  private readonly socket: Socket;
  private readonly host: ConnectionHost;
  private readonly reader: LineReader;
  private outQueue: string[] = [];
  private flushScheduled = false;
  private blockedByOutput = false;
  private readingPaused = false;
  private peerEnded = false;
  private closeReason: DisconnectReason | null = null;
  private closed = false;

  constructor(id: number, socket: Socket, transport: Transport, host: ConnectionHost, authenticated: boolean) {
    this.id = id;
    this.socket = socket;
    this.transport = transport;
    this.host = host;
    this.authenticated = authenticated;
    this.reader = new LineReader(host.limits.maxMessageSize, {
      onLine: (line) => this.onLine(line),
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

  /** The last socket error, if any (a vanished client shows up here as EPIPE or ECONNRESET). */
  lastError: NodeJS.ErrnoException | null = null;

  get isOpen(): boolean {
    return !this.closed && !this.closeReason;
  }

  /** Bytes written to this client so far. */
  get bytesOut(): number {
    return this.socket.bytesWritten;
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
    this.write(pushLine(uri, data));
    this.counters.pushes++;
    return true;
  }

  /** Answers a request with `data`. */
  respond(request: IPCRequest, data: unknown): void {
    let line: string;
    try {
      line = responseLine(request.ipcReqID, data);
    } catch (err) {
      this.respondError(request, ServerErrorCode.handlerError, `Response to ${request.uri} could not be serialized: ${(err as Error).message}`);
      return;
    }
    this.settle(request, line);
  }

  /** Answers a request with an error code and message. */
  respondError(request: IPCRequest, code: string, message: string): void {
    this.counters.errors++;
    this.settle(request, errorLine(request.ipcReqID, code, message));
  }

  /** Ends the connection gracefully: queued output is sent, then the client sees end-of-file. */
  close(reason: DisconnectReason = 'server'): void {
    if (this.closed || this.closeReason) return;
    this.closeReason = reason;
    this.flush();
    this.socket.end();
  }

  /** Closes at once, dropping unsent output (for clients that do not go away when asked). */
  destroy(reason: DisconnectReason = 'server'): void {
    if (this.closed) return;
    if (!this.closeReason) this.closeReason = reason;
    this.socket.destroy();
  }

  /** Sends one error line that answers no particular request, then closes. */
  refuse(code: string, message: string, reason: DisconnectReason): void {
    if (!this.isOpen) return;
    this.write(errorLine(null, code, message));
    this.close(reason);
  }

  /** Writes everything queued, in one write. Called on the tick after output was queued. */
  flush(): void {
    this.flushScheduled = false;
    const queue = this.outQueue;
    if (queue.length === 0) return;
    this.outQueue = [];
    if (this.socket.destroyed || this.socket.writableEnded) return;
    const writable = this.socket.write(queue.length === 1 ? queue[0] : queue.join(''));
    if (!writable && this.socket.writableLength > this.host.limits.maxOutputBuffer) {
      // The client is not reading: stop reading its requests until it catches up.
      this.blockedByOutput = true;
      this.updateReading();
    }
  }

  toJSON(): Record<string, unknown> {
    return {
      id: this.id,
      transport: this.transport,
      pid: this.pid,
      userAgent: this.userAgent,
      connectedAt: this.connectedAt,
      authenticated: this.authenticated,
      inFlight: this.inFlight,
      counters: { ...this.counters, bytesOut: this.bytesOut },
    };
  }

  private write(line: string): void {
    this.outQueue.push(line);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(flushConnection, this);
    }
  }

  private settle(request: IPCRequest, line: string): void {
    this.inFlight--;
    if (request.noReply) {
      // Fire-and-forget: nothing goes back, not even an error.
    } else if (this.closed || this.socket.destroyed || this.socket.writableEnded) {
      this.counters.droppedResponses++;
    } else {
      this.counters.responses++;
      this.write(line);
    }
    if (this.readingPaused) this.updateReading();
    if (this.peerEnded && this.inFlight === 0) this.close('client');
  }

  private onData(chunk: Buffer): void {
    this.counters.bytesIn += chunk.length;
    this.lastActivity = Date.now();
    this.reader.push(chunk);
  }

  private onLine(line: string): void {
    let message: any;
    try {
      message = JSON.parse(line);
    } catch (err) {
      if (line.trim() === '') return; // blank lines are allowed
      this.refuseLine(null, ServerErrorCode.badJson, `Request is not valid JSON: ${jsonErrorReason(err)}`);
      return;
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      this.refuseLine(null, ServerErrorCode.badRequest, 'Request must be a JSON object');
      return;
    }
    const id = message.ipcReqID;
    if (id === undefined || id === null) {
      message.ipcReqID = null;
    } else if (!isRequestId(id)) {
      this.refuseLine(null, ServerErrorCode.badRequest, 'ipcReqID must be a string or a number');
      return;
    }
    const uri = message.uri;
    if (typeof uri !== 'string' || uri === '') {
      if (uri === undefined || uri === null || uri === '') {
        this.refuseLine(message.ipcReqID, ServerErrorCode.noUri, 'Missing required uri parameter from request', message.noReply === true);
      } else {
        this.refuseLine(message.ipcReqID, ServerErrorCode.badRequest, 'uri must be a string', message.noReply === true);
      }
      return;
    }
    // Only a literal true marks fire-and-forget (as PROTOCOL.md says), here as for refused lines.
    message.noReply = message.noReply === true;
    if (typeof message.pid === 'number') this.pid = message.pid;
    if (typeof message.userAgent === 'string') this.userAgent = message.userAgent;
    message.connection = this;
    this.counters.requests++;
    this.inFlight++;
    if (this.inFlight >= this.host.limits.maxInFlight) this.updateReading();
    this.host.handleRequest(this, message as IPCRequest);
  }

  private refuseLine(id: IPCRequest['ipcReqID'], code: string, message: string, noReply = false): void {
    this.counters.errors++;
    this.host.requestRefused(this, code, message);
    if (!noReply && this.isOpen) this.write(errorLine(id, code, message));
  }

  private onOverflow(head: Buffer): void {
    const id = sniffRequestId(head);
    const limit = this.host.limits.maxMessageSize;
    const message = `Message exceeds the server's limit of ${limit} bytes (max_message_size)`;
    this.counters.errors++;
    this.host.requestRefused(this, ServerErrorCode.messageTooLarge, message);
    this.write(errorLine(id, ServerErrorCode.messageTooLarge, message));
    this.close('message_too_large');
    // Keep reading (and dropping) what the client is still sending, so a
    // blocking client can finish its write and read the error.
    this.socket.resume();
    setTimeout(() => this.destroy('message_too_large'), DISCARD_GRACE_MS).unref();
  }

  private onPeerEnd(): void {
    // The client will send nothing more; answer what is running, then close.
    this.peerEnded = true;
    if (this.inFlight === 0) this.close('client');
  }

  private onDrain(): void {
    if (!this.blockedByOutput) return;
    this.blockedByOutput = false;
    this.updateReading();
  }

  private updateReading(): void {
    if (this.closeReason) return;
    const shouldPause = this.blockedByOutput || this.inFlight >= this.host.limits.maxInFlight;
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

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.outQueue = [];
    const reason = this.closeReason ?? 'client';
    if (!this.closeReason) this.closeReason = reason;
    this.host.connectionClosed(this, reason);
  }
}
