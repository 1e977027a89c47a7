/**
 * Opens a Node client the way every client command needs it: no reconnects
 * (a command is one attempt), one timeout for connecting and answering, and
 * failures turned into CliErrors with a clear line and exit code.
 */
import { CliError, ExitCode } from './cli-error';
import * as path from 'path';
import { AUTH_ENV, defaultRuntimeDir } from './defaults';
import { packageVersion } from './package-version';
import { natsFromFlags } from './nats-option';

/** The parts of the Node client (client/index.ts) the commands use. */
export interface CommandClient {
  connect(): Promise<unknown>;
  send(uri: string, data?: unknown): Promise<unknown>;
  notify(uri: string, data?: unknown): unknown;
  flush(): Promise<unknown>;
  close(): Promise<unknown>;
  on(event: string, listener: (...args: any[]) => void): unknown;
  /** A streamed answer's parts, then `result` (clients from before streaming lack it). */
  stream?(uri: string, data?: unknown): AsyncIterable<unknown> & { result?: unknown };
}

type ClientConstructor = new (target: string, logger: unknown, options: Record<string, unknown>) => CommandClient;

export interface OpenClientOptions {
  /** A socket path, or tcp://host:port, tls://host:port. */
  socket: string;
  /** ms for connecting and for each answer. */
  timeout: number;
  /** `--auth` as given: JSON, or a bare token string. */
  auth?: string;
  /** What the server's connection list shows for this client (default pixl-ipc-cli/<version>). */
  userAgent?: string;
}

/** `--auth` (or $PIXL_IPC_AUTH): a JSON value when it parses as JSON, otherwise a bare token string. */
export function parseCredentials(text: string | undefined): unknown {
  const raw = text !== undefined ? text : process.env[AUTH_ENV];
  if (raw === undefined || raw === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/**
 * The uid the server must run as: on the user's own default socket, the
 * user's own (nothing, credentials included, goes to anyone else); elsewhere
 * any (a daemon may run as another user: that is what --socket is for).
 */
export function expectedServerUid(socket: string): number | null {
  if (typeof process.geteuid !== 'function') return null;
  return path.resolve(socket) === path.join(defaultRuntimeDir(), 'pixl-ipc.sock') ? process.geteuid() : null;
}

/** Creates and connects a client; rejects with a CliError when it cannot. */
export async function openClient(options: OpenClientOptions): Promise<CommandClient> {
  // Loaded here, not at the top, so `--help` works even before the client is built.
  const IPCClient = require('../client') as ClientConstructor;
  const client = new IPCClient(options.socket, null, {
    requestTimeout: options.timeout,
    expireRequest: options.timeout,
    connectTimeout: options.timeout,
    autoReconnect: false,
    userAgent: options.userAgent ?? `pixl-ipc-cli/${packageVersion()}`,
    auth: parseCredentials(options.auth),
    expectServerUid: expectedServerUid(options.socket),
    nats: natsFromFlags(),
  });
  // The client reports socket trouble as 'error' events too; the failed promise says it better.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    await client.close().catch(() => {});
    throw toCliError(err, options.socket, options.timeout);
  }
  return client;
}

/** Turns a client error into a CliError with an exit code by kind. */
export function toCliError(err: unknown, socket: string, timeout: number, uri?: string): CliError {
  if (err instanceof CliError) return err;
  const e = err as { code?: unknown; message?: string; cause?: { code?: string; message?: string } };
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = e?.message ?? String(err);
  switch (code) {
    case 'request_timeout':
      return new CliError(`timed out after ${timeout} ms waiting for an answer${uri ? ' to ' + uri : ''} (request_timeout)`, ExitCode.timeout);
    case 'connect_timeout':
      return new CliError(`timed out after ${timeout} ms connecting to ${socket} (connect_timeout)`, ExitCode.timeout);
    case 'connect_failed':
    case 'no_open_stream':
      return new CliError(connectFailureLine(socket, e.cause, message), ExitCode.connection);
    case 'server_identity':
      return new CliError(serverIdentityLine(socket, message), ExitCode.connection);
    case 'connection_closed':
    case 'client_closed':
      return new CliError(`the connection to ${socket} closed before the answer came (${code})`, ExitCode.connection);
    default:
      return new CliError(code ? `${code}: ${message}` : message, ExitCode.errorResponse);
  }
}

/** True when `socket` is the one every command uses without --socket (and `pixl-ipc serve` listens on). */
export function isDefaultSocket(socket: string): boolean {
  return !/^[a-z]+:\/\//.test(socket) && path.resolve(socket) === path.join(defaultRuntimeDir(), 'pixl-ipc.sock');
}

/**
 * A failed connect as one line: the hint every client shares
 * (client/connect-hints.ts), then advice that follows what the user passed:
 * `pixl-ipc serve` is suggested only for the default socket, which is where
 * it listens; a socket the user named belongs to their own daemon.
 */
export function connectFailureLine(socket: string, cause: unknown, fallback: string): string {
  const hints = require('../client/connect-hints') as typeof import('../client/connect-hints');
  const { parseTarget } = require('../client/target') as typeof import('../client/target');
  let situation: ReturnType<typeof hints.diagnoseConnectFailure> = null;
  try {
    situation = cause ? hints.diagnoseConnectFailure(parseTarget(socket), cause) : null;
  } catch {
    situation = null;
  }
  if (situation === null) {
    const why = (cause as { message?: string } | undefined)?.message ?? fallback;
    return `cannot connect to ${socket}: ${why}`;
  }
  return hints.renderConnectHint(situation) + cliAdvice(situation.kind, socket);
}

function cliAdvice(kind: string, socket: string): string {
  if (!isDefaultSocket(socket)) return '';
  switch (kind) {
    case 'no_socket':
      return '. This is the default socket: start a daemon on it with `pixl-ipc serve`, or pass --socket (or set PIXL_IPC_SOCKET) to reach yours';
    case 'stale_socket':
      return '. This is the default socket: `pixl-ipc serve` starts a daemon on it';
    default:
      return '';
  }
}

/** A server of another user on the socket (expectServerUid, which the commands set on the default socket). */
function serverIdentityLine(socket: string, message: string): string {
  const line = message.replace(/ \(expectServerUid\)$/, '');
  return isDefaultSocket(socket)
    ? `${line}. This is your default socket, which only your own daemon should serve: find who listens there (ss -xlp | grep ${path.basename(socket)})`
    : line;
}
