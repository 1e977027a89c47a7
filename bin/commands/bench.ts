/**
 * `pixl-ipc bench`: latency percentiles and throughput of a running server,
 * measured with its echo endpoint at several message sizes, or with the
 * user's own uri and data.
 */
import { Command, Option } from 'commander';
import { CliError, EXIT_CODE_HELP, ExitCode, runAction } from '../cli-error';
import { DEFAULT_TIMEOUT_MS, defaultSocketPath } from '../defaults';
import { formatBytes, renderTable } from '../format';
import { integerListInRange, parseConcurrency, parseJsonOption, parseMilliseconds, parsePositiveNumber } from '../input';
import { CommandClient, openClient, toCliError } from '../open-client';
import { withNatsOption } from '../nats-option';
import { ProgressBar } from '../progress-bar';

const ECHO_URI = '/ipcserver/test/echo';
/** Length of each string value in a bench message. */
const VALUE_LENGTH = 1024;
/** Unmeasured warm-up before each size, at most this long. */
const MAX_WARMUP_MS = 250;
/** Client errors that mean the connection is gone: stop instead of counting. */
const FATAL_CODES = new Set(['connection_closed', 'no_open_stream', 'client_closed', 'connect_failed']);

interface BenchOptions {
  socket: string;
  uri: string;
  /** --data: one message of the user's own instead of the sizes. */
  data?: unknown;
  sizes: number[];
  concurrency: number;
  duration: number;
  timeout: number;
  auth?: string;
  json?: boolean;
}

/** Results for one message size (or the --data message: keys null). Latencies are in microseconds. */
export interface SizeResult {
  keys: number | null;
  messageBytes: number;
  requests: number;
  errors: number;
  seconds: number;
  msgsPerSec: number;
  mibPerSec: number;
  latencyUs: { p50: number; p90: number; p99: number; max: number; mean: number };
}

interface Run {
  latencies: number[];
  errors: number;
  firstError: unknown;
  seconds: number;
}

/** The `bench` command, ready to add to the program. */
export function benchCommand(): Command {
  return withNatsOption(new Command('bench'))
    .description('measure a running server: latency percentiles and throughput of a uri (/ipcserver/test/echo by default) per message size, or with your own data')
    .option('-s, --socket <path>', 'server socket path, or tcp://host:port, tls://host:port', defaultSocketPath())
    .option('-u, --uri <uri>', 'the uri to send to', ECHO_URI)
    .addOption(new Option('--data <json>', 'send this JSON as every request\'s data instead of the generated sizes').argParser(parseJsonOption).conflicts('sizes'))
    .option('--sizes <list>', 'message sizes to test, 1 to 10000: keys per message, each key a 1024-character string', integerListInRange(10000), [1, 5, 10, 20, 100])
    .option('-c, --concurrency <n>', 'requests kept in flight at once, 1 to 10000', parseConcurrency, 8)
    .option('-d, --duration <seconds>', 'how long to measure each size (at most 86400)', parsePositiveNumber, 2)
    .option('-t, --timeout <ms>', 'ms to wait for the connection and for each answer', parseMilliseconds, DEFAULT_TIMEOUT_MS)
    .option('-a, --auth <credentials>', 'credentials for /ipcserver/auth: JSON or a bare token (default: $PIXL_IPC_AUTH)')
    .option('--json', 'print the results as JSON on one line')
    .addHelpText('after', `
Each size gets a short unmeasured warm-up, then runs for --duration seconds
with --concurrency requests in flight over one connection. A progress bar is
drawn on stderr when it is a terminal; the table (or JSON) goes to stdout.
The exit code is 1 if any request failed. Against /ipcserver/test/echo the
first answer must equal the data sent; against any other uri it must not be an
error. Requests your handler answers with an error are counted as errors.
${EXIT_CODE_HELP}

Examples:
  $ pixl-ipc bench --sizes 1,10 --duration 1
  $ pixl-ipc bench --uri /myapp/lookup --data '{"id": 42}' --concurrency 32`)
    .action(runAction('bench', bench));
}

async function bench(options: BenchOptions): Promise<void> {
  const client = await openClient({ socket: options.socket, timeout: options.timeout, auth: options.auth });
  const progress = process.stderr.isTTY ? new ProgressBar(process.stderr) : null;
  const results: SizeResult[] = [];
  try {
    const cases: (number | null)[] = options.data !== undefined ? [null] : options.sizes;
    for (const [index, keys] of cases.entries()) {
      const report = (fraction: number, done: number) => {
        progress?.update((index + fraction) / cases.length, `${keys === null ? 'data' : keys + ' keys'}: ${done} msgs`);
      };
      results.push(await benchSize(client, keys, options, report));
    }
  } finally {
    progress?.done();
    await client.close().catch(() => {});
  }

  if (options.json) {
    const summary = { target: options.socket, uri: options.uri, concurrency: options.concurrency, durationSeconds: options.duration, results };
    process.stdout.write(JSON.stringify(summary) + '\n');
  } else {
    process.stdout.write(formatResults(results, options));
  }
  const failed = results.reduce((sum, result) => sum + result.errors, 0);
  if (failed > 0) throw new CliError(`${failed} requests failed`, ExitCode.errorResponse);
}

