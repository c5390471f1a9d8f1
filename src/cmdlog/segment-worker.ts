/**
 * The replay worker of WorkerSegments: reads each segment into shared memory, checks its
 * records run by run and notes them in the drop book, staying at most one segment ahead
 * of replay, then sends the book.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { DropBook } from './drop-book.js';
import { HEADER_LENGTH } from './record.js';
import { checkHeader, checkRecords, isLastRun } from './segment-check.js';
import { segmentName } from './segment-files.js';
import type { SegmentWorkerData, SegmentWorkerMessage } from './segment-source.js';

/** Segments in memory at once: the one replay applies and the one checked next. */
const IN_MEMORY = 2;
/** Bytes of records per run: small, so that replay never waits long for the first. */
const DEFAULT_RUN_BYTES = 1024 * 1024;

const { dir, nums, consumed, runBytes = DEFAULT_RUN_BYTES } = workerData as SegmentWorkerData;
/** Bytes read ahead of the run being checked. */
const readBytes = 4 * runBytes;
const port = parentPort!;
const replayed = new Int32Array(consumed);
const book = new DropBook();

function send(message: SegmentWorkerMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

/**
 * A segment file being read into shared memory, a few megabytes at a time, so that its
 * first records are checked (and replayed) long before its last are read.
 */
class SharedFile {
  readonly data: SharedArrayBuffer;
  readonly buf: Buffer;
  /** Bytes read so far. */
  length = 0;
  private readonly fd: number;

  constructor(file: string) {
    this.fd = fs.openSync(file, 'r');
    try {
      this.data = new SharedArrayBuffer(fs.fstatSync(this.fd).size);
    } catch (err) {
      fs.closeSync(this.fd);
      throw err;
    }
    this.buf = Buffer.from(this.data);
  }

  get complete(): boolean {
    return this.length === this.buf.length;
  }

  /** Reads on to `until` (or the end); a file that ends early is treated as ending there. */
  readTo(until: number): void {
    const end = Math.min(until, this.buf.length);
    while (this.length < end) {
      const n = fs.readSync(this.fd, this.buf, this.length, end - this.length, this.length);
      if (n === 0) throw new Error(`segment shrank while it was read, at ${this.length} bytes`);
      this.length += n;
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** Checks and sends the records of a segment whose header is fine; returns whether they all were whole. */
function checkAndSend(file: SharedFile): boolean {
  let pos = HEADER_LENGTH;
  for (;;) {
    file.readTo(pos + readBytes);
    const run = checkRecords(file.buf.subarray(0, file.length), pos, pos + runBytes, book);
    if (run.failure !== null && !file.complete) {
      // Judged on part of the file: a record may go on past what is read so far, and
      // whether a bad one is a torn tail depends on everything after it. Read the rest
      // and check again from there.
      send({ kind: 'run', run: { ...run, failure: null, tornTail: false } }, [run.dropAt.buffer as ArrayBuffer]);
      file.readTo(file.buf.length);
    } else {
      send({ kind: 'run', run }, [run.dropAt.buffer as ArrayBuffer]);
      if (isLastRun(run, file.buf.length)) return run.failure === null;
    }
    pos = run.goodEnd;
  }
}

function main(): void {
  for (let i = 0; i < nums.length; i++) {
    for (let seen = Atomics.load(replayed, 0); i - seen >= IN_MEMORY; seen = Atomics.load(replayed, 0)) Atomics.wait(replayed, 0, seen);
    const num = nums[i]!;
    let file: SharedFile | null = null;
    try {
      file = new SharedFile(path.join(dir, segmentName(num)));
      file.readTo(HEADER_LENGTH);
      const header = checkHeader(file.buf.subarray(0, file.length));
      // Replay tells a zero-filled segment (a crash before its header landed) from other damage by all its bytes.
      if (header === 'bad') file.readTo(file.buf.length);
      send({ kind: 'segment', num, data: file.data, length: file.buf.length, header });
      // Replay stops at a damaged segment unless it is the last: reading on would be wasted.
      if (header !== 'ok' || !checkAndSend(file)) break;
    } catch (err) {
      send({ kind: 'error', message: (err as Error).message, code: (err as NodeJS.ErrnoException).code });
      return;
    } finally {
      file?.close();
    }
  }
  const state = book.toState();
  send({ kind: 'book', state }, [
    state.keys.buffer,
    state.slots.buffer,
    state.mul.buffer,
    state.expiry.buffer,
    state.adds.buffer,
    state.refs.buffer,
    state.ended.buffer,
  ]);
}

main();
