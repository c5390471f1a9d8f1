import type { RestoredJob } from '../jobs/types.js';
import { TIME_LENGTH, readGoTimeNsec, readGoTimeSec, writeGoTime } from './go-time.js';
import { idToString, isV4Id, writeId } from './job-id.js';
import { RecordType } from './record.js';
import { lowBits, uvarintLength, writeUvarint, zigzag, zigzagLow32, unzigzag32 } from './varint.js';

/** The fields an add/schedule record carries; both Job and RestoredJob have them. */
export interface JobFields {
  id: string;
  name: string;
  ttr: number;
  ttl: number;
  priority: number;
  maxAttempts: number;
  maxFails: number;
  /** latin1: one char per byte. */
  payload: string;
  createdSec: number;
  createdNsec: number;
  timeSec: number;
  timeNsec: number;
}

/** A decoded payload (CMDLOG.md 7). */
export type Payload =
  | { type: typeof RecordType.Add | typeof RecordType.Schedule; job: RestoredJob }
  | { type: typeof RecordType.Complete | typeof RecordType.Fail; id: string; result: string }
  | {
      type: typeof RecordType.Delete | typeof RecordType.Expire | typeof RecordType.StartAttempt | typeof RecordType.TimeoutAttempt;
      id: string;
    };

const MAX_NAME = 255;
const MAX_TTR = 86_400_000;
const MAX_TTL = 2_592_000_000;
const MAX_BLOCK = 1_048_576;
const ID_LENGTH = 16;

/** Name bytes accepted by the server: A-Z a-z 0-9 _ . - (PROTOCOL.md 3.3). */
const NAME_BYTE = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  NAME_BYTE[c] = /[A-Za-z0-9_.-]/.test(ch) ? 1 : 0;
}

export function jobPayloadLength(job: JobFields): number {
  const nameLength = job.name.length;
  const payloadLength = job.payload.length;
  return (
    1 + ID_LENGTH + uvarintLength(nameLength) + nameLength + uvarintLength(job.ttr) + uvarintLength(job.ttl) +
    uvarintLength(zigzag(job.priority)) + uvarintLength(job.maxAttempts) + uvarintLength(job.maxFails) +
    uvarintLength(payloadLength) + payloadLength + 2 * TIME_LENGTH
  );
}

export function writeJobPayload(buf: Buffer, off: number, type: number, job: JobFields): number {
  buf[off++] = type;
  off = writeId(buf, off, job.id);
  off = writeUvarint(buf, off, job.name.length);
  off += buf.write(job.name, off, 'latin1');
  off = writeUvarint(buf, off, job.ttr);
  off = writeUvarint(buf, off, job.ttl);
  off = writeUvarint(buf, off, zigzag(job.priority));
  off = writeUvarint(buf, off, job.maxAttempts);
  off = writeUvarint(buf, off, job.maxFails);
  off = writeUvarint(buf, off, job.payload.length);
  off += buf.write(job.payload, off, 'latin1');
  off = writeGoTime(buf, off, job.timeSec, job.timeNsec);
  return writeGoTime(buf, off, job.createdSec, job.createdNsec);
}

export const ID_PAYLOAD_LENGTH = 1 + ID_LENGTH;

export function writeIdPayload(buf: Buffer, off: number, type: number, id: string): number {
  buf[off] = type;
  return writeId(buf, off + 1, id);
}

export function resultPayloadLength(result: string): number {
  return 1 + ID_LENGTH + uvarintLength(result.length) + result.length;
}

export function writeResultPayload(buf: Buffer, off: number, type: number, id: string, result: string): number {
  buf[off] = type;
  off = writeUvarint(buf, writeId(buf, off + 1, id), result.length);
  return off + buf.write(result, off, 'latin1');
}

class DecodeError extends Error {}

/** Reads the fields of one payload in order; throws DecodeError with the original's text. */
class Reader {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  end = 0;

  need(n: number): number {
    const at = this.pos;
    if (at + n > this.end) throw new DecodeError('unexpected EOF');
    this.pos = at + n;
    return at;
  }

  uvarint(): number {
    const b = this.buf;
    let p = this.pos;
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= this.end) throw new DecodeError('unexpected EOF');
      const c = b[p++]!;
      if (i === 9 && c > 1) break;
      x += (c & 0x7f) * mul;
      if (c < 0x80) {
        this.pos = p;
        return x;
      }
      mul *= 128;
    }
    throw new DecodeError('binary: varint overflows a 64-bit integer');
  }

  /** A uvarint of which the reader keeps the low `bits` bits. */
  uvarintLow(bits: number): number {
    const start = this.pos;
    const x = this.uvarint();
    return x < 2 ** bits ? x : lowBits(this.buf, start, bits);
  }

  priority(): number {
    const start = this.pos;
    const u = this.uvarint();
    return u <= Number.MAX_SAFE_INTEGER ? unzigzag32(u) : zigzagLow32(this.buf, start);
  }

  time(): number {
    const at = this.need(TIME_LENGTH);
    const version = this.buf[at]!;
    if (version !== 1) {
      throw new DecodeError(version === 2 ? 'Time.UnmarshalBinary: invalid length' : 'Time.UnmarshalBinary: unsupported version');
    }
    return at;
  }
}

