/**
 * `pixl-ipc ping`: is the daemon there and answering? For health checks: one
 * line with the connect and round-trip times, and an exit code a supervisor
 * can act on (0 answering, 3 cannot connect, 4 no answer in time, 1 an error
 * answer).
 */
import { Command } from 'commander';
import { CliError, EXIT_CODE_HELP, ExitCode, runAction } from '../cli-error';
import { ClientOptions, withClientOptions } from '../client-options';
import { integerInRange } from '../input';
import { openClient, toCliError } from '../open-client';

interface PingOptions extends ClientOptions {
  count?: number;
  json?: boolean;
}

/** The built-in every pixl-ipc daemon (1.x included) answers. */
const PING_URI = '/ipcserver/test/echo';

export function pingCommand(): Command {
  return withClientOptions(new Command('ping'), 'ms to wait for the connection and for each answer')
    .description('check that the daemon answers: connect and round-trip times, exit 0 when it does (for health checks)')
    .option('-n, --count <n>', 'round trips to time (on one connection), 1 to 1000', integerInRange(1, 1000), 1)
    .option('--json', 'print the result as JSON on one line')
    .addHelpText('after', `
Sends ${PING_URI} (every daemon has it) and prints, e.g.
  pong from /run/mydaemon/ipc.sock: connect 0.41 ms, round trip 0.12 ms
With --count the round trip is the median of that many, with min and max.
${EXIT_CODE_HELP}

Examples:
  $ pixl-ipc ping --socket /run/mydaemon/ipc.sock --timeout 2000 || systemctl restart mydaemon`)
    .action(runAction('ping', ping));
}

async function ping(options: PingOptions): Promise<void> {
  const count = options.count ?? 1;
  const connectStart = process.hrtime.bigint();
  const client = await openClient(options);
  const connectMs = elapsedMs(connectStart);
  const rounds: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const started = process.hrtime.bigint();
      let answer: unknown;
      try {
        answer = await client.send(PING_URI, { ping: i });
      } catch (err) {
        throw toCliError(err, options.socket, options.timeout, PING_URI);
      }
      rounds.push(elapsedMs(started));
      if (!answer || (answer as { ping?: unknown }).ping !== i) {
        throw new CliError(`unexpected answer from ${PING_URI}: ${JSON.stringify(answer)}`, ExitCode.errorResponse);
      }
    }
  } finally {
    await client.close().catch(() => {});
  }
  const sorted = [...rounds].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (options.json) {
    process.stdout.write(JSON.stringify({ ok: true, socket: options.socket, connectMs: round(connectMs), roundTripMs: round(median), minMs: round(sorted[0]), maxMs: round(sorted[sorted.length - 1]), count }) + '\n');
    return;
  }
  const spread = count > 1 ? ` (median of ${count}, min ${round(sorted[0])} ms, max ${round(sorted[sorted.length - 1])} ms)` : '';
  process.stdout.write(`pong from ${options.socket}: connect ${round(connectMs)} ms, round trip ${round(median)} ms${spread}\n`);
}

function elapsedMs(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e6;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
