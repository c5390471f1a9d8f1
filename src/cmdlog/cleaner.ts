import path from 'node:path';
import type { Logger } from 'pino';
import type { DropBook, SealedSegment } from './drop-book.js';
import { syncDirectory, writeWholeAndSync } from './durable-io.js';
import type { ManifestWriter } from './manifest.js';
import type { LogStats } from './log-stats.js';
import { HEADER, HEADER_LENGTH, RecordScanner } from './record.js';
import { REWRITE_SUFFIX, segmentName } from './segment-files.js';
import type { LogFileSystem } from './types.js';

export interface CleanerOptions {
  fs: LogFileSystem;
  dir: string;
  logger: Logger;
  now: () => number;
  /** Rewritten without the segments to delete before they are deleted. */
  manifest: ManifestWriter;
  stats: LogStats;
}

/** A segment is rewritten once at least this share of its records can go. */
const REWRITE_SHARE = 0.25;

/**
 * Compacts sealed segments (docs/command-log.md 11, with the rules of 11.4): drops exactly the
 * records the drop book finds droppable, copying the others byte for byte, and tells the
 * book which records are gone once the directory fsync has made that durable.
 * The active segment is never in `sealed`, so it is never touched.
 */
export class Cleaner {
  private readonly opts: CleanerOptions;
  private readonly sealed: SealedSegment[];
  private readonly book: DropBook;
  private running: Promise<void> | null = null;
  private stopped = false;
  private paused = false;
  /** Droppable-after values of the records removed since the directory was last fsynced (the links to lives: drop-book.ts). */
  private dropped: number[] = [];

  constructor(opts: CleanerOptions, sealed: SealedSegment[], book: DropBook) {
    this.opts = opts;
    this.sealed = sealed;
    this.book = book;
  }

  /** Runs a pass after the one in progress, if any. */
  async clean(): Promise<void> {
    while (this.running !== null) await this.running;
    if (this.stopped || this.paused) return;
    this.running = this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Lets a pass in progress finish its current segment; no pass starts afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.running !== null) await this.running;
  }

  /**
   * Like stop, until resume: while another process reads the sealed segments (the pre-read
   * of a hot restart, pre-read.ts), none is rewritten or deleted. Resolves once no pass runs.
   */
  async pause(): Promise<void> {
    this.paused = true;
    while (this.running !== null) await this.running;
  }

  resume(): void {
    this.paused = false;
  }

  /**
   * One pass: a sweep over the sealed segments, and a second one when the first removed the
   * last adds of jobs whose delete or expire records could then go too (drop-book.ts).
   */
  private async pass(): Promise<void> {
    const now = this.opts.now();
    this.book.prune(now);
    this.opts.stats.cleaningRuns++;
    if (await this.sweep(now)) await this.sweep(now);
  }

  /** Drops what is droppable at `now`; whether that let more go (ends whose adds are all gone now). */
  private async sweep(now: number): Promise<boolean> {
    const { logger } = this.opts;
    const book = this.book;
    let removed = 0;
    let rewritten = 0;
    let dirChanged = false;
    try {
      const empty: SealedSegment[] = [];
      for (const seg of this.sealed.slice()) {
        if (this.stopped || this.paused) break;
        const total = seg.dropAt.length;
        let droppable = 0;
        for (let i = 0; i < total; i++) if (book.droppable(seg.dropAt[i]!, now)) droppable++;
        if (droppable === total) {
          empty.push(seg);
        } else if (droppable >= Math.max(1, total * REWRITE_SHARE)) {
          await this.rewrite(seg, now);
          rewritten++;
          dirChanged = true;
        }
      }
      if (empty.length > 0) {
        removed = await this.remove(empty);
        dirChanged = true;
      }
    } catch (err) {
      logger.error({ err }, 'cmdlog: cleaning pass aborted');
    }
    let freedEnds = false;
    // What was dropped counts as gone (an end may then go too) only once the directory holds it for good.
    if ((dirChanged || this.dropped.length > 0) && (await this.syncDirectory())) {
      for (const dropAt of this.dropped) if (book.dropped(dropAt)) freedEnds = true;
      this.dropped = [];
    }
    if (removed + rewritten > 0) logger.info({ removed, rewritten, segments: this.sealed.length }, 'cmdlog: cleaning pass done');
    return freedEnds && !this.stopped && !this.paused;
  }

  /**
   * Deletes segments with nothing left to replay. The manifest stops listing them first:
   * a crash in between leaves unlisted segments, which the next start replays (harmlessly:
   * every record in them is droppable); never a listed one missing.
   */
  private async remove(segments: SealedSegment[]): Promise<number> {
    for (const seg of segments) this.sealed.splice(this.sealed.indexOf(seg), 1);
    try {
      await this.opts.manifest.write();
    } catch (err) {
      // Still listed: keep them, in order, for a later pass.
      this.sealed.push(...segments);
      this.sealed.sort((a, b) => a.num - b.num);
      throw err;
    }
    for (const seg of segments) {
      this.opts.fs.unlinkSync(this.file(seg));
      for (const dropAt of seg.dropAt) if (dropAt < 0) this.dropped.push(dropAt);
    }
    return segments.length;
  }

  private file(seg: SealedSegment): string {
    return path.join(this.opts.dir, segmentName(seg.num));
  }

  /** Writes the kept records to S.rw, fsyncs it and renames it over S (docs/command-log.md 11.1). */
  private async rewrite(seg: SealedSegment, now: number): Promise<void> {
    const { fs } = this.opts;
    const file = this.file(seg);
    const buf = await fs.readFile(file);
    if (buf.length < HEADER_LENGTH || !buf.subarray(0, HEADER_LENGTH).equals(HEADER)) throw new Error(`${file}: invalid segment header`);
    const out = Buffer.allocUnsafe(buf.length);
    HEADER.copy(out, 0);
    let outLength = HEADER_LENGTH;
    const kept: number[] = [];
    const gone: number[] = [];
    const scanner = new RecordScanner();
    let pos = HEADER_LENGTH;
    let index = 0;
    while (pos < buf.length) {
      const status = scanner.scan(buf, pos, buf.length);
      if (status !== 'ok') throw new Error(`${file} at byte offset ${pos}: ${status}`);
      if (index >= seg.dropAt.length) throw new Error(`${file}: more records than the log has appended`);
      const dropAt = seg.dropAt[index++]!;
      if (this.book.droppable(dropAt, now)) {
        if (dropAt < 0) gone.push(dropAt);
      } else {
        outLength += buf.copy(out, outLength, pos, scanner.next);
        kept.push(dropAt);
      }
      pos = scanner.next;
    }
    if (index !== seg.dropAt.length) throw new Error(`${file}: fewer records than the log has appended`);
    const tmp = file + REWRITE_SUFFIX;
    const fd = fs.openSync(tmp, 'w');
    try {
      await writeWholeAndSync(fs, fd, out, outLength, tmp);
    } catch (err) {
      fs.closeSync(fd);
      fs.unlinkSync(tmp);
      throw err;
    }
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
    seg.size = outLength;
    seg.dropAt = Float64Array.from(kept);
    for (const dropAt of gone) this.dropped.push(dropAt);
  }

  /** Whether the directory was fsynced; a failure is logged, and the next pass tries again. */
  private async syncDirectory(): Promise<boolean> {
    try {
      await syncDirectory(this.opts.fs, this.opts.dir);
      return true;
    } catch (err) {
      this.opts.logger.error({ err }, 'cmdlog: fsync of the log directory after cleaning failed');
      return false;
    }
  }
}
