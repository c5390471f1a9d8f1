/**
 * Go's time.Time binary form, version 1 (docs/command-log.md 6.1): 15 bytes. Job times are kept
 * as Unix seconds plus nanoseconds, with (0, 0) meaning "no time"; that maps to Go's
 * zero value.
 */

export const TIME_LENGTH = 15;
/** Seconds from 0001-01-01T00:00:00Z to the Unix epoch. */
export const UNIX_TO_GO = 62135596800;
const TWO_POW_32 = 4294967296;

/** Writes the instant (Unix seconds, nanoseconds) at `off`, UTC; returns the offset after it. */
export function writeGoTime(buf: Buffer, off: number, unixSec: number, nsec: number): number {
  buf[off] = 1;
  if (unixSec === 0 && nsec === 0) {
    buf.fill(0, off + 1, off + 13);
  } else {
    const goSec = unixSec + UNIX_TO_GO;
    const hi = Math.floor(goSec / TWO_POW_32);
    buf.writeInt32BE(hi, off + 1);
    buf.writeUInt32BE(goSec - hi * TWO_POW_32, off + 5);
    buf.writeInt32BE(nsec, off + 9);
  }
  buf[off + 13] = 0xff;
  buf[off + 14] = 0xff;
  return off + TIME_LENGTH;
}

/** Writes a wall-clock instant given in ms. */
export function writeGoTimeMs(buf: Buffer, off: number, ms: number): number {
  const sec = Math.floor(ms / 1000);
  return writeGoTime(buf, off, sec, Math.round((ms - sec * 1000) * 1e6));
}

/**
 * Reads the time at `off` (which must be version 1: the caller checks `buf[off]`).
 * The zone offset is ignored: the seconds are absolute. Returns Unix seconds; the
 * nanoseconds are at `off + 9`.
 */
export function readGoTimeSec(buf: Buffer, off: number): number {
  const goSec = buf.readInt32BE(off + 1) * TWO_POW_32 + buf.readUInt32BE(off + 5);
  if (goSec === 0 && buf.readInt32BE(off + 9) === 0) return 0;
  return goSec - UNIX_TO_GO;
}

export function readGoTimeNsec(buf: Buffer, off: number): number {
  return buf.readInt32BE(off + 9);
}

/** Unix ms of a (seconds, nanoseconds) pair. */
export function toMs(sec: number, nsec: number): number {
  return sec * 1000 + Math.floor(nsec / 1e6);
}
