import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { isLastRun } from '../../src/cmdlog/segment-check.js';
import { WorkerSegments, type LoadedSegment, type SegmentWorkerMessage } from '../../src/cmdlog/segment-source.js';
import { newId, tempDir } from '../helpers/cmdlog-fakes.js';
import { idPayload, record, RecordType, segment } from '../helpers/cmdlog-records.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Takes every run of the segment, as replay does. */
async function drain(source: WorkerSegments, seg: LoadedSegment): Promise<number> {
  let records = 0;
  for (;;) {
    const run = await source.run();
    records += run.dropAt.length;
    if (isLastRun(run, seg.buf.length)) return records;
  }
}

test('the replay worker holds at most two segments: it reads the third only once replay is done with the first', async (t) => {
  const dir = tempDir();
  for (let num = 1; num <= 4; num++) {
    const records = Array.from({ length: 20 }, () => record(1_800_000_000, 0, idPayload(RecordType.Expire, newId())));
    fs.writeFileSync(path.join(dir, `00000000${num}.log`), segment(...records));
  }
  const source = new WorkerSegments(dir, [1, 2, 3, 4], 64);
  t.teardown(() => source.close());
  const queue = (source as unknown as { queue: SegmentWorkerMessage[] }).queue;
  const queuedSegments = (): number[] => queue.flatMap((m) => (m.kind === 'segment' ? [m.num] : []));

  const first = (await source.next())!;
  t.is(first.num, 1);
  t.is(await drain(source, first), 20);
  // Segment 2 is read and checked ahead; then the worker waits.
  const deadline = Date.now() + 20_000;
  while (!queuedSegments().includes(2) && Date.now() < deadline) await sleep(20);
  await sleep(300);
  t.deepEqual(queuedSegments(), [2]);

  source.done();
  for (const num of [2, 3, 4]) {
    const seg = (await source.next())!;
    t.is(seg.num, num);
    t.is(await drain(source, seg), 20);
    source.done();
  }
  t.is(await source.next(), null);
  t.truthy(await source.book());
});
