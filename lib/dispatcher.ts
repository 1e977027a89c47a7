/**
 * Runs one call through the middleware chain and its handler, and turns
 * whatever they do (callback, promise, throw, next(err)) into exactly one answer.
 */
import { toAnswerError, type SettleCall } from './answer-error';
import { isAsyncIterable, pumpIterable } from './answer-stream';
import { UNMATCHED } from './endpoint-stats';
import type { Call } from './call';
import type { Route, Router } from './router';
import type { Handler, Middleware } from './types';

export interface DispatchLog {
  /** A handler or middleware failed; `error` is what it threw. */
  handlerFailed(name: string, call: Call, error: unknown): void;
  /** A handler called its callback more than once; the extra call was ignored. */
  callbackTwice(name: string, call: Call): void;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as any).then === 'function';
}

export class Dispatcher {
  readonly middleware: Middleware[] = [];
  defaultRoute: Route;

  constructor(
    private readonly router: Router,
    defaultHandler: Handler,
    private readonly settle: SettleCall,
    private readonly log: DispatchLog,
  ) {
    this.defaultRoute = { pattern: '', name: 'DefaultHandler', handler: defaultHandler };
  }

  dispatch(call: Call): void {
    if (this.middleware.length === 0) {
      this.runHandler(call);
      return;
    }
    // Named before middleware runs, so a request middleware answers or refuses
    // counts under the endpoint its uri routes to (the handler renames it if the uri was rewritten).
    call.handlerName = this.nameOf(this.router.match(call.request.uri) ?? this.defaultRoute);
    this.runMiddleware(0, call);
  }

  private nameOf(route: Route): string {
    return route === this.defaultRoute ? UNMATCHED : route.name;
  }

  private runMiddleware(index: number, call: Call): void {
    if (index === this.middleware.length) {
      this.runHandler(call);
      return;
    }
    const fn = this.middleware[index];
    let called = false;
    const next = (...args: unknown[]) => {
      if (called) return;
      called = true;
      const [err, data] = args;
      if (err) this.settle(call, toAnswerError(err));
      else if (args.length >= 2) this.settle(call, null, data);
      else this.runMiddleware(index + 1, call);
    };
    const fail = (err: unknown) => {
      if (called) return;
      called = true;
      this.log.handlerFailed(fn.name || `middleware #${index}`, call, err);
      this.settle(call, toAnswerError(err));
    };
    try {
      const result = fn(call.request, next);
      // As in fastify: an async middleware that resolves without calling next() passed the request on.
      if (isThenable(result)) result.then(() => next(), fail);
    } catch (err) {
      fail(err);
    }
  }

  private runHandler(call: Call): void {
    const route = this.router.match(call.request.uri) ?? this.defaultRoute;
    const handler = route.handler;
    call.handlerName = this.nameOf(route);
    // The one closure a request needs: the handler's callback. Whether the
    // handler has answered lives on the call (call.handlerAnswered).
    const callback = (result?: unknown) => {
      if (call.handlerAnswered) {
        this.log.callbackTwice(route.name, call);
        return;
      }
      call.handlerAnswered = true;
      this.settle(call, null, result);
    };
    let result: unknown;
    try {
      result = handler(call.request, callback);
    } catch (err) {
      this.handlerFailed(call, route, err);
      return;
    }
    if (isThenable(result)) {
      result.then((value) => {
        if (call.handlerAnswered) return;
        if (isAsyncIterable(value)) return this.streamIterable(call, route, value);
        // A handler that opened a stream answers through it; one that takes a
        // callback and resolves to nothing answers through the callback.
        if (call.stream || (value === undefined && handler.length >= 2)) return;
        call.handlerAnswered = true;
        this.settle(call, null, value);
      }, (err: unknown) => this.handlerFailed(call, route, err));
    } else if (result === undefined || call.handlerAnswered) {
      // The usual case: a callback-style handler, answered already or later.
    } else if (isAsyncIterable(result)) {
      this.streamIterable(call, route, result);
    } else if (handler.length < 2 && !call.stream) {
      // A plain function that takes no callback answers with what it returns.
      call.handlerAnswered = true;
      this.settle(call, null, result);
    }
  }

  private handlerFailed(call: Call, route: Route, err: unknown): void {
    if (call.handlerAnswered) return;
    call.handlerAnswered = true;
    this.log.handlerFailed(route.name, call, err);
    this.settle(call, toAnswerError(err));
  }

  private streamIterable(call: Call, route: Route, value: AsyncIterable<unknown>): void {
    call.handlerAnswered = true;
    void pumpIterable(call, value, (err) => this.log.handlerFailed(route.name, call, err));
  }
}
