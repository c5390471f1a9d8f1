import path from 'node:path';
import type { Logger } from 'pino';
import type { Job } from '../jobs/job.js';
import type { RetryDelay } from '../jobs/retry-delay.js';
import type { Journal } from '../jobs/types.js';
import type { DropBook, SealedSegment } from './drop-book.js';
import { syncDirectory } from './durable-io.js';
import type { ManifestWriter } from './manifest.js';
import type { LogStats } from './log-stats.js';
import { HEADER, HEADER_LENGTH, RecordType, recordLength, writeRecordCrc, writeRecordHead } from './record.js';
import {
  ID_PAYLOAD_LENGTH,
  jobPayloadLength,
  queuePayloadLength,
  resultPayloadLength,
  retryAtPayloadLength,
  retryDelayPayloadLength,
  touchPayloadLength,
  writeIdPayload,
  writeJobPayload,
  writeQueuePayload,
  writeResultPayload,
  writeRetryAtPayload,
  writeRetryDelayPayload,
  writeTouchPayload,
} from './payload.js';
import { NEW_SUFFIX, segmentName } from './segment-files.js';
import type { LogFileSystem, SyncPolicy } from './types.js';

export interface AppenderOptions {
  fs: LogFileSystem;
  dir: string;
  logger: Logger;
  now: () => number;
  sync: SyncPolicy;
  syncIntervalMs: number;
  segmentSize: number;
  /** Told of every segment created. */
  manifest: ManifestWriter;
  stats: LogStats;
}

interface ActiveSegment {
  num: number;
  fd: number;
  /** Bytes in the file, all of them whole records. */
  size: number;
  /** Size at the last successful fsync: what an fsync failure rolls back to. */
  syncedSize: number;
  dropAt: number[];
}

const RETRY_MS = 1000;
const INITIAL_CAPACITY = 64 * 1024;
/** A queue buffer grown beyond this by large payloads is given back once it drains. */
const KEEP_CAPACITY = 4 * 1024 * 1024;

/**
 * The Journal: encodes each record into a queue and writes everything queued in one
 * turn of the event loop with one `write` (group commit). Records stay queued until
 * they are fsynced (or written, under 'os') so a failed write or fsync can be repeated
 * from the last durable byte (docs/command-log.md 14).
 *
 * Queue layout: `buf[0, len)` holds records from the first not yet released one;
 * `ends[i]` is the end offset of queued record i; the first `written` of them are in
 * the file, the rest are not.
 */
export class Appender implements Journal {
  onReadOnlyChange: ((readOnly: boolean) => void) | null = null;

  protected readonly opts: AppenderOptions;
  private readonly book: DropBook;
  /** Shared with the cleaner: a segment is pushed here when appending moves past it. */
  private readonly sealed: SealedSegment[];
  private resume: { num: number; size: number; dropAt: number[] } | null;
  private nextNum: number;
  private active: ActiveSegment | null = null;
  /** The segment appended to (or to be), open or not; null before the first is created. */
  private appendTo: number | null;

  private buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private len = 0;
  private ends: number[] = [];
  private drops: number[] = [];
  private written = 0;
  private writtenBytes = 0;
  /** Sequence number of queued record 0. */
  private firstSeq = 1;
  private seq = 0;
  private writtenSeq = 0;
  private durableSeq = 0;

  private waitSeq: number[] = [];
  private waitCb: (() => void)[] = [];
  private waitHead = 0;

  private flushScheduled = false;
  private syncing = false;
  private waitingForSync = false;
  private dirDirty = false;
  private syncIdle: (() => void) | null = null;
  private isReadOnly = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly flushNow = (): void => this.flush();

  constructor(opts: AppenderOptions, resume: { num: number; size: number; dropAt: number[] } | null, sealed: SealedSegment[], book: DropBook) {
    this.opts = opts;
    this.resume = resume;
    this.sealed = sealed;
    this.book = book;
    this.nextNum = resume !== null ? resume.num : 1;
    this.appendTo = resume?.num ?? null;
  }

