/**
 * `pixl-ipc send URI [JSON]`: one request, its answer printed as JSON.
 */
import { Command, Option } from 'commander';
import { CliError, EXIT_CODE_HELP, ExitCode, oneLine, runAction } from '../cli-error';
import { withClientOptions } from '../client-options';
import { CommandClient, openClient, toCliError } from '../open-client';
import { parseConcurrency, readStdin } from '../input';

interface SendOptions {
  socket: string;
  timeout: number;
  notify?: boolean;
  auth?: string;
  json?: boolean;
  codeToErr?: boolean;
  lines?: boolean;
  concurrency: number;
  stream?: boolean;
}

/** The `send` command, ready to add to the program. */
export function sendCommand(): Command {
  return withClientOptions(new Command('send'), 'ms to wait for the connection and for each answer')
    .description('send a request (or a batch, one per line of stdin) and print the answer\'s data as JSON')
    .argument('<uri>', 'the request uri, e.g. /ipcserver/test/echo')
    .argument('[json]', 'the request data as JSON; read from stdin when left out and stdin is not a terminal ("-" reads stdin too)')
    .option('-n, --notify', 'fire and forget: send without waiting for an answer')
    .option('--json', 'print compact JSON on one line instead of pretty JSON')
    .option('-l, --lines', 'read stdin as newline-delimited JSON (a batch) even when it holds one line')
    .option('-c, --concurrency <n>', 'batch: requests kept in flight at once, 1 to 10000', parseConcurrency, 100)
    .addOption(new Option('--stream', 'accept a streamed answer: print each part as one JSON line as it arrives').conflicts(['notify', 'lines']))
    .addOption(new Option('--code-to-err', 'also fail when the answer\'s data has a truthy "code" (the pixl-server API convention)'))
    .addHelpText('after', `
The answer's data is printed to stdout. A server error (a top-level "code" in
the response) goes to stderr as one line (exit 1). An unknown uri is answered,
as by pixl-ipc 1.x, with data {"code": "no_handler_found", ...}: that data is
printed, as the Node and PHP clients return it, with one line on stderr, and
the exit code is 5 (with --code-to-err, for any truthy "code" in the data).

Streaming: with --stream the request says it accepts a streamed answer, and
each part is printed as compact JSON on its own line as soon as it arrives,
then the final answer's data, if it has any, on the last line. A server that
does not stream answers once, and that answer is the one line printed.

Batch: when stdin holds newline-delimited JSON (one value per line; blank
lines skipped), each line is sent to <uri> as one request, pipelined, and one
line is printed per request, in input order: the answer's data as compact JSON
(null when it has none), or {"error":{"code":..,"message":..}}. A bad line
refuses the whole batch before anything is sent (exit 2); failed requests make
the exit code 1 after every line is printed.
${EXIT_CODE_HELP}

Examples:
  $ pixl-ipc send /ipcserver/test/echo '{"hello": "world"}'
  $ echo '{"delay": 250}' | pixl-ipc send /ipcserver/test/delay
  $ pixl-ipc send --notify /myapp/cache/flush '{}'
  $ printf '{"id":1}\\n{"id":2}\\n' | pixl-ipc send /myapp/lookup`)
    .action(runAction('send', send));
}

async function send(uri: string, jsonArg: string | undefined, options: SendOptions): Promise<void> {
  const input = await requestInput(jsonArg, options.lines === true);
  const client = await openClient({ socket: options.socket, timeout: options.timeout, auth: options.auth });
  try {
    if (options.stream) {
      if (input.kind === 'batch') throw new CliError('--stream sends one request; it cannot read a batch', ExitCode.usage);
      await sendStreamed(client, uri, input.data, options);
      return;
    }
    if (input.kind === 'batch') {
      await sendBatch(client, uri, input.items, options);
      return;
    }
    if (options.notify) {
      client.notify(uri, input.data);
      await client.flush();
      return;
    }
    let answer: unknown;
    try {
      answer = await client.send(uri, input.data);
    } catch (err) {
      throw toCliError(err, options.socket, options.timeout, uri);
    }
    if (answer !== undefined) process.stdout.write(JSON.stringify(answer, null, options.json ? undefined : 2) + '\n');
    failOnErrorData(answer, options.codeToErr === true);
  } finally {
    await client.close().catch(() => {});
  }
}

type RequestInput = { kind: 'single'; data: unknown } | { kind: 'batch'; items: unknown[] };

/**
 * The data to send: the JSON argument; else stdin when it is piped, as one
 * JSON value or, when it is not one value, newline-delimited JSON (a batch);
 * else none. --lines reads stdin as newline-delimited JSON even for one line.
 */
