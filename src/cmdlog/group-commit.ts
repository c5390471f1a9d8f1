import type { Logger } from 'pino';
import { syncDirectory } from './durable-io.js';
import type { DropBook } from './drop-book.js';
import type { DurableWaiters } from './durable-waiters.js';
import type { LogStats } from './log-stats.js';
import { HEADER_LENGTH } from './record.js';
import type { RecordQueue } from './record-queue.js';
import type { ActiveSegment, SegmentWriter } from './segment-writer.js';
import type { LogFileSystem, SyncPolicy } from './types.js';

export interface GroupCommitOptions {
  fs: LogFileSystem;
  dir: string;
  logger: Logger;
  sync: SyncPolicy;
  syncIntervalMs: number;
  segmentSize: number;
  stats: LogStats;
  /** Told when read-only mode is entered (true) and left (false). */
  readOnlyChanged: (readOnly: boolean) => void;
}

const RETRY_MS = 1000;

/**
 * Moves queued records into the segments and makes them durable: everything queued in
 * one turn of the event loop goes out with one `write` (group commit), fsyncs follow
 * the sync policy, and a failed write or fsync holds the log read-only, retrying every
 * second from the last durable byte (docs/command-log.md 14), until one succeeds.
 */
export class GroupCommit {
  private flushScheduled = false;
  private syncing = false;
  private waitingForSync = false;
  private syncIdle: (() => void) | null = null;
  private isReadOnly = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly flushNow = (): void => this.flush();

  constructor(
    private readonly opts: GroupCommitOptions,
    private readonly queue: RecordQueue,
    private readonly segments: SegmentWriter,
    private readonly waiters: DurableWaiters,
    private readonly book: DropBook,
  ) {}

  get readOnly(): boolean {
    return this.isReadOnly;
  }

  /** A record was queued: write it at the end of this event-loop turn, with the others of the turn. */
  readonly queued = (): void => {
    if (!this.flushScheduled && !this.closed) {
      this.flushScheduled = true;
      setImmediate(this.flushNow);
    }
  };

  /** Writes whatever is queued; runs once per event-loop turn. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.isReadOnly || this.waitingForSync || this.queue.unwritten === 0) return;
    if (this.writeQueued()) this.afterWrite();
  }

  /**
   * Writes every queued record, one `write` per segment touched. Returns false when it
   * stopped: read-only mode entered, or waiting for an fsync before rotating.
   */
  private writeQueued(): boolean {
    const { segmentSize } = this.opts;
    const queue = this.queue;
    try {
      while (queue.written < queue.length) {
        let seg = this.segments.active ?? this.openActive();
        if (seg.size >= segmentSize && seg.size > HEADER_LENGTH) {
          // A segment is sealed only once all of it is durable and no fsync uses its fd.
          if (this.syncing || (this.opts.sync !== 'os' && seg.syncedSize < seg.size)) {
            this.waitingForSync = true;
            this.startSync();
            return false;
          }
          seg = this.segments.rotate(seg);
        }
        const i = queue.runEnd(seg.size, segmentSize);
        const from = queue.writtenBytes;
        const length = queue.endOf(i - 1) - from;
        this.segments.write(seg, queue.buf, from, length);
        this.opts.stats.bytesWritten += length;
        queue.markWritten(i);
        if (this.opts.sync === 'os') {
          seg.syncedSize = seg.size;
          queue.release(queue.written, queue.writtenBytes, seg.dropAt, this.book);
        }
      }
      return true;
    } catch (err) {
      this.enterReadOnly(err);
      return false;
    }
  }

  private openActive(): ActiveSegment {
    const seg = this.segments.openActive();
    if (this.opts.sync === 'interval' && this.syncTimer === null) {
      this.syncTimer = setInterval(() => this.startSync(), this.opts.syncIntervalMs);
      this.syncTimer.unref();
    }
    return seg;
  }

  private afterWrite(): void {
    if (this.opts.sync === 'always') this.startSync();
    else this.waiters.reach(this.queue.writtenSeq);
  }