  get lastSeq(): number {
    return this.seq;
  }

  get readOnly(): boolean {
    return this.isReadOnly;
  }

  /** The log's segments, ascending: the sealed ones and the one appended to (or to be resumed). */
  segmentNumbers(): number[] {
    const nums = this.sealed.map((seg) => seg.num);
    if (this.appendTo !== null) nums.push(this.appendTo);
    return nums.sort((a, b) => a - b);
  }

  get segmentCount(): number {
    return this.sealed.length + (this.appendTo !== null ? 1 : 0);
  }

  /** Records not yet written to the file. */
  get unwritten(): number {
    return this.ends.length - this.written;
  }

  whenDurable(seq: number, cb: () => void): void {
    if (seq <= this.durableSeq) {
      cb();
      return;
    }
    let i = this.waitSeq.length;
    this.waitSeq.push(seq);
    this.waitCb.push(cb);
    // Callers register in sequence order; keep the rare out-of-order one sorted.
    while (i > this.waitHead && this.waitSeq[i - 1]! > seq) {
      this.waitSeq[i] = this.waitSeq[i - 1]!;
      this.waitCb[i] = this.waitCb[i - 1]!;
      i--;
    }
    this.waitSeq[i] = seq;
    this.waitCb[i] = cb;
  }

  // Journal: one record per call, TIME = the moment of the change (docs/command-log.md 5).

  add(job: Job): void {
    this.appendJob(RecordType.Add, job);
  }

  schedule(job: Job): void {
    this.appendJob(RecordType.Schedule, job);
  }

  startAttempt(id: string, at: number): void {
    this.appendId(RecordType.StartAttempt, id, at);
  }

  complete(id: string, result: string): void {
    this.appendResult(RecordType.Complete, id, result);
  }

  fail(id: string, result: string): void {
    this.appendResult(RecordType.Fail, id, result);
  }

  delete(id: string): void {
    this.appendId(RecordType.Delete, id, this.opts.now());
  }

  expire(id: string): void {
    this.appendId(RecordType.Expire, id, this.opts.now());
  }

  timeoutAttempt(id: string): void {
    this.appendId(RecordType.TimeoutAttempt, id, this.opts.now());
  }

  restartFailed(id: string): void {
    this.appendId(RecordType.Retry, id, this.opts.now());
  }

  touch(id: string, ttr: number, at: number): void {
    const payloadLength = touchPayloadLength(ttr);
    const start = this.reserve(recordLength(payloadLength));
    const payloadAt = this.writeHead(start, at, payloadLength);
    const end = writeTouchPayload(this.buf, payloadAt, id, ttr);
    this.commit(start, end, this.book.other(this.buf, payloadAt + 1));
  }

  retryAt(id: string, delayMs: number, at: number): void {
    const payloadLength = retryAtPayloadLength(delayMs);
    const start = this.reserve(recordLength(payloadLength));
    const payloadAt = this.writeHead(start, at, payloadLength);
    const end = writeRetryAtPayload(this.buf, payloadAt, id, delayMs);
    this.commit(start, end, this.book.other(this.buf, payloadAt + 1));
  }

  retryDelay(id: string, delay: RetryDelay): void {
    const payloadLength = retryDelayPayloadLength(delay);
    const start = this.reserve(recordLength(payloadLength));
    const payloadAt = this.writeHead(start, this.opts.now(), payloadLength);
    const end = writeRetryDelayPayload(this.buf, payloadAt, id, delay);
    this.commit(start, end, this.book.other(this.buf, payloadAt + 1));
  }

  /** Never dropped by the cleaner: a queue's pause outlives every job (docs/protocol-extensions.md). */
  pause(name: string, paused: boolean): void {
    const payloadLength = queuePayloadLength(name);
    const start = this.reserve(recordLength(payloadLength));
    const at = this.writeHead(start, this.opts.now(), payloadLength);
    const end = writeQueuePayload(this.buf, at, paused ? RecordType.Pause : RecordType.Resume, name);
    this.commit(start, end, Infinity);
  }

