import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { MAX_PAYLOAD_SIZE } from '../../src/cmdlog/record.js';
import { isLastRun } from '../../src/cmdlog/segment-check.js';
import {
  CHUNK_BYTES,
  CHUNKS,
  FIRST_RUN_BYTES,
  RUN_BYTES,
  WorkerSegments,
  type LoadedSegment,
  type SegmentRun,
  type SegmentWorkerMessage,
} from '../../src/cmdlog/segment-source.js';
import { newId, tempDir } from '../helpers/cmdlog-fakes.js';
import { HEADER, idPayload, record, RecordType, resultPayload, segment } from '../helpers/cmdlog-records.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Takes every run of the segment, as replay does; returns them. */
async function drain(source: WorkerSegments, seg: LoadedSegment): Promise<SegmentRun[]> {
  const runs: SegmentRun[] = [];
  for (;;) {
    const run = await source.run();
    runs.push({ ...run, bytes: Buffer.from(run.bytes) });
    if (isLastRun(run, seg.length)) return runs;
  }
}

/** Writes the records as segment 1 of a fresh directory and reads it whole through a replay worker. */
async function readThrough(t: ExecutionContext, records: Buffer[]): Promise<{ data: Buffer; runs: SegmentRun[] }> {
  const dir = tempDir();
  const data = segment(...records);
  fs.writeFileSync(path.join(dir, '000000001.log'), data);
  const source = new WorkerSegments(dir, [1]);
  t.teardown(() => source.close());
  const seg = (await source.next())!;
  return { data, runs: await drain(source, seg) };
}

const recordsOf = (runs: SegmentRun[]): number => runs.reduce((sum, run) => sum + run.dropAt.length, 0);

test(`the replay worker holds at most ${CHUNKS} chunks, whatever the segments: it reads on only once replay releases one`, async (t) => {
  const dir = tempDir();
  for (let num = 1; num <= 5; num++) {
    const records = Array.from({ length: 20 }, () => record(1_800_000_000, 0, idPayload(RecordType.Expire, newId())));
    fs.writeFileSync(path.join(dir, `00000000${num}.log`), segment(...records));
  }
  const source = new WorkerSegments(dir, [1, 2, 3, 4, 5], 64);
  t.teardown(() => source.close());
  const queue = (source as unknown as { queue: SegmentWorkerMessage[] }).queue;
  const queuedSegments = (): number[] => queue.flatMap((m) => (m.kind === 'segment' ? [m.num] : []));

  const first = (await source.next())!;
  t.is(first.num, 1);
  t.is(recordsOf(await drain(source, first)), 20);
  // Segments 2 and 3 are read and checked ahead, each in a chunk of its own; segment 4 waits for a chunk.
  const deadline = Date.now() + 20_000;
  while (!queuedSegments().includes(CHUNKS + 1) && Date.now() < deadline) await sleep(20);
  await sleep(300);
  t.deepEqual(queuedSegments(), [2, 3, 4]);
  t.is(queue.at(-1)!.kind, 'segment');

  source.done();
  for (const num of [2, 3, 4, 5]) {
    const seg = (await source.next())!;
    t.is(seg.num, num);
    t.is(recordsOf(await drain(source, seg)), 20);
    source.done();
  }
  t.is(await source.next(), null);
  t.truthy(await source.book());
});

/** Records of 1 to 300 000 bytes, so that chunk ends cut through records and their SIZEs. */
function largeSegment(bytes: number): { data: Buffer; ends: number[] } {
  const records: Buffer[] = [];
  const ends: number[] = [];
  let size = HEADER.length;
  for (let i = 0; size < bytes; i++) {
    const r = record(1_800_000_000, i, resultPayload(RecordType.Complete, newId(), 'r'.repeat((i * 7919 * 37) % 300_000)));
    records.push(r);
    size += r.length;
    ends.push(size);
  }
  return { data: segment(...records), ends };
}

/** The bytes of the records the runs give, in order, read from each run's own bytes. */
function recordBytes(runs: SegmentRun[]): Buffer {
  const parts: Buffer[] = [];
  let pos = HEADER.length;
  for (const run of runs) {
    parts.push(run.bytes.subarray(pos - run.base, run.goodEnd - run.base));
    pos = run.goodEnd;
  }
  return Buffer.concat(parts);
}

