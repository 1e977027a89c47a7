/**
 * The request pipeline: takes each call through its gates, in order, to
 * exactly one answer, which it hands to the call's connection.
 *
 *   shutdown -> auth (and the wait behind a pending credential check)
 *            -> [hand-off, on the kernel's identity]
 *            -> [identity policy] -> middleware -> handler -> settle
 *
 * Data flows one way: connection -> pipeline -> connection.answer().
 */
import { AnswerStream } from './answer-stream';
import { performance } from 'perf_hooks';
import { AccessPolicy } from './access-policy';
import { Authenticator } from './auth';
import { AuthThrottle } from './auth-throttle';
import { DeadlineQueue } from './deadline-queue';
import { excerpt } from './excerpt';
import type { Call } from './call';
import type { Connection } from './connection';
import { describePeer } from './peer-cred';
import { noHandlerFound } from './builtins';
import type { AnswerError } from './answer-error';
import { Dispatcher } from './dispatcher';
import { AbortCode, MAX_TIMEOUT_MS, ServerErrorCode, URI, errorLine, isRequestId, responseLine, responseLineOfJson } from './protocol';
import type { Router } from './router';
import type { ServerStats } from './stats';
import type { AuthInfo, Handler } from './types';
import { REFUSED_GRACE_MS } from './grace-periods';

/** What the pipeline writes to the server's log. */
export interface PipelineLog {
  debug(level: number, message: string, data?: unknown): void;
  error(code: string, message: string, data?: unknown): void;
}


/** Failures are counted per uid on Unix sockets (the kernel's word), per address on TCP/TLS. */
function throttleKey(connection: Connection): string {
  return connection.peer ? `uid:${connection.peer.uid}` : `address:${connection.remoteAddress ?? 'unknown'}`;
}

/** Who a connection is, for the log. */
function describeClient(connection: Connection): string {
  return connection.peer ? describePeer(connection.peer) : `${connection.transport} address ${connection.remoteAddress ?? 'unknown'}`;
}

const AUTHENTICATED = Object.freeze({ authenticated: true });
const NOT_AUTHENTICATED: AnswerError = { code: ServerErrorCode.access, message: 'Authenticate first: send /ipcserver/auth with your credentials' };
const AUTH_FAILED: AnswerError = { code: ServerErrorCode.access, message: 'Authentication failed' };
const SHUTTING_DOWN: AnswerError = { code: ServerErrorCode.shuttingDown, message: 'The server is shutting down' };
const INTERRUPTED: AnswerError = { code: ServerErrorCode.interrupted, message: 'The server stopped while the request was running' };
const CANCELLED: AnswerError = { code: ServerErrorCode.cancelled, message: 'Cancelled by the caller' };
const DISCONNECTED: AnswerError = { code: AbortCode.disconnected, message: 'The client disconnected' };
const BAD_CANCEL: AnswerError = { code: ServerErrorCode.badRequest, message: 'cancel needs data.ipcReqID, the id of the request to cancel' };

/** Why a running call is given up, and the answer it gets (if its client is still there to hear it). */
export type AbandonReason = typeof AbortCode.disconnected | typeof AbortCode.shuttingDown;

export class Pipeline {
  readonly dispatcher: Dispatcher;
  /** Set when the server stops: requests get `shutting_down`. */
  closing = false;
  /** Answers slower than this (ms, from reading the request) count as slow responses. */
  slowThresholdMs = 20;
  /** Log every request at debug level 9. */
  logRequests = false;
  authenticator = new Authenticator();
  /**
   * Called with every call as it is settled, before its answer is sent
   * (per-endpoint figures hook in here): whether it is an error, how long it
   * took from reading to answering (ms), the length of its answer line (0 when
   * none is sent), whether that was slow, the error's code (null for a
   * success) and a success's data.
   */
  onSettled: ((call: Call, isError: boolean, ms: number, answerLength: number, slow: boolean, errorCode: string | null, data: unknown) => void) | null = null;

  /** Who may call which uri (per-uri identity rules). */
  policy = new AccessPolicy({ allowUsers: [], allowGroups: [], allowTcp: false, rules: [], maxConnectionsPerUser: 0 });
  /** Spaces out credential checks from a peer that keeps failing. */
  readonly throttle = new AuthThrottle();
  /**
   * Answers `/ipcserver/handoff` (a daemon taking over the socket path). It
   * is checked on the kernel's identity, before the auth gate: the daemon
   * taking over may not hold the credentials an auth hook checks.
   */
  handoff: ((connection: Connection, data: unknown) => { error: AnswerError } | { data: unknown }) | null = null;

  /** Requests sent right behind a connection's credentials, waiting for their check, in order. */
  private readonly waitingForAuth = new Map<Connection, Call[]>();