  private appendJob(type: number, job: Job): void {
    const payloadLength = jobPayloadLength(job);
    const start = this.reserve(recordLength(payloadLength));
    const at = this.writeHead(start, this.opts.now(), payloadLength);
    const end = writeJobPayload(this.buf, at, type, job);
    this.commit(start, end, this.book.job(this.buf, at + 1, job.expiresAt));
  }

  private appendId(type: number, id: string, ms: number): void {
    const start = this.reserve(recordLength(ID_PAYLOAD_LENGTH));
    const at = this.writeHead(start, ms, ID_PAYLOAD_LENGTH);
    const end = writeIdPayload(this.buf, at, type, id);
    this.commit(start, end, this.book.other(this.buf, at + 1));
  }

  private appendResult(type: number, id: string, result: string): void {
    const payloadLength = resultPayloadLength(result);
    const start = this.reserve(recordLength(payloadLength));
    const at = this.writeHead(start, this.opts.now(), payloadLength);
    const end = writeResultPayload(this.buf, at, type, id, result);
    this.commit(start, end, this.book.other(this.buf, at + 1));
  }

  private writeHead(start: number, ms: number, payloadLength: number): number {
    const sec = Math.floor(ms / 1000);
    return writeRecordHead(this.buf, start, sec, Math.round((ms - sec * 1000) * 1e6), payloadLength);
  }

