import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DropBook, type DropBookState } from './drop-book.js';
import { HEADER_LENGTH } from './record.js';
import { checkHeader, checkRecords, type HeaderCheck, type RecordRun } from './segment-check.js';
import { segmentName } from './segment-files.js';
import type { LogFileSystem } from './types.js';

/** One segment, read whole (or from where a pre-read stopped), its header checked. */
export interface LoadedSegment {
  num: number;
  file: string;
  buf: Buffer;
  /** The file offset of buf[0]: 0, or a little before where a pre-read stopped (pre-read.ts), whose header it checked. */
  base: number;
  header: HeaderCheck;
  /** Where in `buf` its records to replay start: after the header, or where a pre-read stopped. */
  from: number;
}

/** Hands replay the segments in order, each read and checked (segment-check.ts) ahead of being replayed. */
export interface SegmentSource {
  /** Whether the reading and checking happen in a worker thread. */
  readonly inWorker: boolean;
  /** The next segment; null after the last one. */
  next(): Promise<LoadedSegment | null>;
  /**
   * The next run of checked records of the segment `next` gave last, when its header
   * is 'ok'; runs follow each other up to the last one (isLastRun).
   */
  run(): Promise<RecordRun>;
  /** Replay is done with the segment `next` gave last, so its memory can go. */
  done(): void;
  /** The drop book with every checked record noted; once `next` has given null. */
  book(): Promise<DropBook>;
  /** Stops reading (replay is over, or failed); idempotent. */
  close(): Promise<void>;
}

/**
 * Segments up to this size are read synchronously: a read through the thread pool costs
 * four round trips (open, stat, read, close) that a log of many small segments (the
 * original's own tests use one record per segment) pays for every one of them.
 */
const SYNC_READ_MAX = 256 * 1024;

/** Where InlineSegments takes up a log that a pre-read (pre-read.ts) replayed up to a point. */
export interface ContinueFrom {
  /** Byte offset in the first segment where the records still to replay start. */
  offset: number;
  /** Byte offset in the first segment from which it is read (at most `offset`): the bytes before `offset` are compared with the pre-read's. */
  readFrom: number;
  /** The pre-read's drop book, which goes on noting records. */
  book: DropBook;
}

/** Reads and checks on this thread, reading the next large segment while this one is replayed. */
export class InlineSegments implements SegmentSource {
  readonly inWorker = false;
  private readonly files: string[];
  private readonly dropBook: DropBook;
  private index = 0;
  private pending: Promise<Buffer> | null = null;
  private current: Buffer | null = null;
  private currentFrom = HEADER_LENGTH;

  /** `sizes[i]` is the size of segment `nums[i]` when the directory was listed. */
  constructor(
    private readonly fs: LogFileSystem,
    dir: string,
    private readonly nums: number[],
    private readonly sizes: number[],
    private readonly continueFrom: ContinueFrom | null = null,
  ) {
    this.files = nums.map((num) => path.join(dir, segmentName(num)));
    this.dropBook = continueFrom?.book ?? new DropBook();
    this.prefetch(0);
  }

  /** Where segment `i` is read from: only the first one of a continued log is read from further in. */
  private baseOf(i: number): number {
    return i === 0 && this.continueFrom !== null ? this.continueFrom.readFrom : 0;
  }

  private prefetch(i: number): void {
    this.pending = i < this.files.length && this.baseOf(i) === 0 && this.sizes[i]! > SYNC_READ_MAX ? this.fs.readFile(this.files[i]!) : null;
    this.pending?.catch(() => undefined);
  }

  async next(): Promise<LoadedSegment | null> {
    const i = this.index;
    if (i >= this.files.length) return null;
    const file = this.files[i]!;
    const base = this.baseOf(i);
    // The end of a segment a pre-read read most of: the tail of a hot restart, read while clients wait.
    const buf = this.pending !== null ? await this.pending : base > 0 ? this.fs.readFileFromSync(file, base) : this.fs.readFileSync(file);
    this.index++;
    this.prefetch(this.index);
    this.current = buf;
    this.currentFrom = (i === 0 && this.continueFrom !== null ? Math.max(HEADER_LENGTH, this.continueFrom.offset) : HEADER_LENGTH) - base;
    return { num: this.nums[i]!, file, buf, base, header: base > 0 ? 'ok' : checkHeader(buf), from: this.currentFrom };
  }

