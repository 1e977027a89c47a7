/**
 * Calls handlers served over NATS: one request (or a streamed one) to the
 * subject its uri maps to, with the caller's deadline in a header, and a
 * clear error code for every way it can fail (no daemon serves it, no answer
 * in time, permission refused, NATS connection gone). Used by the Node
 * client's NATS mode and by forwarding in the server.
 */
import type { Msg, MsgHdrs, NatsConnection, NatsError, Subscription } from 'nats';
import { TIMEOUT_HEADER, loadNats } from './nats-options';
import { cancelSubject, subjectForUri } from './nats-subjects';

/** Codes of failures on the way (the answer itself may carry any server code). */
export const NatsCallCode = {
  /** No daemon subscribes to the uri's subject (none running, or the uri is not served over NATS). */
  noResponders: 'no_responders',
  /** No answer within the deadline: the daemon died while running it, or is overloaded. */
  requestTimeout: 'request_timeout',
  /** NATS refused the publish (the NATS user may not publish to this subject). */
  forbidden: 'forbidden',
  /** The NATS connection closed before the answer came. */
  connectionClosed: 'connection_closed',
  /** The request is larger than the NATS server accepts (its max_payload). */
  messageTooLarge: 'message_too_large',
  /** The request could not be made (uri not starting with "/", data not JSON...). */
  badRequest: 'bad_request',
  /** The answer is not a pixl-ipc answer. */
  badResponse: 'bad_response',
} as const;

/** A failure of the call itself (not an error answer). */
export class NatsCallError extends Error {
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** An answer as the daemon sent it: `{ ipcReqID, data }`, `{ ipcReqID, code, message }` or a part `{ ipcReqID, part }`. */
export interface NatsAnswer {
  ipcReqID?: string | number | null;
  data?: unknown;
  part?: unknown;
  code?: string;
  message?: string;
  [field: string]: unknown;
}

export interface NatsCallOptions {
  /** ms before the call fails with request_timeout (0: none); sent to the daemon as the request's deadline. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** For a streamed answer: called with each part; the promise resolves with the final answer. */
  onPart?: (part: unknown) => void;
  /** Extra request fields (pid, userAgent). */
  fields?: Record<string, unknown>;
}

/** A call waiting on its own inbox. */
interface InboxCall {
  subject: string;
  fail(err: NatsCallError): void;
}

function describeNatsError(err: NatsError, subject: string): NatsCallError {
  switch (err.code) {
    case '503':
      return new NatsCallError(NatsCallCode.noResponders, `No daemon serves ${subject} on NATS (no responders)`, { cause: err });
    case 'TIMEOUT':
      return new NatsCallError(NatsCallCode.requestTimeout, `No answer on ${subject} within the deadline`, { cause: err });
    case 'MAX_PAYLOAD_EXCEEDED':
      return new NatsCallError(NatsCallCode.messageTooLarge, `The request to ${subject} is larger than the NATS server's max_payload`, { cause: err });
    case 'PERMISSIONS_VIOLATION':
      return new NatsCallError(NatsCallCode.forbidden, `NATS refused the request: this NATS user may not publish to ${subject}`, { cause: err });
    case 'CONNECTION_CLOSED':
    case 'CONNECTION_DRAINING':
    case 'DISCONNECT':
      return new NatsCallError(NatsCallCode.connectionClosed, `The NATS connection closed before ${subject} was answered`, { cause: err });
    default:
      return new NatsCallError(NatsCallCode.connectionClosed, `NATS request on ${subject} failed: ${err.message}`, { cause: err });
  }
}

function parseAnswer(msg: Msg, subject: string): NatsAnswer {
  let answer: unknown;
  try {
    answer = JSON.parse(Buffer.from(msg.data).toString('utf8'));
  } catch {
    answer = null;
  }
  if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) {
    // The daemon's NATS service framework answers failures it catches with headers only.
    const serviceError = msg.headers?.get('Nats-Service-Error');
    throw new NatsCallError(NatsCallCode.badResponse, `The answer on ${subject} is not a pixl-ipc answer${serviceError ? ` (${serviceError})` : ''}`);
  }
  return answer as NatsAnswer;
}

export class NatsCaller {
  private readonly encoder = new TextEncoder();
  /** Calls on their own inbox, by request subject, so a refused publish can fail them. */
  private readonly inboxCalls = new Map<string, Set<InboxCall>>();

  constructor(readonly nc: NatsConnection, readonly prefix: string) {}

  /** NATS refused a publish to `subject` (seen in the connection's status): fail the calls waiting on it. */
  publishRefused(subject: string): void {
    const calls = this.inboxCalls.get(subject);
    if (!calls) return;
    for (const call of calls) call.fail(new NatsCallError(NatsCallCode.forbidden, `NATS refused the request: this NATS user may not publish to ${subject}`));
  }

