/**
 * Reply counting by byte scanning: lines are found with Buffer.indexOf, classified by
 * their first bytes, and never turned into strings. Payload and result lines of this
 * benchmark hold no LF, so a data block is exactly one line.
 */

/** What a reply stream tells a conversation, one call per reply. */
export interface ReplySink {
  /** A one-line success (`+OK`, `INSERTED`, `DELETED`, `USING`, …). */
  ok(): void;
  /** A job came back (lease, run, reserve); its ID is `id[0..idLen)`. */
  job(id: Buffer, idLen: number): void;
  /** A wait ran out (`-TIMEOUT`, `TIMED_OUT`, `DEADLINE_SOON`). */
  timeout(): void;
  /** Any error reply. */
  fail(): void;
}

/** Enough of a line to read a 36-byte UUID or `RESERVED <u64>`. */
const HEAD = 48;

type LineHandler = (buf: Buffer, start: number, avail: number) => void;

/** Splits a byte stream into lines and hands over the first HEAD bytes of each. */
class LineReader {
  private readonly head = Buffer.allocUnsafe(HEAD);
  private headLen = 0;
  private partial = false;

  constructor(private readonly onLine: LineHandler) {}

  feed(chunk: Buffer): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      const lf = chunk.indexOf(10, pos);
      if (lf < 0) {
        this.keep(chunk, pos, end);
        return;
      }
      if (this.partial) {
        this.keep(chunk, pos, lf);
        this.partial = false;
        const n = this.headLen;
        this.headLen = 0;
        this.onLine(this.head, 0, n);
      } else {
        this.onLine(chunk, pos, Math.min(lf - pos, HEAD));
      }
      pos = lf + 1;
    }
  }

  private keep(chunk: Buffer, from: number, to: number): void {
    this.partial = true;
    const n = Math.min(to - from, HEAD - this.headLen);
    if (n > 0) {
      chunk.copy(this.head, this.headLen, from, from + n);
      this.headLen += n;
    }
  }
}

export interface ReplyScanner {
  feed(chunk: Buffer): void;
}

const PLUS = 0x2b;
const SPACE = 0x20;
const ZERO = 0x30;
const CR = 0x0d;

/**
 * Workq replies: `+OK`, `+OK <n>` followed by n records of two lines (header, block),
 * and `-…` errors. The ID of a record is the first 36 bytes of its header.
 */
export class WorkqScanner implements ReplyScanner {
  private readonly lines: LineReader;
  private readonly id = Buffer.alloc(36);
  private pending = 0;

  constructor(private readonly sink: ReplySink) {
    this.lines = new LineReader((b, s, n) => this.line(b, s, n));
  }

  feed(chunk: Buffer): void {
    this.lines.feed(chunk);
  }

  private line(b: Buffer, s: number, n: number): void {
    if (this.pending > 0) {
      if (this.pending % 2 === 0) b.copy(this.id, 0, s, s + Math.min(n, 36));
      this.pending -= 1;
      if (this.pending === 0) this.sink.job(this.id, 36);
      return;
    }
    if (b[s] === PLUS) {
      if (n > 4 && b[s + 3] === SPACE) {
        let count = 0;
        for (let i = s + 4; i < s + n && b[i] !== CR; i++) count = count * 10 + (b[i]! - ZERO);
        if (count === 0) this.sink.ok();
        else this.pending = 2 * count;
      } else {
        this.sink.ok();
      }
      return;
    }
    // -TIMEOUT is the only error whose second byte is T.
    if (b[s + 1] === 0x54) this.sink.timeout();
    else this.sink.fail();
  }
}

/**
 * beanstalkd replies. `RESERVED <id> <bytes>` is followed by one data line; every other
 * reply this benchmark provokes is a single line.
 */
export class BeanstalkScanner implements ReplyScanner {
  private readonly lines: LineReader;
  private readonly id = Buffer.alloc(24);
  private idLen = 0;
  private pending = false;

  constructor(private readonly sink: ReplySink) {
    this.lines = new LineReader((b, s, n) => this.line(b, s, n));
  }

  feed(chunk: Buffer): void {
    this.lines.feed(chunk);
  }

  private line(b: Buffer, s: number, n: number): void {
    if (this.pending) {
      this.pending = false;
      this.sink.job(this.id, this.idLen);
      return;
    }
    switch (b[s]) {
      case 0x52: // RESERVED <id> <bytes>
        this.reserved(b, s, n);
        return;
      case 0x49: // INSERTED, or INTERNAL_ERROR
        if (b[s + 2] === 0x53) this.sink.ok();
        else this.sink.fail();
        return;
      case 0x44: // DELETED, or DEADLINE_SOON
        if (b[s + 2] === 0x4c) this.sink.ok();
        else this.sink.timeout();
        return;
      case 0x55: // USING, or UNKNOWN_COMMAND
        if (b[s + 1] === 0x53) this.sink.ok();
        else this.sink.fail();
        return;
      case 0x57: // WATCHING
        this.sink.ok();
        return;
      case 0x54: // TIMED_OUT
        this.sink.timeout();
        return;
      default:
        this.sink.fail();
    }
  }

  private reserved(b: Buffer, s: number, n: number): void {
    const from = s + 9;
    let to = from;
    while (to < s + n && b[to] !== SPACE) to++;
    this.idLen = Math.min(to - from, this.id.length);
    b.copy(this.id, 0, from, from + this.idLen);
    this.pending = true;
  }
}

export type Protocol = 'workq' | 'beanstalk';

export function scannerFor(protocol: Protocol, sink: ReplySink): ReplyScanner {
  return protocol === 'workq' ? new WorkqScanner(sink) : new BeanstalkScanner(sink);
}