async function requestInput(jsonArg: string | undefined, lines: boolean): Promise<RequestInput> {
  const fromStdin = jsonArg === undefined || jsonArg === '-';
  if (lines && !fromStdin) throw new CliError('--lines reads newline-delimited JSON from stdin; leave out the JSON argument', ExitCode.usage);
  if (!fromStdin) return { kind: 'single', data: parseJson(jsonArg, 'argument') };
  if (jsonArg === undefined && process.stdin.isTTY) {
    if (lines) throw new CliError('--lines reads stdin, which is a terminal here; pipe the requests in', ExitCode.usage);
    return { kind: 'single', data: undefined };
  }
  const text = await readStdin();
  if (lines) return { kind: 'batch', items: parseLines(text) };
  if (text.trim() === '') return { kind: 'single', data: undefined };
  try {
    return { kind: 'single', data: JSON.parse(text) };
  } catch (err) {
    // More than one line: newline-delimited JSON, one request per line.
    if (text.trim().includes('\n')) return { kind: 'batch', items: parseLines(text) };
    throw new CliError(`bad JSON on stdin: ${(err as Error).message}`, ExitCode.usage);
  }
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`bad JSON on ${source}: ${(err as Error).message}`, ExitCode.usage);
  }
}

/** Newline-delimited JSON: one value per non-blank line; any bad line refuses the whole batch before anything is sent. */
export function parseLines(text: string): unknown[] {
  const items: unknown[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    items.push(parseJson(line, `stdin line ${index + 1}`));
  });
  return items;
}

/** One request whose answer may come in parts: each part printed as it arrives, then the final data. */
async function sendStreamed(client: CommandClient, uri: string, data: unknown, options: SendOptions): Promise<void> {
  if (typeof client.stream !== 'function') throw new CliError('this version of the Node client cannot receive streamed answers', ExitCode.usage);
  const parts = client.stream(uri, data);
  try {
    for await (const part of parts) process.stdout.write(JSON.stringify(part) + '\n');
  } catch (err) {
    throw toCliError(err, options.socket, options.timeout, uri);
  }
  if (parts.result !== undefined && parts.result !== null) process.stdout.write(JSON.stringify(parts.result) + '\n');
  failOnErrorData(parts.result, options.codeToErr === true);
}

/** Client errors after which no later request of the batch can succeed. */
const CONNECTION_LOST = new Set(['connection_closed', 'client_closed', 'no_open_stream', 'connect_failed']);

/**
 * Sends every item to `uri` with up to --concurrency in flight, and prints one
 * line per item in input order as soon as it and all before it are answered:
 * the answer's data as compact JSON, or {"error":{"code","message"}}.
 */
async function sendBatch(client: CommandClient, uri: string, items: unknown[], options: SendOptions): Promise<void> {
  if (options.notify) {
    for (const item of items) client.notify(uri, item);
    await client.flush();
    return;
  }
  const lines: (string | undefined)[] = new Array(items.length);
  let printed = 0;
  let failed = 0;
  let firstFailure = '';
  let carryingCode = 0;
  let firstCode = '';
  let fatal: unknown = null;
  const printReady = () => {
    let out = '';
    while (printed < items.length && lines[printed] !== undefined) {
      out += lines[printed] + '\n';
      lines[printed++] = undefined;
    }
    if (out) process.stdout.write(out);
  };
  let next = 0;
  const worker = async () => {
    while (next < items.length && fatal === null) {
      const index = next++;
      let line: string;
      try {
        const answer = await client.send(uri, items[index]);
        const dataError = errorInData(answer, options.codeToErr === true);
        if (dataError) {
          if (!carryingCode) firstCode = `line ${index + 1}: ${dataError.code}: ${dataError.message}`;
          carryingCode++;
        }
        line = answer === undefined ? 'null' : JSON.stringify(answer);
      } catch (err) {
        const e = err as { code?: unknown; message?: unknown };
        const code = typeof e?.code === 'string' ? e.code : 'error';
        if (CONNECTION_LOST.has(code) && fatal === null) fatal = err;
        if (!failed) firstFailure = `line ${index + 1}: ${code}: ${String(e?.message ?? err)}`;
        failed++;
        line = JSON.stringify({ error: { code, message: String(e?.message ?? err) } });
      }
      lines[index] = line;
      printReady();
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, Math.max(1, items.length)) }, worker));
  if (fatal !== null) throw toCliError(fatal, options.socket, options.timeout, uri);
  if (failed) throw new CliError(`${failed} of ${items.length} requests failed (first: ${oneLine(firstFailure)})`, ExitCode.errorResponse);
  if (carryingCode) throw new CliError(`${carryingCode} of ${items.length} answers carry a code (first: ${oneLine(firstCode)})`, ExitCode.dataCode);
}

/**
 * The default handler answers a success whose data carries the error (1.x's
 * shape, which the clients return as data): once that data is printed, the
 * command exits 5 with the code on stderr. With --code-to-err any truthy
 * data.code does the same.
 */
function failOnErrorData(answer: unknown, anyCode: boolean): void {
  const error = errorInData(answer, anyCode);
  if (error) throw new CliError(`${error.code}: ${error.message}`, ExitCode.dataCode);
}

/** The error an answer's data carries (see failOnErrorData), or null. */
function errorInData(answer: unknown, anyCode: boolean): { code: string; message: string } | null {
  if (!answer || typeof answer !== 'object' || Array.isArray(answer)) return null;
  const { code, message, description } = answer as { code?: unknown; message?: unknown; description?: unknown };
  if (code !== 'no_handler_found' && !(anyCode && code)) return null;
  const text = typeof message === 'string' ? message : typeof description === 'string' ? description : JSON.stringify(answer);
  return { code: String(code), message: text };
}
