import { constants } from 'node:os';

/**
 * What an exclusive, non-blocking flock(2) on a descriptor gave: the lock, 'held' when
 * another open file description (of any process) has it, or the system's error name.
 */
export type FlockOutcome = 'taken' | 'held' | { errno: string };

export type TryFlock = (fd: number) => FlockOutcome;

const LOCK_EX = 2;
const LOCK_NB = 4;
const { EAGAIN, EWOULDBLOCK, EINTR } = constants.errno;
const errnoNames = new Map(Object.entries(constants.errno).map(([name, value]) => [value, name]));

let loading: Promise<TryFlock> | null = null;

/**
 * Loads flock(2) from the C library through koffi, whose prebuilt binaries cover glibc
 * and musl Linux on x64 and arm64; koffi is only imported here, so a platform it cannot
 * load on fails at this call with the loader's own error. flock, not fcntl: it is the
 * lock the original Workq server takes (docs/command-log.md 13), and the two kinds never conflict.
 */
export function loadFlock(): Promise<TryFlock> {
  loading ??= import('koffi').then(({ default: koffi }) => {
    const flock = koffi.load(null).func('int flock(int fd, int operation)') as (fd: number, operation: number) => number;
    return (fd: number): FlockOutcome => {
      for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) === 0) return 'taken';
        const errno = koffi.errno();
        if (errno === EINTR) continue;
        if (errno === EWOULDBLOCK || errno === EAGAIN) return 'held';
        return { errno: errnoNames.get(errno) ?? `errno ${errno}` };
      }
    };
  });
  return loading;
}
