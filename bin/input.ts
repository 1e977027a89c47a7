/**
 * Parsers for option values, and reading stdin, shared by the commands.
 * Every numeric option has a range: a value outside it is a usage error
 * (exit 2), not something quietly clamped or passed on to the server.
 */
import { InvalidArgumentError } from 'commander';

/** The longest delay setTimeout honours; longer timeouts would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A parser for whole numbers from `min` to `max` inclusive. */
export function integerInRange(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** A parser for numbers (fractions allowed) above `min` (exclusive) and up to `max`. */
export function numberInRange(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= min || n > max) {
      throw new InvalidArgumentError(`expected a number > ${min} and <= ${max}`);
    }
    return n;
  };
}

/** Parses a whole number >= 1 (counts with no natural upper bound). */
export const parsePositiveInteger = integerInRange(1, Number.MAX_SAFE_INTEGER);

/** Parses --timeout: whole milliseconds, 1 to the longest timer Node can set. */
export const parseMilliseconds = integerInRange(1, MAX_TIMER_MS);

/** Parses --debug-level: pixl-server's levels run from 1 to 10. */
export const parseDebugLevel = integerInRange(1, 10);

/** Parses --concurrency: requests kept in flight at once. */
export const parseConcurrency = integerInRange(1, 10000);

/** Parses a number of seconds > 0 and at most a day (--duration). */
export const parsePositiveNumber = numberInRange(0, 86400);

/** Parses a refresh interval in seconds: at least 0.1 s, at most an hour. */
export function parseInterval(value: string): number {
  const n = numberInRange(0, 3600)(value);
  if (n < 0.1) throw new InvalidArgumentError('expected at least 0.1 seconds');
  return n;
}

/** Parses a comma-separated list of whole numbers from 1 to `max` ("1,5,10"). */
export function integerListInRange(max: number): (value: string) => number[] {
  const parseOne = integerInRange(1, max);
  return (value: string) => {
    const parts = value.split(',').map((part) => part.trim()).filter((part) => part !== '');
    if (parts.length === 0) throw new InvalidArgumentError('expected a comma-separated list such as 1,5,10');
    return parts.map((part) => {
      try {
        return parseOne(part);
      } catch {
        throw new InvalidArgumentError(`"${part}" is not a whole number from 1 to ${max}`);
      }
    });
  };
}

/** Parses a JSON option value (--data). */
export function parseJsonOption(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(`not valid JSON (${(err as Error).message})`);
  }
}

/** Reads all of stdin as UTF-8. */
export function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stdin.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.once('error', reject);
  });
}