  /** Deadlines of requests that carry timeoutMs: one timer per timeout value, not per request. */
  private readonly deadlines = new DeadlineQueue((call) => this.expire(call));

  constructor(router: Router, private readonly stats: ServerStats, private readonly log: PipelineLog) {
    this.dispatcher = new Dispatcher(router, this.unmatched, this.settle, {
      handlerFailed: (name, call, error) => {
        const { request } = call;
        this.log.error('handler_error', `Handler ${name} failed on ${excerpt(request.uri)}: ${excerpt((error as Error)?.message ?? error)}`, {
          uri: excerpt(request.uri), ipcReqID: excerpt(request.ipcReqID), stack: excerpt((error as Error)?.stack, 2000),
        });
      },
      callbackTwice: (name, call) => {
        this.log.error('callback_twice', `Handler ${name} called its callback more than once for ${excerpt(call.request.uri)}; the extra call was ignored`, {
          uri: excerpt(call.request.uri), ipcReqID: excerpt(call.request.ipcReqID),
        });
      },
    });
  }

  /** Entry point: a connection has read a well-formed request. */
  receive(call: Call): void {
    if (this.logRequests) this.log.debug(9, 'Request ' + excerpt(call.request.uri), { id: call.connection.id, ipcReqID: excerpt(call.request.ipcReqID) });
    call.streamOpener = this.openStream;
    const timeoutMs = call.request.timeoutMs;
    if (typeof timeoutMs === 'number') call.timeoutMs = Math.min(timeoutMs, MAX_TIMEOUT_MS);
    const waiting = this.waitingForAuth.size === 0 ? undefined : this.waitingForAuth.get(call.connection);
    if (waiting) {
      // Sent right behind the credentials: answer it once they are checked, not with access now.
      waiting.push(call);
      if (call.timeoutMs !== 0) this.deadlines.add(call, call.timeoutMs);
      return;
    }
    this.admit(call);
    // Only a call still running once dispatched needs its deadline watched: one
    // answered at once (a synchronous handler, a refusal) costs the queue nothing.
    if (call.timeoutMs !== 0 && !call.settled) this.deadlines.add(call, call.timeoutMs);
  }

  /** A connection has closed: forget anything it left waiting. */
  forget(connection: Connection): void {
    this.waitingForAuth.delete(connection);
  }

  /**
   * Gives up a running call: its signal aborts with `reason` and it is
   * answered now (`interrupted`; for a client that left, the answer is
   * counted as dropped). What its handler answers later is dropped and counted.
   */
  abandon(call: Call, reason: AbandonReason): void {
    const error = reason === AbortCode.shuttingDown ? INTERRUPTED : DISCONNECTED;
    if (call.abort(reason, error.message)) this.settle(call, error);
  }

  private admit(call: Call): void {
    // Cancelled, or out of time, while it waited behind a credential check.
    if (call.settled) return;
    if (this.closing) {
      this.settle(call, SHUTTING_DOWN);
      return;
    }
    if (call.request.uri === URI.auth) {
      this.authenticate(call);
      return;
    }
    if (call.request.uri === URI.handoff && this.handoff) {
      const outcome = this.handoff(call.connection, call.request.data);
      if ('error' in outcome) this.settle(call, outcome.error);
      else this.settle(call, null, outcome.data);
      return;
    }
    if (!call.connection.authenticated) {
      this.settle(call, NOT_AUTHENTICATED);
      return;
    }
    if (call.request.uri === URI.cancel) {
      this.cancel(call);
      return;
    }
    if (this.policy.hasRules) {
      const decision = this.policy.checkRequest(call.request.uri, call.connection, call.connection.credentialsAccepted);
      if (!decision.ok) {
        this.log.debug(5, `Connection ${call.connection.id}: forbidden: ${decision.message}`);
        this.settle(call, { code: ServerErrorCode.forbidden, message: decision.message });
        return;
      }
    }
    this.dispatcher.dispatch(call);
  }

  /** `/ipcserver/cancel`: aborts the named running request and answers it `cancelled` at once. */
  private cancel(control: Call): void {
    const data = control.request.data;
    const id = data && typeof data === 'object' ? (data as { ipcReqID?: unknown }).ipcReqID : undefined;
    if (!isRequestId(id)) {
      this.settle(control, BAD_CANCEL);
      return;
    }
    const target = control.connection.findRunning(id, control);
    const found = target !== null && target.abort(AbortCode.cancelled, CANCELLED.message);
    if (found) {
      this.stats.cancelled();
      this.settle(target, CANCELLED);
    }
    this.settle(control, null, { cancelled: found });
  }

