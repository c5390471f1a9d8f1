import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DropBook, type DropBookState } from './drop-book.js';
import { HEADER_LENGTH, MAX_PAYLOAD_SIZE, recordLength } from './record.js';
import { checkHeader, checkRecords, type HeaderCheck, type RecordRun } from './segment-check.js';
import { segmentName } from './segment-files.js';
import type { LogFileSystem } from './types.js';

/** One segment, its header checked; its records come in runs (SegmentSource.run). */
export interface LoadedSegment {
  num: number;
  file: string;
  /** The file's size when it was read. */
  length: number;
  /**
   * The file from `base` on: whole when read on this thread, or when its header is not
   * 'ok' (replay then judges and keeps its bytes); else empty, its records being in the runs.
   */
  buf: Buffer;
  /** The file offset of buf[0]: 0, or a little before where a pre-read stopped (pre-read.ts), whose header it checked. */
  base: number;
  header: HeaderCheck;
  /** The file offset where its records to replay start: after the header, or where a pre-read stopped. */
  from: number;
}

/** A run of checked records as replay gets it: its `goodEnd` is a file offset, and `bytes` hold its records. */
export interface SegmentRun extends RecordRun {
  bytes: Buffer;
  /** The file offset of bytes[0]. */
  base: number;
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
  run(): Promise<SegmentRun>;
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
  private currentBase = 0;
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
    this.currentBase = base;
    this.currentFrom = i === 0 && this.continueFrom !== null ? Math.max(HEADER_LENGTH, this.continueFrom.offset) : HEADER_LENGTH;
    return { num: this.nums[i]!, file, length: base + buf.length, buf, base, header: base > 0 ? 'ok' : checkHeader(buf), from: this.currentFrom };
  }

  /** The whole segment in one run: there is no other thread to overlap with. */
  run(): Promise<SegmentRun> {
    const base = this.currentBase;
    const run = checkRecords(this.current!, this.currentFrom - base, Infinity, this.dropBook);
    return Promise.resolve({ ...run, goodEnd: base + run.goodEnd, bytes: this.current!, base });
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

/**
 * Bytes of one chunk of the worker's ring: more than the longest record (2 MiB and its
 * head), so that a record cut at a chunk's end fits whole at the start of the next. The
 * ring stays in the RSS after a replay: 4 MiB chunks held 4.5 MiB more, and replayed no
 * faster.
 */
export const CHUNK_BYTES = 2.5 * 1024 * 1024;
/** Chunks in the ring: the one replay applies, the one checked next, and one being read. */
export const CHUNKS = 3;
/** Bytes of records per run: small, so that replay never waits long for the next. */
export const RUN_BYTES = 1024 * 1024;
/**
 * The first run is smaller still: replay has nothing to do until it comes, and the
 * worker's code is not yet compiled, so a full run took 30–45 ms.
 */
export const FIRST_RUN_BYTES = 64 * 1024;
if (CHUNK_BYTES < recordLength(MAX_PAYLOAD_SIZE)) throw new Error('cmdlog: a replay chunk must hold the longest record');

/** What the segment worker is given. */
export interface SegmentWorkerData {
  dir: string;
  nums: number[];
  /** CHUNKS shared buffers of CHUNK_BYTES, filled in turn. */
  ring: SharedArrayBuffer[];
  /** One Int32: the chunks before this sequence number are released by replay, so the worker may fill their buffers again. */
  released: SharedArrayBuffer;
  /** Bytes of records per run; the worker's default when undefined. */
  runBytes: number | undefined;
}

export type SegmentWorkerMessage =
  /** `head`: the whole file when its header is not 'ok'. */
  | { kind: 'segment'; num: number; length: number; header: HeaderCheck; head: ArrayBuffer | null }
  /**
   * Records in chunk number `chunk` (ring[chunk % CHUNKS], `filled` bytes, from file offset
   * `base`); or, when `chunk` is -1, the rest of the file from `base` in `rest`, where a
   * record fails (the run is the segment's last).
   */
  | { kind: 'run'; run: RecordRun; chunk: number; base: number; filled: number; rest: ArrayBuffer | null }
  | { kind: 'book'; state: DropBookState }
  | { kind: 'error'; message: string; code: string | undefined };

/** Rings of finished replays, kept for the next: a ring's memory is freed only by a full GC, so it is reused instead. */
const idleRings: SharedArrayBuffer[][] = [];

/**
 * Reads, checks and decodes in a worker thread (segment-worker.ts): checking CRCs,
 * keeping the drop book and decoding the jobs, about half of a replay's work, runs beside
 * the applying on this thread. Records come in shared memory, not copied, in a ring of a
 * few chunks of CHUNK_BYTES whatever the segments' size: a replay holds 7.5 MiB of file
 * bytes, where reading each segment whole left two segments' worth (128 MiB) resident
 * until a full GC.
 * Records are checked in runs of about a megabyte, so replay starts on a segment as soon
 * as its first run is checked.
 */
export class WorkerSegments implements SegmentSource {
  readonly inWorker = true;
  private readonly worker: Worker;
  private readonly ring: SharedArrayBuffer[];
  private readonly released = new Int32Array(new SharedArrayBuffer(4));
  /** The chunk of the last run given, the ones before it released; -1 once replay is done with its segment. */
  private held = -1;
  private readonly queue: SegmentWorkerMessage[] = [];
  private waiting: { resolve: (m: SegmentWorkerMessage) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private closed = false;
  /** The job fields of the run given last. */
  private lastJobs: Float64Array | null = null;

  constructor(
    private readonly dir: string,
    nums: number[],
    runBytes?: number,
  ) {
    this.ring = idleRings.pop() ?? Array.from({ length: CHUNKS }, () => new SharedArrayBuffer(CHUNK_BYTES));
    const workerData: SegmentWorkerData = { dir, nums, ring: this.ring, released: this.released.buffer, runBytes };
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
          length: m.length,
          buf: m.head === null ? Buffer.alloc(0) : Buffer.from(m.head),
          base: 0,
          header: m.header,
          from: HEADER_LENGTH,
        };
      default:
        throw new Error('cmdlog: the replay worker sent records of no segment');
    }
  }

  /** Asked for only once replay is done with the run before: the chunks before this run's are released, and its job fields go back. */
  async run(): Promise<SegmentRun> {
    this.giveBackJobs();
    const m = await this.receive();
    if (m.kind !== 'run') throw new Error(`cmdlog: the replay worker sent '${m.kind}' where records were due`);
    this.lastJobs = m.run.jobs;
    if (m.chunk < 0) return { ...m.run, bytes: Buffer.from(m.rest!), base: m.base };
    if (m.chunk !== this.held) {
      this.held = m.chunk;
      this.releaseBefore(m.chunk);
    }
    return { ...m.run, bytes: Buffer.from(this.ring[m.chunk % CHUNKS]!, 0, m.filled), base: m.base };
  }

  /** A segment's chunks are its own: when replay is done with it, they all are released. */
  done(): void {
    this.giveBackJobs();
    if (this.held < 0) return;
    this.releaseBefore(this.held + 1);
    this.held = -1;
  }

  /** The job fields of the run replay is done with, to the worker to decode a later run's into. */
  private giveBackJobs(): void {
    const jobs = this.lastJobs;
    this.lastJobs = null;
    if (jobs !== null && !this.closed) this.worker.postMessage(jobs.buffer, [jobs.buffer as ArrayBuffer]);
  }

  private releaseBefore(chunk: number): void {
    Atomics.store(this.released, 0, chunk);
    Atomics.notify(this.released, 0);
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
    idleRings.push(this.ring);
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
