import { Job } from '../jobs/job.js';
import type { RetryDelay } from '../jobs/retry-delay.js';
import type { RestoredJob } from '../jobs/types.js';
import { MAX_NAME_LENGTH, NAME_BYTE } from '../protocol/vocabulary.js';
import { TIME_LENGTH, readGoTimeNsec, readGoTimeSec, toMs, writeGoTime } from './go-time.js';
import { idText } from '../jobs/id-words.js';
import { idWordAt, isV4Id, writeId } from './job-id.js';
import { RecordType } from './record.js';
import { lowBits, uvarintLength, writeUvarint, zigzag, zigzagLow32, unzigzag32 } from './varint.js';

/** The fields an add/schedule record carries: a live Job's, or a RestoredJob's (tests and tools). */
export type JobFields = Job | Readonly<RestoredJob>;

/** A decoded payload (docs/command-log.md 7). */
export type Payload =
  | { type: typeof RecordType.Add | typeof RecordType.Schedule; job: RestoredJob }
  | { type: typeof RecordType.Complete | typeof RecordType.Fail; id: string; result: string }
  | { type: IdRecordType; id: string }
  | { type: typeof RecordType.Touch; id: string; ttr: number }
  | { type: typeof RecordType.RetryAt; id: string; delayMs: number }
  | { type: typeof RecordType.RetryDelay; id: string; delay: RetryDelay }
  | { type: typeof RecordType.Pause | typeof RecordType.Resume; name: string };

type IdRecordType =
  typeof RecordType.Delete | typeof RecordType.Expire | typeof RecordType.StartAttempt | typeof RecordType.TimeoutAttempt | typeof RecordType.Retry;

const MAX_TTR = 86_400_000;
const MAX_TTL = 2_592_000_000;
const MAX_BLOCK = 1_048_576;
const ID_LENGTH = 16;

export function jobPayloadLength(job: JobFields): number {
  const nameLength = job.name.length;
  const payloadLength = job instanceof Job ? job.payloadLength : job.payload.length;
  return (
    1 +
    ID_LENGTH +
    uvarintLength(nameLength) +
    nameLength +
    uvarintLength(job.ttr) +
    uvarintLength(job.ttl) +
    uvarintLength(zigzag(job.priority)) +
    uvarintLength(job.maxAttempts) +
    uvarintLength(job.maxFails) +
    uvarintLength(payloadLength) +
    payloadLength +
    2 * TIME_LENGTH
  );
}

