/**
 * `pixl-ipc top`: a live view of a running daemon, redrawn every second:
 * process and traffic figures, a table of endpoints and a table of
 * connections, sortable from the keyboard. Built only on the stats uri.
 */
import { Command, Option } from 'commander';
import { CliError, EXIT_CODE_HELP, ExitCode, runAction } from '../cli-error';
import { ClientOptions, withClientOptions } from '../client-options';
import { parseInterval, parsePositiveInteger } from '../input';
import { CommandClient, openClient } from '../open-client';
import { packageVersion } from '../package-version';
import { fetchStats } from '../stats-source';
import { untilStopped } from '../stop-signal';
import { Sample, TopView, buildView } from '../top/model';
import { CONNECTION_COLUMNS, ENDPOINT_COLUMNS, SortState, applySortKey, defaultSortState, renderView, sortRows } from '../top/render';
import { Screen } from '../top/terminal';

interface TopOptions extends ClientOptions {
  interval: number;
  once?: boolean;
  json?: boolean;
  count?: number;
  sort: string;
  sortEndpoints: string;
}

/** Width for --once when stdout is not a terminal: wide enough that nothing is cut. */
const PIPE_WIDTH = 1000;

export function topCommand(): Command {
  return withClientOptions(new Command('top'), 'ms to wait for the connection and for each stats answer')
    .description('a live view of a running server: traffic, endpoints and connections, refreshed every second (q quits)')
    .option('-i, --interval <seconds>', 'seconds between refreshes, 0.1 to 3600', parseInterval, 1)
    .option('-1, --once', 'print one screen (two samples --interval apart, for the rates) as plain text and exit')
    .option('--json', 'print each refresh as one line of JSON (with --once, just one)')
    .option('-n, --count <n>', 'with --json: stop after this many lines', parsePositiveInteger)
    .addOption(new Option('--sort <column>', 'connection table sort column').choices(CONNECTION_COLUMNS.map((c) => c.key)).default('rate'))
    .addOption(new Option('--sort-endpoints <column>', 'endpoint table sort column').choices(ENDPOINT_COLUMNS.map((c) => c.key)).default('rate'))
    .addHelpText('after', `
Keys: q (or Ctrl-C) quits; s or → sorts the focused table by the next column,
S or ← by the previous one; r reverses the order; Tab switches the focused
table (marked ▸). The sort column is marked * in the table's header.

The header shows uptime, memory and CPU (when the server reports its process
figures), open connections, requests in flight, and per-second rates of
requests, bytes in and out, errors and slow responses. Endpoints show req/s
and the p50/p99 latency of the server's current stats interval (else the last
one). Whatever the server does not report is shown as "-" or "not reported".
top's own connection (user agent pixl-ipc-top) and its one request per
refresh are part of the figures.
${EXIT_CODE_HELP}

Examples:
  $ pixl-ipc top
  $ pixl-ipc top --once --sort requests
  $ pixl-ipc top --json --interval 5 | jq .header.requestsPerSec`)
    .action(runAction('top', top));
}

async function top(options: TopOptions): Promise<void> {
  const live = !options.once && !options.json;
  if (live && !process.stdout.isTTY) {
    throw new CliError('top draws on a terminal; for pipes and scripts use --once or --json', ExitCode.usage);
  }
  const client = await openClient({ ...options, userAgent: `pixl-ipc-top/${packageVersion()}` });
  const sort = defaultSortState(options.sort, options.sortEndpoints);
  try {
    if (live) await runLive(client, options, sort);
    else await runForScripts(client, options, sort);
  } finally {
    await client.close().catch(() => {});
  }
}

function takeSample(client: CommandClient, options: TopOptions): Promise<Sample> {
  return fetchStats(client, options, { connections: true }).then((stats) => ({ stats, at: Date.now() }));
}

/** --once and --json: samples --interval apart, printed from the second on (the first has no rates). */
async function runForScripts(client: CommandClient, options: TopOptions, sort: SortState): Promise<void> {
  const lines = options.once ? 1 : options.count ?? Infinity;
  await untilStopped(async (stopped, whenStopped) => {
    let previous = await takeSample(client, options);
    for (let printed = 0; printed < lines && !stopped();) {
      await pause(options.interval * 1000, whenStopped);
      if (stopped()) break;
      const current = await takeSample(client, options);
      const view = buildView(current, previous);
      previous = current;
      if (options.json) {
        process.stdout.write(JSON.stringify(viewAsJson(view, sort, options.socket)) + '\n');
      } else {
        const width = process.stdout.isTTY ? process.stdout.columns || 80 : PIPE_WIDTH;
        process.stdout.write(renderView(view, sort, { width, height: Infinity, target: options.socket, keys: false }).join('\n') + '\n');
      }
      printed++;
    }
  });
}

/** The JSON form of one refresh: the computed figures, tables sorted as on screen. */
export function viewAsJson(view: TopView, sort: SortState, target: string): Record<string, unknown> {
  return {
    time: new Date(view.at).toISOString(),
    target,
    header: view.header,
    endpoints: view.endpoints && sortRows(view.endpoints, ENDPOINT_COLUMNS[sort.endpoints.column], sort.endpoints.descending),
    connections: view.connections && sortRows(view.connections, CONNECTION_COLUMNS[sort.connections.column], sort.connections.descending),
  };
}

/** The live screen: a sample every --interval, redrawn on keys and resizes, until q or Ctrl-C. */
async function runLive(client: CommandClient, options: TopOptions, sort: SortState): Promise<void> {
  const screen = new Screen(process.stdout, process.stdin);
  let view: TopView | null = null;
  let quit: () => void = () => {};
  const quitting = new Promise<void>((resolve) => { quit = resolve; });
  let done = false;
  const redraw = () => {
    if (!view) return;
    screen.draw(renderView(view, sort, { width: screen.width, height: screen.height, target: options.socket, keys: screen.interactive }));
  };
  screen.enter((action) => {
    if (action === 'quit') {
      done = true;
      quit();
      return;
    }
    applySortKey(sort, action);
    redraw();
  }, redraw);
  try {
    await untilStopped(async (stopped, whenStopped) => {
      const stop = Promise.race([whenStopped, quitting]);
      let previous: Sample | null = null;
      while (!done && !stopped()) {
        const current = await takeSample(client, options);
        view = buildView(current, previous);
        previous = current;
        redraw();
        await pause(options.interval * 1000, stop);
      }
    });
  } finally {
    screen.leave();
  }
}

/** Waits `ms`, or less if `cut` settles first. */
function pause(ms: number, cut: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); });
  return Promise.race([elapsed, cut]).finally(() => clearTimeout(timer));
}
