import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import lockfile from 'proper-lockfile';
import { errorCode } from './errors.js';
import { loadFlock, type TryFlock } from './flock.js';
import { flockHolder } from './lock-holder.js';

export interface DirLock {
  release(): Promise<void>;
}

/**
 * Why a directory was not locked: `ELOCKED` when another process holds it (`holderPid`
 * where the system tells), `ENOKERNELLOCK` when no kernel lock can be had here, so that
 * nothing could tell a live holder from a dead one.
 */
export class DirLockError extends Error {
  readonly code: 'ELOCKED' | 'ENOKERNELLOCK';
  readonly holderPid: number | null;

  constructor(code: 'ELOCKED' | 'ENOKERNELLOCK', message: string, holderPid: number | null = null) {
    super(message);
    this.name = 'DirLockError';
    this.code = code;
    this.holderPid = holderPid;
  }
}

/** proper-lockfile's refresh: a lock whose refresh ran late by STALE_MS counts as compromised. */
const STALE_MS = 3000;
const UPDATE_MS = 1000;

/**
 * Locks the log directory before anything reads it. The kernel decides who is alive: an
 * exclusive flock on `<dir>/append.lock`, taken without waiting, the lock the original
 * server takes (docs/command-log.md 13), freed by the kernel when its holder dies. Whoever gets it
 * owns the directory, so a proper-lockfile lock `<dir>.lock` found then was left by a
 * dead process and is taken over at once; that lock is kept, refreshed every second, for
 * tools that look for it.
 */
export async function lockDirectory(dir: string, logger: Logger, load: () => Promise<TryFlock> = loadFlock): Promise<DirLock> {
  const flockFd = await lockAppendFile(dir, load);
  let release: () => Promise<void>;
  try {
    release = await lockDirectoryFile(dir, logger);
  } catch (err) {
    fs.closeSync(flockFd);
    throw err;
  }
  return {
    // proper-lockfile's lock first: once the flock is free a new server may take over
    // `<dir>.lock`, and our release must not remove its lock.
    release: async () => {
      try {
        await release();
      } catch (err) {
        logger.warn({ err, dir }, 'cmdlog: releasing the directory lock failed');
      }
      fs.closeSync(flockFd);
    },
  };
}

/** Opens `append.lock` (created 0644 if missing) and takes the flock; returns the descriptor that holds it. */
async function lockAppendFile(dir: string, load: () => Promise<TryFlock>): Promise<number> {
  const file = path.join(dir, 'append.lock');
  let tryFlock: TryFlock;
  try {
    tryFlock = await load();
  } catch (err) {
    throw unavailable(dir, file, `the flock binding (koffi) does not load on this platform: ${(err as Error).message}`);
  }
  // Non-blocking, so that a FIFO in its place cannot hang the start; read-only is enough for flock.
  const notAFile = `cmdlog directory ${dir}: ${file} is not a regular file`;
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_CREAT | fs.constants.O_NONBLOCK, 0o600);
  } catch (err) {
    throw new Error(errorCode(err) === 'EISDIR' ? notAFile : `cmdlog directory ${dir}: cannot open ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    if (!fs.fstatSync(fd).isFile()) throw new Error(notAFile);
    const outcome = tryFlock(fd);
    if (outcome === 'taken') return fd;
    if (outcome === 'held') throw held(dir, file, fd);
    throw unavailable(dir, file, `flock failed with ${outcome.errno}`);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

function held(dir: string, file: string, fd: number): DirLockError {
  const holder = flockHolder(fd);
  const who = holder === null ? 'another process' : `process ${holder.pid}${holder.command === null ? '' : ` (${holder.command})`}`;
  return new DirLockError('ELOCKED', `cmdlog directory ${dir} is in use: ${who} holds the lock on ${file}`, holder?.pid ?? null);
}

function unavailable(dir: string, file: string, reason: string): DirLockError {
  return new DirLockError(
    'ENOKERNELLOCK',
    `cmdlog directory ${dir} cannot be locked: ${reason}; without the kernel lock on ${file} a live server on this directory cannot be told from a dead one, so the server does not start`,
  );
}

/** Takes proper-lockfile's `<dir>.lock`, which only a dead process can have left, since we hold the flock. */
async function lockDirectoryFile(dir: string, logger: Logger): Promise<() => Promise<void>> {
  const lockPath = `${fs.realpathSync(dir)}.lock`;
  const left = fs.statSync(lockPath, { throwIfNoEntry: false });
  if (left !== undefined) {
    fs.rmSync(lockPath, { recursive: true, force: true });
    logger.warn(
      { dir, lock: lockPath, lastRefreshedMsAgo: Math.max(0, Date.now() - left.mtimeMs) },
      'cmdlog: took over the directory lock of a dead process (the kernel lock on append.lock was free)',
    );
  }
  try {
    return await lockfile.lock(dir, {
      lockfilePath: lockPath,
      stale: STALE_MS,
      update: UPDATE_MS,
      retries: 0,
      onCompromised: (err) => {
        logger.error({ err, dir }, 'cmdlog: directory lock compromised (its refresh ran late or the lock was removed); another process may take the directory');
      },
    });
  } catch (err) {
    // Only a process that does not take the flock (an older release of this server) can be here.
    if (errorCode(err) === 'ELOCKED')
      throw new DirLockError('ELOCKED', `cmdlog directory ${dir} is in use: another process holds ${lockPath} without the kernel lock on append.lock`);
    throw new Error(`cannot lock cmdlog directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
}