  /** The whole segment in one run: there is no other thread to overlap with. */
  run(): Promise<RecordRun> {
    return Promise.resolve(checkRecords(this.current!, this.currentFrom, Infinity, this.dropBook));
  }

  done(): void {
    this.current = null;
  }

  book(): Promise<DropBook> {
    return Promise.resolve(this.dropBook);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** What the segment worker is given. */
export interface SegmentWorkerData {
  dir: string;
  nums: number[];
  /** One Int32: how many segments replay is done with, which bounds how far the worker reads ahead. */
  consumed: SharedArrayBuffer;
  /** Bytes of records per run; the worker's default when undefined. */
  runBytes: number | undefined;
}

export type SegmentWorkerMessage =
  | { kind: 'segment'; num: number; data: SharedArrayBuffer; length: number; header: HeaderCheck }
  | { kind: 'run'; run: RecordRun }
  | { kind: 'book'; state: DropBookState }
  | { kind: 'error'; message: string; code: string | undefined };

/**
 * Reads and checks in a worker thread (segment-worker.ts): checking CRCs and keeping the
 * drop book, about a quarter of a replay's work, runs beside the decoding and applying
 * on this thread. Segments come in shared memory, not copied, and their records are
 * checked in runs of about a megabyte, so replay starts on a segment as soon as its
 * first run is checked.
 */
export class WorkerSegments implements SegmentSource {
  readonly inWorker = true;
  private readonly worker: Worker;
  private readonly consumed = new Int32Array(new SharedArrayBuffer(4));
  private readonly queue: SegmentWorkerMessage[] = [];
  private waiting: { resolve: (m: SegmentWorkerMessage) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private closed = false;

  constructor(
    private readonly dir: string,
    nums: number[],
    runBytes?: number,
  ) {
    const workerData: SegmentWorkerData = { dir, nums, consumed: this.consumed.buffer, runBytes };
    this.worker = startModuleWorker('segment-worker', workerData);
    this.worker.on('message', (m: SegmentWorkerMessage) => this.deliver(m));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`cmdlog: the replay worker stopped early (exit code ${code})`)));
  }

  async next(): Promise<LoadedSegment | null> {
    const m = await this.receive();
    switch (m.kind) {
      case 'book':
        this.queue.unshift(m);
        return null;
      case 'error':
        throw Object.assign(new Error(m.message), { code: m.code });
      case 'segment':
        return {
          num: m.num,
          file: path.join(this.dir, segmentName(m.num)),
          buf: Buffer.from(m.data, 0, m.length),
          base: 0,
          header: m.header,
          from: HEADER_LENGTH,
        };
      default:
        throw new Error('cmdlog: the replay worker sent records of no segment');
    }
  }

  async run(): Promise<RecordRun> {
    const m = await this.receive();
    if (m.kind !== 'run') throw new Error(`cmdlog: the replay worker sent '${m.kind}' where records were due`);
    return m.run;
  }

  done(): void {
    Atomics.add(this.consumed, 0, 1);
    Atomics.notify(this.consumed, 0);
  }

  async book(): Promise<DropBook> {
    const m = await this.receive();
    if (m.kind !== 'book') throw new Error(`cmdlog: the replay worker sent '${m.kind}' after the last segment`);
    return DropBook.fromState(m.state);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
  }

  private receive(): Promise<SegmentWorkerMessage> {
    const m = this.queue.shift();
    if (m !== undefined) return Promise.resolve(m);
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  private deliver(m: SegmentWorkerMessage): void {
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting !== null) waiting.resolve(m);
    else this.queue.push(m);
  }

  /** The worker ended or threw: whoever waits for its next message is told, unless replay closed it. */
  private fail(err: Error): void {
    if (this.closed) return;
    this.failure ??= err;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.reject(this.failure);
  }
}

/**
 * A worker on one of this directory's modules. Run from the TypeScript sources (the
 * tests run them through tsx), the module is a .ts file, which a worker loads only
 * once tsx is registered in it: tsx does not reach into workers by itself.
 */
function startModuleWorker(name: string, workerData: unknown): Worker {
  const self = fileURLToPath(import.meta.url);
  const url = new URL(`./${name}${path.extname(self)}`, import.meta.url);
  if (!self.endsWith('.ts')) return new Worker(url, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(code, { eval: true, workerData });
}
