/**
 * A streamed answer: many parts for one request, then its single final answer.
 * Writing waits while the client is behind (its unsent output is past
 * max_output_buffer), so a fast handler cannot fill the server's memory with
 * a slow reader's parts. A caller that did not ask for a stream (`stream:
 * true`) gets the parts collected into one ordinary answer instead.
 */
import type { Call } from './call';
import { toAnswerError, type SettleCall } from './answer-error';
import { AbortCode, ServerErrorCode, partLine } from './protocol';
import type { AnswerStream as AnswerStreamType } from './types';

/**
 * What a collected part holds beyond its JSON's characters (the string's
 * header, the array slot), which are counted twice: a JSON string holds two
 * bytes a character when a part has a character past U+00FF.
 */
const COLLECTED_PART_OVERHEAD = 48;

/** Where a stream's parts go: the call's connection. */
export interface PartSink {
  /** Charges `bytes` more to `call` in the connection's memory budgets; null, or why there is no room. */
  holdFor(call: Call, bytes: number): string | null;
  /** The most unsent output (bytes) a writer may leave queued before it waits. */
  readonly outputLimit: number;
  /** Queues one part line. */
  writePart(line: string): void;
  /** null when unsent output is within `limit`; else a promise resolved once it drains (or the connection closes). */
  whenBelow(limit: number): Promise<void> | null;
}

const RESOLVED = Promise.resolve();

function endedError(): Error {
  return Object.assign(new Error('The stream has already ended'), { code: 'stream_ended' });
}

export class AnswerStream implements AnswerStreamType {
  /**
   * Parts kept for a caller that wants one answer, as their JSON (which holds
   * what it says, where the handler's objects could hold many times more),
   * each charged to the connection's memory budgets; null while streaming for real.
   */
  private collected: string[] | null = null;
  private collectedBytes = 0;

  constructor(private readonly call: Call, private readonly settle: SettleCall, private readonly sink: PartSink) {}

  /** True once the final answer is out (ended, failed, cancelled, timed out, or the client left). */
  get ended(): boolean {
    return this.call.settled;
  }

  /**
   * Sends one part. Resolves when the writer may send the next one; rejects
   * with the abort reason once the call is over, so a write loop stops.
   */
  write(part: unknown): Promise<void> {
    const call = this.call;
    if (call.settled) return Promise.reject(call.abortedBy ?? endedError());
    let json: string | undefined;
    try {
      json = JSON.stringify(part);
    } catch (err) {
      return Promise.reject(err);
    }
    if (json === undefined) json = 'null';
    if (call.request.noReply) return RESOLVED;
    if (!call.wantsStream) return this.collect(json);
    this.sink.writePart(partLine(call.request.ipcReqID, json));
    const wait = this.sink.whenBelow(this.sink.outputLimit);
    if (wait === null) return RESOLVED;
    return wait.then(() => {
      if (call.abortedBy) throw call.abortedBy;
    });
  }

  /** Ends the stream with the final answer's data (ignored for a collected answer, whose data is the parts). */
  end(data?: unknown): void {
    if (this.call.settled) return;
    if (this.call.wantsStream || this.call.request.noReply) this.settle(this.call, null, data);
    else this.settle(this.call, null, undefined, '[' + (this.collected ?? []).join(',') + ']');
  }

  /** Ends the stream with an error answer (its `code` and `message`). */
  error(err: unknown): void {
    if (this.call.settled) return;
    this.settle(this.call, toAnswerError(err));
  }

  private collect(json: string): Promise<void> {
    this.collectedBytes += json.length + 1;
    if (this.collectedBytes > this.sink.outputLimit) {
      return this.stop(AbortCode.messageTooLarge, ServerErrorCode.messageTooLarge, `The streamed answer outgrew max_output_buffer (${this.sink.outputLimit} bytes); ask for it with stream: true`);
    }
    const refused = this.sink.holdFor(this.call, 2 * json.length + COLLECTED_PART_OVERHEAD);
    if (refused !== null) return this.stop(AbortCode.overBudget, ServerErrorCode.overBudget, refused);
    (this.collected ??= []).push(json);
    return RESOLVED;
  }

  /** Ends a collected answer with an error: the handler's signal aborts, and its writes reject from now on. */
  private stop(abortCode: string, code: string, message: string): Promise<void> {
    this.collected = null;
    this.call.abort(abortCode, message);
    this.settle(this.call, { code, message });
    return Promise.reject(this.call.abortedBy);
  }
}

/** True for what `for await` accepts, except promises. */
export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as any)[Symbol.asyncIterator] === 'function';
}

/**
 * Streams what an async iterable (an `async function*` handler) yields: one
 * part per value, waiting for the client between parts; the generator's return
 * value is the final answer. An abort stops the generator (its `finally` runs).
 */
export async function pumpIterable(call: Call, iterable: AsyncIterable<unknown>, onError: (err: unknown) => void): Promise<void> {
  const stream = call.openStream();
  const iterator = iterable[Symbol.asyncIterator]();
  call.whenAborted(() => {
    if (typeof iterator.return === 'function') iterator.return().then(undefined, () => {});
  });
  try {
    for (;;) {
      const { value, done } = await iterator.next();
      if (call.settled) return;
      if (done) {
        stream.end(value);
        return;
      }
      await stream.write(value);
    }
  } catch (err) {
    if (call.settled) return;
    onError(err);
    stream.error(err);
  }
}