  /** The NATS connection has closed: every call waiting on its own inbox fails now (requests on the shared one fail by themselves). */
  connectionClosed(): void {
    for (const [subject, calls] of this.inboxCalls) {
      for (const call of calls) call.fail(new NatsCallError(NatsCallCode.connectionClosed, `The NATS connection closed before ${subject} was answered`));
    }
  }

  /** Fire-and-forget: published without a reply subject (the daemon runs it as noReply). */
  notify(uri: string, data: unknown, fields?: Record<string, unknown>): void {
    const subject = subjectForUri(this.prefix, uri);
    this.nc.publish(subject, this.encoder.encode(JSON.stringify({ ...fields, uri, data, noReply: true })));
  }

  /**
   * One request; resolves with the daemon's answer (an error answer too:
   * the caller decides what it means), rejects with a NatsCallError when no
   * answer came, or with the signal's reason when it aborts.
   */
  call(uri: string, data: unknown, options: NatsCallOptions): Promise<NatsAnswer> {
    let subject: string;
    let payload: Uint8Array;
    try {
      subject = subjectForUri(this.prefix, uri);
      const request: Record<string, unknown> = { ...options.fields, uri, data };
      if (options.onPart) request.stream = true;
      payload = this.encoder.encode(JSON.stringify(request));
    } catch (err) {
      return Promise.reject(new NatsCallError(NatsCallCode.badRequest, (err as Error).message));
    }
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    let headers: MsgHdrs | undefined;
    if (options.timeoutMs > 0) {
      headers = loadNats().headers();
      headers.set(TIMEOUT_HEADER, String(Math.ceil(options.timeoutMs)));
    }
    if (!options.onPart && !options.signal) {
      // The common case: the connection's shared reply subscription.
      const timeout = options.timeoutMs > 0 ? options.timeoutMs : 2 ** 31 - 1;
      return this.nc.request(subject, payload, { timeout, headers }).then(
        (msg) => parseAnswer(msg, subject),
        (err: NatsError) => {
          throw describeNatsError(err, subject);
        },
      );
    }
    return this.callOnInbox(subject, payload, headers, options);
  }

  /** A streamed or cancellable call: a subscription of its own, so parts can arrive and the daemon can be told to cancel. */
  private callOnInbox(subject: string, payload: Uint8Array, headers: MsgHdrs | undefined, options: NatsCallOptions): Promise<NatsAnswer> {
    const nats = loadNats();
    const inbox = nats.createInbox();
    return new Promise<NatsAnswer>((resolve, reject) => {
      let done = false;
      let timer: NodeJS.Timeout | null = null;
      let sub: Subscription | null = null;
      const entry: InboxCall = { subject, fail: (err) => finish(err) };
      const onAbort = () => {
        // Tell whichever daemon runs it (all of them hear the cancel subject).
        try {
          this.nc.publish(cancelSubject(this.prefix), this.encoder.encode(inbox));
        } catch { /* the connection is closing: the daemon's deadline ends it */ }
        finish(options.signal!.reason);
      };
      const finish = (err: unknown, answer?: NatsAnswer) => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        const calls = this.inboxCalls.get(subject);
        calls?.delete(entry);
        if (calls?.size === 0) this.inboxCalls.delete(subject);
        sub?.unsubscribe();
        if (err) reject(err);
        else resolve(answer as NatsAnswer);
      };
      try {
        sub = this.nc.subscribe(inbox, {
          callback: (err, msg) => {
            if (err) {
              finish(describeNatsError(err, subject));
              return;
            }
            // A headers-only 503 status: nobody subscribes to the subject.
            if (msg.data.length === 0 && msg.headers?.code === 503) {
              finish(new NatsCallError(NatsCallCode.noResponders, `No daemon serves ${subject} on NATS (no responders)`));
              return;
            }
            let answer: NatsAnswer;
            try {
              answer = parseAnswer(msg, subject);
            } catch (parseError) {
              finish(parseError);
              return;
            }
            if ('part' in answer && !('data' in answer) && !('code' in answer)) {
              if (options.onPart) options.onPart(answer.part);
              return;
            }
            finish(null, answer);
          },
        });
        this.nc.publish(subject, payload, { reply: inbox, headers });
      } catch (err) {
        finish(describeNatsError(err as NatsError, subject));
        return;
      }
      let calls = this.inboxCalls.get(subject);
      if (!calls) this.inboxCalls.set(subject, (calls = new Set()));
      calls.add(entry);
      if (options.timeoutMs > 0) {
        timer = setTimeout(() => finish(new NatsCallError(NatsCallCode.requestTimeout, `No answer on ${subject} within ${options.timeoutMs} ms`)), options.timeoutMs);
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
