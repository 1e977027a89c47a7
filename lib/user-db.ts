/**
 * User and group names for the ids the kernel reports (and ids for the names
 * in an access policy), from the system's user database (getpwuid_r and
 * friends, so NSS sources such as LDAP count too). Cached: a lookup can block
 * (a network directory) and every accepted connection asks.
 */
import { loadNative } from './native';

/** How long a name (or its absence) is trusted before it is looked up again. */
const CACHE_MS = 60_000;
const MAX_ENTRIES = 4096;

type Entry<T> = { value: T; until: number };

class TimedCache<K, T> {
  private readonly entries = new Map<K, Entry<T>>();
  get(key: K, now: number, load: () => T): T {
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.value;
    const value = load();
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, { value, until: now + CACHE_MS });
    return value;
  }
  clear(): void {
    this.entries.clear();
  }
}

const userNames = new TimedCache<number, string | null>();
const groupNames = new TimedCache<number, string | null>();

/** The login name of `uid`, or null when it has none (or the database cannot be read). */
export function userName(uid: number, now = Date.now()): string | null {
  return userNames.get(uid, now, () => loadNative()?.userName(uid) ?? null);
}

/** The name of group `gid`, or null. */
export function groupName(gid: number, now = Date.now()): string | null {
  return groupNames.get(gid, now, () => loadNative()?.groupName(gid) ?? null);
}

/**
 * A uid from a name or a numeric id (a number, or a string of digits), or
 * null when the name is unknown. Not cached: used when config is read.
 */
export function resolveUid(nameOrId: string | number): number | null {
  if (typeof nameOrId === 'number') return Number.isInteger(nameOrId) && nameOrId >= 0 ? nameOrId : null;
  if (/^\d+$/.test(nameOrId)) return Number(nameOrId);
  return loadNative()?.userId(nameOrId) ?? null;
}

/** A gid from a name or a numeric id, or null when the name is unknown. */
export function resolveGid(nameOrId: string | number): number | null {
  if (typeof nameOrId === 'number') return Number.isInteger(nameOrId) && nameOrId >= 0 ? nameOrId : null;
  if (/^\d+$/.test(nameOrId)) return Number(nameOrId);
  return loadNative()?.groupId(nameOrId) ?? null;
}
