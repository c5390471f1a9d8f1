import { formatUtcMillis, formatUtcSeconds } from './calendar.js';
import { clientErrorLine, NOT_FOUND_LINE, OK_LINE, READ_ONLY_LINE, STOPPING_LINE, TIMEOUT_LINE } from './errors.js';
import type { ClientError, JobInfo, PayloadSource, QueueInfo } from './types.js';
import { ERROR_WORD, JOB_KEY, QUEUE_KEY, RETRIED_KEY } from './vocabulary.js';

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const MINUS = 0x2d;
const ZERO = 0x30;

/** Bytes a decimal integer can take (sign and 16 digits of a safe integer, with room). */
const MAX_NUMBER = 21;
/** Bytes of a printed time, with room for years beyond 9999. */
const MAX_TIME = 32;
/** Strings shorter than this are copied byte by byte; a native call costs more for them. */
const SHORT_STRING = 48;

const SLAB = 16 * 1024;
const KEEP_LIMIT = 4 * SLAB;

const OK_ONE = Buffer.from('+OK 1\r\n', 'latin1');
const SERVER_ERROR_PREFIX = `-${ERROR_WORD.serverError} `;

/** Fixed text of an inspect queue block, the key count included. */
const QUEUE_HEAD = ` 2\r\n${QUEUE_KEY.readyLen} `;
const PAUSED_QUEUE_HEAD = ` 3\r\n${QUEUE_KEY.readyLen} `;
const SCHEDULED_LEN = `\r\n${QUEUE_KEY.scheduledLen} `;
const PAUSED = `\r\n${QUEUE_KEY.paused} 1`;
const RETRIED_HEAD = ` 1\r\n${RETRIED_KEY} `;

/** Fixed text of an inspect job block, each key with the separator around it. */
const JOB_KEYS = {
  name: `\r\n${JOB_KEY.name} `,
  ttr: `\r\n${JOB_KEY.ttr} `,
  ttl: `\r\n${JOB_KEY.ttl} `,
  payloadSize: `\r\n${JOB_KEY.payloadSize} `,
  payload: `\r\n${JOB_KEY.payload} `,
  maxAttempts: `\r\n${JOB_KEY.maxAttempts} `,
  attempts: `\r\n${JOB_KEY.attempts} `,
  maxFails: `\r\n${JOB_KEY.maxFails} `,
  fails: `\r\n${JOB_KEY.fails} `,
  priority: `\r\n${JOB_KEY.priority} `,
  state: `\r\n${JOB_KEY.state} `,
  created: `\r\n${JOB_KEY.created} `,
  time: `\r\n${JOB_KEY.time} `,
  retryAt: `\r\n${JOB_KEY.retryAt} `,
};
const JOB_FIXED = Object.values(JOB_KEYS).reduce((sum, text) => sum + text.length, 0) + 4;

/** Bytes `jobs(list)` writes at most: what a connection may reserve before building the reply. */
export function jobsReplyBound(list: readonly JobInfo[]): number {
  let size = 8 + MAX_NUMBER;
  for (const job of list) size += JOB_FIXED + job.id.length + job.name.length + job.payload.length + 10 * MAX_NUMBER + 2 * MAX_TIME;
  return size;
}

/** Bytes `leased` or `finished` write at most beyond the payload or result (ids and names are at most 255 bytes). */
export const JOB_REPLY_OVERHEAD = OK_ONE.length + 2 * 255 + 2 * MAX_NUMBER + 8;

/** Bytes `queues(list)` writes at most. */
export function queuesReplyBound(list: readonly QueueInfo[]): number {
  let size = 8 + MAX_NUMBER;
  for (const queue of list) size += queue.name.length + 2 * MAX_NUMBER + 52;
  return size;
}

/**
 * Collects the replies of a connection in one growable buffer, so that everything answered
 * for one read leaves in one socket write (docs/protocol.md 1, Reply writes). Replies are written as bytes straight
 * into the buffer. `take()` hands out the bytes written so far; later replies are written
 * after them (or into a new buffer), never over them.
 */
export class ReplyWriter {
  private buf: Buffer;
  /** Start of the bytes not yet taken. */
  private start = 0;
  private pos = 0;
  /** The fixed line written first since the last take; it is all there is to take while the length says so. */
  private sole: Buffer | null = null;

