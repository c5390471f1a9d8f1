import path from 'node:path';
import type { Job } from '../jobs/job.js';
import type { RetryDelay } from '../jobs/retry-delay.js';
import type { ReplayTarget } from '../jobs/types.js';
import { Cleaner } from './cleaner.js';
import { lockDirectory, type DirLock } from './dir-lock.js';
import { DurableWaiters } from './durable-waiters.js';
import { GroupCommit } from './group-commit.js';
import { checkManifest, MANIFEST_NAME, MANIFEST_TEMP_SUFFIX, ManifestWriter, writeManifest } from './manifest.js';
import { LogStats } from './log-stats.js';
import { nodeFileSystem } from './node-fs.js';
import { RecordEncoder } from './record-encoder.js';
import { RecordQueue } from './record-queue.js';
import type { LogPreRead } from './pre-read.js';
import { PreReadChangedError, replaySegments, type ReplayContext, type ReplayResult } from './replay.js';
import { listSegments, segmentName, segmentSizes } from './segment-files.js';
import { InlineSegments, WorkerSegments } from './segment-source.js';
import { SegmentWriter } from './segment-writer.js';
import type { CommandLog, CommandLogOptions, LogFileSystem } from './types.js';

/** The parts of a running log, each with one job, wired together by openCommandLog. */
interface LogParts {
  queue: RecordQueue;
  encoder: RecordEncoder;
  segments: SegmentWriter;
  waiters: DurableWaiters;
  commit: GroupCommit;
  manifest: ManifestWriter;
  cleaner: Cleaner;
  lock: DirLock;
}

class FileCommandLog implements CommandLog {
  onReadOnlyChange: ((readOnly: boolean) => void) | null = null;
  private readonly parts: LogParts;
  private readonly encoder: RecordEncoder;
  private cleanTimer: NodeJS.Timeout;
  private closing: Promise<void> | null = null;

  constructor(
    parts: LogParts,
    private readonly logger: CommandLogOptions['logger'],
    cleanIntervalMs: number,
  ) {
    this.parts = parts;
    this.encoder = parts.encoder;
    // The first pass comes soon after the start: a server restarted more often than the interval would otherwise never clean.
    this.cleanTimer = setTimeout(
      () => {
        void parts.cleaner.clean();
        this.cleanTimer = setInterval(() => void parts.cleaner.clean(), cleanIntervalMs);
        this.cleanTimer.unref();
      },
      Math.min(cleanIntervalMs, FIRST_CLEAN_MS),
    );
    this.cleanTimer.unref();
  }

  get lastSeq(): number {
    return this.parts.queue.seq;
  }

  get readOnly(): boolean {
    return this.parts.commit.readOnly;
  }

  get segmentCount(): number {
    return this.parts.segments.segmentCount;
  }

  whenDurable(seq: number, cb: () => void): void {
    this.parts.waiters.add(seq, cb);
  }

  add(job: Job): void {
    this.encoder.add(job);
  }

  schedule(job: Job): void {
    this.encoder.schedule(job);
  }

  startAttempt(id: string, at: number): void {
    this.encoder.startAttempt(id, at);
  }

  complete(id: string, result: string): void {
    this.encoder.complete(id, result);
  }

  fail(id: string, result: string): void {
    this.encoder.fail(id, result);
  }

  delete(id: string): void {
    this.encoder.delete(id);
  }

  expire(id: string): void {
    this.encoder.expire(id);
  }

  timeoutAttempt(id: string): void {
    this.encoder.timeoutAttempt(id);
  }

  touch(id: string, ttr: number, at: number): void {
    this.encoder.touch(id, ttr, at);
  }

  pause(name: string, paused: boolean): void {
    this.encoder.pause(name, paused);
  }

  retryDelay(id: string, delay: RetryDelay): void {
    this.encoder.retryDelay(id, delay);
  }

