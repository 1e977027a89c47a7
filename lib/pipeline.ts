/**
 * The request pipeline: takes each call through its gates, in order, to
 * exactly one answer, which it hands to the call's connection.
 *
 *   shutdown -> auth (and the wait behind a pending credential check)
 *            -> [identity policy] -> middleware -> handler -> settle
 *
 * Data flows one way: connection -> pipeline -> connection.answer().
 */
import { performance } from 'perf_hooks';
import { Authenticator } from './auth';
import type { Call } from './call';
import type { Connection } from './connection';
import { noHandlerFound } from './builtins';
import { AnswerError, Dispatcher } from './dispatcher';
import { ServerErrorCode, URI, errorLine, responseLine } from './protocol';
import type { Router } from './router';
import type { ServerStats } from './stats';
import type { Handler } from './types';

/** What the pipeline writes to the server's log. */
export interface PipelineLog {
  debug(level: number, message: string, data?: unknown): void;
  error(code: string, message: string, data?: unknown): void;
}

const AUTHENTICATED = Object.freeze({ authenticated: true });
const NOT_AUTHENTICATED: AnswerError = { code: ServerErrorCode.access, message: 'Authenticate first: send /ipcserver/auth with your credentials' };
const AUTH_FAILED: AnswerError = { code: ServerErrorCode.access, message: 'Authentication failed' };
const SHUTTING_DOWN: AnswerError = { code: ServerErrorCode.shuttingDown, message: 'The server is shutting down' };

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
   * none is sent) and whether that was slow.
   */
  onSettled: ((call: Call, isError: boolean, ms: number, answerLength: number, slow: boolean) => void) | null = null;

  /** Requests sent right behind a connection's credentials, waiting for their check, in order. */
  private readonly waitingForAuth = new Map<Connection, Call[]>();

  constructor(router: Router, private readonly stats: ServerStats, private readonly log: PipelineLog) {
    this.dispatcher = new Dispatcher(router, this.unmatched, this.settle, {
      handlerFailed: (name, call, error) => {
        const { request } = call;
        this.log.error('handler_error', `Handler ${name} failed on ${request.uri}: ${(error as Error)?.message ?? error}`, {
          uri: request.uri, ipcReqID: request.ipcReqID, stack: (error as Error)?.stack,
        });
      },
      callbackTwice: (name, call) => {
        this.log.error('callback_twice', `Handler ${name} called its callback more than once for ${call.request.uri}; the extra call was ignored`, {
          uri: call.request.uri, ipcReqID: call.request.ipcReqID,
        });
      },
    });
  }

  /** Entry point: a connection has read a well-formed request. */
  receive(call: Call): void {
    if (this.logRequests) this.log.debug(9, 'Request ' + call.request.uri, { id: call.connection.id, ipcReqID: call.request.ipcReqID });
    const waiting = this.waitingForAuth.get(call.connection);
    if (waiting) {
      // Sent right behind the credentials: answer it once they are checked, not with access now.
      waiting.push(call);
      return;
    }
    this.admit(call);
  }

  /** A connection has closed: forget anything it left waiting. */
  forget(connection: Connection): void {
    this.waitingForAuth.delete(connection);
  }

  private admit(call: Call): void {
    if (this.closing) {
      this.settle(call, SHUTTING_DOWN);
      return;
    }
    if (call.request.uri === URI.auth) {
      this.authenticate(call);
      return;
    }
    if (!call.connection.authenticated) {
      this.settle(call, NOT_AUTHENTICATED);
      return;
    }
    // Identity policy (who may call which uri) belongs here, before middleware.
    this.dispatcher.dispatch(call);
  }

  private authenticate(call: Call): void {
    const { connection, request } = call;
    if (!this.authenticator.enabled || connection.authenticated) {
      connection.authenticated = true;
      this.settle(call, null, AUTHENTICATED);
      return;
    }
    const waiting: Call[] = [];
    this.waitingForAuth.set(connection, waiting);
    this.authenticator.check(request.data, { connection, transport: connection.transport }).then((ok) => ok, (err: Error) => {
      this.log.error('auth_handler', `Auth handler failed: ${err.message}`);
      return false;
    }).then((ok) => {
      if (this.waitingForAuth.get(connection) === waiting) this.waitingForAuth.delete(connection);
      const now = Date.now();
      if (ok) {
        connection.authenticated = true;
        this.log.debug(8, `Connection ${connection.id} authenticated (${Authenticator.describe(request.data)})`);
        this.settle(call, null, AUTHENTICATED);
        for (const next of waiting) {
          next.startedAt = now;
          this.admit(next);
        }
        return;
      }
      this.stats.authFailure();
      this.log.error('access', `Connection ${connection.id}: authentication failed (${Authenticator.describe(request.data)})`);
      this.settle(call, AUTH_FAILED);
      for (const next of waiting) this.settle(next, AUTH_FAILED);
      connection.close('access');
    });
  }

  /** The single answer of a call: counted, timed, encoded and handed to its connection. */
  private readonly settle = (call: Call, error: AnswerError | null, data?: unknown): void => {
    if (call.settled) return;
    call.settled = true;
    const ms = performance.now() - call.readAt;
    call.settledAt = call.receivedAt + ms;
    const slow = ms > this.slowThresholdMs;
    if (slow) this.stats.slow();
    const { request } = call;
    let line: string | null = null;
    if (error === null && !request.noReply) {
      try {
        line = responseLine(request.ipcReqID, data);
      } catch (err) {
        error = { code: ServerErrorCode.handlerError, message: `Response to ${request.uri} could not be serialized: ${(err as Error).message}` };
      }
    }
    if (error !== null && !request.noReply) line = errorLine(request.ipcReqID, error.code, error.message);
    if (this.onSettled) this.onSettled(call, error !== null, ms, line === null ? 0 : line.length, slow);
    call.connection.answer(call, line, error !== null);
  };

  private readonly unmatched: Handler = (request, callback) => {
    this.log.error('no_handler_found', 'No handler found for request', { uri: request.uri, ipcReqID: request.ipcReqID });
    noHandlerFound(request, callback);
  };
}