test('segments larger than the ring come whole through its chunks: records cut at a chunk end start the next', async (t) => {
  const dir = tempDir();
  const { data, ends } = largeSegment(3 * CHUNK_BYTES + 12_345);
  fs.writeFileSync(path.join(dir, '000000001.log'), data);
  fs.writeFileSync(path.join(dir, '000000002.log'), data);
  const source = new WorkerSegments(dir, [1, 2]);
  t.teardown(() => source.close());
  for (const num of [1, 2]) {
    const seg = (await source.next())!;
    t.is(seg.num, num);
    t.is(seg.length, data.length);
    const runs = await drain(source, seg);
    t.is(recordsOf(runs), ends.length);
    t.true(runs.every((run) => run.failure === null && run.bytes.length <= CHUNK_BYTES));
    t.true(recordBytes(runs).equals(data.subarray(HEADER.length)));
    source.done();
  }
  t.is(await source.next(), null);
});

test('a record of the largest size a SIZE may give, cut at a chunk end, comes whole at the start of the next chunk', async (t) => {
  const small = (i: number): Buffer => record(1_800_000_000, i, resultPayload(RecordType.Complete, newId(), 'r'.repeat(1000)));
  // Small records up to 1 MiB before the first chunk ends, then one whose payload is MAX_PAYLOAD_SIZE.
  const before: Buffer[] = [];
  for (let size = HEADER.length; size < CHUNK_BYTES - 1024 * 1024; size += before.at(-1)!.length) before.push(small(before.length));
  const id = newId();
  const largest = record(
    1_800_000_000,
    0,
    resultPayload(RecordType.Complete, id, 'L'.repeat(MAX_PAYLOAD_SIZE - resultPayload(RecordType.Complete, id, '').length - 3)),
  );
  const records = [...before, largest, small(0), small(1)];
  const { data, runs } = await readThrough(t, records);
  t.true(largest.length > CHUNK_BYTES - 1024 * 1024, 'the record does not fit in what is left of the first chunk');
  t.true(runs.every((run) => run.failure === null));
  t.is(recordsOf(runs), records.length);
  t.true(recordBytes(runs).equals(data.subarray(HEADER.length)));
});

test('the first run is short, so that replay starts while the worker checks on; the runs after it are full', async (t) => {
  const records = Array.from({ length: 30_000 }, (_, i) => record(1_800_000_000, i, resultPayload(RecordType.Complete, newId(), 'r'.repeat(40))));
  const recordLength = records[0]!.length;
  const { runs } = await readThrough(t, records);
  t.is(recordsOf(runs), records.length);
  const ends = runs.map((run) => run.goodEnd);
  t.true(ends[0]! - HEADER.length < FIRST_RUN_BYTES + recordLength, `first run: ${ends[0]! - HEADER.length} bytes`);
  t.true(ends[1]! - ends[0]! >= RUN_BYTES, `second run: ${ends[1]! - ends[0]!} bytes`);
});

test('a record failing in a later chunk: the run before it ends there, and the last run holds the file from it to the end, judged whole', async (t) => {
  const dir = tempDir();
  const { data, ends } = largeSegment(2 * CHUNK_BYTES + 100_000);
  // A bad CRC in a record well into the second chunk, with whole records after it: damage.
  const bad = ends.findIndex((end) => end > CHUNK_BYTES + 50_000);
  const damaged = Buffer.from(data);
  damaged[ends[bad]! - 1]! ^= 0xff;
  // The same segment cut inside its last record: a torn tail.
  const torn = data.subarray(0, data.length - 10);
  fs.writeFileSync(path.join(dir, '000000001.log'), damaged);
  fs.writeFileSync(path.join(dir, '000000002.log'), torn);
  // The worker reads no further than a failing segment: one source for each.
  let source = new WorkerSegments(dir, [1]);
  t.teardown(() => source.close());

  const first = (await source.next())!;
  let runs = await drain(source, first);
  let last = runs.at(-1)!;
  t.is(last.failure, 'crc-mismatch');
  t.false(last.tornTail);
  t.is(last.goodEnd, ends[bad - 1]!);
  t.true(last.bytes.equals(damaged.subarray(ends[bad - 1])));
  t.is(recordsOf(runs), bad);
  source.done();
  t.is(await source.next(), null);
  await source.close();

  source = new WorkerSegments(dir, [2]);
  const second = (await source.next())!;
  runs = await drain(source, second);
  last = runs.at(-1)!;
  t.is(last.failure, 'torn');
  t.true(last.tornTail);
  t.is(last.goodEnd, ends.at(-2)!);
  t.true(last.bytes.equals(torn.subarray(ends.at(-2))));
  t.is(recordsOf(runs), ends.length - 1);
  source.done();
  t.is(await source.next(), null);
});
