/**
 * Ctrl-C (SIGINT) and SIGTERM for commands that run until stopped (watch,
 * monitor, top): the first one asks the loop to finish cleanly (exit 0, the
 * connection closed properly); a second one exits at once.
 */

/** Runs `run` with a way to ask "stopped yet?" and a promise that settles on the first signal. */
export async function untilStopped(run: (stopped: () => boolean, whenStopped: Promise<void>) => Promise<void>): Promise<void> {
  let stop = false;
  let wake: () => void = () => {};
  const whenStopped = new Promise<void>((resolve) => { wake = resolve; });
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop) process.exit(signal === 'SIGINT' ? 130 : 143);
    stop = true;
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await run(() => stop, whenStopped);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
