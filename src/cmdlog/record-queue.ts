import type { DropBook } from './drop-book.js';

const INITIAL_CAPACITY = 64 * 1024;
/** A queue buffer grown beyond this by large payloads is given back once it drains. */
const KEEP_CAPACITY = 4 * 1024 * 1024;

/**
 * Encoded records from the first one not yet durable: they stay queued until they are
 * fsynced (or written, under 'os'), so a failed write or fsync can be repeated from the
 * last durable byte (docs/command-log.md 14).
 *
 * Layout: `buf[0, len)` holds the queued records; `ends[i]` is the end offset of queued
 * record i and `drops[i]` its droppable-after value (DropBook); the first `written` of them are in
 * the file, the rest are not. Records are numbered from 1 in append order.
 */
export class RecordQueue {
  buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private len = 0;
  private ends: number[] = [];
  private drops: number[] = [];
  /** Queued records already in the file, and their bytes. */
  written = 0;
  writtenBytes = 0;
  /** Sequence number of queued record 0. */
  private firstSeq = 1;
  /** Sequence number of the last record queued, and of the last one written. */
  seq = 0;
  writtenSeq = 0;

  /** Records queued, written or not. */
  get length(): number {
    return this.ends.length;
  }

  /** Records not yet written to the file. */
  get unwritten(): number {
    return this.ends.length - this.written;
  }

  /** Makes room for `n` more bytes; returns where they go in `buf`. */
  reserve(n: number): number {
    if (this.len + n > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    return this.len;
  }

  /** Queues the record just encoded at the reserved place, ending at `end`. */
  push(end: number, dropAt: number): void {
    this.len = end;
    this.ends.push(end);
    this.drops.push(dropAt);
    this.seq++;
  }

  /**
   * The index after the last unwritten record that goes into a write to a file holding
   * `size` bytes: at least one record, then as many as keep it below `limit`.
   */
  runEnd(size: number, limit: number): number {
    const ends = this.ends;
    let i = this.written;
    do {
      size += ends[i]! - (i === 0 ? 0 : ends[i - 1]!);
      i++;
    } while (i < ends.length && size < limit);
    return i;
  }

  /** Byte offset where queued record `i` ends. */
  endOf(i: number): number {
    return this.ends[i]!;
  }

  /** Records up to index `i` (exclusive) are in the file. */
  markWritten(i: number): void {
    this.writtenSeq += i - this.written;
    this.written = i;
    this.writtenBytes = this.ends[i - 1]!;
  }

  /** Everything since the last release must be written again (an fsync failed). */
  rewind(): void {
    this.written = 0;
    this.writtenBytes = 0;
    this.writtenSeq = this.firstSeq - 1;
  }

  /**
   * Drops the first `count` queued records (`bytes` bytes), durable now; their droppable-after
   * values go to `dropAt`, and the book hears that they are durable (an end retires its job's
   * earlier records only from then on: docs/command-log.md 11.4).
   */
  release(count: number, bytes: number, dropAt: number[], book: DropBook): void {
    if (count === 0) return;
    for (let i = 0; i < count; i++) {
      const drop = this.drops[i]!;
      dropAt.push(drop);
      book.durable(drop);
    }
    if (count === this.ends.length) {
      this.ends = [];
      this.drops = [];
      this.len = 0;
      if (this.buf.length > KEEP_CAPACITY) this.buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
    } else {
      this.ends.splice(0, count);
      this.drops.splice(0, count);
      for (let i = 0; i < this.ends.length; i++) this.ends[i] = this.ends[i]! - bytes;
      this.buf.copy(this.buf, 0, bytes, this.len);
      this.len -= bytes;
    }
    this.written -= count;
    this.writtenBytes -= bytes;
    this.firstSeq += count;
  }
}
