/**
 * The built-in endpoints every server has, and the default handler for uris
 * that match nothing.
 */
import { ServerErrorCode } from './protocol';
import type { HandlerCallback, IPCRequest } from './types';

/** The longest delay setTimeout can honour. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** `/ipcserver/test/echo`: answers with the request's data unchanged. */
export function echoHandler(request: IPCRequest, callback: HandlerCallback): void {
  callback(request.data);
}

function badDelay(message: string): Error {
  return Object.assign(new Error(message), { code: ServerErrorCode.badDelay });
}

/** `/ipcserver/test/delay`: waits `data.delay` ms, then answers `{delay: N}`. */
export function delayHandler(request: IPCRequest, callback: HandlerCallback): void {
  const raw = request.data && typeof request.data === 'object' ? (request.data as { delay?: unknown }).delay : undefined;
  if (raw === undefined || raw === null || raw === 0 || raw === false || raw === '') {
    callback({ delay: 0 });
    return;
  }
  const delay = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof delay !== 'number' || !Number.isFinite(delay)) throw badDelay(`delay must be a number of ms (got ${JSON.stringify(raw)})`);
  if (delay < 0) throw badDelay(`delay must not be negative (got ${delay})`);
  if (delay > MAX_DELAY_MS) throw badDelay(`delay must be at most ${MAX_DELAY_MS} ms`);
  // Unref'd so a pending delay never keeps a stopped daemon alive; stopped
  // when the caller cancels, leaves or runs out of time.
  const timer = setTimeout(() => callback({ delay }), delay).unref();
  request.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
}

/** The default handler: the answer shape existing clients expect, inside `data`. */
export function noHandlerFound(request: IPCRequest, callback: HandlerCallback): void {
  callback({ code: ServerErrorCode.noHandlerFound, message: 'No handler found for ' + request.uri });
}
