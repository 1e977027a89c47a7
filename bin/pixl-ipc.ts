#!/usr/bin/env node
/**
 * The pixl-ipc command: run a daemon (serve) and talk to one from a shell
 * (send, stats, handlers, connections, monitor, top, bench).
 */
import { Command, CommanderError } from 'commander';
import { ExitCode } from './cli-error';
import { benchCommand } from './commands/bench';
import { completionCommand } from './commands/completion';
import { connectionsCommand } from './commands/connections';
import { handlersCommand } from './commands/handlers';
import { monitorCommand } from './commands/monitor';
import { pingCommand } from './commands/ping';
import { sendCommand } from './commands/send';
import { serveCommand } from './commands/serve';
import { statsCommand } from './commands/stats';
import { topCommand } from './commands/top';
import { SOCKET_ENV, defaultSocketPath } from './defaults';
import { packageVersion } from './package-version';

/** Usage errors exit 2, as in most Unix tools; --help and --version exit 0. */
function exitForCommander(err: CommanderError): never {
  process.exit(err.exitCode === 0 ? ExitCode.ok : ExitCode.usage);
}

/** Builds the program; exported so it can be inspected without running it. */
export function buildProgram(): Command {
  const program = new Command('pixl-ipc')
    .description('Run a pixl-ipc server and talk to it: newline-delimited JSON over a Unix socket')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride(exitForCommander)
    .addHelpText('after', `
Every command uses the same default socket: ${defaultSocketPath()}
(override with --socket or $${SOCKET_ENV}).

Examples:
  $ pixl-ipc serve
  $ pixl-ipc send /ipcserver/test/echo '{"hello": "world"}'
  $ pixl-ipc stats --watch
  $ pixl-ipc handlers
  $ pixl-ipc connections
  $ pixl-ipc monitor
  $ pixl-ipc top
  $ pixl-ipc bench --duration 1
  $ source <(pixl-ipc completion bash)`);
  const commands = [serveCommand(), sendCommand(), statsCommand(), handlersCommand(), connectionsCommand(), monitorCommand(), pingCommand(), topCommand(), benchCommand(), completionCommand()];
  for (const command of commands) {
    program.addCommand(command.showHelpAfterError('(add --help for usage)').exitOverride(exitForCommander));
  }
  return program;
}

// `pixl-ipc send ... | head -1` closes stdout early; that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.ok);
  throw err;
});

/**
 * Commander treats `pixl-ipc nosuch --help` as a request for the main help
 * (exit 0), which hides the typo from scripts. An unknown command is refused
 * with exit 2 whatever follows it.
 */
function refuseUnknownCommand(program: Command, args: string[]): void {
  const first = args.find((arg) => !arg.startsWith('-'));
  if (first === undefined) return;
  const known = new Set(['help', ...program.commands.flatMap((command) => [command.name(), ...command.aliases()])]);
  if (known.has(first)) {
    // `pixl-ipc help nosuch` too.
    const topic = first === 'help' ? args[args.indexOf(first) + 1] : undefined;
    if (topic === undefined || topic.startsWith('-') || known.has(topic)) return;
    fail(topic);
  }
  fail(first);

  function fail(name: string): never {
    const near = [...known].filter((candidate) => candidate !== 'help' && editDistance(candidate, name) <= Math.min(2, candidate.length - 2));
    const hint = near.length ? ` (did you mean ${near.join(' or ')}?)` : '';
    process.stderr.write(`error: unknown command '${name}'${hint}\nCommands: ${[...known].join(', ')}. Run pixl-ipc --help for usage.\n`);
    process.exit(ExitCode.usage);
  }
}

/** Levenshtein distance with adjacent swaps counted as one edit ("sned" is 1 from "send"). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

const program = buildProgram();
refuseUnknownCommand(program, process.argv.slice(2));
program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`pixl-ipc: ${err.message}\n`);
  process.exitCode = ExitCode.errorResponse;
});
