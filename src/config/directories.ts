import { accessSync, constants, lstatSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { InstanceSettings, Result } from './resolve.js';

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'error';
}

/**
 * Kernel file systems that look like directories but hold no files of ours (statfs
 * f_type magic numbers, linux/magic.h). mkdir in them fails oddly: procfs answers
 * ENOENT for a child of an existing directory.
 */
const PSEUDO_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0x6165676c, 'pstore'],
  [0xde5e81e4, 'efivarfs'],
  [0x1cd1, 'devpts'],
  [0x65735543, 'fusectl'],
]);

/**
 * The directory itself if it exists, else its nearest existing ancestor (which must then
 * be creatable in). A symbolic link on the way whose target is missing is an error: the
 * directory could not be created through it.
 */
function nearestExisting(path: string): Result<{ path: string; exists: boolean }> {
  let current = path;
  for (;;) {
    try {
      statSync(current);
      return { ok: true, value: { path: current, exists: current === path } };
    } catch (error) {
      if (isLink(current)) return { ok: false, error: `${current} is a symbolic link to a missing target, so ${path} cannot be created` };
      const parent = dirname(current);
      if (!['ENOENT', 'ENOTDIR'].includes(errorCode(error)) || parent === current) {
        return { ok: false, error: `${current} cannot be examined (${errorCode(error)})` };
      }
      current = parent;
    }
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Why `path` cannot be a directory this process creates files in, or null when it can. */
export function checkWritableDirectory(path: string): string | null {
  const nearest = nearestExisting(path);
  if (!nearest.ok) return nearest.error;
  const found = nearest.value;
  try {
    if (!statSync(found.path).isDirectory()) {
      return found.exists ? `${path} is not a directory` : `${found.path} is not a directory, so ${path} cannot be created`;
    }
    const pseudo = PSEUDO_FILE_SYSTEMS.get(statfsSync(found.path).type);
    if (pseudo !== undefined) return `${path} is on the kernel's ${pseudo} file system, which cannot hold files`;
    accessSync(found.path, constants.W_OK | constants.X_OK);
    return null;
  } catch (error) {
    const what = found.exists ? path : `${found.path} (to create ${path})`;
    return `${what} is not writable (${errorCode(error)})`;
  }
}

/**
 * Refuses command-log directories the servers could not use: not a directory, not
 * writable, on a kernel pseudo file system, behind a dangling symbolic link, or (through
 * symbolic links) the same directory as another instance's. Missing directories are
 * fine when they can be created: the server creates them.
 */
export function checkDirectories(instances: readonly InstanceSettings[]): Result<void> {
  const real = new Map<string, string>();
  for (const [index, settings] of instances.entries()) {
    const path = settings.cmdlog.path;
    if (path === null) continue;
    const where = `instances[${index}] ("${settings.name}") cmdlog.path`;
    const problem = checkWritableDirectory(path);
    if (problem !== null) return { ok: false, error: `${where}: ${problem}` };
    const nearest = nearestExisting(path);
    if (!nearest.ok || !nearest.value.exists) continue;
    const target = realpathSync(path);
    const other = real.get(target);
    if (other !== undefined) return { ok: false, error: `${where}: ${path} is the same directory as ${other}'s` };
    real.set(target, `instance "${settings.name}"`);
  }
  return { ok: true, value: undefined };
}