  constructor(initialSize = SLAB) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.pos - this.start;
  }

  /** The bytes written since the last take; the writer continues after them. */
  take(): Buffer {
    const sole = this.sole;
    this.sole = null;
    // A lone fixed line (`+OK`, most errors) leaves as the shared constant: no view to allocate.
    const out = sole !== null && this.pos - this.start === sole.length ? sole : this.buf.subarray(this.start, this.pos);
    this.start = this.pos;
    // A buffer grown for one large reply is not kept by an idle connection.
    if (this.buf.length > KEEP_LIMIT) {
      this.buf = Buffer.allocUnsafe(SLAB);
      this.start = this.pos = 0;
    }
    return out;
  }

  ok(): void {
    this.bytes(OK_LINE);
  }

  clientError(error: ClientError): void {
    this.bytes(clientErrorLine(error));
  }

  notFound(): void {
    this.bytes(NOT_FOUND_LINE);
  }

  timeout(): void {
    this.bytes(TIMEOUT_LINE);
  }

  readOnly(): void {
    this.bytes(READ_ONLY_LINE);
  }

  stopping(): void {
    this.bytes(STOPPING_LINE);
  }

  /** `-SERVER-ERROR <text>\r\n`. */
  serverError(text: string): void {
    this.reserve(text.length + 16);
    this.latin1(SERVER_ERROR_PREFIX);
    this.latin1(text);
    this.crlf();
  }

  /** `+OK 1\r\n<id> <name> <ttr> <size>\r\n<payload>\r\n` (docs/protocol.md 5.5). */
  leased(id: string, name: string, ttr: number, payload: PayloadSource): void {
    const length = payload.payloadLength;
    this.reserve(OK_ONE.length + id.length + name.length + 2 * MAX_NUMBER + length + 8);
    this.bytes(OK_ONE);
    this.latin1(id);
    this.space();
    this.latin1(name);
    this.space();
    this.int(ttr);
    this.space();
    this.int(length);
    this.crlf();
    this.pos = payload.writePayload(this.buf, this.pos);
    this.crlf();
  }

  /** `+OK 1\r\n<id> <1|0> <len>\r\n<result>\r\n` (docs/protocol.md 5.3, 5.4). */
  finished(id: string, success: boolean, result: string): void {
    this.reserve(OK_ONE.length + id.length + MAX_NUMBER + result.length + 8);
    this.bytes(OK_ONE);
    this.latin1(id);
    this.space();
    this.buf[this.pos++] = success ? ZERO + 1 : ZERO;
    this.space();
    this.int(result.length);
    this.crlf();
    this.latin1(result);
    this.crlf();
  }

  /** `+OK <n>\r\n` and one block per job (docs/protocol.md 6.1, 6.2). */
  jobs(list: readonly JobInfo[]): void {
    this.reserve(jobsReplyBound(list));
    this.header(list.length);
    for (const job of list) this.jobBlock(job);
  }

  /**
   * `+OK <n>\r\n` and one `<name> 2` block per queue (docs/protocol.md 6.3, 6.4); a paused
   * queue has a third key, `paused 1` (docs/protocol-extensions.md).
   */
  queues(list: readonly QueueInfo[]): void {
    this.reserve(queuesReplyBound(list));
    this.header(list.length);
    for (const queue of list) {
      this.latin1(queue.name);
      this.latin1(queue.paused ? PAUSED_QUEUE_HEAD : QUEUE_HEAD);
      this.int(queue.readyLen);
      this.latin1(SCHEDULED_LEN);
      this.int(queue.scheduledLen);
      if (queue.paused) this.latin1(PAUSED);
      this.crlf();
    }
  }

  /** `+OK 1\r\n<name> 1\r\nretried <n>\r\n`: what retry-failed did (docs/protocol-extensions.md). */
  retried(name: string, count: number): void {
    this.reserve(name.length + MAX_NUMBER + 32);
    this.bytes(OK_ONE);
    this.latin1(name);
    this.latin1(RETRIED_HEAD);
    this.int(count);
    this.crlf();
  }

  /** `+OK 1\r\nserver <n>\r\n` and one `<key> <value>` line per entry, n the true count (docs/protocol.md 6.5). */
  server(entries: readonly (readonly [string, string | number])[]): void {
    let size = 16 + 2 * MAX_NUMBER;
    for (const [key, value] of entries) size += key.length + (typeof value === 'number' ? MAX_NUMBER : value.length) + 3;
    this.reserve(size);
    this.bytes(OK_ONE);
    this.latin1('server ');
    this.int(entries.length);
    this.crlf();
    for (const [key, value] of entries) {
      this.latin1(key);
      this.space();
      if (typeof value === 'number') this.int(value);
      else this.latin1(value);
      this.crlf();
    }
  }

  private jobBlock(job: JobInfo): void {
    const scheduled = job.timeSec !== 0 || job.timeNsec !== 0;
    const retryAt = job.retryAt;
    this.latin1(job.id);
    this.space();
    this.int((scheduled ? 13 : 12) + (retryAt > 0 ? 1 : 0));
    this.latin1(JOB_KEYS.name);
    this.latin1(job.name);
    this.latin1(JOB_KEYS.ttr);
    this.int(job.ttr);
    this.latin1(JOB_KEYS.ttl);
    this.int(job.ttl);
    this.latin1(JOB_KEYS.payloadSize);
    this.int(job.payload.length);
    this.latin1(JOB_KEYS.payload);
    this.latin1(job.payload);
    this.latin1(JOB_KEYS.maxAttempts);
    this.int(job.maxAttempts);
    this.latin1(JOB_KEYS.attempts);
    this.int(job.attempts);
    this.latin1(JOB_KEYS.maxFails);
    this.int(job.maxFails);
    this.latin1(JOB_KEYS.fails);
    this.int(job.fails);
    this.latin1(JOB_KEYS.priority);
    this.int(job.priority);
    this.latin1(JOB_KEYS.state);
    this.int(job.state);
    this.latin1(JOB_KEYS.created);
    this.latin1(formatUtcSeconds(job.createdSec));
    if (scheduled) {
      this.latin1(JOB_KEYS.time);
      this.latin1(formatUtcSeconds(job.timeSec));
    }
    if (retryAt > 0) {
      this.latin1(JOB_KEYS.retryAt);
      this.latin1(formatUtcMillis(retryAt));
    }
    this.crlf();
  }

  private header(count: number): void {
    this.latin1('+OK ');
    this.int(count);
    this.crlf();
  }

  /** Makes room for `n` more bytes, moving the untaken bytes to a new buffer if needed. */
  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const pending = this.pos - this.start;
    // Doubling what is pending keeps a long run of replies between two takes linear in size.
    const next = Buffer.allocUnsafe(Math.max(SLAB, 2 * pending + n));
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.start = 0;
    this.pos = pending;
  }

  /** Appends a fixed line (a few dozen bytes: copied in JS, as a native copy costs more for them); reserves for itself. */
  private bytes(src: Buffer): void {
    const n = src.length;
    this.reserve(n);
    if (this.pos === this.start) this.sole = src;
    const buf = this.buf;
    const pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos + i] = src[i]!;
    this.pos = pos + n;
  }

  /**
   * Writes a string of single-byte characters, one byte per char: ids, names and keys
   * (ASCII by validation), payloads and results (latin1, any byte). Reserve first.
   */
  private latin1(text: string): void {
    const n = text.length;
    if (n < SHORT_STRING) {
      const buf = this.buf;
      let pos = this.pos;
      for (let i = 0; i < n; i++) buf[pos++] = text.charCodeAt(i);
      this.pos = pos;
    } else {
      this.pos += this.buf.write(text, this.pos, 'latin1');
    }
  }

  private int(value: number): void {
    const buf = this.buf;
    let v = value;
    if (v < 0) {
      buf[this.pos++] = MINUS;
      v = -v;
    }
    let digits = 1;
    for (let p = 10; p <= v; p *= 10) digits++;
    let pos = this.pos + digits;
    this.pos = pos;
    do {
      const q = Math.floor(v / 10);
      buf[--pos] = ZERO + (v - q * 10);
      v = q;
    } while (v > 0);
  }

  private space(): void {
    this.buf[this.pos++] = SP;
  }

  private crlf(): void {
    this.buf[this.pos++] = CR;
    this.buf[this.pos++] = LF;
  }
}