  private authenticate(call: Call): void {
    const { connection } = call;
    if (!this.authenticator.enabled || connection.authenticated) {
      connection.authenticated = true;
      this.settle(call, null, AUTHENTICATED);
      return;
    }
    const waiting: Call[] = [];
    this.waitingForAuth.set(connection, waiting);
    // After repeated failures from the same peer, its checks wait their turn.
    const peerKey = throttleKey(connection);
    const wait = this.throttle.reserve(peerKey);
    if (wait > 0) {
      this.stats.authThrottled();
      setTimeout(() => this.checkCredentials(call, waiting, peerKey), wait).unref();
    } else {
      this.checkCredentials(call, waiting, peerKey);
    }
  }

  private checkCredentials(call: Call, waiting: Call[], peerKey: string): void {
    const { connection, request } = call;
    if (!connection.isOpen) {
      // Gone (or timed out) while it waited its turn: nothing to check, nothing to answer.
      this.throttle.released(peerKey);
      this.settle(call, AUTH_FAILED);
      for (const next of waiting) this.settle(next, AUTH_FAILED);
      return;
    }
    const info: AuthInfo = { connection, transport: connection.transport, peer: connection.peer };
    this.authenticator.check(request.data, info).then((ok) => ok, (err: Error) => {
      this.log.error('auth_handler', `Auth handler failed: ${err.message}`);
      return false;
    }).then((ok) => {
      if (this.waitingForAuth.get(connection) === waiting) this.waitingForAuth.delete(connection);
      if (ok) {
        this.throttle.succeeded(peerKey);
        connection.authenticated = true;
        connection.credentialsAccepted = true;
        this.log.debug(8, `Connection ${connection.id} authenticated (${Authenticator.describe(request.data)})`, { peer: connection.peer });
        this.settle(call, null, AUTHENTICATED);
        for (const next of waiting) this.admit(next);
        return;
      }
      // Wrong credentials end the conversation: nothing more is read, even lines already received.
      connection.stopReading();
      this.stats.authFailure();
      this.log.error('access', `Connection ${connection.id}: authentication failed (${Authenticator.describe(request.data)}) from ${describeClient(connection)}`);
      if (this.throttle.failed(peerKey)) {
        const failures = this.throttle.failures(peerKey);
        this.log.error('auth_throttled', `${failures} failed authentications in a row from ${describeClient(connection)}: its credential checks now wait their turn (${this.throttle.delayFor(failures)} ms apart, doubling up to ${this.throttle.delayFor(Infinity)} ms) until a success or a quiet minute`);
      }
      this.settle(call, AUTH_FAILED);
      for (const next of waiting) this.settle(next, AUTH_FAILED);
      connection.close('access');
      setTimeout(() => connection.destroy('access'), REFUSED_GRACE_MS).unref();
    });
  }

  /** The single answer of a call: counted, timed, encoded and handed to its connection. */
  private readonly settle = (call: Call, error: AnswerError | null, data?: unknown, json?: string): void => {
    if (call.settled) {
      // A handler answering after its call was cancelled, timed out or abandoned.
      if (call.abortedBy) this.stats.lateAnswer();
      return;
    }
    const ms = performance.now() - call.readAt;
    call.finish();
    if (call.timeoutKey !== 0) this.deadlines.settled(call);
    const slow = ms > this.slowThresholdMs;
    if (slow) this.stats.slow();
    const { request } = call;
    let line: string | null = null;
    if (error === null && !request.noReply) {
      try {
        line = json === undefined ? responseLine(request.ipcReqID, data) : responseLineOfJson(request.ipcReqID, json);
      } catch (err) {
        error = { code: ServerErrorCode.handlerError, message: `Response to ${excerpt(request.uri)} could not be serialized: ${(err as Error).message}` };
      }
    }
    if (error !== null && !request.noReply) line = errorLine(request.ipcReqID, error.code, error.message);
    if (this.onSettled) this.onSettled(call, error !== null, ms, line === null ? 0 : line.length, slow, error === null ? null : error.code, data);
    call.connection.answer(call, line, error !== null);
  };

  private readonly expire = (call: Call): void => {
    const message = `No answer within the caller's deadline of ${call.timeoutMs} ms`;
    if (!call.abort(AbortCode.deadlineExceeded, message)) return;
    this.stats.deadlineExceeded();
    this.settle(call, { code: ServerErrorCode.deadlineExceeded, message });
  };

  private readonly openStream = (call: Call): AnswerStream => new AnswerStream(call, this.settle, call.connection);

  private readonly unmatched: Handler = (request, callback) => {
    this.log.error('no_handler_found', 'No handler found for request', { uri: excerpt(request.uri), ipcReqID: excerpt(request.ipcReqID) });
    noHandlerFound(request, callback);
  };
}
