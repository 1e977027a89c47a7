/**
 * `pixl-ipc send URI [JSON]`: one request, its answer printed as JSON.
 */
import { Command, Option } from 'commander';
import { CliError, EXIT_CODE_HELP, ExitCode, runAction } from '../cli-error';
import { DEFAULT_TIMEOUT_MS, defaultSocketPath } from '../defaults';
import { openClient, toCliError } from '../open-client';
import { parseMilliseconds, readStdin } from '../input';

interface SendOptions {
  socket: string;
  timeout: number;
  notify?: boolean;
  auth?: string;
  json?: boolean;
  codeToErr?: boolean;
}

/** The `send` command, ready to add to the program. */
export function sendCommand(): Command {
  return new Command('send')
    .description('send one request and print the answer\'s data as JSON')
    .argument('<uri>', 'the request uri, e.g. /ipcserver/test/echo')
    .argument('[json]', 'the request data as JSON; read from stdin when left out and stdin is not a terminal ("-" reads stdin too)')
    .option('-s, --socket <path>', 'server socket path, or tcp://host:port, tls://host:port', defaultSocketPath())
    .option('-t, --timeout <ms>', 'ms to wait for the connection and for the answer', parseMilliseconds, DEFAULT_TIMEOUT_MS)
    .option('-n, --notify', 'fire and forget: send without waiting for an answer')
    .option('-a, --auth <credentials>', 'credentials for /ipcserver/auth: JSON ({"user":..,"password":..}) or a bare token (default: $PIXL_IPC_AUTH)')
    .option('--json', 'print compact JSON on one line instead of pretty JSON')
    .addOption(new Option('--code-to-err', 'also fail when the answer\'s data has a truthy "code" (the pixl-server API convention)'))
    .addHelpText('after', `
The answer's data is printed to stdout. A server error (a top-level "code" in
the response, or data {"code": "no_handler_found"}) goes to stderr as one line.
${EXIT_CODE_HELP}

Examples:
  $ pixl-ipc send /ipcserver/test/echo '{"hello": "world"}'
  $ echo '{"delay": 250}' | pixl-ipc send /ipcserver/test/delay
  $ pixl-ipc send --notify /myapp/cache/flush '{}'`)
    .action(runAction('send', send));
}

async function send(uri: string, jsonArg: string | undefined, options: SendOptions): Promise<void> {
  const data = await requestData(jsonArg);
  const client = await openClient({ socket: options.socket, timeout: options.timeout, auth: options.auth });
  try {
    if (options.notify) {
      client.notify(uri, data);
      await client.flush();
      return;
    }
    let answer: unknown;
    try {
      answer = await client.send(uri, data);
    } catch (err) {
      throw toCliError(err, options.socket, options.timeout, uri);
    }
    failOnErrorData(answer, options.codeToErr === true);
    if (answer !== undefined) process.stdout.write(JSON.stringify(answer, null, options.json ? undefined : 2) + '\n');
  } finally {
    await client.close().catch(() => {});
  }
}

/** The data to send: the JSON argument, else stdin when it is piped, else none. */
async function requestData(jsonArg: string | undefined): Promise<unknown> {
  let text: string;
  let source: string;
  if (jsonArg !== undefined && jsonArg !== '-') {
    text = jsonArg;
    source = 'argument';
  } else if (jsonArg === '-' || !process.stdin.isTTY) {
    text = await readStdin();
    source = 'stdin';
    if (text.trim() === '') return undefined;
  } else {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`bad JSON on ${source}: ${(err as Error).message}`, ExitCode.usage);
  }
}

/**
 * The default handler answers a success whose data carries the error, so
 * that shape is an error here. With --code-to-err any truthy data.code is.
 */
function failOnErrorData(answer: unknown, anyCode: boolean): void {
  if (!answer || typeof answer !== 'object' || Array.isArray(answer)) return;
  const { code, message, description } = answer as { code?: unknown; message?: unknown; description?: unknown };
  if (code === 'no_handler_found' || (anyCode && code)) {
    const text = typeof message === 'string' ? message : typeof description === 'string' ? description : JSON.stringify(answer);
    throw new CliError(`${String(code)}: ${text}`, ExitCode.errorResponse);
  }
}
