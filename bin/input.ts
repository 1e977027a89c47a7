/**
 * Parsers for option values, and reading stdin, shared by the commands.
 */
import { InvalidArgumentError } from 'commander';

/** Parses a whole number >= 1 (--timeout, --concurrency, --debug-level). */
export function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected a whole number >= 1');
  }
  return n;
}

/** Parses --timeout: whole milliseconds >= 1. */
export const parseMilliseconds = parsePositiveInteger;

/** Parses a number > 0, fractions allowed (--duration in seconds). */
export function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0');
  return n;
}

/** Parses a comma-separated list of whole numbers >= 1 ("1,5,10"). */
export function parseIntegerList(value: string): number[] {
  const parts = value.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (parts.length === 0) throw new InvalidArgumentError('expected a comma-separated list such as 1,5,10');
  return parts.map((part) => {
    try {
      return parsePositiveInteger(part);
    } catch {
      throw new InvalidArgumentError(`"${part}" is not a whole number >= 1`);
    }
  });
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
