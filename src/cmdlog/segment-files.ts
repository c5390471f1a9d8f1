import type { Stats } from 'node:fs';
import path from 'node:path';
import { CmdlogRefusalCode, CmdlogRefusalError } from './errors.js';
import type { LogFileSystem } from './types.js';

/** Segment file name of a sequence number: `%09d.log` (docs/command-log.md 3). */
export function segmentName(num: number): string {
  return `${String(num).padStart(9, '0')}.log`;
}

/**
 * The sequence number a directory entry names, or -1 when it is not a segment: the
 * name split at its first `.` must give exactly 9 ASCII digits and `log`.
 */
export function segmentNumber(name: string): number {
  if (name.length !== 13 || name.charCodeAt(9) !== 0x2e || !name.endsWith('log')) return -1;
  let n = 0;
  for (let i = 0; i < 9; i++) {
    const d = name.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Suffixes of our temporary files: a segment being created, one being rewritten by the cleaner. */
export const NEW_SUFFIX = '.new';
export const REWRITE_SUFFIX = '.rw';

export interface DirListing {
  /** Segment numbers, ascending. */
  segments: number[];
  /** Leftover temporary files of an interrupted creation or cleaning pass. */
  leftovers: string[];
}

/**
 * The directory's segments and leftovers. `tempNames` are the other temporary files
 * (the manifest's) that an interrupted write can leave.
 */
export async function listSegments(fs: LogFileSystem, dir: string, tempNames: readonly string[] = []): Promise<DirListing> {
  const segments: number[] = [];
  const leftovers: string[] = [];
  for (const name of await fs.readdir(dir)) {
    const num = segmentNumber(name);
    if (num >= 0) {
      segments.push(num);
    } else if (
      (name.endsWith(NEW_SUFFIX) && segmentNumber(name.slice(0, -NEW_SUFFIX.length)) >= 0) ||
      (name.endsWith(REWRITE_SUFFIX) && segmentNumber(name.slice(0, -REWRITE_SUFFIX.length)) >= 0) ||
      tempNames.includes(name)
    ) {
      leftovers.push(path.join(dir, name));
    }
  }
  segments.sort((a, b) => a - b);
  return { segments, leftovers };
}

function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * The size of each segment, in the order of `nums`. Refuses a segment name that is not
 * a regular file (after symbolic links): reading a FIFO would wait for a writer forever,
 * a directory would fail without saying which.
 */
export function segmentSizes(fs: LogFileSystem, dir: string, nums: readonly number[]): number[] {
  return segmentStats(fs, dir, nums).map((st) => st.size);
}

/** The stats of each segment, in the order of `nums`, refusing what segmentSizes refuses. */
export function segmentStats(fs: LogFileSystem, dir: string, nums: readonly number[]): Stats[] {
  return nums.map((num) => {
    const file = path.join(dir, segmentName(num));
    const st = fs.statSync(file);
    if (!st.isFile()) {
      throw new CmdlogRefusalError(
        CmdlogRefusalCode.NotAFile,
        file,
        `cmdlog segment ${file} is ${fileKind(st)}, not a regular file; refusing to start (move it out of the log directory)`,
      );
    }
    return st;
  });
}
