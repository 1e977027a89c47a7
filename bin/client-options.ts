/**
 * The options every command that talks to a server shares, declared once so
 * they read the same in every --help.
 */
import { Command } from 'commander';
import { AUTH_ENV, DEFAULT_TIMEOUT_MS, defaultSocketPath } from './defaults';
import { parseMilliseconds } from './input';
import { withNatsOption } from './nats-option';

export interface ClientOptions {
  socket: string;
  timeout: number;
  auth?: string;
}

/** Adds --socket, --timeout and --auth to `command`. */
export function withClientOptions(command: Command, timeoutHelp = 'ms to wait for the connection and for each answer'): Command {
  return withNatsOption(command)
    .option('-s, --socket <path>', 'server socket path, or tcp://host:port, tls://host:port', defaultSocketPath())
    .option('-t, --timeout <ms>', timeoutHelp, parseMilliseconds, DEFAULT_TIMEOUT_MS)
    .option('-a, --auth <credentials>', `credentials for /ipcserver/auth: JSON ({"user":..,"password":..}) or a bare token (default: $${AUTH_ENV})`);
}
