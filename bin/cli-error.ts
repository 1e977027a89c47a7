/**
 * How the pixl-ipc commands fail: one line on stderr and an exit code that
 * tells scripts what kind of failure it was.
 */

/** Exit codes of every pixl-ipc command. */
export const ExitCode = {
  ok: 0,
  /** The server answered with an error (or refused the credentials). */
  errorResponse: 1,
  /** Bad command line or bad JSON input. */
  usage: 2,
  /** No server at the socket, or the connection broke. */
  connection: 3,
  /** No answer (or no connection) within the timeout. */
  timeout: 4,
  /**
   * A success whose data carries a `code`: an unknown uri's no_handler_found
   * (which the Node and PHP clients return as data, as 1.x did), or with
   * --code-to-err any truthy code. The answer is printed as the clients return it.
   */
  dataCode: 5,
} as const;

/** A failure the command reports as one line on stderr before exiting with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** The exit-code table printed at the end of each client command's --help. */
export const EXIT_CODE_HELP = `
Exit codes:
  0  success
  1  the server answered with an error
  2  bad arguments or bad JSON input
  3  cannot connect to the server (no socket, refused, connection lost)
  4  timed out
  5  the answer's data carries a code (no_handler_found: no handler for that uri)`;

/**
 * Wraps a command action: a CliError (or any other error) becomes one line
 * on stderr, `pixl-ipc <command>: <message>`, and the matching exit code.
 */
export function runAction<A extends unknown[]>(command: string, action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      const message = oneLine(err instanceof Error ? err.message : String(err));
      process.stderr.write(`pixl-ipc ${command}: ${message}\n`);
      process.exitCode = err instanceof CliError ? err.exitCode : ExitCode.errorResponse;
    }
  };
}

/** Collapses a possibly multi-line message into one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
