import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { InstanceSettings, Result } from './resolve.js';

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'error';
}

/** The directory itself if it exists, else its nearest existing ancestor (which must then be creatable in). */
function nearestExisting(path: string): { path: string; exists: boolean } {
  let current = path;
  for (;;) {
    try {
      statSync(current);
      return { path: current, exists: current === path };
    } catch (error) {
      const parent = dirname(current);
      if (!['ENOENT', 'ENOTDIR'].includes(errorCode(error)) || parent === current) return { path: current, exists: false };
      current = parent;
    }
  }
}

function checkOne(path: string): string | null {
  const found = nearestExisting(path);
  try {
    if (!statSync(found.path).isDirectory()) {
      return found.exists ? `${path} is not a directory` : `${found.path} is not a directory, so ${path} cannot be created`;
    }
    accessSync(found.path, constants.W_OK | constants.X_OK);
    return null;
  } catch (error) {
    const what = found.exists ? path : `${found.path} (to create ${path})`;
    return `${what} is not writable (${errorCode(error)})`;
  }
}

/**
 * Refuses command-log directories the servers could not use: not a directory, not
 * writable, or (through symbolic links) the same directory as another instance's.
 * Missing directories are fine when they can be created: the server creates them.
 */
export function checkDirectories(instances: readonly InstanceSettings[]): Result<void> {
  const real = new Map<string, string>();
  for (const [index, settings] of instances.entries()) {
    const path = settings.cmdlog.path;
    if (path === null) continue;
    const where = `instances[${index}] ("${settings.name}") cmdlog.path`;
    const problem = checkOne(path);
    if (problem !== null) return { ok: false, error: `${where}: ${problem}` };
    if (!nearestExisting(path).exists) continue;
    const target = realpathSync(path);
    const other = real.get(target);
    if (other !== undefined) return { ok: false, error: `${where}: ${path} is the same directory as ${other}'s` };
    real.set(target, `instance "${settings.name}"`);
  }
  return { ok: true, value: undefined };
}
