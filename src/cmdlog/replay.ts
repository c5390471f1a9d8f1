import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { Logger } from 'pino';
import type { ReplayTarget, RestoreError } from '../jobs/types.js';
import type { DropBook, SealedSegment } from './drop-book.js';
import { syncDirectory, writeWholeAndSync } from './durable-io.js';
import { CmdlogCorruptError, CmdlogRefusalCode, CmdlogRefusalError, errorCode } from './errors.js';
import type { ReplayProgress } from './log-stats.js';
import { readGoTimeNsec, readGoTimeSec, toMs } from './go-time.js';
import { JOB_FIELDS, PayloadDecoder } from './payload.js';
import { HEADER, HEADER_LENGTH, RecordScanner, RecordType, type ScanStatus } from './record.js';
import { isLastRun } from './segment-check.js';
import type { SegmentRun, SegmentSource } from './segment-source.js';
import type { LogFileSystem } from './types.js';

/**
 * Share of the old generation's limit at which replay stops: past it V8 spends its time in
 * full GCs and then aborts the process, and a supervisor restarting it would only replay
 * into the same abort. Refusing with a code the supervisor treats as permanent ends that loop.
 */
const HEAP_REFUSE_SHARE = 0.8;
/**
 * heap_size_limit counts V8's young generation too (three 16 MiB semi-spaces on 64-bit),
 * which never holds replayed jobs for long: measured, --max-old-space-size=64 gives a
 * heap_size_limit of 112 MiB and 384 gives 432, and the process aborted at 63 MiB used.
 * On a smaller young generation the guard only refuses a little early.
 */
const YOUNG_GENERATION_BYTES = 48 * 1024 * 1024;

function checkHeap(file: string, records: number): void {
  const heap = getHeapStatistics();
  const oldLimit = heap.heap_size_limit - YOUNG_GENERATION_BYTES;
  if (heap.used_heap_size < oldLimit * HEAP_REFUSE_SHARE) return;
  const mib = (bytes: number): number => Math.round(bytes / (1024 * 1024));
  throw new CmdlogRefusalError(
    CmdlogRefusalCode.HeapLimit,
    file,
    `cmdlog replay stopped after ${records} records in ${file}: the heap holds ${mib(heap.used_heap_size)} MiB of the ${mib(oldLimit)} MiB its limit leaves for jobs, so this log does not fit. Raise limits.maxJobMemoryBytes (the supervisor sizes each server's heap from it) or, for a standalone server, node --max-old-space-size, then start again (docs/operations.md, Memory budget)`,
  );
}

export interface ReplayContext {
  fs: LogFileSystem;
  dir: string;
  logger: Logger;
  /** Replay start: add/schedule records expired by then are skipped. */
  now: number;
  /** The highest segment's number: the only one whose damaged end is repaired. */
  highest: number;
  /** Updated as replay goes, for the metrics. */
  progress: ReplayProgress;
  /**
   * A pre-read (pre-read.ts): the directory belongs to a server still appending, so
   * nothing is repaired and the highest segment is read up to its last whole record;
   * what follows (a record being written, or damage) is left to the replay of the tail,
   * which judges it as a full replay would.
   */
  preRead?: boolean;
}

/** Where the replay of a log's tail takes up the pre-read's work (pre-read.ts). */
export interface ReplayResume {
  /** The segments the pre-read replayed whole, sealed then. */
  sealed: SealedSegment[];
  /** Droppable-after instants of the records the pre-read replayed in the first segment of the tail. */
  dropAt: number[];
  /** The bytes the pre-read read last, right before where the tail starts: still there, or the file changed. */
  endBytes: Buffer;
}

/** The log is not the one the pre-read saw: the tail cannot continue it (pre-read.ts replays it whole instead). */
export class PreReadChangedError extends Error {
  readonly code = 'EPREREADCHANGED';
}

/** The highest segment after replay: where appending continues. */
export interface HighestSegment {
  num: number;
  size: number;
  dropAt: number[];
  /** In a pre-read: the last bytes read (up to END_BYTES), which the tail finds again before its start. */
  endBytes: Buffer;
}