/** A message of `keys` keys, each a 1024-character string. */
export function makeMessage(keys: number): Record<string, string> {
  const message: Record<string, string> = {};
  for (let i = 0; i < keys; i++) message['key' + i] = String.fromCharCode(97 + (i % 26)).repeat(VALUE_LENGTH);
  return message;
}

async function benchSize(client: CommandClient, keys: number | null, options: BenchOptions, report: (fraction: number, done: number) => void): Promise<SizeResult> {
  const message = keys === null ? options.data : makeMessage(keys);
  const json = JSON.stringify(message) ?? '';
  // One checked round trip first: a benchmark of a server that answers wrongly measures nothing.
  let answer: unknown;
  try {
    answer = await client.send(options.uri, message);
  } catch (err) {
    throw toCliError(err, options.socket, options.timeout, options.uri);
  }
  const code = answer && typeof answer === 'object' ? (answer as { code?: unknown }).code : undefined;
  if (code === 'no_handler_found') {
    throw new CliError(`no handler answers ${options.uri} (no_handler_found)`, ExitCode.errorResponse);
  }
  if (options.uri === ECHO_URI && JSON.stringify(answer) !== json) {
    throw new CliError(`${ECHO_URI} did not answer with the data it was sent (${keys === null ? 'the --data message' : keys + ' keys'})`, ExitCode.errorResponse);
  }

  const durationMs = options.duration * 1000;
  await runFor(client, message, options, Math.min(MAX_WARMUP_MS, durationMs / 10), () => {});
  const run = await runFor(client, message, options, durationMs, report);
  if (run.latencies.length === 0) throw toCliError(run.firstError, options.socket, options.timeout, options.uri);

  const messageBytes = Buffer.byteLength(json);
  const msgsPerSec = run.latencies.length / run.seconds;
  return {
    keys,
    messageBytes,
    requests: run.latencies.length,
    errors: run.errors,
    seconds: round(run.seconds, 3),
    msgsPerSec: Math.round(msgsPerSec),
    mibPerSec: round((msgsPerSec * messageBytes) / (1024 * 1024), 1),
    latencyUs: latencySummary(run.latencies),
  };
}

/** Keeps `concurrency` requests in flight until `durationMs` has passed; records each latency in µs. */
async function runFor(client: CommandClient, message: unknown, options: BenchOptions, durationMs: number, report: (fraction: number, done: number) => void): Promise<Run> {
  const run: Run = { latencies: [], errors: 0, firstError: undefined, seconds: 0 };
  const started = process.hrtime.bigint();
  const deadline = Date.now() + durationMs;
  const ticker = setInterval(() => report(1 - Math.max(0, deadline - Date.now()) / durationMs, run.latencies.length), 100);
  const worker = async () => {
    while (Date.now() < deadline) {
      const sent = process.hrtime.bigint();
      try {
        await client.send(options.uri, message);
        run.latencies.push(Number(process.hrtime.bigint() - sent) / 1000);
      } catch (err) {
        const code = (err as { code?: string })?.code ?? '';
        if (FATAL_CODES.has(code)) throw toCliError(err, options.socket, options.timeout, options.uri);
        run.errors++;
        if (run.firstError === undefined) run.firstError = err;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    clearInterval(ticker);
  }
  run.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  report(1, run.latencies.length);
  return run;
}

/** Percentiles by nearest rank, rounded to whole µs. */
export function latencySummary(latencies: number[]): SizeResult['latencyUs'] {
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: Math.round(sorted[sorted.length - 1]), mean: Math.round(mean) };
}

function formatResults(results: SizeResult[], options: BenchOptions): string {
  const headers = ['keys', 'message', 'requests', 'msgs/s', 'MiB/s', 'p50 µs', 'p90 µs', 'p99 µs', 'max µs', 'errors'];
  const rows = results.map((r) => [
    r.keys === null ? 'data' : String(r.keys), formatBytes(r.messageBytes), String(r.requests), String(r.msgsPerSec), r.mibPerSec.toFixed(1),
    String(r.latencyUs.p50), String(r.latencyUs.p90), String(r.latencyUs.p99), String(r.latencyUs.max), String(r.errors),
  ]);
  const title = `pixl-ipc bench: ${options.socket}, ${options.uri}, ${options.concurrency} in flight, ${options.duration} s per size\n\n`;
  return title + renderTable(headers, rows);
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
