/**
 * Runs one request through the middleware chain and its handler, and turns
 * whatever they do (callback, promise, throw, next(err)) into exactly one outcome.
 */
import { ServerErrorCode } from './protocol';
import type { Route, Router } from './router';
import type { Handler, IPCRequest, Middleware } from './types';

/** The single outcome of a request: an error (code and message) or data. */
export type Outcome = (error: { code: string; message: string } | null, data?: unknown) => void;

export interface DispatchLog {
  /** A handler or middleware failed; `error` is what it threw. */
  handlerFailed(name: string, request: IPCRequest, error: unknown): void;
  /** A handler called its callback more than once; the extra call was ignored. */
  callbackTwice(name: string, request: IPCRequest): void;
}

function toOutcomeError(err: unknown, fallbackCode: string): { code: string; message: string } {
  if (err && typeof err === 'object') {
    const { code, message } = err as { code?: unknown; message?: unknown };
    return {
      code: typeof code === 'string' && code !== '' ? code : fallbackCode,
      message: typeof message === 'string' && message !== '' ? message : String(err),
    };
  }
  return { code: fallbackCode, message: String(err) };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as any).then === 'function';
}

export class Dispatcher {
  readonly middleware: Middleware[] = [];
  defaultRoute: Route;

  constructor(private readonly router: Router, defaultHandler: Handler, private readonly log: DispatchLog) {
    this.defaultRoute = { pattern: '', name: 'DefaultHandler', handler: defaultHandler };
  }

  dispatch(request: IPCRequest, outcome: Outcome): void {
    if (this.middleware.length === 0) this.runHandler(request, outcome);
    else this.runMiddleware(0, request, outcome);
  }

  private runMiddleware(index: number, request: IPCRequest, outcome: Outcome): void {
    if (index === this.middleware.length) {
      this.runHandler(request, outcome);
      return;
    }
    const fn = this.middleware[index];
    let called = false;
    const next = (...args: unknown[]) => {
      if (called) return;
      called = true;
      const [err, data] = args;
      if (err) outcome(toOutcomeError(err, ServerErrorCode.handlerError));
      else if (args.length >= 2) outcome(null, data);
      else this.runMiddleware(index + 1, request, outcome);
    };
    const fail = (err: unknown) => {
      if (called) return;
      called = true;
      this.log.handlerFailed(fn.name || `middleware #${index}`, request, err);
      outcome(toOutcomeError(err, ServerErrorCode.handlerError));
    };
    try {
      const result = fn(request, next);
      if (isThenable(result)) result.then(undefined, fail);
    } catch (err) {
      fail(err);
    }
  }

  private runHandler(request: IPCRequest, outcome: Outcome): void {
    const route = this.router.match(request.uri) ?? this.defaultRoute;
    const handler = route.handler;
    let answered = false;
    const callback = (result?: unknown) => {
      if (answered) {
        this.log.callbackTwice(route.name, request);
        return;
      }
      answered = true;
      outcome(null, result);
    };
    const fail = (err: unknown) => {
      if (answered) return;
      answered = true;
      this.log.handlerFailed(route.name, request, err);
      outcome(toOutcomeError(err, ServerErrorCode.handlerError));
    };
    let result: unknown;
    try {
      result = handler(request, callback);
    } catch (err) {
      fail(err);
      return;
    }
    if (isThenable(result)) {
      result.then((value) => {
        // An async handler that takes a callback and resolves to nothing answers through the callback.
        if (answered || (value === undefined && handler.length >= 2)) return;
        answered = true;
        outcome(null, value);
      }, fail);
    } else if (result !== undefined && handler.length < 2 && !answered) {
      // A plain function that takes no callback answers with what it returns.
      answered = true;
      outcome(null, result);
    }
  }
}
