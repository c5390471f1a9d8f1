import { crc32c } from './crc32c.js';
import { TIME_LENGTH, writeGoTime } from './go-time.js';
import { uvarintLength, writeUvarint } from './varint.js';

/** Segment header: `wqwq` and format version 1 (docs/command-log.md 4). */
export const HEADER = Buffer.from([0x77, 0x71, 0x77, 0x71, 0x00, 0x00, 0x00, 0x01]);
export const HEADER_LENGTH = 8;
/** A SIZE above this is corruption, not a record (docs/command-log.md 10.3). */
export const MAX_PAYLOAD_SIZE = 2 * 1024 * 1024;
const CRC_LENGTH = 4;

/** Record type bytes (docs/command-log.md 7). */
export const RecordType = {
  Add: 1,
  Schedule: 2,
  Complete: 3,
  Fail: 4,
  Delete: 5,
  Expire: 6,
  StartAttempt: 7,
  TimeoutAttempt: 8,
  /** Extensions (docs/protocol-extensions.md): the original refuses a log holding them. */
  Touch: 9,
  Pause: 10,
  Resume: 11,
  RetryAt: 12,
  RetryDelay: 13,
  Retry: 14,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** Total bytes of a record whose payload is `payloadLength` bytes. */
export function recordLength(payloadLength: number): number {
  return TIME_LENGTH + uvarintLength(payloadLength) + payloadLength + CRC_LENGTH;
}

/** Writes TIME and SIZE at `off`; returns where the payload goes. */
export function writeRecordHead(buf: Buffer, off: number, sec: number, nsec: number, payloadLength: number): number {
  return writeUvarint(buf, writeGoTime(buf, off, sec, nsec), payloadLength);
}

/** Appends the CRC of `buf[start, payloadEnd)`; returns the record's end. */
export function writeRecordCrc(buf: Buffer, start: number, payloadEnd: number): number {
  buf.writeUInt32BE(crc32c(buf, start, payloadEnd), payloadEnd);
  return payloadEnd + CRC_LENGTH;
}

export type ScanStatus = 'ok' | 'torn' | 'crc-mismatch' | 'size-too-large' | 'size-overflow';

/**
 * Finds the record starting at `pos` by its SIZE and checks its CRC. Reused for every
 * record of a segment: the fields describe the last scan.
 */
export class RecordScanner {
  payloadStart = 0;
  payloadEnd = 0;
  /** Offset of the next record (valid when the status is 'ok'). */
  next = 0;

  scan(buf: Buffer, pos: number, end: number): ScanStatus {
    const status = this.frame(buf, pos, end);
    if (status !== 'ok') return status;
    if (crc32c(buf, pos, this.payloadEnd) !== buf.readUInt32BE(this.payloadEnd)) return 'crc-mismatch';
    return 'ok';
  }

  /** Finds the record's bounds by its SIZE without checking its CRC (for bytes already checked). */
  frame(buf: Buffer, pos: number, end: number): ScanStatus {
    let p = pos + TIME_LENGTH;
    if (p >= end) return 'torn';
    let size = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (p >= end) return 'torn';
      const c = buf[p++]!;
      if (i === 9 && c > 1) return 'size-overflow';
      size += (c & 0x7f) * mul;
      if (c < 0x80) break;
      mul *= 128;
    }
    if (size > MAX_PAYLOAD_SIZE) return 'size-too-large';
    const payloadEnd = p + size;
    if (payloadEnd + CRC_LENGTH > end) return 'torn';
    this.payloadStart = p;
    this.payloadEnd = payloadEnd;
    this.next = payloadEnd + CRC_LENGTH;
    return 'ok';
  }
}
