/**
 * `pixl-ipc connections`: who is connected to a running server, and what
 * each connection has done (from /ipcserver/stats with {connections: true}).
 */
import { Command } from 'commander';
import { CliError, EXIT_CODE_HELP, ExitCode, runAction } from '../cli-error';
import { ClientOptions, withClientOptions } from '../client-options';
import { ageMs, connectionCounter, describePeer, durationCell, idleMs, userAgentCell } from '../describe';
import { formatBytes, formatCount, printable, renderAlignedTable } from '../format';
import { openClient } from '../open-client';
import { StatsAnswer, connectionList, fetchStats } from '../stats-source';

interface ConnectionsOptions extends ClientOptions {
  json?: boolean;
}

export function connectionsCommand(): Command {
  return withClientOptions(new Command('connections'))
    .description('list the connections open on the server: peer, user agent, requests, bytes, idle time (from /ipcserver/stats)')
    .option('--json', 'print the list as JSON on one line, as the server reports it')
    .addHelpText('after', `
The list includes this command's own connection (user agent pixl-ipc-cli).
"peer" is the connecting process as the kernel reports it (user, pid) where the
server has it; "pid N?" is the pid the client itself claimed. The server lists
at most 1000 connections.
${EXIT_CODE_HELP}`)
    .action(runAction('connections', connections));
}

async function connections(options: ConnectionsOptions): Promise<void> {
  const client = await openClient(options);
  let stats: StatsAnswer;
  try {
    stats = await fetchStats(client, options, { connections: true });
  } finally {
    await client.close().catch(() => {});
  }
  const list = connectionList(stats);
  if (!list) {
    throw new CliError(`this server's stats do not list connections, only their number (${formatCount(stats.connections)}); it predates the connection list`, ExitCode.errorResponse);
  }
  if (options.json) {
    process.stdout.write(JSON.stringify(list) + '\n');
    return;
  }
  process.stdout.write(formatConnections(list, Date.now()).join('\n') + '\n');
}

/** The connection table, one row per connection, oldest first. */
export function formatConnections(list: Record<string, any>[], now: number): string[] {
  const rows = list.map((c) => [
    formatCount(c.id),
    printable(c.transport ?? '-'),
    describePeer(c),
    userAgentCell(c),
    formatCount(c.inFlight),
    formatCount(connectionCounter(c, 'requests')),
    formatCount(connectionCounter(c, 'errors')),
    bytesCell(connectionCounter(c, 'bytesIn')),
    bytesCell(connectionCounter(c, 'bytesOut')),
    durationCell(ageMs(c, now)),
    durationCell(idleMs(c, now)),
  ]);
  return renderAlignedTable(['id', 'transport', 'peer', 'user agent', 'in flight', 'requests', 'errors', 'bytes in', 'bytes out', 'open for', 'idle'], rows, new Set([1, 2, 3]));
}

function bytesCell(bytes: number | null): string {
  return bytes === null ? '-' : formatBytes(bytes);
}
