/**
 * Reading a server's /ipcserver/stats: one request, the answer checked, and a
 * clear error when the endpoint is off. Commands that show stats (stats,
 * handlers, connections, top) all read through here.
 */
import { CliError, ExitCode } from './cli-error';
import { CommandClient, toCliError } from './open-client';

export const STATS_URI = '/ipcserver/stats';

/** What the stats uri can be asked to add to its answer. */
export interface StatsRequest {
  /** Adds `connections: [connection.toJSON(), ...]` (the count stays available as the array's length). */
  connections?: boolean;
  /** Adds `routes: [{name, uri}]`, every registered handler in match order. */
  handlers?: boolean;
}

/** One stats answer, checked to be an object. */
export type StatsAnswer = Record<string, any>;

/** Asks for the stats; a disabled endpoint or an odd answer becomes a CliError (exit 1). */
export async function fetchStats(client: CommandClient, target: { socket: string; timeout: number }, request: StatsRequest = {}): Promise<StatsAnswer> {
  let answer: unknown;
  try {
    answer = await client.send(STATS_URI, request);
  } catch (err) {
    throw toCliError(err, target.socket, target.timeout, STATS_URI);
  }
  if (!answer || typeof answer !== 'object' || Array.isArray(answer)) {
    throw new CliError(`unexpected answer from ${STATS_URI}: ${JSON.stringify(answer)}`, ExitCode.errorResponse);
  }
  const record = answer as StatsAnswer;
  if (record.code === 'no_handler_found') {
    throw new CliError(`the server has no stats endpoint: it is off in its config (stats_endpoint: false), or the daemon is older than pixl-ipc 2.0; set stats_endpoint to "own_user" (the default) or true`, ExitCode.errorResponse);
  }
  return record;
}

/** The number of open connections, whether the answer holds the count or the list. */
export function connectionCount(stats: StatsAnswer): number | null {
  if (typeof stats.connectionCount === 'number') return stats.connectionCount;
  if (typeof stats.connections === 'number') return stats.connections;
  if (Array.isArray(stats.connections)) return stats.connections.length;
  return null;
}

/** The connection list, when the server sent one. */
export function connectionList(stats: StatsAnswer): Record<string, any>[] | null {
  return Array.isArray(stats.connections) ? stats.connections.filter((c: unknown) => c && typeof c === 'object') : null;
}

/** The per-endpoint figures, when the server sends them (issue 17's shape). */
export function endpointFigures(stats: StatsAnswer): Record<string, Record<string, any>> | null {
  const endpoints = stats.endpoints;
  return endpoints && typeof endpoints === 'object' && !Array.isArray(endpoints) ? endpoints : null;
}
