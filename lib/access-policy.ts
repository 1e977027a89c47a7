/**
 * Access policy on kernel peer identity, D-Bus style: who may connect at all
 * (allow_users / allow_groups), who may call which uris (policy rules, first
 * match wins), and how many connections one user may hold.
 *
 * TCP and TLS connections have no uid: wherever users or groups are named
 * they are refused, unless `allow_tcp` (for the connect check) or a rule's
 * `tcp: true` lets them through (then protect them with auth).
 */
import { ConfigError } from './config';
import { resolveGid, resolveUid } from './user-db';
import { UriMemo } from './uri-memo';
import type { PolicyRule as PolicyRuleConfig } from './config-types';

export type { PolicyRuleConfig };

/**
 * The identity a check needs: the kernel's uid and gid (null for TCP/TLS, or
 * where the kernel cannot tell), and the supplementary groups, read only when
 * a group list must be checked. A Connection is one.
 */
export interface PeerSubject {
  readonly peer: { uid: number; gid: number } | null;
  peerGroups(): number[] | null;
  /** How the caller reached the server (a rule's `transports` checks it). */
  readonly transport?: string;
}


const TRANSPORT_NAMES = ['unix', 'tcp', 'tls', 'nats'];

interface Rule {
  uri: RegExp;
  source: string;
  users: Set<number> | null;
  groups: Set<number> | null;
  auth: boolean;
  tcp: boolean;
  transports: Set<string> | null;
}

export interface PolicyConfig {
  allowUsers: Array<string | number>;
  allowGroups: Array<string | number>;
  allowTcp: boolean;
  rules: PolicyRuleConfig[];
  maxConnectionsPerUser: number;
}

export type Decision = { ok: true } | { ok: false; message: string };

const OK: Decision = { ok: true };

function resolveAll(list: unknown, key: string, resolve: (v: string | number) => number | null, kind: string): Set<number> | null {
  if (list === undefined || list === null) return null;
  if (!Array.isArray(list)) throw new ConfigError(`IPCServer config: ${key} must be an array of ${kind} names or ids`);
  const ids = new Set<number>();
  for (const entry of list) {
    if (typeof entry !== 'string' && typeof entry !== 'number') throw new ConfigError(`IPCServer config: ${key} must hold ${kind} names or ids (got ${JSON.stringify(entry)})`);
    const id = resolve(entry);
    // An unknown name is a typo or a missing account: refuse to start rather than guess.
    if (id === null) throw new ConfigError(`IPCServer config: ${key} names ${kind} ${JSON.stringify(entry)}, which does not exist on this system`);
    ids.add(id);
  }
  return ids;
}

export class AccessPolicy {
  private readonly allowUsers: Set<number> | null;
  private readonly allowGroups: Set<number> | null;
  private readonly allowTcp: boolean;
  private readonly rules: Rule[];
  readonly maxConnectionsPerUser: number;
  private readonly openPerUser = new Map<number, number>();
  private readonly ownUid = process.geteuid ? process.geteuid() : -1;
  /** The rule that decides each uri (the first whose pattern matches; null for none), remembered: a rule's regular expression is the costly part of a check. */
  private readonly ruleFor = new UriMemo<Rule | null>((uri) => this.rules.find((rule) => rule.uri.test(uri)) ?? null);

  constructor(config: PolicyConfig) {
    const users = resolveAll(config.allowUsers, 'allow_users', resolveUid, 'user');
    const groups = resolveAll(config.allowGroups, 'allow_groups', resolveGid, 'group');
    this.allowUsers = users && users.size ? users : null;
    this.allowGroups = groups && groups.size ? groups : null;
    this.allowTcp = config.allowTcp;
    this.maxConnectionsPerUser = config.maxConnectionsPerUser;
    if (!Array.isArray(config.rules)) throw new ConfigError('IPCServer config: policy must be an array of rules like { "uri": "^/admin/", "users": ["root"] }');
    this.rules = config.rules.map((rule, index) => {
      const key = `policy[${index}]`;
      if (!rule || typeof rule !== 'object' || typeof rule.uri !== 'string') throw new ConfigError(`IPCServer config: ${key} needs a "uri" pattern (a regular expression string)`);
      let uri: RegExp;
      try {
        uri = new RegExp(rule.uri);
      } catch (err) {
        throw new ConfigError(`IPCServer config: ${key}.uri is not a valid regular expression: ${(err as Error).message}`);
      }
      return {
        uri,
        source: rule.uri,
        users: resolveAll(rule.users, `${key}.users`, resolveUid, 'user'),
        groups: resolveAll(rule.groups, `${key}.groups`, resolveGid, 'group'),
        auth: rule.auth === true,
        tcp: rule.tcp === true,
        transports: transportList(rule.transports, `${key}.transports`),
      };
    });
  }

