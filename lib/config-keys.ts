/**
 * Unknown keys under `IPCServer`: pixl-server passes the whole section, so a
 * misspelled key would be silently ignored. Startup names each one, with the
 * known key it is closest to.
 */
import { defaultConfig } from './config';

/** Every key the component reads. */
export const KNOWN_KEYS: readonly string[] = ['socket_path', ...Object.keys(defaultConfig)];

/** Levenshtein distance: the fewest insertions, deletions and substitutions that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** The known key nearest to `key`, if one is near enough to be a likely misspelling. */
export function closestKey(key: string, known: readonly string[] = KNOWN_KEYS): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate);
    if (distance < bestDistance) { best = candidate; bestDistance = distance; }
  }
  // Further than a third of the key's length is a different word, not a typo.
  return best !== null && bestDistance <= Math.max(2, Math.ceil(key.length / 3)) ? best : null;
}

/** One warning per key of `section` that the component does not read. */
export function unknownKeyWarnings(section: unknown): string[] {
  if (!section || typeof section !== 'object') return [];
  const warnings: string[] = [];
  for (const key of Object.keys(section)) {
    if (KNOWN_KEYS.includes(key)) continue;
    const near = closestKey(key);
    warnings.push(`IPCServer config: unknown key ${key}${near ? ` (did you mean ${near}?)` : ''}; it is ignored`);
  }
  return warnings;
}
