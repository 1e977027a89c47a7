/**
 * URI routing: patterns to handlers, first registered match wins.
 */
import type { Handler } from './types';

export interface Route {
  /** A RegExp tested against the uri, or a string the uri must equal exactly. */
  pattern: RegExp | string;
  name: string;
  handler: Handler;
}

/**
 * Lookups are cached per uri, for uris up to CACHED_URI_MAX_LENGTH characters
 * and at most CACHE_LIMIT of them: the cache holds at most ~0.5 MiB of uris
 * (1000 x 256 two-byte characters), whatever uris clients send. Longer uris
 * are matched each time (no real route needs them to be fast).
 */
const CACHE_LIMIT = 1000;
const CACHED_URI_MAX_LENGTH = 256;

export class Router {
  private routes: Route[] = [];
  private cache = new Map<string, Route | null>();
  /**
   * The uri matched last and its route: a client sends one uri over and
   * over, and comparing two strings is cheaper than hashing a fresh one
   * (JSON.parse gives every request its own uri string) for the Map.
   */
  private lastUri: string | null = null;
  private lastRoute: Route | null = null;

  get size(): number {
    return this.routes.length;
  }

  add(pattern: RegExp | string, name: string, handler: Handler): void {
    if (!(pattern instanceof RegExp) && typeof pattern !== 'string') {
      throw new TypeError('addURIHandler: pattern must be a RegExp or a string');
    }
    if (typeof handler !== 'function') throw new TypeError('addURIHandler: handler must be a function');
    this.routes.push({ pattern, name: String(name), handler });
    this.forget();
  }

  /** Removes every route registered under `name`; returns how many were removed. */
  remove(name: string): number {
    const before = this.routes.length;
    this.routes = this.routes.filter((route) => route.name !== name);
    this.forget();
    return before - this.routes.length;
  }

  private forget(): void {
    this.cache.clear();
    this.lastUri = null;
    this.lastRoute = null;
  }

  /** The routes in match order (the stats uri lists them for `pixl-ipc handlers`). */
  list(): Route[] {
    return this.routes.slice();
  }

  /** The first route whose pattern matches, or null. */
  match(uri: string): Route | null {
    if (uri === this.lastUri) return this.lastRoute;
    let cached = this.cache.get(uri);
    if (cached === undefined) cached = this.search(uri);
    // Only a uri short enough for the cache is remembered: a client's huge uri is not kept after it has gone.
    if (uri.length <= CACHED_URI_MAX_LENGTH) {
      this.lastUri = uri;
      this.lastRoute = cached;
    }
    return cached;
  }

  private search(uri: string): Route | null {
    let found: Route | null = null;
    for (const route of this.routes) {
      const pattern = route.pattern;
      if (typeof pattern === 'string') {
        if (pattern === uri) { found = route; break; }
      } else {
        pattern.lastIndex = 0; // a /g or /y pattern keeps state between tests
        if (pattern.test(uri)) { found = route; break; }
      }
    }
    if (uri.length > CACHED_URI_MAX_LENGTH) return found;
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(uri, found);
    return found;
  }
}
