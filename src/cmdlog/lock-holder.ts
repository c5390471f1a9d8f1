import fs from 'node:fs';

/** The process that holds a flock on a file, as far as the system tells: its pid and, where readable, its command name. */
export interface LockHolder {
  pid: number;
  command: string | null;
}

/**
 * Looks the holder of the flock on the open file `fd` up in /proc/locks (Linux), by the
 * file's device and inode; this finds any process, the original Workq server too. Null
 * where the system does not tell: no /proc, or a holder outside our pid namespace.
 */
export function flockHolder(fd: number, locksFile = '/proc/locks'): LockHolder | null {
  let table: string;
  try {
    table = fs.readFileSync(locksFile, 'latin1');
  } catch {
    return null;
  }
  const { dev, ino } = fs.fstatSync(fd, { bigint: true });
  const file = `${hex2(deviceMajor(dev))}:${hex2(deviceMinor(dev))}:${ino}`;
  for (const line of table.split('\n')) {
    // "1: FLOCK  ADVISORY  WRITE 1234 fe:00:2148399 0 EOF"; waiters are listed as "1: -> FLOCK …".
    const fields = line.trim().split(/\s+/);
    if (fields[1] !== 'FLOCK' || fields[5] !== file) continue;
    const pid = Number(fields[4]);
    if (!(pid > 0)) return null;
    return { pid, command: processName(pid) };
  }
  return null;
}

/** Major and minor numbers as Linux encodes them in a 64-bit dev_t. */
function deviceMajor(dev: bigint): bigint {
  return ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
}

function deviceMinor(dev: bigint): bigint {
  return (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
}

function hex2(value: bigint): string {
  return value.toString(16).padStart(2, '0');
}

function processName(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() || null;
  } catch {
    return null;
  }
}
