import type { DropBook } from './drop-book.js';
import { isQueueRecord, JOB_FIELDS, markNotDecoded, type PayloadDecoder, payloadExpiresAt } from './payload.js';
import { HEADER, HEADER_LENGTH, RecordScanner, RecordType, type ScanStatus } from './record.js';

/** 'short': fewer bytes than a header; 'bad': not our header. */
export type HeaderCheck = 'ok' | 'short' | 'bad';

export function checkHeader(buf: Buffer): HeaderCheck {
  if (buf.length < HEADER_LENGTH) return 'short';
  return buf.subarray(0, HEADER_LENGTH).equals(HEADER) ? 'ok' : 'bad';
}

/** A run of consecutive records of one segment, checked. */
export interface RecordRun {
  /** Where the run's whole, CRC-checked records end: where the failure is, if there is one. */
  goodEnd: number;
  /** Why the record at goodEnd cannot be read; null when there is none. */
  failure: Exclude<ScanStatus, 'ok'> | null;
  /** The failure is what a crash mid-write can leave (isTornTail); judged on the whole rest of the buffer. */
  tornTail: boolean;
  /** Droppable-after value of each good record of the run, in file order (DropBook). */
  dropAt: Float64Array;
  /**
   * With a JobDecoding: JOB_FIELDS numbers per good record, in file order, those of each
   * add/schedule record that decoded (PayloadDecoder.writeJobFields), the others marked
   * as not decoded (markNotDecoded).
   */
  jobs: Float64Array | null;
}

/** Where checkRecords decodes the jobs of a run: `fields` to start with, grown (replaced) when short. */
export interface JobDecoding {
  decoder: PayloadDecoder;
  fields: Float64Array;
}

/** TIME, a one-byte SIZE, no payload, CRC: the shortest a whole record can be. */
const MIN_RECORD_LENGTH = 15 + 1 + 4;

/**
 * Whether the bytes from `pos` (where a record is cut short or fails its CRC) to the end
 * of `buf` are what a crash can leave at the end of a log: at most the last write's
 * bytes, of which only a prefix, or a zero-filled stretch (some file systems extend the
 * file before its data lands), reached the disk. Such a tail holds no whole record. A
 * whole, CRC-checked record anywhere after `pos` means the log went on past the damage
 * (a flipped bit in a SIZE, a bad CRC in the middle): its records were acknowledged, and
 * cutting there would lose them.
 */
export function isTornTail(buf: Buffer, pos: number): boolean {
  const scanner = new RecordScanner();
  const last = buf.length - MIN_RECORD_LENGTH;
  for (let p = buf.indexOf(1, pos + 1); p >= 0 && p <= last; p = buf.indexOf(1, p + 1)) {
    // A record starts with TIME version 1 and seconds since year 1 below 2^40 (year 36812).
    if (buf[p + 1] === 0 && buf[p + 2] === 0 && buf[p + 3] === 0 && scanner.scan(buf, p, buf.length) === 'ok') return false;
  }
  return true;
}

/** True when no record of the segment comes after this run. */
export function isLastRun(run: RecordRun, segmentLength: number): boolean {
  return run.failure !== null || run.goodEnd >= segmentLength;
}

/**
 * Checks the sizes and CRCs of the records from `from` on, up to the first one that
 * ends at or after `until`, and notes each in the drop book. Applying them is left to
 * replay, which then needs only their bounds: this part can run in another thread
 * while replay applies the run before. Given a JobDecoding, it also decodes the jobs the
 * records add, which replay then takes up from `jobs`.
 */
export function checkRecords(buf: Buffer, from: number, until: number, book: DropBook, decoding: JobDecoding | null = null): RecordRun {
  const end = buf.length;
  const stop = Math.min(until, end);
  const scanner = new RecordScanner();
  const dropAt: number[] = [];
  const decoder = decoding?.decoder ?? null;
  let jobs = decoding?.fields ?? null;
  let pos = from;
  let failure: Exclude<ScanStatus, 'ok'> | null = null;
  let tornTail = false;
  while (pos < stop) {
    const status = scanner.scan(buf, pos, end);
    if (status !== 'ok') {
      failure = status;
      tornTail = (status === 'torn' || status === 'crc-mismatch') && isTornTail(buf, pos);
      break;
    }
    const start = scanner.payloadStart;
    const type = buf[start];
    // A payload too short to decode, or of an unknown type, stops replay there: its entry is never used.
    const at = dropAt.length * JOB_FIELDS;
    if (jobs !== null) {
      // Fields reused from an earlier run hold its jobs: every record's are written or marked.
      if (at + JOB_FIELDS > jobs.length) jobs = grown(jobs);
      markNotDecoded(jobs, at);
    }
    if (type === RecordType.Add || type === RecordType.Schedule) {
      if (jobs !== null && decoder !== null && decoder.decode(buf, start, scanner.payloadEnd) === null) {
        dropAt.push(book.job(buf, start + 1, decoder.expiresAt));
        decoder.writeJobFields(jobs, at, book.jobBeganLife);
      } else {
        dropAt.push(book.job(buf, start + 1, payloadExpiresAt(buf, start, scanner.payloadEnd)));
      }
    } else if (isQueueRecord(type!)) dropAt.push(Infinity);
    else if (type === RecordType.Delete || type === RecordType.Expire) {
      // In the file already: durable once the log is opened (openCommandLog fsyncs the highest segment).
      const end = book.end(buf, start + 1);
      book.durable(end);
      dropAt.push(end);
    } else dropAt.push(book.other(buf, start + 1));
    pos = scanner.next;
  }
  return { goodEnd: pos, failure, tornTail, dropAt: Float64Array.from(dropAt), jobs };
}

function grown(jobs: Float64Array): Float64Array {
  const more = new Float64Array(Math.max(2 * jobs.length, 1024 * JOB_FIELDS));
  more.set(jobs);
  return more;
}
