/**
 * How to reach a NATS cluster: the settings the server's `nats` block and the
 * Node client's `nats` option share, their checks, and their translation into
 * the options of the `nats` package. The package is an optional peer
 * dependency: it is loaded here, only when NATS is configured.
 */
import { readFileSync } from 'fs';
import type { NatsConnectOptions } from './nats-connect-options';
import { checkPrefix } from './nats-subjects';

export type { NatsConnectOptions };

/** What the package exports that we use (typed loosely: the package is optional and loaded at run time). */
export type NatsModule = typeof import('nats');

/** Thrown when NATS is configured and the `nats` package is not installed. */
export class NatsMissingError extends Error {
  readonly code = 'nats_not_installed';
  constructor(cause: unknown) {
    super('NATS is configured, but the "nats" package is not installed: run `npm install nats@2` in your application (pixl-ipc lists it as an optional peer dependency)', { cause });
  }
}

let loaded: NatsModule | null = null;

/** The `nats` package, loaded on first use; throws NatsMissingError without it. */
export function loadNats(): NatsModule {
  if (loaded) return loaded;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('nats') as NatsModule;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && /'nats'/.test((err as Error).message)) throw new NatsMissingError(err);
    throw err;
  }
  return loaded;
}

function pick(options: Record<string, unknown>, snake: string, camel: string): unknown {
  return options[snake] !== undefined ? options[snake] : options[camel];
}

function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string`);
  return value;
}

/** The server list as an array of URLs; throws a TypeError naming the problem. */
export function serverList(servers: unknown, what: string): string[] {
  const list = typeof servers === 'string' ? servers.split(',').map((s) => s.trim()).filter(Boolean) : servers;
  if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== 'string' || s === '')) {
    throw new TypeError(`${what}.servers must be a NATS URL like "nats://127.0.0.1:4222", or a list of them`);
  }
  return list as string[];
}

/** The subject prefix, checked (default `ipc`). */
export function prefixOf(options: { prefix?: unknown }, what: string): string {
  const prefix = options.prefix === undefined || options.prefix === '' ? 'ipc' : options.prefix;
  const problem = checkPrefix(prefix);
  if (problem) throw new TypeError(`${what}.prefix ${problem}`);
  return prefix as string;
}

/**
 * A server URL as it may be logged: credentials in its user-info part
 * (`nats://user:secret@host`) are replaced.
 */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^@/]*@/i, '$1***@');
}

/**
 * The `nats` package's connect options for these settings. Reads the nkey
 * seed and creds files now, so a missing file fails at startup with its name.
 */
export function connectOptions(nats: NatsModule, input: NatsConnectOptions, what: string): import('nats').ConnectionOptions {
  const options = input as unknown as Record<string, unknown>;
  // Credentials written into a URL (nats://user:pass@host, nats://token@host) are taken out of it:
  // the package does not read them there.
  let fromUrl: { user?: string; pass?: string; token?: string } = {};
  const servers = serverList(options.servers, what).map((url) => {
    const match = /^([a-z]+:\/\/)([^@/]*)@(.*)$/i.exec(url);
    if (!match) return url;
    if (fromUrl.user === undefined && fromUrl.token === undefined) {
      const colon = match[2].indexOf(':');
      fromUrl = colon === -1 ? { token: decodeURIComponent(match[2]) } : { user: decodeURIComponent(match[2].slice(0, colon)), pass: decodeURIComponent(match[2].slice(colon + 1)) };
    }
    return match[1] + match[3];
  });
  const result: import('nats').ConnectionOptions = { servers };
  const user = optionalString(options.user, `${what}.user`) ?? fromUrl.user;
  const pass = optionalString(options.pass ?? options.password, `${what}.pass`) ?? fromUrl.pass;
  const token = optionalString(options.token, `${what}.token`) ?? fromUrl.token;
  const nkey = optionalString(options.nkey, `${what}.nkey`);
  const nkeyFile = optionalString(pick(options, 'nkey_file', 'nkeyFile'), `${what}.nkey_file`);
  const credsFile = optionalString(pick(options, 'creds_file', 'credsFile'), `${what}.creds_file`);
  const kinds = [user !== undefined, token !== undefined, nkey !== undefined || nkeyFile !== undefined, credsFile !== undefined].filter(Boolean).length;
  if (kinds > 1) throw new TypeError(`${what}: give one kind of credentials (user and pass, token, nkey or creds_file), not several`);
  if (pass !== undefined && user === undefined) throw new TypeError(`${what}.pass needs ${what}.user`);
  if (user !== undefined) {
    result.user = user;
    if (pass !== undefined) result.pass = pass;
  }
  if (token !== undefined) result.token = token;
  if (nkey !== undefined || nkeyFile !== undefined) {
    const seed = nkey ?? readSecret(nkeyFile as string, `${what}.nkey_file`).toString('utf8').trim();
    result.authenticator = nats.nkeyAuthenticator(new TextEncoder().encode(seed));
  }
  if (credsFile !== undefined) {
    result.authenticator = nats.credsAuthenticator(new Uint8Array(readSecret(credsFile, `${what}.creds_file`)));
  }
  const tls = options.tls;
  if (tls === true) result.tls = {};
  else if (tls && typeof tls === 'object') {
    const t = tls as Record<string, unknown>;
    result.tls = {};
    const ca = optionalString(pick(t, 'ca_file', 'caFile'), `${what}.tls.ca_file`);
    const cert = optionalString(pick(t, 'cert_file', 'certFile'), `${what}.tls.cert_file`);
    const key = optionalString(pick(t, 'key_file', 'keyFile'), `${what}.tls.key_file`);
    if (ca) result.tls.caFile = ca;
    if (cert) result.tls.certFile = cert;
    if (key) result.tls.keyFile = key;
  } else if (tls !== undefined && tls !== false && tls !== null) {
    throw new TypeError(`${what}.tls must be true or { ca_file, cert_file, key_file }`);
  }
  const name = optionalString(options.name, `${what}.name`);
  if (name !== undefined) result.name = name;
  return result;
}

function readSecret(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TypeError(`${what}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Header carrying the caller's deadline (ms from when the daemon reads the request). */
export const TIMEOUT_HEADER = 'Pixl-Ipc-Timeout-Ms';