/** How many of the pre-read's last bytes the tail compares before it goes on. */
const END_BYTES = 4096;

export interface ReplayResult {
  sealed: SealedSegment[];
  highest: HighestSegment | null;
  records: number;
  /** Every replayed record noted, pruned to the expirations still to come. */
  book: DropBook;
}

const RESTORE_MESSAGES: Record<RestoreError, string> = {
  'already-leased': 'Job already leased',
  'already-processed': 'Job already processed',
  'max-attempts': 'Max attempts reached',
  'duplicate-result': 'Duplicate result',
};

const SCAN_MESSAGES: Record<Exclude<ScanStatus, 'ok'>, string> = {
  torn: 'unexpected EOF',
  'crc-mismatch': 'crc mismatch',
  'size-too-large': 'record size above 2 MiB',
  'size-overflow': 'binary: varint overflows a 64-bit integer',
};

/** How often replay lets the event loop run (the directory lock refreshes on a timer). */
const YIELD_EVERY_MS = 50;
const PROGRESS_EVERY_MS = 2000;

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Replays the segments of `source` (ascending) into the engine (docs/command-log.md 10),
 * repairing a torn tail or a short file only in the highest segment. The source reads
 * each segment and checks its records (sizes, CRCs, the drop book) before they are
 * replayed; replay decodes and applies the records it found whole.
 */
export async function replaySegments(
  ctx: ReplayContext,
  source: SegmentSource,
  engine: ReplayTarget,
  resume: ReplayResume | null = null,
): Promise<ReplayResult> {
  try {
    return await replayFrom(ctx, source, engine, resume);
  } finally {
    await source.close();
  }
}

