/**
 * Authentication: configured tokens, a users file of `user:password` lines
 * (like kdb+'s -u file), and an optional application hook. Secrets are
 * compared in constant time and never logged.
 */
import { createHash, timingSafeEqual } from 'crypto';
import { readFileSync } from 'fs';
import { excerpt } from './excerpt';
import type { AuthHandler, AuthInfo } from './types';

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Constant-time equality of two secrets of any length (both are hashed first). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** Parses a users file: one `user:password` per line; blank lines and `#` comments are skipped. */
export function parseUsersFile(text: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    users.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return users;
}

export class Authenticator {
  private tokens: string[];
  private users: Map<string, string>;
  private hook: AuthHandler | null = null;

  constructor(tokens: string[] = [], usersFile = '') {
    this.tokens = tokens.slice();
    this.users = usersFile ? parseUsersFile(readFileSync(usersFile, 'utf8')) : new Map();
  }

  /** True when connections must authenticate before anything else. */
  get enabled(): boolean {
    return this.tokens.length > 0 || this.users.size > 0 || this.hook !== null;
  }

  setHook(hook: AuthHandler | null): void {
    if (hook !== null && typeof hook !== 'function') throw new TypeError('setAuthHandler: handler must be a function or null');
    this.hook = hook;
  }

  /** Accepts when the configured credentials match, or else when the hook says yes. */
  async check(credentials: unknown, info: AuthInfo): Promise<boolean> {
    if (this.matchesConfigured(credentials)) return true;
    if (!this.hook) return false;
    return (await this.hook(credentials, info)) === true;
  }

  /** A short description of who is trying, safe to log (never the secret). */
  static describe(credentials: unknown): string {
    if (credentials && typeof credentials === 'object' && typeof (credentials as any).user === 'string') {
      return `user ${JSON.stringify(excerpt((credentials as any).user, 100))}`;
    }
    return typeof credentials === 'string' || (credentials && typeof (credentials as any).token === 'string') ? 'a token' : 'credentials';
  }

  private matchesConfigured(credentials: unknown): boolean {
    const token = typeof credentials === 'string' ? credentials
      : credentials && typeof (credentials as any).token === 'string' ? (credentials as any).token as string
      : null;
    if (token !== null) {
      let match = false;
      for (const candidate of this.tokens) match = secretsEqual(candidate, token) || match; // no early exit
      return match;
    }
    if (credentials && typeof credentials === 'object') {
      const { user, password } = credentials as { user?: unknown; password?: unknown };
      if (typeof user !== 'string' || typeof password !== 'string') return false;
      const expected = this.users.get(user);
      // Compare against something even for unknown users, so timing does not reveal which users exist.
      const ok = secretsEqual(expected ?? '\u0000no-such-user', password);
      return expected !== undefined && ok;
    }
    return false;
  }
}
