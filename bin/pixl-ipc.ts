#!/usr/bin/env node
/**
 * The pixl-ipc command: run a daemon (serve) and talk to one from a shell
 * (send, stats, bench).
 */
import { Command, CommanderError } from 'commander';
import { ExitCode } from './cli-error';
import { benchCommand } from './commands/bench';
import { sendCommand } from './commands/send';
import { serveCommand } from './commands/serve';
import { statsCommand } from './commands/stats';
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
  $ pixl-ipc stats
  $ pixl-ipc bench --duration 1`);
  for (const command of [serveCommand(), sendCommand(), statsCommand(), benchCommand()]) {
    program.addCommand(command.showHelpAfterError('(add --help for usage)').exitOverride(exitForCommander));
  }
  return program;
}

// `pixl-ipc send ... | head -1` closes stdout early; that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.ok);
  throw err;
});

buildProgram().parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`pixl-ipc: ${err.message}\n`);
  process.exitCode = ExitCode.errorResponse;
});
