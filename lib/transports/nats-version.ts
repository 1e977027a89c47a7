/**
 * The package's version, which the NATS service announces ($SRV.INFO).
 */
import { readFileSync } from 'fs';
import { join } from 'path';

/** The `version` of the package's own package.json (this file runs from dist/lib/transports/). */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