  /** Starts an fsync of the active segment (and the directory after a segment was created) unless one runs. */
  private startSync(): void {
    const seg = this.segments.active;
    if (this.syncing || seg === null) return;
    if (seg.syncedSize === seg.size && !this.segments.dirDirty) {
      this.syncDone();
      return;
    }
    const queue = this.queue;
    const count = queue.written;
    const bytes = queue.writtenBytes;
    const seq = queue.writtenSeq;
    const size = seg.size;
    const dir = this.segments.dirDirty;
    this.segments.dirDirty = false;
    this.syncing = true;
    const started = performance.now();
    this.opts.fs
      .fsync(seg.fd)
      .then(() => (dir ? syncDirectory(this.opts.fs, this.opts.dir) : undefined))
      .then(
        () => {
          this.syncing = false;
          this.opts.stats.fsyncSeconds.observe((performance.now() - started) / 1000);
          seg.syncedSize = size;
          queue.release(count, bytes, seg.dropAt, this.book);
          if (this.opts.sync === 'always' && seq > this.waiters.durableSeq) this.waiters.reach(seq);
          this.syncDone();
        },
        (err: unknown) => {
          this.syncing = false;
          if (dir) this.segments.dirDirty = true;
          // Pages whose write-back failed may be gone: rewrite everything since the last good fsync.
          seg.size = seg.syncedSize;
          queue.rewind();
          this.enterReadOnly(err);
          this.syncDone();
        },
      );
  }

  private syncDone(): void {
    if (this.syncIdle !== null) {
      const idle = this.syncIdle;
      this.syncIdle = null;
      idle();
      return;
    }
    if (this.waitingForSync) {
      this.waitingForSync = false;
      this.flush();
    } else if (this.opts.sync === 'always' && this.queue.writtenSeq > this.waiters.durableSeq && !this.syncing) {
      this.startSync();
    }
  }

  private enterReadOnly(err: unknown): void {
    this.opts.logger.error({ err, unwrittenRecords: this.queue.unwritten }, 'cmdlog: write failed, read-only mode until a retry succeeds');
    if (this.closed) return;
    if (this.retryTimer === null) this.retryTimer = setInterval(() => this.retry(), RETRY_MS);
    if (!this.isReadOnly) {
      this.isReadOnly = true;
      this.opts.readOnlyChanged(true);
    }
  }

  /** Cuts the active segment back to its last whole record and writes the queue again. */
  private retry(): boolean {
    if (this.syncing) return false;
    try {
      this.segments.truncateActive();
    } catch (err) {
      this.opts.logger.error({ err }, 'cmdlog: truncating the segment before a retry failed');
      return false;
    }
    if (!this.writeQueued()) return false;
    if (this.retryTimer !== null) clearInterval(this.retryTimer);
    this.retryTimer = null;
    if (this.isReadOnly) {
      this.isReadOnly = false;
      this.opts.logger.info('cmdlog: write succeeded again, leaving read-only mode');
      this.opts.readOnlyChanged(false);
    }
    this.afterWrite();
    return true;
  }

  private waitSyncIdle(): Promise<void> {
    return this.syncing ? new Promise((resolve) => (this.syncIdle = resolve)) : Promise.resolve();
  }

  /** Final write and fsync; closes the segment file. Records that cannot be written are logged as lost. */
  async close(): Promise<void> {
    if (this.syncTimer !== null) clearInterval(this.syncTimer);
    if (this.retryTimer !== null) clearInterval(this.retryTimer);
    this.retryTimer = null;
    this.closed = true;
    await this.waitSyncIdle();
    this.waitingForSync = false;
    // A few attempts: crossing into a new segment may first need an fsync of the full one.
    for (let attempt = 0; attempt < 3 && this.queue.unwritten > 0; attempt++) {
      if (this.retry()) break;
      await this.waitSyncIdle();
    }
    await this.waitSyncIdle();
    if (this.segments.active !== null) {
      this.startSync();
      await this.waitSyncIdle();
      this.segments.closeActive();
    }
    const lost = this.queue.unwritten;
    if (lost > 0) {
      this.opts.logger.error({ unwrittenRecords: lost }, 'cmdlog: closing with records that could not be written; their commands were never answered');
    }
  }
}