async function replayFrom(ctx: ReplayContext, source: SegmentSource, engine: ReplayTarget, resume: ReplayResume | null): Promise<ReplayResult> {
  const started = performance.now();
  const { progress } = ctx;
  progress.startedAt = started;
  let bytesBefore = 0;
  const sealed: SealedSegment[] = resume === null ? [] : resume.sealed.slice();
  let highest: HighestSegment | null = null;
  let records = 0;
  let segments = 0;
  let lastYield = started;
  let lastProgress = started;
  const scanner = new RecordScanner();
  const decoder = new PayloadDecoder();

  for (let segment = await source.next(); segment !== null; segment = await source.next()) {
    // Offsets are the file's; `buf` holds it from `base` on, the runs their records.
    const { file, buf, base, length } = segment;
    const isHighest = segment.num === ctx.highest;
    segments++;
    const resumed = segments === 1 && resume !== null && segment.from > HEADER_LENGTH;
    if (resumed && (segment.header !== 'ok' || !buf.subarray(segment.from - base - resume.endBytes.length, segment.from - base).equals(resume.endBytes))) {
      throw new PreReadChangedError(`${file}: its bytes before offset ${segment.from}, where the pre-read stopped, are no longer those it read`);
    }
    if (ctx.preRead === true && isHighest && segment.header !== 'ok') {
      // Being created, or damaged: the tail reads it from its start.
      highest = { num: segment.num, size: 0, dropAt: [], endBytes: Buffer.alloc(0) };
      source.done();
      continue;
    }
    // A crash between creating a segment and its header reaching the disk leaves it shorter than a header, or zero-filled.
    if (segment.header === 'short' || (segment.header === 'bad' && isHighest && isZeroFilled(buf))) {
      if (!isHighest) throw new CmdlogCorruptError(file, buf.length, `invalid segment header: ${buf.length === 0 ? 'EOF' : 'unexpected EOF'}`);
      const keptIn = buf.length > 0 ? await keepTornBytes(ctx.fs, ctx.dir, file, buf) : null;
      await rewriteAsHeader(ctx.fs, file);
      ctx.logger.warn(
        { file, bytes: buf.length, keptIn },
        'cmdlog: highest segment without its header (shorter than one, or zero-filled), rewritten as an empty segment',
      );
      highest = { num: segment.num, size: HEADER_LENGTH, dropAt: [], endBytes: Buffer.alloc(0) };
      source.done();
      continue;
    }
    if (segment.header === 'bad') throw new CmdlogCorruptError(file, 0, 'invalid segment header');

    // The runs' droppable-after values of the records replayed, joined once the segment is done.
    const dropAtRuns: Float64Array[] = [];
    let pos = segment.from;
    let run: SegmentRun;
    do {
      run = await source.run();
      const { bytes, dropAt: runDropAt, jobs } = run;
      const runBase = run.base;
      const end = run.goodEnd - runBase;
      let r = 0;
      for (let p = pos - runBase; p < end; r++) {
        scanner.frame(bytes, p, end);
        if (bytes[p] !== 1) throw new CmdlogCorruptError(file, runBase + p, 'Time.UnmarshalBinary: unsupported version');
        if (jobs === null || !decoder.adoptJob(bytes, scanner.payloadStart, jobs, r * JOB_FIELDS)) {
          const error = decoder.decode(bytes, scanner.payloadStart, scanner.payloadEnd);
          if (error !== null) throw new CmdlogCorruptError(file, runBase + p, error);
        }
        applyRecord(ctx, engine, decoder, bytes, file, p, runBase);
        p = scanner.next;
        pos = runBase + p;
        records++;
        if ((records & 1023) === 0) {
          checkHeap(file, records);
          const t = performance.now();
          if (t - lastYield >= YIELD_EVERY_MS) {
            progress.records = records;
            progress.bytesDone = bytesBefore + pos - base;
            if (t - lastProgress >= PROGRESS_EVERY_MS) {
              ctx.logger.info({ records, segment: file, recordsPerSec: Math.round((records * 1000) / (t - started)) }, 'cmdlog: replaying');
              lastProgress = t;
            }
            await yieldToLoop();
            lastYield = performance.now();
          }
        }
      }
      dropAtRuns.push(runDropAt.subarray(0, r));
    } while (!isLastRun(run, length));
    const dropAt = joined(resumed ? resume.dropAt : [], dropAtRuns);

    let size = length;
    if (run.failure !== null && ctx.preRead === true && isHighest) {
      size = pos;
    } else if (run.failure !== null) {
      if (!isHighest) throw new CmdlogCorruptError(file, pos, SCAN_MESSAGES[run.failure]);
      if (!run.tornTail) throw new CmdlogCorruptError(file, pos, `${SCAN_MESSAGES[run.failure]}, and whole records follow: damage, not a torn tail`);
      const keptIn = await keepTornBytes(ctx.fs, ctx.dir, file, run.bytes.subarray(pos - run.base));
      await truncateFile(ctx.fs, file, pos);
      ctx.logger.warn(
        { file, offset: pos, bytesDropped: length - pos, keptIn },
        `cmdlog: torn record at the end of the log removed, its bytes kept in ${keptIn}`,
      );
      size = pos;
    }
    if (isHighest)
      highest = {
        num: segment.num,
        size,
        // Appending goes on in this segment: its list grows.
        dropAt: Array.from(dropAt),
        endBytes:
          ctx.preRead === true
            ? Buffer.from(run.bytes.subarray(Math.max(0, HEADER_LENGTH - run.base, size - run.base - END_BYTES), size - run.base))
            : Buffer.alloc(0),
      };
    else sealed.push({ num: segment.num, size, dropAt });
    bytesBefore += length - base;
    progress.bytesDone = bytesBefore;
    progress.records = records;
    source.done();
  }
  engine.restoreDone();
  const book = await source.book();
  book.prune(ctx.now);
  progress.endedAt = performance.now();
  progress.records = records;
  const ms = progress.endedAt - started;
  ctx.logger.info(
    { records, segments, ms: Math.round(ms), recordsPerSec: ms > 0 ? Math.round((records * 1000) / ms) : records, worker: source.inWorker },
    'cmdlog: replay done',
  );
  return { sealed, highest, records, book };
}

