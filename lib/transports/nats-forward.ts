/**
 * Forwarding: a local daemon hands requests for chosen uri patterns on to
 * the NATS cluster, so PHP pages and 1.x clients reach remote handlers
 * through their local socket without knowing NATS. The forwarded request
 * keeps the caller's deadline (what is left of it), its cancel, and its
 * stream; the answer (or error code) comes back as the remote daemon gave it.
 */
import type { IPCRequest } from '../types';
import { NatsCallError, type NatsCaller } from './nats-caller';

function coded(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** The handler registered for each `nats.forward` pattern. */
export function forwardHandler(caller: () => NatsCaller | null, defaultTimeoutMs: number) {
  return async (request: IPCRequest): Promise<unknown> => {
    // A request that came over NATS is never sent back to it (two daemons forwarding to each other would loop).
    if (request.connection.transport === 'nats') {
      throw coded('no_handler_found', `${request.uri} is forwarded to NATS by this daemon, and came from NATS: not sent round again`);
    }
    const natsCaller = caller();
    if (natsCaller === null) throw coded('connection_closed', 'This daemon has no NATS connection to forward on');
    const left = request.timeLeft();
    const timeoutMs = Number.isFinite(left) ? Math.max(1, left) : defaultTimeoutMs;
    const fields: Record<string, unknown> = {};
    if (request.pid !== undefined) fields.pid = request.pid;
    if (request.userAgent !== undefined) fields.userAgent = request.userAgent;
    let stream: ReturnType<IPCRequest['openStream']> | null = null;
    let writing: Promise<void> = Promise.resolve();
    const onPart = request.stream
      ? (part: unknown) => {
        stream ??= request.openStream();
        const out = stream;
        writing = writing.then(() => out.write(part)).catch(() => {});
      }
      : undefined;
    let answer;
    try {
      answer = await natsCaller.call(request.uri, request.data, { timeoutMs, signal: request.signal, onPart, fields });
    } catch (err) {
      if (err instanceof NatsCallError) throw coded(err.code, err.message);
      throw err;
    }
    await writing;
    const finalStream = stream as ReturnType<IPCRequest['openStream']> | null;
    if (typeof answer.code === 'string' && answer.code !== '') {
      const error = coded(answer.code, typeof answer.message === 'string' ? answer.message : answer.code);
      if (finalStream) {
        finalStream.error(error);
        return undefined;
      }
      throw error;
    }
    if (finalStream) {
      finalStream.end(answer.data);
      return undefined;
    }
    return answer.data;
  };
}
