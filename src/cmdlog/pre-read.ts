import path from 'node:path';
import type { ReplayTarget } from '../jobs/types.js';
import type { Logger } from 'pino';
import { DropBook, type SealedSegment } from './drop-book.js';
import { errorCode } from './errors.js';
import { loadFlock } from './flock.js';
import { LogStats, type ReplayProgress } from './log-stats.js';
import { checkManifest } from './manifest.js';
import { nodeFileSystem } from './node-fs.js';
import { PreReadChangedError, replaySegments, type HighestSegment, type ReplayResume } from './replay.js';
import { listSegments, segmentName, segmentStats } from './segment-files.js';
import { InlineSegments, type ContinueFrom } from './segment-source.js';
import type { CommandLogOptions, LogFileSystem } from './types.js';

/** A segment as the pre-read found it, before reading it. */
interface SeenSegment {
  num: number;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

/** Where the tail's replay starts: the segments from `index` of the locked directory's list on. */
export interface TailStart {
  index: number;
  from: ContinueFrom;
  resume: ReplayResume;
}

/** Catching up ends once a round replayed at most this many records: the tail left for after the lock is about as small. */
const CAUGHT_UP_RECORDS = 2000;
/** Rounds of catching up at most: appends faster than replay would never be caught up with. */
const MAX_ROUNDS = 8;

/**
 * A log replayed by a server that does not hold it yet (docs/command-log.md 10.5): the
 * server still appending to it keeps serving meanwhile. Once that one has let go, the new
 * server locks the directory and replays only what follows (openCommandLog with
 * `resume`), provided every segment read is still the file it read; else it replays the
 * whole log into a fresh engine.
 */
export class LogPreRead {
  records = 0;
  private seen: SeenSegment[] = [];
  private sealed: SealedSegment[] = [];
  private last: HighestSegment | null = null;
  private book: DropBook | null = null;

  constructor(
    private readonly fs: LogFileSystem,
    private readonly dir: string,
    private readonly logger: Logger,
    private readonly progress: ReplayProgress,
    /** The replay's start (docs/command-log.md 10.4): records that expired before it are skipped, in the tail too. */
    readonly now: number,
  ) {}

  /** Bytes of records the tail starts after, in the last segment read. */
  get offset(): number {
    return this.last?.size ?? 0;
  }

  /** Where the tail starts, for the server's log. */
  get resumePoint(): { segment: string; offset: number } | null {
    return this.last === null ? null : { segment: segmentName(this.last.num), offset: this.last.size };
  }

  /**
   * Why the tail cannot take up this pre-read in the directory whose segments are `nums`;
   * null when it can: the segments read are still the first ones listed, the same files
   * (device and inode), the sealed ones unchanged (size and modification time; a cleaning
   * pass renames a shorter file over a segment), the last one at least as long as what was
   * read of it. The replay of the tail compares the last bytes read.
   */
  mismatch(nums: readonly number[]): string | null {
    const seen = this.seen;
    for (let i = 0; i < seen.length; i++) {
      const was = seen[i]!;
      const file = path.join(this.dir, segmentName(was.num));
      if (nums[i] !== was.num) return `${file} is ${nums.includes(was.num) ? 'no longer where it was in the list of segments' : 'gone'}`;
      const st = this.fs.statSync(file);
      if (st.dev !== was.dev || st.ino !== was.ino) return `${file} was replaced`;
      const isLast = i === seen.length - 1;
      if (isLast ? st.size < this.offset : st.size !== was.size || st.mtimeMs !== was.mtimeMs) return `${file} changed`;
    }
    return null;
  }

  /** Where the tail starts in the list `mismatch` accepted. */
  tail(): TailStart {
    const last = this.last;
    return {
      index: Math.max(0, this.seen.length - 1),
      from: { offset: this.offset, readFrom: this.offset - (last?.endBytes.length ?? 0), book: this.book ?? new DropBook() },
      resume: { sealed: this.sealed, dropAt: last?.dropAt ?? [], endBytes: last?.endBytes ?? Buffer.alloc(0) },
    };
  }

  /**
   * Reads on: replays the records appended since the last read into `engine`; how many.
   * Returns 0 without reading when the log no longer continues what was read (the tail
   * then replays it whole).
   */
  async readOn(engine: ReplayTarget): Promise<number> {
    let nums: number[];
    try {
      nums = (await listSegments(this.fs, this.dir)).segments;
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
      nums = [];
    }
    if (this.mismatch(nums) !== null) return 0;
    const { index, from, resume } = this.tail();
    const stats = segmentStats(this.fs, this.dir, nums.slice(index));
    const sizes = stats.map((st) => st.size);
    this.progress.bytesTotal = sizes.reduce((sum, size) => sum + size, 0) - from.offset;
    const source = new InlineSegments(this.fs, this.dir, nums.slice(index), sizes, from);
    const ctx = { fs: this.fs, dir: this.dir, logger: this.logger, now: this.now, highest: nums.at(-1) ?? -1, progress: this.progress, preRead: true };
    let replayed;
    try {
      replayed = await replaySegments(ctx, source, engine, resume);
    } catch (err) {
      if (err instanceof PreReadChangedError) return 0;
      throw err;
    }
    this.seen = [
      ...this.seen.slice(0, index),
      ...stats.map((st, i): SeenSegment => ({ num: nums[index + i]!, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs })),
    ];
    this.sealed = replayed.sealed;
    this.last = replayed.highest;
    this.book = replayed.book;
    this.records += replayed.records;
    return replayed.records;
  }
}

/**
 * Replays the log in `opts.dir` into `engine` without locking or changing anything: a
 * server still appends to it (docs/command-log.md 10.5). Its cleaner should be paused
 * meanwhile, or the tail may have to replay everything again. Reads on in rounds until a
 * round finds few records, so that little is left for the tail. Rejects as openCommandLog
 * does on a log it cannot replay; a directory that does not exist reads as empty.
 */
export async function preReadCommandLog(opts: CommandLogOptions, engine: ReplayTarget): Promise<LogPreRead> {
  const fs = opts.fs ?? nodeFileSystem;
  const now = (opts.now ?? Date.now)();
  const { dir, logger } = opts;
  const preRead = new LogPreRead(fs, dir, logger, (opts.stats ?? new LogStats()).replay, now);
  try {
    await checkManifest(fs, dir, (await listSegments(fs, dir)).segments, logger);
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw err;
  }
  // The directory lock's flock binding loads now rather than at the handover (tens of ms); a failure to load is reported when the lock is taken.
  await loadFlock().catch(() => undefined);
  const rounds: number[] = [];
  do rounds.push(await preRead.readOn(engine));
  while (rounds.length < MAX_ROUNDS && rounds.at(-1)! > CAUGHT_UP_RECORDS);
  logger.info({ records: preRead.records, rounds, tailFrom: preRead.resumePoint }, 'cmdlog: pre-read done');
  return preRead;
}
