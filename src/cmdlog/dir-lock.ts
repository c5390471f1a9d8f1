import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import lockfile from 'proper-lockfile';
import { errorCode } from './errors.js';

export interface DirLock {
  release(): Promise<void>;
}

/** Lock timing: a killed holder's lock goes stale after STALE_MS; we keep trying a bit longer than that. */
const STALE_MS = 3000;
const UPDATE_MS = 1000;
const RETRY_EVERY_MS = 500;
const RETRIES = 10;

/**
 * Locks the log directory before anything reads it: proper-lockfile on the directory
 * path (`<dir>.lock`, recovered within seconds when its holder was killed), plus the
 * kernel flock on `<dir>/append.lock` that the original server takes (docs/command-log.md 13), so
 * the original and this server never append to one directory at once.
 */
export async function lockDirectory(dir: string, logger: Logger): Promise<DirLock> {
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dir, {
      stale: STALE_MS,
      update: UPDATE_MS,
      retries: { retries: RETRIES, factor: 1, minTimeout: RETRY_EVERY_MS, maxTimeout: RETRY_EVERY_MS },
      realpath: true,
      onCompromised: (err) => {
        logger.error({ err, dir }, 'cmdlog: directory lock compromised (its refresh ran late or the lock was removed); another process may take the directory');
      },
    });
  } catch (err) {
    if (errorCode(err) === 'ELOCKED') {
      throw new Error(`cmdlog directory ${dir} is in use by another running process (lock ${dir}.lock); refusing to start`);
    }
    throw new Error(`cannot lock cmdlog directory ${dir}: ${(err as Error).message}`);
  }
  let flockFd: number | null = null;
  try {
    flockFd = await flockAppendLock(dir, logger);
  } catch (err) {
    await release().catch(() => undefined);
    throw err;
  }
  return {
    release: async () => {
      if (flockFd !== null) fs.closeSync(flockFd);
      flockFd = null;
      try {
        await release();
      } catch (err) {
        logger.warn({ err, dir }, 'cmdlog: releasing the directory lock failed');
      }
    },
  };
}

/**
 * Takes an exclusive flock on `append.lock` without a native addon: the util-linux
 * `flock` tool locks the file description it inherits as fd 3, which is ours, and
 * exits; the lock stays with our descriptor until we close it or the process dies.
 * Returns the descriptor, or null (with a warning) when the tool is missing.
 */
async function flockAppendLock(dir: string, logger: Logger): Promise<number | null> {
  const file = path.join(dir, 'append.lock');
  const fd = fs.openSync(file, 'a', 0o644);
  const outcome = await new Promise<number | 'missing'>((resolve) => {
    const child = spawn('flock', ['--exclusive', '--wait', '1', '3'], { stdio: ['ignore', 'ignore', 'ignore', fd] });
    child.once('error', () => resolve('missing'));
    child.once('exit', (code) => resolve(code ?? 1));
  });
  if (outcome === 0) return fd;
  fs.closeSync(fd);
  if (outcome === 'missing') {
    logger.warn({ file }, 'cmdlog: the flock tool (util-linux) is missing: an original Workq server could append to this directory at the same time; running both on one directory is unsupported');
    return null;
  }
  throw new Error(`cmdlog directory ${dir}: ${file} is locked by another process (an original Workq server?); refusing to start`);
}
