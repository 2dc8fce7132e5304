import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * This package's version, from its package.json (one directory above both
 * src/ and dist/, and always in the published tarball).
 */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version?: unknown };
  return String(manifest.version);
}
