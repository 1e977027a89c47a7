/**
 * How long to wait before each reconnect attempt.
 *
 * A retry strategy gets the attempt number (1 for the first attempt after a
 * connection was lost, counting up until one succeeds) and returns the delay
 * in ms, or null to stop reconnecting.
 */

export type RetryStrategy = (attempt: number) => number | null;

/**
 * The default: `base` ms, doubling after each failed attempt, capped at `cap`
 * ms; each delay is drawn from its upper half ([d/2, d]) so that clients that
 * lost the same server at the same moment do not all come back at once.
 * `random` is there for tests.
 */
export function cappedDoubling(base: number, cap: number, random: () => number = Math.random): RetryStrategy {
  const limit = Math.max(base, cap || base);
  return (attempt: number): number => {
    const nominal = Math.min(limit, base * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
    return nominal / 2 + random() * (nominal / 2);
  };
}

/** A strategy's answer as a delay, or null for "stop": anything but a finite number stops; negatives mean at once. */
export function retryDelay(strategy: RetryStrategy, attempt: number): number | null {
  const delay = strategy(attempt);
  if (typeof delay !== 'number' || !Number.isFinite(delay)) return null;
  return Math.max(0, delay);
}
