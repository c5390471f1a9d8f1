import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { EngineApi, RestoreError } from '../jobs/types.js';
import type { DropBook, SealedSegment } from './drop-book.js';
import { CmdlogCorruptError } from './errors.js';
import { readGoTimeNsec, readGoTimeSec, toMs } from './go-time.js';
import { PayloadDecoder, jobExpiresAt } from './payload.js';
import { HEADER, HEADER_LENGTH, RecordScanner, RecordType, type ScanStatus } from './record.js';
import { segmentName } from './segment-files.js';
import type { LogFileSystem } from './types.js';

export interface ReplayContext {
  fs: LogFileSystem;
  dir: string;
  logger: Logger;
  /** Replay start: add/schedule records expired by then are skipped. */
  now: number;
}

/** The highest segment after replay: where appending continues. */
export interface HighestSegment {
  num: number;
  size: number;
  dropAt: number[];
}

export interface ReplayResult {
  sealed: SealedSegment[];
  highest: HighestSegment | null;
  records: number;
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
 * Replays segments `nums` (ascending) into the engine (CMDLOG.md 10), repairing a torn
 * tail or a short file only in the highest segment, and computes every record's
 * droppable-after instant for the cleaner.
 */
export async function replaySegments(ctx: ReplayContext, nums: number[], engine: EngineApi, book: DropBook): Promise<ReplayResult> {
  const started = performance.now();
  const sealed: SealedSegment[] = [];
  let highest: HighestSegment | null = null;
  let records = 0;
  let lastYield = started;
  let lastProgress = started;
  const scanner = new RecordScanner();
  const decoder = new PayloadDecoder();
  const files = nums.map((num) => path.join(ctx.dir, segmentName(num)));
  let next: Promise<Buffer> | null = files.length > 0 ? ctx.fs.readFile(files[0]!) : null;

  for (let s = 0; s < files.length; s++) {
    const file = files[s]!;
    const isHighest = s === files.length - 1;
    let buf = await next!;
    // Read the next segment while this one is decoded.
    next = isHighest ? null : ctx.fs.readFile(files[s + 1]!);
    next?.catch(() => undefined);

    if (buf.length < HEADER_LENGTH) {
      if (!isHighest) throw new CmdlogCorruptError(file, buf.length, `invalid segment header: ${buf.length === 0 ? 'EOF' : 'unexpected EOF'}`);
      await rewriteAsHeader(ctx.fs, file);
      ctx.logger.warn({ file, bytes: buf.length }, 'cmdlog: highest segment shorter than its header, rewritten as an empty segment');
      buf = HEADER;
    } else if (!buf.subarray(0, HEADER_LENGTH).equals(HEADER)) {
      throw new CmdlogCorruptError(file, 0, 'invalid segment header');
    }

    const dropAt: number[] = [];
    const end = buf.length;
    let pos = HEADER_LENGTH;
    while (pos < end) {
      const status = scanner.scan(buf, pos, end);
      if (status !== 'ok') {
        const tornTail = status === 'torn' || (status === 'crc-mismatch' && scanner.next === end);
        if (!(tornTail && isHighest)) throw new CmdlogCorruptError(file, pos, SCAN_MESSAGES[status]);
        await truncateFile(ctx.fs, file, pos);
        ctx.logger.warn({ file, offset: pos, bytesDropped: end - pos }, 'cmdlog: torn record at the end of the log removed');
        break;
      }
      if (buf[pos] !== 1) throw new CmdlogCorruptError(file, pos, 'Time.UnmarshalBinary: unsupported version');
      const error = decoder.decode(buf, scanner.payloadStart, scanner.payloadEnd);
      if (error !== null) throw new CmdlogCorruptError(file, pos, error);
      const { id, idAt } = decoder;
      let failure: RestoreError | 'unknown' | null = null;
      switch (decoder.type) {
        case RecordType.Add:
        case RecordType.Schedule: {
          const job = decoder.job!;
          dropAt.push(book.job(buf, idAt, jobExpiresAt(job)));
          if (engine.restore(job, ctx.now) === 'replaced') {
            ctx.logger.warn({ file, offset: pos, id }, 'cmdlog: second add for a live job ID, the later record replaces the job');
          }
          break;
        }
        case RecordType.Complete:
          dropAt.push(book.other(buf, idAt));
          failure = engine.restoreComplete(id, decoder.result);
          break;
        case RecordType.Fail:
          dropAt.push(book.other(buf, idAt));
          failure = engine.restoreFail(id, decoder.result);
          break;
        case RecordType.StartAttempt:
          dropAt.push(book.other(buf, idAt));
          failure = engine.restoreStartAttempt(id, toMs(readGoTimeSec(buf, pos), readGoTimeNsec(buf, pos)));
          break;
        case RecordType.Delete:
          dropAt.push(book.other(buf, idAt));
          engine.restoreDelete(id);
          break;
        case RecordType.Expire:
          dropAt.push(book.other(buf, idAt));
          engine.restoreExpire(id);
          break;
        case RecordType.TimeoutAttempt:
          dropAt.push(book.other(buf, idAt));
          engine.restoreTimeoutAttempt(id);
          break;
      }
      if (failure !== null && failure !== 'unknown') throw new CmdlogCorruptError(file, pos, RESTORE_MESSAGES[failure]);
      pos = scanner.next;
      records++;
      if ((records & 1023) === 0) {
        const t = performance.now();
        if (t - lastYield >= YIELD_EVERY_MS) {
          if (t - lastProgress >= PROGRESS_EVERY_MS) {
            ctx.logger.info({ records, segment: file, recordsPerSec: Math.round((records * 1000) / (t - started)) }, 'cmdlog: replaying');
            lastProgress = t;
          }
          await yieldToLoop();
          lastYield = performance.now();
        }
      }
    }
    if (isHighest) highest = { num: nums[s]!, size: Math.min(pos, end), dropAt };
    else sealed.push({ num: nums[s]!, size: end, dropAt: Float64Array.from(dropAt) });
  }
  book.prune(ctx.now);
  const ms = performance.now() - started;
  ctx.logger.info(
    { records, segments: files.length, ms: Math.round(ms), recordsPerSec: ms > 0 ? Math.round((records * 1000) / ms) : records },
    'cmdlog: replay done',
  );
  return { sealed, highest, records };
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