  /** True when some setting can only be enforced with the kernel's peer identity. */
  get needsIdentity(): boolean {
    return this.allowUsers !== null || this.allowGroups !== null || this.rules.some((rule) => rule.users !== null || rule.groups !== null);
  }

  /** True when rules must be checked per request. */
  get hasRules(): boolean {
    return this.rules.length > 0;
  }

  /** True when `groups` lists need the peer's supplementary groups. */
  get needsGroups(): boolean {
    return this.allowGroups !== null || this.rules.some((rule) => rule.groups !== null);
  }

  /** May this peer connect at all? */
  checkConnect(subject: PeerSubject): Decision {
    if (this.allowUsers === null && this.allowGroups === null) return OK;
    const peer = subject.peer;
    if (peer === null) {
      return this.allowTcp ? OK : { ok: false, message: 'Connections without a local user identity (TCP, TLS) are not allowed here (allow_users/allow_groups; see allow_tcp)' };
    }
    if (matches(subject, this.allowUsers, this.allowGroups)) return OK;
    return { ok: false, message: `User uid ${peer.uid} is not allowed to connect (allow_users/allow_groups)` };
  }

  /**
   * Counts an accepted connection of `uid` against max_connections_per_user;
   * false when over. The daemon's own user is not limited (it could stop the daemon anyway).
   */
  openConnection(uid: number): boolean {
    const open = this.openPerUser.get(uid) ?? 0;
    if (this.maxConnectionsPerUser > 0 && open >= this.maxConnectionsPerUser && uid !== this.ownUid) return false;
    this.openPerUser.set(uid, open + 1);
    return true;
  }

  closeConnection(uid: number): void {
    const open = (this.openPerUser.get(uid) ?? 0) - 1;
    if (open > 0) this.openPerUser.set(uid, open);
    else this.openPerUser.delete(uid);
  }

  /** Open connections of `uid` (for tests and stats). */
  openConnections(uid: number): number {
    return this.openPerUser.get(uid) ?? 0;
  }

  /**
   * May this request run? The first rule whose uri pattern matches decides;
   * a uri no rule matches is allowed. `authenticated` means the connection
   * presented valid credentials (it is false when no auth is configured).
   */
  checkRequest(uri: string, subject: PeerSubject, authenticated: boolean): Decision {
    const rule = this.ruleFor.get(uri);
    if (rule === null) return OK;
    const transport = subject.transport;
    if (rule.transports !== null && (transport === undefined || !rule.transports.has(transport))) {
      return { ok: false, message: `${uri} may not be called over ${transport ?? 'this transport'} (policy ${rule.source})` };
    }
    if (rule.auth && !authenticated) return { ok: false, message: `${uri} requires authentication (policy ${rule.source})` };
    if (rule.users === null && rule.groups === null) return OK;
    const peer = subject.peer;
    if (peer === null) {
      const letThrough = transport === 'nats' ? rule.transports !== null : rule.tcp;
      return letThrough ? OK : { ok: false, message: `${uri} is restricted to local users (policy ${rule.source})` };
    }
    if (matches(subject, rule.users, rule.groups)) return OK;
    return { ok: false, message: `User uid ${peer.uid} may not call ${uri} (policy ${rule.source})` };
  }
}

function transportList(list: unknown, key: string): Set<string> | null {
  if (list === undefined || list === null) return null;
  if (!Array.isArray(list) || list.some((t) => !TRANSPORT_NAMES.includes(t as string))) {
    throw new ConfigError(`IPCServer config: ${key} must be a list of transports among ${TRANSPORT_NAMES.join(', ')}`);
  }
  return new Set(list as string[]);
}

function matches(subject: PeerSubject, users: Set<number> | null, groups: Set<number> | null): boolean {
  const peer = subject.peer;
  if (peer === null) return false;
  if (users?.has(peer.uid)) return true;
  if (!groups) return false;
  if (groups.has(peer.gid)) return true;
  const supplementary = subject.peerGroups();
  return supplementary !== null && supplementary.some((gid) => groups.has(gid));
}