  retryAt(id: string, delayMs: number, at: number): void {
    this.encoder.retryAt(id, delayMs, at);
  }

  restartFailed(id: string): void {
    this.encoder.restartFailed(id);
  }

  cleanNow(): Promise<void> {
    return this.parts.cleaner.clean();
  }

  pauseCleaning(): Promise<void> {
    return this.parts.cleaner.pause();
  }

  resumeCleaning(): void {
    this.parts.cleaner.resume();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.cleanTimer);
    clearInterval(this.cleanTimer);
    const { cleaner, commit, manifest, lock } = this.parts;
    try {
      await cleaner.stop();
    } catch (err) {
      this.logger.error({ err }, 'cmdlog: stopping the cleaner failed');
    }
    try {
      await commit.close();
      await manifest.idle();
    } catch (err) {
      this.logger.error({ err }, 'cmdlog: final flush failed');
    }
    await lock.release();
  }
}

/**
 * Replays the records after those `preRead` replayed: from where it stopped in the last
 * segment it read, with its clock reading (so that what counts as expired is what a
 * full replay begun then finds) and its drop book. The tail is small: read on this thread.
 */
function replayTail(ctx: ReplayContext, preRead: LogPreRead, nums: number[], sizes: number[], engine: ReplayTarget): Promise<ReplayResult> {
  const { index, from, resume } = preRead.tail();
  const tailSizes = sizes.slice(index);
  ctx.progress.bytesTotal = tailSizes.reduce((sum, size) => sum + size, 0) - from.offset;
  const source = new InlineSegments(ctx.fs, ctx.dir, nums.slice(index), tailSizes, from);
  return replaySegments({ ...ctx, now: preRead.now }, source, engine, resume);
}

/**
 * From this many bytes of segments on, replay reads and checks them in a worker thread.
 * Measured on 2 cores with logs of 100-byte jobs: 0.3M jobs (52 MiB) replayed about
 * 5% slower with the worker, 0.6M (103 MiB) 5% faster, 1M (172 MiB) 10–15% faster.
 */
const REPLAY_WORKER_FROM = 96 * 1024 * 1024;

/** The first cleaning pass runs this long after the log opens (or after the interval, if shorter). */
const FIRST_CLEAN_MS = 1000;

