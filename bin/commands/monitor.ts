/**
 * `pixl-ipc monitor`: the daemon's live traffic (every answered request:
 * uri, caller, latency, answer code; sampled by the server under load), and
 * every message the server sends this connection without being asked
 * (pushes, broadcasts, notices), until Ctrl-C. With a uri it sends that
 * request instead, to subscribe to an application's pushes.
 */
import { Command, Option } from 'commander';
import { CliError, EXIT_CODE_HELP, ExitCode, runAction } from '../cli-error';
import { ClientOptions, withClientOptions } from '../client-options';
import { parseJsonOption, parsePositiveInteger } from '../input';
import { CommandClient, openClient, toCliError } from '../open-client';
import { untilStopped } from '../stop-signal';

interface MonitorOptions extends ClientOptions {
  data?: unknown;
  count?: number;
  timestamps?: boolean;
  json?: boolean;
}

/** The request that starts the traffic feed, and the push that carries it (lib/traffic-monitor.ts). */
const MONITOR_URI = '/ipcserver/monitor';
const TRAFFIC_URI = '/ipcserver/monitor/traffic';

/** One request as the server reports it in a traffic batch. */
interface TrafficEvent {
  t: number;
  uri: string;
  handler: string | null;
  connection: number;
  uid: number | null;
  pid: number | null;
  ms: number;
  code: string | null;
}

/** The push a stopping server sends each connection (issue 16) before closing it. */
const GOAWAY_URI = '/ipcserver/goaway';

export function monitorCommand(): Command {
  return withClientOptions(new Command('monitor'), 'ms to wait for the connection and for the answer to [uri]')
    .description('print the daemon\'s live traffic (uri, caller, latency, answer code) and the messages it pushes, until Ctrl-C')
    .argument('[uri]', 'instead of the traffic, send a request to this uri (e.g. your app\'s subscribe endpoint) and print the pushes it brings; its answer goes to stderr')
    .addOption(new Option('--data <json>', 'the data for [uri]\'s request').argParser(parseJsonOption))
    .option('-n, --count <n>', 'exit after printing this many messages', parsePositiveInteger)
    .option('-T, --timestamps', 'add "receivedAt" (ISO time) to each printed message')
    .option('--json', 'print each request of the traffic as one JSON object per line')
    .addHelpText('after', `
Without a uri, monitor shows every request the daemon answers, one line each:
  14:02:03.418  uid 1000 pid 4242  conn 7  /myapp/hello  (Hello)  0.221 ms  ok
The daemon sends the traffic to its own user only (the kernel says who
connects; others need monitor_endpoint: true in its config), samples it past
monitor_events_per_second (1000 by default; a line says how many were not
shown), and never lets a slow monitor hold it up. monitor's own requests are
not shown.

Servers push with ipc.push(connection, uri, data) or ipc.broadcast(uri, data);
each message is printed as the server sent it, e.g.
  {"uri":"/myapp/price","data":{"symbol":"ACME","price":12.5}}
A server that shuts down says goodbye (${GOAWAY_URI}) and closes: monitor
prints that message and exits 0. A connection that breaks otherwise exits 3.
${EXIT_CODE_HELP}

Examples:
  $ pixl-ipc monitor
  $ pixl-ipc monitor /myapp/subscribe --data '{"topic": "prices"}' --count 10`)
    .action(runAction('monitor', monitor));
}

async function monitor(uri: string | undefined, options: MonitorOptions): Promise<void> {
  const client = await openClient(options);
  let printed = 0;
  let saidGoodbye = false;
  let lost: Error | null = null;
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => { finished = resolve; });

  const print = (line: string) => {
    if (options.count !== undefined && printed >= options.count) return;
    process.stdout.write(line + '\n');
    printed++;
    if (options.count !== undefined && printed >= options.count) finished();
  };
  client.on('data', (message: Record<string, unknown>) => {
    if (message && message.uri === TRAFFIC_URI && uri === undefined) {
      for (const line of trafficLines(message.data, options.json === true)) print(line);
      return;
    }
    if (message && message.uri === GOAWAY_URI) saidGoodbye = true;
    const line = options.timestamps ? { receivedAt: new Date().toISOString(), ...message } : message;
    print(JSON.stringify(line));
  });
  client.on('disconnect', (err: Error) => {
    lost = err;
    finished();
  });

  try {
    if (uri !== undefined) {
      let answer: unknown;
      try {
        answer = await client.send(uri, options.data);
      } catch (err) {
        throw toCliError(err, options.socket, options.timeout, uri);
      }
      process.stderr.write(`${uri}: ${JSON.stringify(answer) ?? 'no data'}\n`);
    } else {
      await watchTraffic(client, options);
    }
    await untilStopped(async (_stopped, whenStopped) => {
      await Promise.race([done, whenStopped]);
    });
    if (lost && !saidGoodbye) {
      throw new CliError(`the connection to ${options.socket} closed (${(lost as Error).message})`, ExitCode.connection);
    }
  } finally {
    await client.close().catch(() => {});
  }
}

/** Asks the server for its traffic; an older server (or one with the monitor off) leaves monitor printing pushes only. */
async function watchTraffic(client: CommandClient, options: MonitorOptions): Promise<void> {
  let answer: unknown;
  try {
    answer = await client.send(MONITOR_URI, {});
  } catch (err) {
    throw toCliError(err, options.socket, options.timeout, MONITOR_URI);
  }
  const code = answer && typeof answer === 'object' ? (answer as { code?: unknown }).code : undefined;
  if (code === 'no_handler_found') {
    process.stderr.write('this server has no traffic monitor (monitor_endpoint: false, or a daemon older than pixl-ipc 2.0): printing pushes only\n');
  }
}

/** The lines for one traffic batch: one per request, then how many the server did not send. */
export function trafficLines(batch: unknown, json: boolean): string[] {
  if (!batch || typeof batch !== 'object') return [];
  const { events, skipped } = batch as { events?: unknown; skipped?: unknown };
  const lines: string[] = [];
  for (const event of Array.isArray(events) ? (events as TrafficEvent[]) : []) {
    lines.push(json ? JSON.stringify(event) : formatTrafficEvent(event));
  }
  if (typeof skipped === 'number' && skipped > 0) {
    lines.push(json ? JSON.stringify({ skipped }) : `... ${skipped} requests not shown (the server samples the traffic it sends)`);
  }
  return lines;
}

/** `14:02:03.418  uid 1000 pid 4242  conn 7  /myapp/hello  (Hello)  0.221 ms  ok`, client text escaped. */
export function formatTrafficEvent(event: TrafficEvent): string {
  const time = new Date(event.t);
  const clock = [time.getHours(), time.getMinutes(), time.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':') + '.' + String(time.getMilliseconds()).padStart(3, '0');
  const caller = event.uid === null ? 'tcp' : `uid ${event.uid} pid ${event.pid}`;
  const handler = event.handler ? `  (${escapeControl(event.handler)})` : '';
  return `${clock}  ${caller}  conn ${event.connection}  ${escapeControl(event.uri)}${handler}  ${event.ms} ms  ${event.code === null ? 'ok' : escapeControl(event.code)}`;
}

/** Client-chosen text must not drive the terminal. */
function escapeControl(text: string): string {
  return String(text).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}
