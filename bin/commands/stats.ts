/**
 * `pixl-ipc stats`: the server's stats from /ipcserver/stats, as a readable
 * summary or raw JSON.
 */
import { Command } from 'commander';
import { EXIT_CODE_HELP, runAction } from '../cli-error';
import { ClientOptions, withClientOptions } from '../client-options';
import { parseInterval, parsePositiveInteger } from '../input';
import { formatBytes, formatDuration } from '../format';
import { CommandClient, openClient } from '../open-client';
import { fetchStats } from '../stats-source';
import { untilStopped } from '../stop-signal';

interface StatsOptions extends ClientOptions {
  json?: boolean;
  /** --watch: true (the default interval) or seconds. */
  watch?: boolean | number;
  count?: number;
}

/** Seconds between samples for --watch without a value. */
const DEFAULT_WATCH_SECONDS = 2;

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
  authThrottled: 'auth checks delayed',
  pushes: 'pushes',
  pushesDropped: 'pushes dropped',
  cancelled: 'requests cancelled',
  deadlinesExceeded: 'deadlines exceeded',
  lateAnswers: 'late answers',
  overloadRefusals: 'overload refusals',
  lineTimeouts: 'line timeouts',
  logWriteFailures: 'log write failures',
};
const PROCESS_LABELS: Record<string, string> = {
  rss: 'resident memory',
  heapUsed: 'heap used',
  heapTotal: 'heap total',
  cpuUserMs: 'cpu time (user)',
  cpuSystemMs: 'cpu time (system)',
};
const OTHER_LABELS: Record<string, string> = {
  bufferedInput: 'input buffered',
};

/** A label for a figure this version has none for: "someNewCount" reads "some new count", never the raw name. */
export function readableLabel(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/_/g, ' ').toLowerCase();
}

/** The `stats` command, ready to add to the program. */
export function statsCommand(): Command {
  return withClientOptions(new Command('stats'))
    .description('print the server\'s stats (answered to the daemon\'s own user; others need stats_endpoint: true in its IPCServer config)')
    .option('--json', 'print the raw stats as JSON on one line')
    .option('-w, --watch [seconds]', `print them again every few seconds (default ${DEFAULT_WATCH_SECONDS}, 0.1 to 3600) until Ctrl-C`, parseInterval)
    .option('-n, --count <n>', 'with --watch: stop after this many samples', parsePositiveInteger)
    .addHelpText('after', `
"last interval" figures come from the server's last completed stats cycle
(its log_stats_interval, a minute by default); totals run since startup.
With --watch the screen is redrawn in place on a terminal; into a pipe each
sample is printed after the previous one (with --json, one line per sample).
For a live per-endpoint and per-connection view, see \`pixl-ipc top\`.
${EXIT_CODE_HELP}`)
    .action(runAction('stats', stats));
}

async function stats(options: StatsOptions): Promise<void> {
  const client = await openClient(options);
  try {
    if (options.watch === undefined) {
      process.stdout.write(render(await fetchStats(client, options), options, false));
      return;
    }
    await watch(client, options);
  } finally {
    await client.close().catch(() => {});
  }
}

/** Samples every --watch seconds until Ctrl-C, --count samples, or a failure. */
async function watch(client: CommandClient, options: StatsOptions): Promise<void> {
  const seconds = typeof options.watch === 'number' ? options.watch : DEFAULT_WATCH_SECONDS;
  const redraw = process.stdout.isTTY === true && !options.json;
  await untilStopped(async (stopped) => {
    for (let sample = 1; !stopped(); sample++) {
      const text = render(await fetchStats(client, options), options, true);
      if (stopped()) break;
      // Home and clear, then the sample: a terminal shows one screen that changes in place.
      process.stdout.write(redraw ? '\x1b[H\x1b[2J' + text : sample > 1 && !options.json ? '\n' + text : text);
      if (options.count !== undefined && sample >= options.count) break;
      await sleepUnlessStopped(seconds * 1000, stopped);
    }
  });
}

function render(record: Record<string, unknown>, options: StatsOptions, timestamped: boolean): string {
  if (options.json) return JSON.stringify(timestamped ? { time: new Date().toISOString(), ...record } : record) + '\n';
  const text = formatStats(record, options.socket);
  return timestamped ? text.replace('\n', `  (${new Date().toLocaleTimeString()})\n`) : text;
}

function sleepUnlessStopped(ms: number, stopped: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const started = Date.now();
    const tick = setInterval(() => {
      if (stopped() || Date.now() - started >= ms) {
        clearInterval(tick);
        resolve();
      }
    }, Math.min(ms, 50));
  });
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
    for (const key of Object.keys(totals)) if (!shownTotals.has(key)) lines.push(row(readableLabel(key), totals[key]));
  }

  const proc = stats.process && typeof stats.process === 'object' ? (stats.process as Record<string, unknown>) : null;
  if (proc) {
    shown.add('process');
    lines.push('', 'process');
    for (const [key, value] of Object.entries(proc)) {
      const shownValue = typeof value === 'number' && /rss|heap|bytes|memory|external/i.test(key) ? formatBytes(value)
        : typeof value === 'number' && /Ms$/.test(key) ? `${(value / 1000).toFixed(2)} s` : value;
      lines.push(row(PROCESS_LABELS[key] ?? readableLabel(key), shownValue));
    }
  }
  const endpoints = stats.endpoints && typeof stats.endpoints === 'object' ? Object.keys(stats.endpoints as object) : null;
  if (endpoints) {
    // Per-endpoint figures are a table of their own: `pixl-ipc handlers` and `pixl-ipc top` show them.
    shown.add('endpoints');
    lines.push('', row('endpoints', `${endpoints.length} with figures (see pixl-ipc handlers, pixl-ipc top)`));
  }

  const rest = Object.keys(stats).filter((key) => !shown.has(key));
  if (rest.length) {
    lines.push('', 'other');
    for (const key of rest) lines.push(row(OTHER_LABELS[key] ?? readableLabel(key), key === 'bufferedInput' ? formatBytes(Number(stats[key])) : stats[key]));
  }
  return lines.join('\n') + '\n';
}

function row(label: string, value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return '  ' + label.padEnd(22) + text;
}