export function writeJobPayload(buf: Buffer, off: number, type: number, job: JobFields): number {
  buf[off++] = type;
  // A Job holds its ID as bytes: copying them spares making its text and parsing it back.
  off = job instanceof Job ? job.writeId(buf, off) : writeId(buf, off, job.id);
  off = writeUvarint(buf, off, job.name.length);
  off += buf.write(job.name, off, 'latin1');
  off = writeUvarint(buf, off, job.ttr);
  off = writeUvarint(buf, off, job.ttl);
  off = writeUvarint(buf, off, zigzag(job.priority));
  off = writeUvarint(buf, off, job.maxAttempts);
  off = writeUvarint(buf, off, job.maxFails);
  if (job instanceof Job) {
    off = writeUvarint(buf, off, job.payloadLength);
    off = job.writePayload(buf, off);
  } else {
    off = writeUvarint(buf, off, job.payload.length);
    buf.set(job.payload, off);
    off += job.payload.length;
  }
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

export function touchPayloadLength(ttr: number): number {
  return 1 + ID_LENGTH + uvarintLength(ttr);
}

/** Touch (type 9): the ID, then the lease's new length from the record's TIME. */
export function writeTouchPayload(buf: Buffer, off: number, id: string, ttr: number): number {
  buf[off] = RecordType.Touch;
  return writeUvarint(buf, writeId(buf, off + 1, id), ttr);
}

export function retryAtPayloadLength(delayMs: number): number {
  return 1 + ID_LENGTH + uvarintLength(delayMs);
}

/** Retry-at (type 12): the ID, then how long after the record's TIME the job becomes ready. */
export function writeRetryAtPayload(buf: Buffer, off: number, id: string, delayMs: number): number {
  buf[off] = RecordType.RetryAt;
  return writeUvarint(buf, writeId(buf, off + 1, id), delayMs);
}

export function retryDelayPayloadLength(delay: RetryDelay): number {
  return 1 + ID_LENGTH + uvarintLength(delay.delayMs) + uvarintLength(delay.maxDelayMs) + uvarintLength(delay.jitterPercent);
}

/** Retry-delay (type 13): the ID, then the job's own delay, cap and jitter. */
export function writeRetryDelayPayload(buf: Buffer, off: number, id: string, delay: RetryDelay): number {
  buf[off] = RecordType.RetryDelay;
  off = writeUvarint(buf, writeId(buf, off + 1, id), delay.delayMs);
  off = writeUvarint(buf, off, delay.maxDelayMs);
  return writeUvarint(buf, off, delay.jitterPercent);
}

export function queuePayloadLength(name: string): number {
  return 1 + uvarintLength(name.length) + name.length;
}

/** Pause (type 10) or resume (type 11): the queue name. */
export function writeQueuePayload(buf: Buffer, off: number, type: number, name: string): number {
  buf[off] = type;
  off = writeUvarint(buf, off + 1, name.length);
  return off + buf.write(name, off, 'latin1');
}

/** Pause and resume records name a queue, not a job: no ID follows their type byte. */
export function isQueueRecord(type: number): boolean {
  return type === RecordType.Pause || type === RecordType.Resume;
}

class DecodeError extends Error {}

/**
 * An add/schedule record's fields as numbers (PayloadDecoder.writeJobFields), JOB_FIELDS
 * per record: the replay worker decodes and checks a run's jobs where it reads them, and
 * replay takes them up without parsing the record again (adoptJob). A TTR of 0, which
 * no valid record has, marks a record that replay decodes itself.
 */
export const JOB_FIELDS = 14;
const F_TTR = 0;
const F_TTL = 1;
const F_PRIORITY = 2;
const F_MAX_ATTEMPTS = 3;
const F_MAX_FAILS = 4;
const F_NAME_AT = 5;
const F_NAME_LENGTH = 6;
const F_PAYLOAD_START = 7;
const F_PAYLOAD_END = 8;
const F_CREATED_SEC = 9;
const F_CREATED_NSEC = 10;
const F_TIME_SEC = 11;
const F_TIME_NSEC = 12;
/** 1 when the drop book had no add open for the record's ID (RestoredJob.idIsNew). */
const F_ID_IS_NEW = 13;

/** Marks the record whose fields are at `fields[at…]` as one that replay decodes itself. */
export function markNotDecoded(fields: Float64Array, at: number): void {
  fields[at + F_TTR] = 0;
}

/**
 * Decodes payloads one after another like the original's replay (docs/command-log.md 10.2): one
 * decoder serves a whole replay, and its fields describe the payload decoded last, so
 * a record costs no wrapper object, only the strings and the job it yields.
 */
export class PayloadDecoder implements RestoredJob {
  /** Record type byte. */
  type = 0;
  /** Where the 16-byte ID starts: right after the type byte in every payload. */
  idAt = 0;
  /** The ID's words (id-words.ts), as the record gave them; 0 for a pause/resume record. */
  id0 = 0;
  id1 = 0;
  id2 = 0;
  id3 = 0;
  /** The ID's text once asked for; a replayed add never asks, the engine takes the words. */
  private text: string | null = '';
  /*
   * The job of an add/schedule record: the decoder is the RestoredJob itself, so that a
   * replayed add allocates no object of its own for the engine to copy from.
   */
  name = '';
  /** Set only by adoptJob, from the checks that found no add open for the ID. */
  idIsNew = false;
  /** The TTR of an add/schedule record; the lease length of a touch record. */
  ttr = 0;
  ttl = 0;
  priority = 0;
  maxAttempts = 0;
  maxFails = 0;
  createdSec = 0;
  createdNsec = 0;
  timeSec = 0;
  timeNsec = 0;
  /** The result of a complete/fail record. */
  result = '';
  /** The delay of a retry-at record. */
  delayMs = 0;
  /** The retry delay of a retry-delay record: a new object each time. */
  retryDelay: RetryDelay | null = null;
  /** The queue of a pause/resume record. */
  queue = '';
  private buf: Buffer = EMPTY;
  private pos = 0;
  private end = 0;
  /** Most records of a log name one of a few queues: the last name's string is reused while the bytes match. */
  private lastName = '';
  /** Where the queue name of the add/schedule record just decoded lies in its buffer. */
  private nameAt = 0;
  private nameLength = 0;
  /** The payload of an add/schedule record: `payloadBuf[payloadStart, payloadEnd)`, until the next decode. */
  private payloadBuf: Buffer = EMPTY;
  private payloadStart = 0;
  private payloadEnd = 0;

  /**
   * A view of the payload of the add/schedule record just decoded, valid until the next
   * decode: the engine copies a replayed job's payload from there. A plain view, not
   * `subarray`, which makes a Buffer: 25 ns against 48 for 100 bytes.
   */
  get payload(): Uint8Array {
    const buf = this.payloadBuf;
    return new Uint8Array(buf.buffer, buf.byteOffset + this.payloadStart, this.payloadEnd - this.payloadStart);
  }

  /** Decodes and validates `buf[start, end)`; returns null, or the reason it cannot be replayed. */
  decode(buf: Buffer, start: number, end: number): string | null {
    if (start === end) return 'EOF';
    this.buf = buf;
    this.pos = start + 1;
    this.end = end;
    this.idAt = start + 1;
    this.idIsNew = false;
    this.result = '';
    this.payloadBuf = EMPTY;
    this.payloadStart = 0;
    this.payloadEnd = 0;
    const type = buf[start]!;
    this.type = type;
    try {
      switch (type) {
        case RecordType.Add:
        case RecordType.Schedule:
          this.decodeJob();
          return null;
        case RecordType.Complete:
        case RecordType.Fail:
          this.decodeResult();
          return null;
        case RecordType.Delete:
        case RecordType.Expire:
        case RecordType.StartAttempt:
        case RecordType.TimeoutAttempt:
        case RecordType.Retry:
          this.decodeId(type);
          return null;
        case RecordType.Touch:
          this.decodeTouch();
          return null;
        case RecordType.RetryAt:
          this.decodeRetryAt();
          return null;
        case RecordType.RetryDelay:
          this.decodeRetryDelay();
          return null;
        case RecordType.Pause:
        case RecordType.Resume:
          this.decodeQueue();
          return null;
        default:
          return `unknown record type ${type}`;
      }
    } catch (err) {
      if (err instanceof DecodeError) return err.message;
      throw err;
    } finally {
      this.buf = EMPTY;
    }
  }

  /**
   * Takes up the add/schedule record at `buf[start…]` from the fields that the record's
   * own decode wrote at `fields[at…]` (writeJobFields), as if it were decoded here; false
   * when they mark it as left to `decode`, or end before it.
   */
  adoptJob(buf: Buffer, start: number, fields: Float64Array, at: number): boolean {
    const ttr = fields[at + F_TTR];
    if (ttr === undefined || ttr === 0) return false;
    this.buf = buf;
    this.type = buf[start]!;
    this.idAt = start + 1;
    this.result = '';
    this.setId(buf, start + 1);
    this.nameAt = fields[at + F_NAME_AT]!;
    this.nameLength = fields[at + F_NAME_LENGTH]!;
    this.name = this.queueName(this.nameAt, this.nameLength);
    this.buf = EMPTY;
    this.ttr = ttr;
    this.ttl = fields[at + F_TTL]!;
    this.priority = fields[at + F_PRIORITY]!;
    this.maxAttempts = fields[at + F_MAX_ATTEMPTS]!;
    this.maxFails = fields[at + F_MAX_FAILS]!;
    this.payloadBuf = buf;
    this.payloadStart = fields[at + F_PAYLOAD_START]!;
    this.payloadEnd = fields[at + F_PAYLOAD_END]!;
    this.createdSec = fields[at + F_CREATED_SEC]!;
    this.createdNsec = fields[at + F_CREATED_NSEC]!;
    this.timeSec = fields[at + F_TIME_SEC]!;
    this.timeNsec = fields[at + F_TIME_NSEC]!;
    this.idIsNew = fields[at + F_ID_IS_NEW] === 1;
    return true;
  }

  /**
   * Writes the fields of the add/schedule record just decoded at `fields[at…]`, for
   * adoptJob; `idIsNew`: no add for its ID is open before it (RestoredJob.idIsNew).
   */
  writeJobFields(fields: Float64Array, at: number, idIsNew: boolean): void {
    fields[at + F_ID_IS_NEW] = idIsNew ? 1 : 0;
    fields[at + F_TTR] = this.ttr;
    fields[at + F_TTL] = this.ttl;
    fields[at + F_PRIORITY] = this.priority;
    fields[at + F_MAX_ATTEMPTS] = this.maxAttempts;
    fields[at + F_MAX_FAILS] = this.maxFails;
    fields[at + F_NAME_AT] = this.nameAt;
    fields[at + F_NAME_LENGTH] = this.nameLength;
    fields[at + F_PAYLOAD_START] = this.payloadStart;
    fields[at + F_PAYLOAD_END] = this.payloadEnd;
    fields[at + F_CREATED_SEC] = this.createdSec;
    fields[at + F_CREATED_NSEC] = this.createdNsec;
    fields[at + F_TIME_SEC] = this.timeSec;
    fields[at + F_TIME_NSEC] = this.timeNsec;
  }

  /** The expiration of the add/schedule record just decoded, as payloadExpiresAt reads it. */
  get expiresAt(): number {
    const scheduled = this.timeSec !== 0 || this.timeNsec !== 0;
    return (scheduled ? toMs(this.timeSec, this.timeNsec) : toMs(this.createdSec, this.createdNsec)) + this.ttl;
  }

  private decodeJob(): void {
    const buf = this.buf;
    const idAt = this.need(ID_LENGTH);
    const nameLength = this.uvarint();
    const nameAt = this.need(nameLength);
    const ttr = this.uvarintLow32();
    const ttl = this.uvarint();
    const priority = this.readPriority();
    const maxAttempts = this.uvarintLow8();
    const maxFails = this.uvarintLow8();
    const payloadLength = this.uvarint();
    const payloadAt = this.need(payloadLength);
    const timeAt = this.time();
    const createdAt = this.time();
    if (this.pos !== this.end) throw new DecodeError('trailing garbage detected');
    if (!isV4Id(buf, idAt)) throw new DecodeError('Invalid ID');
    if (nameLength < 1 || nameLength > MAX_NAME_LENGTH) throw new DecodeError('Invalid Name');
    for (let i = nameAt; i < nameAt + nameLength; i++) if (NAME_BYTE[buf[i]!] === 0) throw new DecodeError('Invalid Name');
    if (ttr < 1 || ttr > MAX_TTR) throw new DecodeError('Invalid TTR');
    if (ttl < 1 || ttl > MAX_TTL) throw new DecodeError('Invalid TTL');
    if (payloadLength > MAX_BLOCK) throw new DecodeError('Invalid Payload');
    this.setId(buf, idAt);
    this.nameAt = nameAt;
    this.nameLength = nameLength;
    this.name = this.queueName(nameAt, nameLength);
    this.ttr = ttr;
    this.ttl = ttl;
    this.priority = priority;
    this.maxAttempts = maxAttempts;
    this.maxFails = maxFails;
    this.payloadBuf = buf;
    this.payloadStart = payloadAt;
    this.payloadEnd = payloadAt + payloadLength;
    this.createdSec = readGoTimeSec(buf, createdAt);
    this.createdNsec = readGoTimeNsec(buf, createdAt);
    this.timeSec = readGoTimeSec(buf, timeAt);
    this.timeNsec = readGoTimeNsec(buf, timeAt);
  }

  private decodeResult(): void {
    const buf = this.buf;
    const idAt = this.need(ID_LENGTH);
    const length = this.uvarint();
    const at = this.need(length);
    if (this.pos !== this.end) throw new DecodeError('trailing garbage detected');
    if (!isV4Id(buf, idAt)) throw new DecodeError('Invalid ID');
    if (length > MAX_BLOCK) throw new DecodeError('Invalid Result');
    this.setId(buf, idAt);
    this.result = buf.toString('latin1', at, at + length);
  }

  private decodeId(type: number): void {
    const idAt = this.need(ID_LENGTH);
    if (this.pos !== this.end) throw new DecodeError('trailing garbage detected');
    if ((type === RecordType.Delete || type === RecordType.Retry) && !isV4Id(this.buf, idAt)) throw new DecodeError('Invalid ID');
    this.setId(this.buf, idAt);
  }

  private decodeTouch(): void {
    const idAt = this.need(ID_LENGTH);
    const ttr = this.uvarint();
    if (this.pos !== this.end) throw new DecodeError('trailing garbage detected');
    if (!isV4Id(this.buf, idAt)) throw new DecodeError('Invalid ID');
    if (ttr < 1 || ttr > MAX_TTR) throw new DecodeError('Invalid TTR');
    this.setId(this.buf, idAt);
    this.ttr = ttr;
  }

  private decodeRetryAt(): void {
    const idAt = this.need(ID_LENGTH);
    const delayMs = this.uvarint();
    if (this.pos !== this.end) throw new DecodeError('trailing garbage detected');
    if (!isV4Id(this.buf, idAt)) throw new DecodeError('Invalid ID');
    if (delayMs < 1 || delayMs > MAX_TTR) throw new DecodeError('Invalid Retry Delay');
    this.setId(this.buf, idAt);
    this.delayMs = delayMs;
  }

  private decodeRetryDelay(): void {
    const idAt = this.need(ID_LENGTH);
    const delayMs = this.uvarint();
    const maxDelayMs = this.uvarint();
    const jitterPercent = this.uvarint();
    if (this.pos !== this.end) throw new DecodeError('trailing garbage detected');
    if (!isV4Id(this.buf, idAt)) throw new DecodeError('Invalid ID');
    if (delayMs > MAX_TTR) throw new DecodeError('Invalid Retry Delay');
    if (maxDelayMs > MAX_TTR) throw new DecodeError('Invalid Retry Max Delay');
    if (jitterPercent > 100) throw new DecodeError('Invalid Retry Jitter');
    this.setId(this.buf, idAt);
    this.retryDelay = { delayMs, maxDelayMs, jitterPercent };
  }

  private decodeQueue(): void {
    const length = this.uvarint();
    const at = this.need(length);
    if (this.pos !== this.end) throw new DecodeError('trailing garbage detected');
    if (length < 1 || length > MAX_NAME_LENGTH) throw new DecodeError('Invalid Name');
    for (let i = at; i < at + length; i++) if (NAME_BYTE[this.buf[i]!] === 0) throw new DecodeError('Invalid Name');
    this.id0 = this.id1 = this.id2 = this.id3 = 0;
    this.text = '';
    this.queue = this.buf.toString('latin1', at, at + length);
  }

  /** The ID, canonical text ('' for a pause/resume record). */
  get id(): string {
    return (this.text ??= idText(this.id0, this.id1, this.id2, this.id3));
  }

  private setId(buf: Buffer, at: number): void {
    this.id0 = idWordAt(buf, at);
    this.id1 = idWordAt(buf, at + 4);
    this.id2 = idWordAt(buf, at + 8);
    this.id3 = idWordAt(buf, at + 12);
    this.text = null;
  }

  /** The queue name at `buf[at, at+length)` (already validated). */
  private queueName(at: number, length: number): string {
    const last = this.lastName;
    if (last.length === length) {
      let i = 0;
      while (i < length && last.charCodeAt(i) === this.buf[at + i]) i++;
      if (i === length) return last;
    }
    this.lastName = this.buf.toString('latin1', at, at + length);
    return this.lastName;
  }

  private need(n: number): number {
    const at = this.pos;
    if (at + n > this.end) throw new DecodeError('unexpected EOF');
    this.pos = at + n;
    return at;
  }

  private uvarint(): number {
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

  /** A uvarint of which only the low 32 bits are kept (TTR, as the original's uint32). */
  private uvarintLow32(): number {
    const start = this.pos;
    const x = this.uvarint();
    return x <= 0xffffffff ? x : lowBits(this.buf, start, 32);
  }

  /** A uvarint of which only the low 8 bits are kept (max-attempts, max-fails). */
  private uvarintLow8(): number {
    const start = this.pos;
    const x = this.uvarint();
    return x <= 0xff ? x : lowBits(this.buf, start, 8);
  }

  private readPriority(): number {
    const start = this.pos;
    const u = this.uvarint();
    return u <= Number.MAX_SAFE_INTEGER ? unzigzag32(u) : zigzagLow32(this.buf, start);
  }

  private time(): number {
    const at = this.need(TIME_LENGTH);
    const version = this.buf[at]!;
    if (version !== 1) {
      throw new DecodeError(version === 2 ? 'Time.UnmarshalBinary: invalid length' : 'Time.UnmarshalBinary: unsupported version');
    }
    return at;
  }
}

const EMPTY = Buffer.alloc(0);

/** Decodes one payload into a value of its own (see PayloadDecoder); the reason as a string when it cannot be replayed. */
export function decodePayload(buf: Buffer, start: number, end: number): Payload | string {
  const d = new PayloadDecoder();
  const error = d.decode(buf, start, end);
  if (error !== null) return error;
  switch (d.type) {
    case RecordType.Add:
    case RecordType.Schedule:
      return {
        type: d.type,
        job: {
          id: d.id,
          name: d.name,
          ttr: d.ttr,
          ttl: d.ttl,
          priority: d.priority,
          maxAttempts: d.maxAttempts,
          maxFails: d.maxFails,
          payload: Buffer.from(d.payload),
          createdSec: d.createdSec,
          createdNsec: d.createdNsec,
          timeSec: d.timeSec,
          timeNsec: d.timeNsec,
        },
      };
    case RecordType.Complete:
    case RecordType.Fail:
      return { type: d.type, id: d.id, result: d.result };
    case RecordType.Touch:
      return { type: d.type, id: d.id, ttr: d.ttr };
    case RecordType.RetryAt:
      return { type: d.type, id: d.id, delayMs: d.delayMs };
    case RecordType.RetryDelay:
      return { type: d.type, id: d.id, delay: d.retryDelay! };
    case RecordType.Pause:
    case RecordType.Resume:
      return { type: d.type, name: d.queue };
    default:
      return { type: d.type as IdRecordType, id: d.id };
  }
}

/**
 * Expiration (Unix ms, Job.expiresAt: created + TTL, or scheduled time + TTL) of the
 * add/schedule payload at `buf[start, end)`, read in place without decoding the rest: the TTL after the ID, name and TTR, and the two times, which are
 * a valid payload's last 30 bytes. For a payload that does not decode the answer means
 * nothing, but reading it stays inside `buf` and ends.
 */
export function payloadExpiresAt(buf: Buffer, start: number, end: number): number {
  const nameLengthAt = start + 1 + ID_LENGTH;
  const ttrAt = uvarintEnd(buf, nameLengthAt, end) + uvarintAt(buf, nameLengthAt, end);
  const ttlAt = uvarintEnd(buf, ttrAt, end);
  const timeAt = end - 2 * TIME_LENGTH;
  if (timeAt < ttlAt) return 0;
  const ttl = uvarintAt(buf, ttlAt, end);
  const timeSec = readGoTimeSec(buf, timeAt);
  const timeNsec = readGoTimeNsec(buf, timeAt);
  if (timeSec !== 0 || timeNsec !== 0) return toMs(timeSec, timeNsec) + ttl;
  const createdAt = end - TIME_LENGTH;
  return toMs(readGoTimeSec(buf, createdAt), readGoTimeNsec(buf, createdAt)) + ttl;
}

/** The uvarint at `at`, of at most 10 bytes and none from `end` on. */
function uvarintAt(buf: Buffer, at: number, end: number): number {
  let x = 0;
  let mul = 1;
  for (let p = at; p < end && p < at + 10; p++) {
    const c = buf[p]!;
    x += (c & 0x7f) * mul;
    if (c < 0x80) break;
    mul *= 128;
  }
  return x;
}

/** Where the uvarint at `at` ends (as uvarintAt reads it). */
function uvarintEnd(buf: Buffer, at: number, end: number): number {
  let p = at;
  while (p < end && p < at + 9 && buf[p]! >= 0x80) p++;
  return Math.min(p + 1, end);
}