const reader = new Reader();

function decodeJob(type: typeof RecordType.Add | typeof RecordType.Schedule): Payload {
  const r = reader;
  const buf = r.buf;
  const idAt = r.need(ID_LENGTH);
  const nameLength = r.uvarint();
  const nameAt = r.need(nameLength);
  const ttr = r.uvarintLow(32);
  const ttl = r.uvarint();
  const priority = r.priority();
  const maxAttempts = r.uvarintLow(8);
  const maxFails = r.uvarintLow(8);
  const payloadLength = r.uvarint();
  const payloadAt = r.need(payloadLength);
  const timeAt = r.time();
  const createdAt = r.time();
  if (r.pos !== r.end) throw new DecodeError('trailing garbage detected');
  if (!isV4Id(buf, idAt)) throw new DecodeError('Invalid ID');
  if (nameLength < 1 || nameLength > MAX_NAME) throw new DecodeError('Invalid Name');
  for (let i = nameAt; i < nameAt + nameLength; i++) if (NAME_BYTE[buf[i]!] === 0) throw new DecodeError('Invalid Name');
  if (ttr < 1 || ttr > MAX_TTR) throw new DecodeError('Invalid TTR');
  if (ttl < 1 || ttl > MAX_TTL) throw new DecodeError('Invalid TTL');
  if (payloadLength > MAX_BLOCK) throw new DecodeError('Invalid Payload');
  const job: RestoredJob = {
    id: idToString(buf, idAt),
    name: buf.toString('latin1', nameAt, nameAt + nameLength),
    ttr,
    ttl,
    priority,
    maxAttempts,
    maxFails,
    payload: buf.toString('latin1', payloadAt, payloadAt + payloadLength),
    createdSec: readGoTimeSec(buf, createdAt),
    createdNsec: readGoTimeNsec(buf, createdAt),
    timeSec: readGoTimeSec(buf, timeAt),
    timeNsec: readGoTimeNsec(buf, timeAt),
  };
  return { type, job };
}

function decodeResult(type: typeof RecordType.Complete | typeof RecordType.Fail): Payload {
  const r = reader;
  const idAt = r.need(ID_LENGTH);
  const length = r.uvarint();
  const at = r.need(length);
  if (r.pos !== r.end) throw new DecodeError('trailing garbage detected');
  if (!isV4Id(r.buf, idAt)) throw new DecodeError('Invalid ID');
  if (length > MAX_BLOCK) throw new DecodeError('Invalid Result');
  return { type, id: idToString(r.buf, idAt), result: r.buf.toString('latin1', at, at + length) };
}

function decodeId(
  type: typeof RecordType.Delete | typeof RecordType.Expire | typeof RecordType.StartAttempt | typeof RecordType.TimeoutAttempt,
): Payload {
  const r = reader;
  const idAt = r.need(ID_LENGTH);
  if (r.pos !== r.end) throw new DecodeError('trailing garbage detected');
  if (type === RecordType.Delete && !isV4Id(r.buf, idAt)) throw new DecodeError('Invalid ID');
  return { type, id: idToString(r.buf, idAt) };
}

/**
 * Decodes and validates the payload in `buf[start, end)` like the original's replay
 * (CMDLOG.md 10.2). Returns the payload, or the reason it cannot be replayed.
 */
export function decodePayload(buf: Buffer, start: number, end: number): Payload | string {
  if (start === end) return 'EOF';
  reader.buf = buf;
  reader.pos = start + 1;
  reader.end = end;
  const type = buf[start]!;
  try {
    switch (type) {
      case RecordType.Add:
      case RecordType.Schedule:
        return decodeJob(type);
      case RecordType.Complete:
      case RecordType.Fail:
        return decodeResult(type);
      case RecordType.Delete:
      case RecordType.Expire:
      case RecordType.StartAttempt:
      case RecordType.TimeoutAttempt:
        return decodeId(type);
      default:
        return `unknown record type ${type}`;
    }
  } catch (err) {
    if (err instanceof DecodeError) return err.message;
    throw err;
  } finally {
    reader.buf = EMPTY;
  }
}

const EMPTY = Buffer.alloc(0);

/** Expiration (Unix ms) of a job record: created + ttl, or time + ttl when scheduled (Job.expiresAt). */
export function jobExpiresAt(job: JobFields): number {
  const scheduled = job.timeSec !== 0 || job.timeNsec !== 0;
  const sec = scheduled ? job.timeSec : job.createdSec;
  const nsec = scheduled ? job.timeNsec : job.createdNsec;
  return sec * 1000 + Math.floor(nsec / 1e6) + job.ttl;
}