/** `first`, then every run's values, in one array: a push per record cost a copy of them all each time the list grew. */
function joined(first: readonly number[], runs: Float64Array[]): Float64Array {
  let length = first.length;
  for (const run of runs) length += run.length;
  const all = new Float64Array(length);
  all.set(first);
  let at = first.length;
  for (const run of runs) {
    all.set(run, at);
    at += run.length;
  }
  return all;
}

function isZeroFilled(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Applies the record just decoded, found at `pos` of `buf`, which holds `file` from offset `base`. */
function applyRecord(ctx: ReplayContext, engine: ReplayTarget, decoder: PayloadDecoder, buf: Buffer, file: string, pos: number, base: number): void {
  let failure: RestoreError | 'unknown' | null = null;
  switch (decoder.type) {
    case RecordType.Add:
    case RecordType.Schedule:
      if (engine.restore(decoder, ctx.now) === 'replaced') {
        ctx.logger.warn({ file, offset: base + pos, id: decoder.id }, 'cmdlog: second add for a live job ID, the later record replaces the job');
      }
      break;
    case RecordType.Complete:
      failure = engine.restoreComplete(decoder.id, decoder.result);
      break;
    case RecordType.Fail:
      failure = engine.restoreFail(decoder.id, decoder.result);
      break;
    case RecordType.StartAttempt:
      failure = engine.restoreStartAttempt(decoder.id, toMs(readGoTimeSec(buf, pos), readGoTimeNsec(buf, pos)));
      break;
    case RecordType.Delete:
      engine.restoreDelete(decoder.id);
      break;
    case RecordType.Expire:
      engine.restoreExpire(decoder.id);
      break;
    case RecordType.TimeoutAttempt:
      engine.restoreTimeoutAttempt(decoder.id);
      break;
    case RecordType.Touch:
      engine.restoreTouch(decoder.id, decoder.ttr, toMs(readGoTimeSec(buf, pos), readGoTimeNsec(buf, pos)));
      break;
    case RecordType.Pause:
    case RecordType.Resume:
      engine.restorePause(decoder.queue, decoder.type === RecordType.Pause);
      break;
    case RecordType.RetryAt:
      engine.restoreRetryAt(decoder.id, decoder.delayMs, toMs(readGoTimeSec(buf, pos), readGoTimeNsec(buf, pos)));
      break;
    case RecordType.RetryDelay:
      engine.restoreRetryDelay(decoder.id, decoder.retryDelay!);
      break;
    case RecordType.Retry:
      engine.restoreRetry(decoder.id, toMs(readGoTimeSec(buf, pos), readGoTimeNsec(buf, pos)));
      break;
  }
  if (failure !== null && failure !== 'unknown') throw new CmdlogCorruptError(file, base + pos, RESTORE_MESSAGES[failure]);
}

/**
 * Keeps bytes about to be cut from `file` in `<file>.torn` (`.torn.2`, … when that
 * exists), fsynced with its directory entry, so that no repair ever destroys data:
 * were the judgement wrong, the bytes can be put back. Returns the file's path.
 */
async function keepTornBytes(fs: LogFileSystem, dir: string, file: string, bytes: Buffer): Promise<string> {
  for (let n = 1; ; n++) {
    const torn = n === 1 ? `${file}.torn` : `${file}.torn.${n}`;
    let fd: number;
    try {
      fd = fs.openSync(torn, 'wx');
    } catch (err) {
      if (errorCode(err) === 'EEXIST') continue;
      throw err;
    }
    try {
      await writeWholeAndSync(fs, fd, bytes, bytes.length, torn);
    } finally {
      fs.closeSync(fd);
    }
    await syncDirectory(fs, dir);
    return torn;
  }
}

/** Cuts a torn tail off the highest segment, durably. */
async function truncateFile(fs: LogFileSystem, file: string, length: number): Promise<void> {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.ftruncateSync(fd, length);
    await fs.fsync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Replaces a 0–7 byte highest segment (a crash between create and header) by a bare header. */
async function rewriteAsHeader(fs: LogFileSystem, file: string): Promise<void> {
  const tmp = `${file}.new`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, HEADER, 0, HEADER_LENGTH, 0);
    await fs.fsync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