  /** Makes room for `n` more bytes; returns where they go. */
  private reserve(n: number): number {
    if (this.len + n > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    return this.len;
  }

  private commit(start: number, payloadEnd: number, dropAt: number): void {
    this.len = writeRecordCrc(this.buf, start, payloadEnd);
    this.ends.push(this.len);
    this.drops.push(dropAt);
    this.seq++;
    if (!this.flushScheduled && !this.closed) {
      this.flushScheduled = true;
      setImmediate(this.flushNow);
    }
  }

  /** Writes whatever is queued; runs once per event-loop turn. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.isReadOnly || this.waitingForSync || this.written === this.ends.length) return;
    if (this.writeQueued()) this.afterWrite();
  }

  /**
   * Writes every queued record, one `write` per segment touched. Returns false when it
   * stopped: read-only mode entered, or waiting for an fsync before rotating.
   */
  private writeQueued(): boolean {
    const { fs, segmentSize } = this.opts;
    try {
      while (this.written < this.ends.length) {
        let seg = this.active ?? this.openActive();
        if (seg.size >= segmentSize && seg.size > HEADER_LENGTH) {
          // A segment is sealed only once all of it is durable and no fsync uses its fd.
          if (this.syncing || (this.opts.sync !== 'os' && seg.syncedSize < seg.size)) {
            this.waitingForSync = true;
            this.startSync();
            return false;
          }
          seg = this.rotate(seg);
        }
        const ends = this.ends;
        let i = this.written;
        let size = seg.size;
        do {
          size += ends[i]! - (i === 0 ? 0 : ends[i - 1]!);
          i++;
        } while (i < ends.length && size < segmentSize);
        const from = this.writtenBytes;
        const length = ends[i - 1]! - from;
        const n = fs.writeSync(seg.fd, this.buf, from, length, seg.size);
        if (n !== length) throw Object.assign(new Error(`short write: ${n} of ${length} bytes`), { code: 'ESHORTWRITE' });
        seg.size += length;
        this.opts.stats.bytesWritten += length;
        this.writtenSeq += i - this.written;
        this.written = i;
        this.writtenBytes = ends[i - 1]!;
        if (this.opts.sync === 'os') {
          seg.syncedSize = seg.size;
          this.release(this.written, this.writtenBytes);
        }
      }
      return true;
    } catch (err) {
      this.enterReadOnly(err);
      return false;
    }
  }

  private afterWrite(): void {
    if (this.opts.sync === 'always') {
      this.startSync();
    } else {
      this.durableSeq = this.writtenSeq;
      this.fireDurable();
    }
  }

  private segmentPath(num: number): string {
    return path.join(this.opts.dir, segmentName(num));
  }

  /** Opens the segment to append to on the first append: the replayed highest one, or a new one. */
  private openActive(): ActiveSegment {
    const resume = this.resume;
    let seg: ActiveSegment;
    if (resume !== null) {
      const fd = this.opts.fs.openSync(this.segmentPath(resume.num), 'r+');
      seg = { num: resume.num, fd, size: resume.size, syncedSize: resume.size, dropAt: resume.dropAt };
      this.resume = null;
    } else {
      seg = { num: this.nextNum, fd: this.createSegment(this.nextNum), size: HEADER_LENGTH, syncedSize: HEADER_LENGTH, dropAt: [] };
    }
    this.nextNum = seg.num + 1;
    this.active = seg;
    this.appendTo = seg.num;
    if (this.opts.sync === 'interval' && this.syncTimer === null) {
      this.syncTimer = setInterval(() => this.startSync(), this.opts.syncIntervalMs);
      this.syncTimer.unref();
    }
    return seg;
  }

  /**
   * Creates segment `num` with its header under a temporary name and renames it into
   * place, so no 0–7 byte segment is ever visible (docs/command-log.md 15.6).
   */
  private createSegment(num: number): number {
    const { fs } = this.opts;
    const file = this.segmentPath(num);
    const tmp = file + NEW_SUFFIX;
    try {
      fs.unlinkSync(tmp);
    } catch {
      // Usually absent; a leftover that cannot be removed makes the open below fail.
    }
    const fd = fs.openSync(tmp, 'wx');
    try {
      const n = fs.writeSync(fd, HEADER, 0, HEADER_LENGTH, 0);
      if (n !== HEADER_LENGTH) throw Object.assign(new Error(`short write: ${n} of ${HEADER_LENGTH} bytes`), { code: 'ESHORTWRITE' });
      fs.renameSync(tmp, file);
    } catch (err) {
      fs.closeSync(fd);
      try {
        fs.unlinkSync(tmp);
      } catch {
        // Nothing more to clean up; the leftover is removed at the next start.
      }
      throw err;
    }
    if (this.opts.sync !== 'os') this.dirDirty = true;
    this.opts.manifest.update();
    return fd;
  }

  private rotate(old: ActiveSegment): ActiveSegment {
    const fd = this.createSegment(old.num + 1);
    this.opts.fs.closeSync(old.fd);
    this.sealed.push({ num: old.num, size: old.size, dropAt: Float64Array.from(old.dropAt) });
    const seg = { num: old.num + 1, fd, size: HEADER_LENGTH, syncedSize: HEADER_LENGTH, dropAt: [] };
    this.active = seg;
    this.appendTo = seg.num;
    this.nextNum = seg.num + 1;
    return seg;
  }

  /** Drops the first `count` queued records (`bytes` bytes): they are durable in the active segment. */
  private release(count: number, bytes: number): void {
    if (count === 0) return;
    const seg = this.active!;
    for (let i = 0; i < count; i++) seg.dropAt.push(this.drops[i]!);
    if (count === this.ends.length) {
      this.ends = [];
      this.drops = [];
      this.len = 0;
      if (this.buf.length > KEEP_CAPACITY) this.buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
    } else {
      this.ends.splice(0, count);
      this.drops.splice(0, count);
      for (let i = 0; i < this.ends.length; i++) this.ends[i]! -= bytes;
      this.buf.copy(this.buf, 0, bytes, this.len);
      this.len -= bytes;
    }
    this.written -= count;
    this.writtenBytes -= bytes;
    this.firstSeq += count;
  }

  /** Starts an fsync of the active segment (and the directory after a segment was created) unless one runs. */
  protected startSync(): void {
    const seg = this.active;
    if (this.syncing || seg === null) return;
    if (seg.syncedSize === seg.size && !this.dirDirty) {
      this.syncDone();
      return;
    }
    const count = this.written;
    const bytes = this.writtenBytes;
    const seq = this.writtenSeq;
    const size = seg.size;
    const dir = this.dirDirty;
    this.dirDirty = false;
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
          this.release(count, bytes);
          if (this.opts.sync === 'always' && seq > this.durableSeq) {
            this.durableSeq = seq;
            this.fireDurable();
          }
          this.syncDone();
        },
        (err: unknown) => {
          this.syncing = false;
          if (dir) this.dirDirty = true;
          // Pages whose write-back failed may be gone: rewrite everything since the last good fsync.
          seg.size = seg.syncedSize;
          this.written = 0;
          this.writtenBytes = 0;
          this.writtenSeq = this.firstSeq - 1;
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
    } else if (this.opts.sync === 'always' && this.writtenSeq > this.durableSeq && !this.syncing) {
      this.startSync();
    }
  }

