/**
 * The memory the server holds for its clients' requests, charged before it
 * is held: each request's parsed line (by what it will hold once parsed, see
 * held-size.ts) and the parts of a streamed answer collected for a caller
 * that did not ask for a stream. Three budgets, each checked before a charge:
 *
 *   per connection  max_in_flight_bytes           (kept by the connection: its next line waits for room)
 *   per user        max_in_flight_bytes_per_user  (a uid on a Unix socket; TCP/TLS peers by address)
 *   whole server    max_in_flight_total
 *
 * A charge that would pass the user's or the server's budget is refused: the
 * request is answered `over_budget` without being parsed, and everyone else's
 * requests go on.
 */
import { getHeapStatistics } from 'v8';

/** Which budget a refused charge would have passed (a connection's own budget makes its lines wait, not fail). */
export type BudgetScope = 'user' | 'server';

/** One user's share: what its connections' requests hold. */
export class UserBudget {
  /** Bytes charged to requests of this user's connections. */
  held = 0;
  /** Output queued to its connections that are behind (see Connections.outputQueued). */
  output = 0;
  /** Its open connections (the entry goes once the last one closes). */
  connections = 0;
  constructor(readonly key: string, readonly label: string) {}
}

/**
 * The server-wide budget when max_in_flight_total is 0 (the default): a
 * quarter of the V8 heap's limit (1 GiB with Node's default heap on a 64-bit
 * machine with 16 GiB or more, 76 MiB under --max-old-space-size=256), which
 * leaves the rest for the application, the collector's headroom, and the
 * transient copies of a line being parsed.
 */
export function defaultTotalBudget(): number {
  return Math.floor(getHeapStatistics().heap_size_limit / 4);
}

export class MemoryBudget {
  /** Bytes charged across all connections. */
  held = 0;
  private readonly users = new Map<string, UserBudget>();

  constructor(
    /** The most one user's requests may hold. */
    public perUser: number,
    /** The most all requests may hold. */
    public total: number,
  ) {}

  /** The share of `key` (one per user), for a connection that opens. */
  join(key: string, label: string): UserBudget {
    let user = this.users.get(key);
    if (user === undefined) {
      user = new UserBudget(key, label);
      this.users.set(key, user);
    }
    user.connections++;
    return user;
  }

  /** A connection of `user` closed (after releasing what it held). */
  leave(user: UserBudget): void {
    user.connections--;
    if (user.connections <= 0 && user.held <= 0 && this.users.get(user.key) === user) this.users.delete(user.key);
  }

  /** Charges `bytes` to `user` and the server; or, charging nothing, names the budget it would pass. */
  charge(user: UserBudget, bytes: number): BudgetScope | null {
    if (user.held + bytes > this.perUser) return 'user';
    if (this.held + bytes > this.total) return 'server';
    user.held += bytes;
    this.held += bytes;
    return null;
  }

  release(user: UserBudget, bytes: number): void {
    user.held -= bytes;
    this.held -= bytes;
  }

  /** How many users have an entry (for the tests of the bound: one per user with a connection open). */
  get userCount(): number {
    return this.users.size;
  }
}
