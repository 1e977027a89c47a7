/**
 * Reads what the server sends on one connection: each line is decoded and
 * handed to the client as a push, the auth answer, or the answer to a waiting
 * request. The decoding rules (what is an error, what is an accepted auth
 * answer, which codes end the connection) are plain functions, so they can be
 * checked against the shared protocol vectors without a socket.
 */

import { CLOSING_CODES } from '../lib/protocol';
import { ErrorCode, IPCError } from './errors';
import type { ResponseMessageObject } from './options';
import type { PendingRequest, PendingTable } from './pending';

/** A server message without an ipcReqID (push, broadcast, or a connection-level error line). */
export interface PushMessageObject<T = unknown> {
  uri?: string;
  data?: T;
  ipcReqID?: null;
  code?: string;
  message?: string;
  [field: string]: unknown;
}

/**
 * Counters the handler keeps up to date (a subset of the client's stats).
 * Answers matched to a request are counted by whoever settles them (calls.ts):
 * only it knows whether one is a response or the server's view of a timeout.
 */
export interface ResponseCounters {
  lateResponses: number;
  unknownResponses: number;
  pushes: number;
  /** Parts of streamed answers. */
  parts: number;
}

/** What the client does with each kind of line. */
export interface ResponseSink {
  onPush(message: PushMessageObject): void;
  onAuthAnswer(message: ResponseMessageObject): void;
  /** The answer to a waiting request (already taken out of the pending table); for a stream, its final line. */
  onAnswer(entry: PendingRequest, message: ResponseMessageObject): void;
  /** One part of a streamed answer (the request stays waiting); `bytes` is its line's size. */
  onPart(entry: PendingRequest, part: unknown, bytes: number): void;
  /** A line that is not a JSON object. */
  onBadLine(what: string, line: string): void;
  /** An answer whose id matches nothing the client remembers. */
  onUnknownId(id: unknown): void;
}

export class ResponseHandler {
  /** Id of the auth request in flight on this connection, if any. */
  authId: string | null = null;
  readonly #pending: PendingTable;
  readonly #counters: ResponseCounters;
  readonly #sink: ResponseSink;

  constructor(pending: PendingTable, counters: ResponseCounters, sink: ResponseSink) {
    this.#pending = pending;
    this.#counters = counters;
    this.#sink = sink;
  }

  /** One line from the server; `bytes` is its size as received (its length when not given). */
  handleLine(line: string, bytes = line.length): void {
    let message: ResponseMessageObject;
    try {
      message = JSON.parse(line) as ResponseMessageObject;
    } catch {
      this.#sink.onBadLine('a line from the server is not JSON', line);
      return;
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      this.#sink.onBadLine('a line from the server is not a JSON object', line);
      return;
    }
    const id = message.ipcReqID;
    if (id === undefined || id === null) {
      this.#counters.pushes++;
      this.#sink.onPush(message as PushMessageObject);
      return;
    }
    const key = typeof id === 'string' ? id : String(id);
    if (this.authId !== null && key === this.authId) {
      this.authId = null;
      this.#sink.onAuthAnswer(message);
      return;
    }
    if ('part' in message) {
      this.#onPartLine(key, id, message.part, bytes);
      return;
    }
    const entry = this.#pending.take(key);
    if (entry === undefined) {
      if (this.#pending.takeExpired(key)) {
        this.#counters.lateResponses++;
        return;
      }
      this.#counters.unknownResponses++;
      this.#sink.onUnknownId(id);
      return;
    }
    this.#sink.onAnswer(entry, message);
  }

  #onPartLine(key: string, id: unknown, part: unknown, bytes: number): void {
    const entry = this.#pending.peek(key);
    if (entry !== undefined && entry.stream !== null) {
      this.#counters.parts++;
      this.#sink.onPart(entry, part, bytes);
      return;
    }
    // Parts still on the way when the request was cancelled or timed out are dropped quietly.
    if (entry === undefined && this.#pending.isRemembered(key)) return;
    this.#counters.unknownResponses++;
    this.#sink.onUnknownId(id);
  }
}

/**
 * The error a response stands for, or null when it is a success (its `data`
 * is the outcome): a top-level `code` is an error; with `codeToErr`, so is a
 * `code` inside an object `data` (the original server's way, e.g. no_handler_found).
 */
export function answerError(message: ResponseMessageObject, codeToErr: boolean, uri?: string, ipcReqID?: string): IPCError | null {
  if (message.code) {
    const code = String(message.code);
    return new IPCError(code, message.message ? String(message.message) : code, { uri, ipcReqID });
  }
  const data = message.data as { code?: unknown; message?: unknown } | null | undefined;
  if (codeToErr && data !== null && typeof data === 'object' && data.code) {
    const code = String(data.code);
    return new IPCError(code, data.message ? String(data.message) : code, { uri, ipcReqID, data });
  }
  return null;
}

/**
 * An auth answer is accepted only when it is a success whose data has
 * `authenticated: true`; anything else (an error code, other data, a missing
 * or non-true flag) is a refusal. Clients must not guess in the server's favour.
 */
export function authAccepted(message: ResponseMessageObject): boolean {
  if (message.code) return false;
  const data = message.data as { authenticated?: unknown } | null | undefined;
  return data !== null && typeof data === 'object' && data.authenticated === true;
}

/** The error for a refused auth answer (never repeats the credentials). */
export function authRefusal(message: ResponseMessageObject, targetName: string): IPCError {
  const data = message.data as { message?: unknown } | null | undefined;
  const code = typeof message.code === 'string' && message.code ? message.code : ErrorCode.access;
  const why = message.message || (data && typeof data === 'object' && data.message) || 'credentials refused';
  return new IPCError(code, 'Authentication with ' + targetName + ' failed: ' + String(why));
}

/**
 * True when the server closes the connection after sending this code: one of
 * CLOSING_CODES, or `access` in answer to the auth request (wrong credentials).
 */
export function closesConnection(code: unknown, answersAuth = false): boolean {
  if (typeof code !== 'string') return false;
  return CLOSING_CODES.includes(code) || (answersAuth && code === ErrorCode.access);
}
