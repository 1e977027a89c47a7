/**
 * `pixl-ipc stats`: the server's stats from /ipcserver/stats, as a readable
 * summary or raw JSON.
 */
import { Command } from 'commander';
import { CliError, EXIT_CODE_HELP, ExitCode, runAction } from '../cli-error';
import { DEFAULT_TIMEOUT_MS, defaultSocketPath } from '../defaults';
import { parseMilliseconds } from '../input';
import { formatBytes, formatDuration } from '../format';
import { openClient, toCliError } from '../open-client';

const STATS_URI = '/ipcserver/stats';

interface StatsOptions {
  socket: string;
  timeout: number;
  auth?: string;
  json?: boolean;
}

/** Labels for the figures the server reports, in the order they are shown. */
const LIVE_LABELS: Record<string, string> = {
  uptime: 'uptime',
  connections: 'connections open',
  inFlight: 'requests in flight',
  handlers: 'handlers',
};
const INTERVAL_LABELS: Record<string, string> = {
  requests: 'requests',
  clientOpen: 'connections opened',
  clientClose: 'connections closed',
  maxConnections: 'most open at once',
  slowResponses: 'slow responses',
  errors: 'errors',
};
const TOTAL_LABELS: Record<string, string> = {
  requests: 'requests',
  responses: 'responses',
  notifications: 'notifications',
  errors: 'errors',
  slowResponses: 'slow responses',
  droppedResponses: 'dropped responses',
  bytesIn: 'bytes in',
  bytesOut: 'bytes out',
  connectionsAccepted: 'connections accepted',
  connectionsRejected: 'connections rejected',
  authFailures: 'auth failures',
  pushes: 'pushes',
};

/** The `stats` command, ready to add to the program. */
export function statsCommand(): Command {
  return new Command('stats')
    .description('print the server\'s stats (needs stats_endpoint: true in its IPCServer config; serve turns it on)')
    .option('-s, --socket <path>', 'server socket path, or tcp://host:port, tls://host:port', defaultSocketPath())
    .option('-t, --timeout <ms>', 'ms to wait for the connection and for the answer', parseMilliseconds, DEFAULT_TIMEOUT_MS)
    .option('-a, --auth <credentials>', 'credentials for /ipcserver/auth: JSON or a bare token (default: $PIXL_IPC_AUTH)')
    .option('--json', 'print the raw stats as JSON on one line')
    .addHelpText('after', `
"last interval" figures come from the server's last completed stats cycle
(its log_stats_interval, a minute by default); totals run since startup.
${EXIT_CODE_HELP}`)
    .action(runAction('stats', stats));
}

async function stats(options: StatsOptions): Promise<void> {
  const client = await openClient({ socket: options.socket, timeout: options.timeout, auth: options.auth });
  let answer: unknown;
  try {
    answer = await client.send(STATS_URI, {});
  } catch (err) {
    throw toCliError(err, options.socket, options.timeout, STATS_URI);
  } finally {
    await client.close().catch(() => {});
  }
  if (!answer || typeof answer !== 'object') {
    throw new CliError(`unexpected answer from ${STATS_URI}: ${JSON.stringify(answer)}`, ExitCode.errorResponse);
  }
  const record = answer as Record<string, unknown>;
  if (record.code === 'no_handler_found') {
    throw new CliError(`the server's stats endpoint is disabled (set stats_endpoint: true in its IPCServer config; pixl-ipc serve does)`, ExitCode.errorResponse);
  }
  process.stdout.write(options.json ? JSON.stringify(record) + '\n' : formatStats(record, options.socket));
}

/** The readable summary: live figures, the last completed interval, totals, then anything else the server sent. */
export function formatStats(stats: Record<string, unknown>, socket: string): string {
  const lines: string[] = [`pixl-ipc server at ${socket}`];
  const shown = new Set<string>(['totals']);
  for (const [key, label] of Object.entries(LIVE_LABELS)) {
    if (!(key in stats)) continue;
    shown.add(key);
    lines.push(row(label, key === 'uptime' ? formatDuration(Number(stats[key])) : stats[key]));
  }

  const duration = Number(stats.duration);
  shown.add('duration');
  lines.push('', duration > 0 ? `last interval (${(duration / 1000).toFixed(1)} s)` : 'last interval (none completed yet)');
  for (const [key, label] of Object.entries(INTERVAL_LABELS)) {
    if (!(key in stats)) continue;
    shown.add(key);
    lines.push(row(label, stats[key]));
  }

  const totals = stats.totals && typeof stats.totals === 'object' ? (stats.totals as Record<string, unknown>) : null;
  if (totals) {
    lines.push('', 'totals since startup');
    const shownTotals = new Set<string>();
    for (const [key, label] of Object.entries(TOTAL_LABELS)) {
      if (!(key in totals)) continue;
      shownTotals.add(key);
      lines.push(row(label, key.startsWith('bytes') ? formatBytes(Number(totals[key])) : totals[key]));
    }
    for (const key of Object.keys(totals)) if (!shownTotals.has(key)) lines.push(row(key, totals[key]));
  }

  const rest = Object.keys(stats).filter((key) => !shown.has(key));
  if (rest.length) {
    lines.push('', 'other');
    for (const key of rest) lines.push(row(key, stats[key]));
  }
  return lines.join('\n') + '\n';
}

function row(label: string, value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return '  ' + label.padEnd(22) + text;
}
