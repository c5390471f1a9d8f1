/**
 * The replay worker of WorkerSegments: reads the segments in turn into a ring of a few
 * shared chunks, checks their records run by run and notes them in the drop book,
 * filling a chunk again only once replay has released it, then sends the book.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { DropBook } from './drop-book.js';
import { JOB_FIELDS, PayloadDecoder } from './payload.js';
import { HEADER_LENGTH } from './record.js';
import { checkHeader, checkRecords, type JobDecoding, type RecordRun } from './segment-check.js';
import { segmentName } from './segment-files.js';
import { CHUNK_BYTES, CHUNKS, FIRST_RUN_BYTES, RUN_BYTES, type SegmentWorkerData, type SegmentWorkerMessage } from './segment-source.js';

const { dir, nums, ring, released, runBytes = RUN_BYTES } = workerData as SegmentWorkerData;
const port = parentPort!;
const releasedBefore = new Int32Array(released);
const chunks = ring.map((data) => Buffer.from(data));
const book = new DropBook();
const decoder = new PayloadDecoder();
/** Job fields replay has sent back, done with them (WorkerSegments.run): reused, as new arrays for every run stayed in the RSS. */
const spareFields: Float64Array[] = [];
/** The sequence number of the next chunk to fill. */
let nextChunk = 0;
let runsSent = 0;

function send(message: SegmentWorkerMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

/** Waits until replay has released the chunk that last used the buffer of chunk `seq`. */
function awaitBuffer(seq: number): Buffer {
  for (let r = Atomics.load(releasedBefore, 0); r <= seq - CHUNKS; r = Atomics.load(releasedBefore, 0)) Atomics.wait(releasedBefore, 0, r);
  return chunks[seq % CHUNKS]!;
}

/** An open segment file of the size it had when opened. */
class SegmentFile {
  readonly size: number;
  private readonly fd: number;

  constructor(file: string) {
    this.fd = fs.openSync(file, 'r');
    try {
      this.size = fs.fstatSync(this.fd).size;
    } catch (err) {
      fs.closeSync(this.fd);
      throw err;
    }
  }

  /** Fills `buf[at, at + length)` from file offset `position`; a file that ends early is an error. */
  readInto(buf: Buffer, at: number, length: number, position: number): void {
    for (let done = 0; done < length;) {
      const n = fs.readSync(this.fd, buf, at + done, length - done, position + done);
      if (n === 0) throw new Error(`segment shrank while it was read, at ${position + done} bytes`);
      done += n;
    }
  }

  /** The file from `position` to its end, in memory of its own (to be transferred). */
  readFrom(position: number): Buffer {
    const buf = Buffer.from(new ArrayBuffer(this.size - position));
    this.readInto(buf, 0, buf.length, position);
    return buf;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** Where the next run's jobs are decoded: fields replay gave back, or new ones with room for a run's worth. */
function jobDecoding(bytesOfRun: number): JobDecoding {
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) spareFields.push(new Float64Array(m.message as ArrayBuffer));
  // Room for a record per 128 bytes: records of 100-byte jobs are about 170.
  return { decoder, fields: spareFields.pop() ?? new Float64Array(JOB_FIELDS * Math.ceil(bytesOfRun / 128 + 1)) };
}

function sendChunkRun(run: RecordRun, chunk: number, base: number, filled: number): void {
  const transfer = [run.dropAt.buffer as ArrayBuffer];
  if (run.jobs !== null) transfer.push(run.jobs.buffer as ArrayBuffer);
  send({ kind: 'run', run: { ...run, goodEnd: base + run.goodEnd }, chunk, base, filled, rest: null }, transfer);
  runsSent++;
}

/**
 * Where a record fails at file offset `at`: judged, as a torn tail or not, on everything
 * after it, which replay gets with the run to keep it when it cuts a torn tail.
 */
function sendFailure(file: SegmentFile, at: number): void {
  const rest = file.readFrom(at);
  const run = checkRecords(rest, 0, Infinity, book);
  send({ kind: 'run', run: { ...run, goodEnd: at + run.goodEnd }, chunk: -1, base: at, filled: rest.length, rest: rest.buffer as ArrayBuffer }, [
    rest.buffer as ArrayBuffer,
    run.dropAt.buffer as ArrayBuffer,
  ]);
}

/**
 * Checks and sends the records of a segment whose header is fine, chunk by chunk; a
 * record cut at a chunk's end starts the next one. Returns whether they all were whole.
 */
function checkAndSend(file: SegmentFile): boolean {
  let base = HEADER_LENGTH;
  let carried: Buffer | null = null;
  for (;;) {
    const chunk = nextChunk++;
    const buf = awaitBuffer(chunk);
    const carry = carried?.length ?? 0;
    if (carried !== null) carried.copy(buf, 0);
    const filled = carry + Math.min(CHUNK_BYTES - carry, file.size - base - carry);
    file.readInto(buf, carry, filled - carry, base + carry);
    const bytes = buf.subarray(0, filled);
    const atEnd = base + filled === file.size;
    carried = null;
    for (let pos = 0; carried === null;) {
      const bytesOfRun = runsSent === 0 ? Math.min(FIRST_RUN_BYTES, runBytes) : runBytes;
      const run = checkRecords(bytes, pos, pos + bytesOfRun, book, jobDecoding(bytesOfRun));
      if (run.failure === null) {
        sendChunkRun(run, chunk, base, filled);
        if (run.goodEnd < filled) pos = run.goodEnd;
        else if (atEnd) return true;
        else carried = bytes.subarray(filled);
      } else {
        // The records before the failure are good, however it is judged.
        sendChunkRun({ ...run, failure: null, tornTail: false }, chunk, base, filled);
        if (run.failure === 'torn' && !atEnd) {
          carried = bytes.subarray(run.goodEnd);
        } else {
          sendFailure(file, base + run.goodEnd);
          return false;
        }
      }
    }
    base += filled - carried.length;
  }
}

function main(): void {
  for (const num of nums) {
    let file: SegmentFile | null = null;
    try {
      file = new SegmentFile(path.join(dir, segmentName(num)));
      const head = Buffer.alloc(Math.min(HEADER_LENGTH, file.size));
      file.readInto(head, 0, head.length, 0);
      const header = checkHeader(head);
      // Replay tells a zero-filled segment (a crash before its header landed) from other damage by all its bytes.
      const whole = header === 'ok' ? null : file.readFrom(0);
      send(
        { kind: 'segment', num, length: file.size, header, head: whole === null ? null : (whole.buffer as ArrayBuffer) },
        whole === null ? [] : [whole.buffer as ArrayBuffer],
      );
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
  send({ kind: 'book', state }, DropBook.buffers(state));
}

main();
