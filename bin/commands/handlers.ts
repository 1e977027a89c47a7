/**
 * `pixl-ipc handlers`: the handlers a running server has, with their
 * request counts and latency when the server reports per-endpoint figures.
 */
import { Command } from 'commander';
import { CliError, EXIT_CODE_HELP, ExitCode, runAction } from '../cli-error';
import { ClientOptions, withClientOptions } from '../client-options';
import { endpointPeriod, latency } from '../describe';
import { formatCount, formatMs, printable, renderAlignedTable } from '../format';
import { openClient } from '../open-client';
import { StatsAnswer, endpointFigures, fetchStats } from '../stats-source';

interface HandlersOptions extends ClientOptions {
  json?: boolean;
}

/** One handler: its name, the uri pattern it answers (when the server lists it) and its totals (when reported). */
export interface HandlerRow {
  name: string;
  uri: string | null;
  requests: number | null;
  errors: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

export function handlersCommand(): Command {
  return withClientOptions(new Command('handlers'))
    .description('list the server\'s uri handlers, with requests, errors and latency since startup (from /ipcserver/stats)')
    .option('--json', 'print the list as JSON on one line')
    .addHelpText('after', `
Handlers are listed in match order (the first whose pattern matches a uri
answers it). Figures come from the server's per-endpoint stats; a server that
does not report them shows "-". "(unmatched)" counts uris no handler matched.
${EXIT_CODE_HELP}`)
    .action(runAction('handlers', handlers));
}

async function handlers(options: HandlersOptions): Promise<void> {
  const client = await openClient(options);
  let stats: StatsAnswer;
  try {
    stats = await fetchStats(client, options, { handlers: true });
  } finally {
    await client.close().catch(() => {});
  }
  if (!Array.isArray(stats.routes) && !endpointFigures(stats)) {
    throw new CliError(`this server's stats do not list its handlers, only their number (${formatCount(stats.handlers)}); it predates the handler list`, ExitCode.errorResponse);
  }
  const rows = handlerRows(stats);
  if (options.json) {
    process.stdout.write(JSON.stringify(rows) + '\n');
    return;
  }
  const table = renderAlignedTable(
    ['name', 'uri', 'requests', 'errors', 'p50 ms', 'p99 ms'],
    rows.map((row) => [printable(row.name), row.uri === null ? '-' : printable(row.uri), formatCount(row.requests), formatCount(row.errors), formatMs(row.p50Ms), formatMs(row.p99Ms)]),
    new Set([0, 1]),
  );
  process.stdout.write(table.join('\n') + '\n');
}

/** Registered handlers in match order, then any endpoint with figures but no registration (e.g. "(unmatched)"). */
export function handlerRows(stats: StatsAnswer): HandlerRow[] {
  const endpoints = endpointFigures(stats) ?? {};
  const rows: HandlerRow[] = [];
  const seen = new Set<string>();
  const routes: unknown[] = Array.isArray(stats.routes) ? stats.routes : [];
  for (const route of routes) {
    if (!route || typeof route !== 'object') continue;
    const { name, uri } = route as { name?: unknown; uri?: unknown };
    const key = String(name);
    rows.push(rowFor(key, typeof uri === 'string' ? uri : null, endpoints[key]));
    seen.add(key);
  }
  for (const name of Object.keys(endpoints)) {
    if (!seen.has(name)) rows.push(rowFor(name, null, endpoints[name]));
  }
  return rows;
}

function rowFor(name: string, uri: string | null, endpoint: Record<string, any> | undefined): HandlerRow {
  const totals = endpointPeriod(endpoint, 'totals');
  return {
    name,
    uri,
    requests: typeof totals?.requests === 'number' ? totals.requests : null,
    errors: typeof totals?.errors === 'number' ? totals.errors : null,
    p50Ms: latency(totals, 'p50'),
    p99Ms: latency(totals, 'p99'),
  };
}
