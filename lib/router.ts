/**
 * URI routing: patterns to handlers, first registered match wins.
 *
 * A string pattern is an anchored regular expression, as in 1.x:
 * `"/myapi/users/.*"` matches every uri under /myapi/users/, and a plain
 * string such as `"/myapi/test"` matches only itself. Strings without regular
 * expression syntax are looked up in a Map rather than tested one by one.
 */
import type { Handler } from './types';
import { UriMemo } from './uri-memo';

export interface Route {
  /** As registered: a RegExp, or a string read as `^pattern$`. */
  pattern: RegExp | string;
  name: string;
  handler: Handler;
}

interface Entry {
  route: Route;
  /** Registration order: a regex registered earlier wins over a later exact string. */
  order: number;
  /** Null for a string without regex syntax (matched through the exact map). */
  regex: RegExp | null;
}

/** Characters that make a string pattern more than a literal uri. */
const REGEX_SYNTAX = /[\\^$.*+?()[\]{}|]/;

/** The 1.x reading of a string pattern: `^pattern$`. Throws a TypeError naming the pattern when it is not a valid regular expression. */
function stringPattern(pattern: string): RegExp | null {
  if (!REGEX_SYNTAX.test(pattern)) return null;
  try {
    // Exactly 1.x's construction (no group around the pattern), so an alternation means what it meant there.
    return new RegExp(`^${pattern}$`);
  } catch (err) {
    throw new TypeError(`addURIHandler: the pattern ${JSON.stringify(pattern)} is not a valid regular expression (a string pattern is read as ^pattern$, as in 1.x): ${(err as Error).message}`);
  }
}

export class Router {
  private entries: Entry[] = [];
  /** The first entry of each literal string pattern. */
  private exact = new Map<string, Entry>();
  /** Entries tested in order: RegExps and strings with regex syntax. */
  private tested: Entry[] = [];
  private nextOrder = 0;
  /** Lookups per uri (bounded: see uri-memo.ts). */
  private readonly lookups = new UriMemo<Route | null>((uri) => this.search(uri));

  get size(): number {
    return this.entries.length;
  }

  add(pattern: RegExp | string, name: string, handler: Handler): void {
    if (!(pattern instanceof RegExp) && typeof pattern !== 'string') {
      throw new TypeError('addURIHandler: pattern must be a RegExp or a string');
    }
    if (typeof handler !== 'function') throw new TypeError('addURIHandler: handler must be a function');
    const regex = typeof pattern === 'string' ? stringPattern(pattern) : pattern;
    const entry: Entry = { route: { pattern, name: String(name), handler }, order: this.nextOrder++, regex };
    this.entries.push(entry);
    this.index(entry);
    this.forget();
  }

  /** Removes every route registered under `name`; returns how many were removed. */
  remove(name: string): number {
    const before = this.entries.length;
    this.entries = this.entries.filter((entry) => entry.route.name !== name);
    this.reindex();
    return before - this.entries.length;
  }

  /** The routes in match order (the stats uri lists them for `pixl-ipc handlers`). */
  list(): Route[] {
    return this.entries.map((entry) => entry.route);
  }

  /** The first route whose pattern matches, or null. */
  match(uri: string): Route | null {
    return this.lookups.get(uri);
  }

  private search(uri: string): Route | null {
    const exact = this.exact.get(uri);
    let found: Route | null = exact ? exact.route : null;
    for (const entry of this.tested) {
      if (exact && entry.order > exact.order) break;
      const regex = entry.regex as RegExp;
      regex.lastIndex = 0; // a /g or /y pattern keeps state between tests
      if (regex.test(uri)) { found = entry.route; break; }
    }
    return found;
  }

  private forget(): void {
    this.lookups.clear();
  }

  /** Adds an entry registered after every indexed one. */
  private index(entry: Entry): void {
    if (entry.regex) this.tested.push(entry);
    else if (!this.exact.has(entry.route.pattern as string)) this.exact.set(entry.route.pattern as string, entry);
  }

  private reindex(): void {
    this.exact.clear();
    this.tested = [];
    for (const entry of this.entries) this.index(entry);
    this.forget();
  }
}
