/**
 * `pixl-ipc monitor`: holds a connection open and prints every message the
 * server sends it without being asked (pushes, broadcasts, connection-level
 * notices), one JSON object per line, until Ctrl-C.
 */
import { Command, Option } from 'commander';
import { CliError, EXIT_CODE_HELP, ExitCode, runAction } from '../cli-error';
import { ClientOptions, withClientOptions } from '../client-options';
import { parseJsonOption, parsePositiveInteger } from '../input';
import { openClient, toCliError } from '../open-client';
import { untilStopped } from '../stop-signal';

interface MonitorOptions extends ClientOptions {
  data?: unknown;
  count?: number;
  timestamps?: boolean;
}

/** The push a stopping server sends each connection (issue 16) before closing it. */
const GOAWAY_URI = '/ipcserver/goaway';

export function monitorCommand(): Command {
  return withClientOptions(new Command('monitor'), 'ms to wait for the connection and for the answer to [uri]')
    .description('print the pushes and broadcasts the server sends this connection, one JSON object per line, until Ctrl-C')
    .argument('[uri]', 'first send a request to this uri (e.g. your app\'s subscribe endpoint); its answer goes to stderr')
    .addOption(new Option('--data <json>', 'the data for [uri]\'s request').argParser(parseJsonOption))
    .option('-n, --count <n>', 'exit after printing this many messages', parsePositiveInteger)
    .option('-T, --timestamps', 'add "receivedAt" (ISO time) to each printed message')
    .addHelpText('after', `
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

  client.on('data', (message: Record<string, unknown>) => {
    if (options.count !== undefined && printed >= options.count) return;
    if (message && message.uri === GOAWAY_URI) saidGoodbye = true;
    const line = options.timestamps ? { receivedAt: new Date().toISOString(), ...message } : message;
    process.stdout.write(JSON.stringify(line) + '\n');
    printed++;
    if (options.count !== undefined && printed >= options.count) finished();
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
