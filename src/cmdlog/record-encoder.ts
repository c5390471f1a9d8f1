import type { Job } from '../jobs/job.js';
import type { RetryDelay } from '../jobs/retry-delay.js';
import type { Journal } from '../jobs/types.js';
import type { DropBook } from './drop-book.js';
import { RecordType, recordLength, writeRecordCrc, writeRecordHead } from './record.js';
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
import type { RecordQueue } from './record-queue.js';

/**
 * The Journal as records: encodes each state change straight into the queue's buffer,
 * with the droppable-after value the drop book gives it, and tells `queued` after each one.
 * One record per call, TIME = the moment of the change (docs/command-log.md 5).
 */
export class RecordEncoder implements Journal {
  constructor(
    private readonly queue: RecordQueue,
    private readonly book: DropBook,
    private readonly now: () => number,
    private readonly queued: () => void,
  ) {}

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
    this.appendId(RecordType.Delete, id, this.now());
  }

  expire(id: string): void {
    this.appendId(RecordType.Expire, id, this.now());
  }

  timeoutAttempt(id: string): void {
    this.appendId(RecordType.TimeoutAttempt, id, this.now());
  }

  restartFailed(id: string): void {
    this.appendId(RecordType.Retry, id, this.now());
  }

  touch(id: string, ttr: number, at: number): void {
    const q = this.queue;
    const payloadLength = touchPayloadLength(ttr);
    const start = q.reserve(recordLength(payloadLength));
    const payloadAt = writeHead(q.buf, start, at, payloadLength);
    const end = writeTouchPayload(q.buf, payloadAt, id, ttr);
    this.commit(start, end, this.book.other(q.buf, payloadAt + 1));
  }

  retryAt(id: string, delayMs: number, at: number): void {
    const q = this.queue;
    const payloadLength = retryAtPayloadLength(delayMs);
    const start = q.reserve(recordLength(payloadLength));
    const payloadAt = writeHead(q.buf, start, at, payloadLength);
    const end = writeRetryAtPayload(q.buf, payloadAt, id, delayMs);
    this.commit(start, end, this.book.other(q.buf, payloadAt + 1));
  }

  retryDelay(id: string, delay: RetryDelay): void {
    const q = this.queue;
    const payloadLength = retryDelayPayloadLength(delay);
    const start = q.reserve(recordLength(payloadLength));
    const payloadAt = writeHead(q.buf, start, this.now(), payloadLength);
    const end = writeRetryDelayPayload(q.buf, payloadAt, id, delay);
    this.commit(start, end, this.book.other(q.buf, payloadAt + 1));
  }

  /** Never dropped by the cleaner: a queue's pause outlives every job (docs/protocol-extensions.md). */
  pause(name: string, paused: boolean): void {
    const q = this.queue;
    const payloadLength = queuePayloadLength(name);
    const start = q.reserve(recordLength(payloadLength));
    const at = writeHead(q.buf, start, this.now(), payloadLength);
    const end = writeQueuePayload(q.buf, at, paused ? RecordType.Pause : RecordType.Resume, name);
    this.commit(start, end, Infinity);
  }

  private appendJob(type: number, job: Job): void {
    const q = this.queue;
    const payloadLength = jobPayloadLength(job);
    const start = q.reserve(recordLength(payloadLength));
    const at = writeHead(q.buf, start, this.now(), payloadLength);
    const end = writeJobPayload(q.buf, at, type, job);
    this.commit(start, end, this.book.job(q.buf, at + 1, job.expiresAt));
  }

  private appendId(type: number, id: string, ms: number): void {
    const q = this.queue;
    const start = q.reserve(recordLength(ID_PAYLOAD_LENGTH));
    const at = writeHead(q.buf, start, ms, ID_PAYLOAD_LENGTH);
    const end = writeIdPayload(q.buf, at, type, id);
    this.commit(start, end, type === RecordType.Delete || type === RecordType.Expire ? this.book.end(q.buf, at + 1) : this.book.other(q.buf, at + 1));
  }

  private appendResult(type: number, id: string, result: string): void {
    const q = this.queue;
    const payloadLength = resultPayloadLength(result);
    const start = q.reserve(recordLength(payloadLength));
    const at = writeHead(q.buf, start, this.now(), payloadLength);
    const end = writeResultPayload(q.buf, at, type, id, result);
    this.commit(start, end, this.book.other(q.buf, at + 1));
  }

  private commit(start: number, payloadEnd: number, dropAt: number): void {
    this.queue.push(writeRecordCrc(this.queue.buf, start, payloadEnd), dropAt);
    this.queued();
  }
}

function writeHead(buf: Buffer, start: number, ms: number, payloadLength: number): number {
  const sec = Math.floor(ms / 1000);
  return writeRecordHead(buf, start, sec, Math.round((ms - sec * 1000) * 1e6), payloadLength);
}
