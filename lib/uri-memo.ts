/**
 * Remembers what a uri maps to, for the lookups every request makes (its
 * route, the policy rule that governs it): the last uri asked, and up to
 * `limit` others in a map, emptied when it is full. Consecutive requests
 * mostly name the same uri, and comparing two strings is cheaper than hashing
 * a fresh one (JSON.parse gives every request its own uri string) for the map.
 *
 * The uris are the clients' choice, so what they can make it hold is bounded:
 * a uri longer than MAX_URI_LENGTH is worked out every time and never kept,
 * and the map holds at most `limit` of the others (with the defaults, about
 * 0.5 MiB per memo: 1000 x 256 two-byte characters, whatever clients send).
 */

/** Longer uris are not remembered (a client's huge uri is not kept after it has gone). */
export const MAX_URI_LENGTH = 256;
export const DEFAULT_URI_MEMO_LIMIT = 1000;

/** `T` leaves out undefined: the map's "not there". Use null for "nothing". */
export class UriMemo<T extends {} | null> {
  private readonly known = new Map<string, T>();
  private lastUri: string | null = null;
  private lastValue: T | undefined = undefined;

  /** `compute` must be pure for a given state of its owner; call clear() when that state changes. */
  constructor(private readonly compute: (uri: string) => T, readonly limit = DEFAULT_URI_MEMO_LIMIT) {}

  get(uri: string): T {
    if (uri === this.lastUri) return this.lastValue as T;
    let value = this.known.get(uri);
    if (value === undefined) {
      value = this.compute(uri);
      if (uri.length > MAX_URI_LENGTH) return value;
      if (this.known.size >= this.limit) this.known.clear();
      this.known.set(uri, value);
    }
    this.lastUri = uri;
    this.lastValue = value;
    return value;
  }

  /** Uris remembered in the map (the last one asked is among them). */
  get size(): number {
    return this.known.size;
  }

  /** Forgets everything (what `compute` answers has changed). */
  clear(): void {
    this.known.clear();
    this.lastUri = null;
    this.lastValue = undefined;
  }
}
