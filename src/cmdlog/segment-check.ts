import type { DropBook } from './drop-book.js';
import { isQueueRecord, payloadExpiresAt } from './payload.js';
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
  /** The failure is in the last record and nothing follows it: what a crash mid-write leaves. */
  tornTail: boolean;
  /** Droppable-after instant of each good record of the run, in file order (DropBook). */
  dropAt: Float64Array;
}

/** True when no record of the segment comes after this run. */
export function isLastRun(run: RecordRun, segmentLength: number): boolean {
  return run.failure !== null || run.goodEnd >= segmentLength;
}

/**
 * Checks the sizes and CRCs of the records from `from` on, up to the first one that
 * ends at or after `until`, and notes each in the drop book. Decoding and applying them
 * is left to replay, which then needs only their bounds: this part can run in another
 * thread while replay applies the run before.
 */
export function checkRecords(buf: Buffer, from: number, until: number, book: DropBook): RecordRun {
  const end = buf.length;
  const stop = Math.min(until, end);
  const scanner = new RecordScanner();
  const dropAt: number[] = [];
  let pos = from;
  let failure: Exclude<ScanStatus, 'ok'> | null = null;
  let tornTail = false;
  while (pos < stop) {
    const status = scanner.scan(buf, pos, end);
    if (status !== 'ok') {
      failure = status;
      tornTail = status === 'torn' || (status === 'crc-mismatch' && scanner.next === end);
      break;
    }
    const start = scanner.payloadStart;
    const type = buf[start];
    // A payload too short to decode, or of an unknown type, stops replay there: its entry is never used.
    if (type === RecordType.Add || type === RecordType.Schedule) dropAt.push(book.job(buf, start + 1, payloadExpiresAt(buf, start, scanner.payloadEnd)));
    else if (isQueueRecord(type!)) dropAt.push(Infinity);
    else dropAt.push(book.other(buf, start + 1));
    pos = scanner.next;
  }
  return { goodEnd: pos, failure, tornTail, dropAt: Float64Array.from(dropAt) };
}
