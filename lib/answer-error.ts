/**
 * An error answer and how a call's single answer is delivered: shared by the
 * dispatcher (handlers' answers) and answer streams (streamed answers), so
 * neither has to import the other for them.
 */
import type { Call } from './call';
import { ServerErrorCode } from './protocol';

/** An error answer: the code and message the client sees. */
export interface AnswerError {
  code: string;
  message: string;
}

/** Receives the single answer of a call: an error, or data (or `json`, data already encoded). */
export type SettleCall = (call: Call, error: AnswerError | null, data?: unknown, json?: string) => void;

/** The client-facing code and message of whatever a handler or middleware failed with. */
export function toAnswerError(err: unknown, fallbackCode: string = ServerErrorCode.handlerError): AnswerError {
  if (err && typeof err === 'object') {
    const { code, message } = err as { code?: unknown; message?: unknown };
    return {
      code: typeof code === 'string' && code !== '' ? code : fallbackCode,
      message: typeof message === 'string' && message !== '' ? message : String(err),
    };
  }
  return { code: fallbackCode, message: String(err) };
}
