/**
 * The installed package's version, for --version and the client's user agent.
 */
import { readFileSync } from 'fs';
import * as path from 'path';

/** The `version` field of the package's own package.json (this file runs from dist/bin/). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
