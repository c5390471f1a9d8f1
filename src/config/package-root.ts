import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory of this package: the nearest package.json above this module. The same
 * walk works from src/ (tsx), from dist/src/ (a checkout) and from node_modules/<name>/,
 * whatever the package is called.
 */
export function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** The `version` of this package's package.json, for `--version` and `inspect server`. */
export function packageVersion(): string {
  const root = packageRoot();
  if (root === null) return 'unknown';
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}