  private fireDurable(): void {
    const seqs = this.waitSeq;
    const cbs = this.waitCb;
    let head = this.waitHead;
    while (head < seqs.length && seqs[head]! <= this.durableSeq) {
      const cb = cbs[head]!;
      head++;
      try {
        cb();
      } catch (err) {
        this.opts.logger.error({ err }, 'cmdlog: durability callback threw');
      }
    }
    if (head === seqs.length) {
      this.waitSeq = [];
      this.waitCb = [];
      this.waitHead = 0;
    } else if (head > 4096 && head * 2 > seqs.length) {
      this.waitSeq = seqs.slice(head);
      this.waitCb = this.waitCb.slice(head);
      this.waitHead = 0;
    } else {
      this.waitHead = head;
    }
  }

  private enterReadOnly(err: unknown): void {
    this.opts.logger.error({ err, unwrittenRecords: this.ends.length - this.written }, 'cmdlog: write failed, read-only mode until a retry succeeds');
    if (this.closed) return;
    if (this.retryTimer === null) this.retryTimer = setInterval(() => this.retry(), RETRY_MS);
    if (!this.isReadOnly) {
      this.isReadOnly = true;
      this.onReadOnlyChange?.(true);
    }
  }

  /** Cuts the active segment back to its last whole record and writes the queue again. */
  private retry(): boolean {
    if (this.syncing) return false;
    const seg = this.active;
    try {
      if (seg !== null) this.opts.fs.ftruncateSync(seg.fd, seg.size);
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
      this.onReadOnlyChange?.(false);
    }
    this.afterWrite();
    return true;
  }

  private waitSyncIdle(): Promise<void> {
    return this.syncing ? new Promise((resolve) => (this.syncIdle = resolve)) : Promise.resolve();
  }

  /** Final flush and fsync; closes the segment file. */
  protected async closeAppender(): Promise<void> {
    if (this.syncTimer !== null) clearInterval(this.syncTimer);
    if (this.retryTimer !== null) clearInterval(this.retryTimer);
    this.retryTimer = null;
    this.closed = true;
    await this.waitSyncIdle();
    this.waitingForSync = false;
    // A few attempts: crossing into a new segment may first need an fsync of the full one.
    for (let attempt = 0; attempt < 3 && this.written < this.ends.length; attempt++) {
      if (this.retry()) break;
      await this.waitSyncIdle();
    }
    await this.waitSyncIdle();
    const seg = this.active;
    if (seg !== null) {
      this.startSync();
      await this.waitSyncIdle();
      this.opts.fs.closeSync(seg.fd);
      this.active = null;
    }
    await this.opts.manifest.idle();
    const lost = this.ends.length - this.written;
    if (lost > 0) {
      this.opts.logger.error({ unwrittenRecords: lost }, 'cmdlog: closing with records that could not be written; their commands were never answered');
    }
  }
}