async function syncFile(fs: LogFileSystem, file: string): Promise<void> {
  const fd = fs.openSync(file, 'r+');
  try {
    await fs.fsync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function checkOptions(opts: CommandLogOptions): void {
  if (!['interval', 'os', 'always'].includes(opts.sync)) throw new Error(`Invalid cmdlog-sync policy: ${opts.sync}`);
  if (opts.sync === 'interval' && !(opts.syncIntervalMs > 0)) throw new Error('Invalid sync interval, must be greater than 0');
  if (!(opts.segmentSize > 0)) throw new Error('Invalid cmdlog segment size, must be greater than 0');
  if (!(opts.cleanIntervalMs > 0)) throw new Error('Invalid cmdlog clean interval, must be greater than 0');
}

/** A pre-read (pre-read.ts) for openCommandLog to take up. */
export interface ResumeOptions {
  preRead: LogPreRead;
  /** A fresh engine for a full replay, when the log is no longer the one the pre-read read. */
  startOver(): ReplayTarget;
}

/**
 * Opens the command log in `opts.dir`: creates and locks the directory, replays every
 * segment into `engine` (docs/command-log.md 10) and returns the log, ready to be the engine's
 * journal. Rejects with a one-line reason (naming file and byte offset for damage).
 * With `resume`, `engine` holds what its pre-read replayed, and only the records after it
 * are replayed (docs/command-log.md 10.5).
 */
export async function openCommandLog(opts: CommandLogOptions, engine: ReplayTarget, resume: ResumeOptions | null = null): Promise<CommandLog> {
  checkOptions(opts);
  const fs = opts.fs ?? nodeFileSystem;
  const now = opts.now ?? Date.now;
  const { dir, logger } = opts;
  const stats = opts.stats ?? new LogStats();
  try {
    await fs.mkdir(dir);
    await fs.accessWritable(dir);
  } catch (err) {
    throw new Error(`cmdlog directory ${dir} cannot be created or is not writable: ${(err as Error).message}`, { cause: err });
  }
  const lock = await lockDirectory(dir, logger);
  try {
    const listing = await listSegments(fs, dir, [MANIFEST_NAME + MANIFEST_TEMP_SUFFIX]);
    for (const file of listing.leftovers) {
      fs.unlinkSync(file);
      logger.warn({ file }, 'cmdlog: removed a temporary file left by an interrupted write');
    }
    const nums = listing.segments;
    const listed = await checkManifest(fs, dir, nums, logger);
    const sizes = segmentSizes(fs, dir, nums);
    const ctx: ReplayContext = { fs, dir, logger, now: 0, highest: nums.at(-1) ?? -1, progress: stats.replay };
    let replayed: ReplayResult | null = null;
    if (resume !== null) {
      let changed = resume.preRead.mismatch(nums);
      if (changed === null) {
        try {
          replayed = await replayTail(ctx, resume.preRead, nums, sizes, engine);
          logger.info({ preRead: resume.preRead.records, tail: replayed.records }, 'cmdlog: replayed the tail after the pre-read');
        } catch (err) {
          if (!(err instanceof PreReadChangedError)) throw err;
          changed = err.message;
        }
      }
      if (changed !== null) {
        logger.warn({ reason: changed }, 'cmdlog: the log changed since the pre-read: replaying it whole');
        engine = resume.startOver();
      }
    }
    if (replayed === null) {
      stats.replay.bytesTotal = sizes.reduce((sum, size) => sum + size, 0);
      const source =
        opts.fs === undefined && stats.replay.bytesTotal >= (opts.replayWorker?.fromBytes ?? REPLAY_WORKER_FROM)
          ? new WorkerSegments(dir, nums, opts.replayWorker?.runBytes)
          : new InlineSegments(fs, dir, nums, sizes);
      replayed = await replaySegments({ ...ctx, now: now() }, source, engine);
    }
    const { sealed, highest, book } = replayed;
    // Replay took the delete and expire records it read as durable (drop-book.ts): those a killed process left unsynced become so here.
    if (highest !== null && highest.size > 0) await syncFile(fs, path.join(dir, segmentName(highest.num)));
    if (nums.length > 0 && (listed === null || listed.length !== nums.length || listed.some((num, i) => num !== nums[i]))) await writeManifest(fs, dir, nums);
    // The segment writer and the cleaner keep the manifest up to date from here on; `segments` exists before either can change a segment.
    let segments: SegmentWriter | null = null;
    const manifest = new ManifestWriter(fs, dir, logger, () => segments!.segmentNumbers());
    segments = new SegmentWriter({ fs, dir, syncDirectory: opts.sync !== 'os', manifest }, highest, sealed);
    const queue = new RecordQueue();
    const waiters = new DurableWaiters(logger);
    let log: FileCommandLog | null = null;
    const commit = new GroupCommit(
      {
        fs,
        dir,
        logger,
        sync: opts.sync,
        syncIntervalMs: opts.syncIntervalMs,
        segmentSize: opts.segmentSize,
        stats,
        readOnlyChanged: (readOnly) => log!.onReadOnlyChange?.(readOnly),
      },
      queue,
      segments,
      waiters,
      book,
    );
    const encoder = new RecordEncoder(queue, book, now, commit.queued);
    const cleaner = new Cleaner({ fs, dir, logger, now, manifest, stats }, sealed, book);
    log = new FileCommandLog({ queue, encoder, segments, waiters, commit, manifest, cleaner, lock }, logger, opts.cleanIntervalMs);
    return log;
  } catch (err) {
    await lock.release();
    throw err;
  }
}
