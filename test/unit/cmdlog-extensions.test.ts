import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { openCommandLog } from '../../src/cmdlog/command-log.js';
import { DropBook } from '../../src/cmdlog/drop-book.js';
import { decodePayload } from '../../src/cmdlog/payload.js';
import { checkRecords } from '../../src/cmdlog/segment-check.js';
import type { CommandLog, CommandLogOptions } from '../../src/cmdlog/types.js';
import { Engine } from '../../src/jobs/engine.js';
import { JobState } from '../../src/jobs/job.js';
import { captureLogger, copyDir, makeJob, newId, RecordingEngine, tempDir, type Call } from '../helpers/cmdlog-fakes.js';
import {
  HEADER,
  idPayload,
  jobPayload,
  queuePayload,
  record,
  RecordType,
  restoredJob,
  resultPayload,
  retryAtPayload,
  retryDelayPayload,
  segment,
  touchPayload,
} from '../helpers/cmdlog-records.js';

// Records of the protocol extensions (docs/protocol-extensions.md): touch (9), pause (10),
// resume (11), retry-at (12) and retry-delay (13): their bytes, replay, and what the
// cleaner may drop.

const T0 = 1_800_000_000_000;
const T0_SEC = T0 / 1000;

function options(dir: string, now: () => number, extra: Partial<CommandLogOptions> = {}): CommandLogOptions {
  return { dir, sync: 'os', syncIntervalMs: 1000, segmentSize: 300, cleanIntervalMs: 300000, logger: captureLogger().logger, now, ...extra };
}

const durable = (log: CommandLog): Promise<void> => new Promise((resolve) => log.whenDurable(log.lastSeq, resolve));

const v4Id = fc.uuid({ version: 4 });
const queueName = fc.stringMatching(/^[A-Za-z0-9_.-]{1,255}$/);

test('touch, pause and resume payloads: exact bytes, and they decode back (property)', (t) => {
  const id = '8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e';
  t.is(touchPayload(id, 5000).toString('hex'), '098c5b8a2e6d1f4b3a9c7e2f1a0b9c8d7e8827');
  t.is(queuePayload(RecordType.Pause, 'ping').toString('hex'), '0a0470696e67');
  t.is(queuePayload(RecordType.Resume, 'ping').toString('hex'), '0b0470696e67');
  fc.assert(
    fc.property(v4Id, fc.integer({ min: 1, max: 86_400_000 }), queueName, (jobId, ttr, name) => {
      const p = touchPayload(jobId, ttr);
      t.deepEqual(decodePayload(p, 0, p.length), { type: RecordType.Touch, id: jobId, ttr });
      for (const type of [RecordType.Pause, RecordType.Resume]) {
        const q = queuePayload(type, name);
        t.deepEqual(decodePayload(q, 0, q.length), { type, name });
      }
    }),
  );
});

test('touch, pause and resume payloads that cannot be replayed are refused with a reason', (t) => {
  const id = newId();
  const decode = (buf: Buffer): unknown => decodePayload(buf, 0, buf.length);
  t.is(decode(touchPayload(id, 0)), 'Invalid TTR');
  t.is(decode(touchPayload(id, 86_400_001)), 'Invalid TTR');
  t.is(decode(touchPayload('6ba7b810-9dad-11d1-80b4-00c04fd430c4', 5)), 'Invalid ID');
  t.is(decode(Buffer.concat([touchPayload(id, 5), Buffer.from([0])])), 'trailing garbage detected');
  t.is(decode(touchPayload(id, 5).subarray(0, 17)), 'unexpected EOF');
  t.is(decode(queuePayload(RecordType.Pause, 'a b')), 'Invalid Name');
  t.is(decode(queuePayload(RecordType.Resume, '')), 'Invalid Name');
  t.is(decode(queuePayload(RecordType.Pause, 'x'.repeat(256))), 'Invalid Name');
  t.is(decode(Buffer.concat([queuePayload(RecordType.Pause, 'q'), Buffer.from([0])])), 'trailing garbage detected');
  t.is(decode(Buffer.from([RecordType.Pause, 5, 0x61])), 'unexpected EOF');
});

test('the cleaner may drop a touch once its job has expired, a pause or resume never', (t) => {
  const id = newId();
  const buf = segment(
    record(T0_SEC, 0, jobPayload(RecordType.Add, restoredJob({ id, createdSec: T0_SEC, ttl: 10_000 }))),
    record(T0_SEC, 0, touchPayload(id, 1000)),
    record(T0_SEC, 0, queuePayload(RecordType.Pause, 'q')),
    record(T0_SEC, 0, queuePayload(RecordType.Resume, 'a-name-longer-than-sixteen-bytes')),
    record(T0_SEC, 0, touchPayload(newId(), 1000)),
  );
  const book = new DropBook();
  const run = checkRecords(buf, HEADER.length, buf.length, book);
  t.is(run.failure, null);
  t.deepEqual(
    [...run.dropAt].map((d) => book.droppable(d, T0 + 10_000)),
    [false, false, false, false, true],
  );
  t.deepEqual(
    [...run.dropAt].map((d) => book.droppable(d, T0 + 10_001)),
    [true, true, false, false, true],
  );
});

for (const replayWorker of [undefined, { fromBytes: 0 }, { fromBytes: 0, runBytes: 24 }]) {
  test(`replay applies touch, pause and resume in log order (${replayWorker === undefined ? 'inline' : `worker${replayWorker.runBytes ? ', 24-byte runs' : ''}`})`, async (t) => {
    const dir = tempDir();
    const id = newId();
    fs.writeFileSync(
      path.join(dir, '000000001.log'),
      segment(
        record(T0_SEC, 0, jobPayload(RecordType.Add, restoredJob({ id, createdSec: T0_SEC, ttl: 600_000 }))),
        record(T0_SEC, 0, queuePayload(RecordType.Pause, 'q')),
        record(T0_SEC + 1, 250_000_000, touchPayload(id, 7000)),
        record(T0_SEC + 2, 0, queuePayload(RecordType.Resume, 'q')),
        record(T0_SEC + 3, 0, queuePayload(RecordType.Pause, 'q')),
      ),
    );
    const engine = new RecordingEngine();
    await (
      await openCommandLog(
        options(dir, () => T0, { replayWorker }),
        engine,
      )
    ).close();
    t.deepEqual(engine.calls, [
      ['restore', id, 'q'],
      ['pause', 'q'],
      ['touch', id, 7000, T0 + 1250],
      ['resume', 'q'],
      ['pause', 'q'],
    ]);
  });
}

test('the real engine after replay: the touched lease ends at TIME + ttr, the pause holds', async (t) => {
  const dir = tempDir();
  let now = T0;
  const live = new Engine({ now: () => now });
  const log = await openCommandLog(
    options(dir, () => now),
    live,
  );
  live.setJournal(log);
  live.add({
    id: '8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e',
    name: 'q',
    ttr: 100,
    ttl: 600_000,
    priority: 0,
    maxAttempts: 0,
    maxFails: 0,
    payload: Buffer.from('p'),
  });
  live.lease(['q'], 0, () => undefined);
  now = T0 + 50;
  t.is(live.touch('8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e', 3000), null);
  live.pause('q', true);
  live.pause('other', true);
  live.pause('other', false);
  await durable(log);
  await log.close();

  now = T0 + 3049;
  const replayed = new Engine({ now: () => now });
  await (
    await openCommandLog(
      options(dir, () => now),
      replayed,
    )
  ).close();
  replayed.tick(now);
  const job = replayed.inspectJob('8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e')!;
  t.is(job.state, JobState.Leased);
  t.is(replayed.deadlineOf(job), T0 + 3050);
  t.like(replayed.inspectQueue('q'), { paused: true });
  t.like(replayed.inspectQueue('other'), { paused: false });
  replayed.tick(T0 + 3050);
  t.is(job.state, JobState.Pending);
  let got: unknown = 'waiting';
  replayed.lease(['q'], 0, (j) => (got = j));
  t.is(got, null, 'the paused queue hands out nothing after the replay');
});

test('cleaning keeps pause and resume records and drops touches of expired jobs; the replayed state is the same', async (t) => {
  const dir = tempDir();
  let now = T0;
  const log = await openCommandLog(
    options(dir, () => now),
    new RecordingEngine(),
  );
  const short = makeJob({ name: 'short', ttl: 10_000, createdMs: now });
  log.pause('held', true);
  log.add(short);
  log.startAttempt(short.id, now);
  log.touch(short.id, 5000, now);
  log.pause('held', false);
  log.pause('held', true);
  for (let i = 0; i < 20; i++) log.expire(newId());
  await durable(log);
  const before = path.join(tempDir(), 'before');
  copyDir(dir, before);
  now = T0 + 20_000;
  await log.cleanNow();
  await log.close();
  const replay = async (d: string): Promise<Call[]> => {
    const engine = new RecordingEngine();
    await (
      await openCommandLog(
        options(d, () => now),
        engine,
      )
    ).close();
    return engine.calls.filter((c) => c[0] !== 'expire');
  };
  const cleaned = await replay(dir);
  t.deepEqual(cleaned, [
    ['pause', 'held'],
    ['resume', 'held'],
    ['pause', 'held'],
  ]);
  t.deepEqual(
    (await replay(before)).filter((c) => c[0] === 'pause' || c[0] === 'resume'),
    cleaned,
  );
});

test('retry-at and retry-delay payloads: exact bytes, round trip, refusals', (t) => {
  const id = '8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e';
  t.is(retryAtPayload(id, 300).toString('hex'), '0c8c5b8a2e6d1f4b3a9c7e2f1a0b9c8d7eac02');
  t.is(retryDelayPayload(id, { delayMs: 100, maxDelayMs: 1000, jitterPercent: 20 }).toString('hex'), '0d8c5b8a2e6d1f4b3a9c7e2f1a0b9c8d7e64e80714');
  fc.assert(
    fc.property(
      v4Id,
      fc.integer({ min: 1, max: 86_400_000 }),
      fc.integer({ min: 0, max: 86_400_000 }),
      fc.integer({ min: 0, max: 100 }),
      (jobId, ms, cap, jitter) => {
        const at = retryAtPayload(jobId, ms);
        t.deepEqual(decodePayload(at, 0, at.length), { type: RecordType.RetryAt, id: jobId, delayMs: ms });
        const delay = { delayMs: ms, maxDelayMs: cap, jitterPercent: jitter };
        const p = retryDelayPayload(jobId, delay);
        t.deepEqual(decodePayload(p, 0, p.length), { type: RecordType.RetryDelay, id: jobId, delay });
      },
    ),
  );
  const decode = (buf: Buffer): unknown => decodePayload(buf, 0, buf.length);
  t.is(decode(retryAtPayload(id, 0)), 'Invalid Retry Delay');
  t.is(decode(retryAtPayload(id, 86_400_001)), 'Invalid Retry Delay');
  t.is(decode(retryDelayPayload(id, { delayMs: 86_400_001, maxDelayMs: 0, jitterPercent: 0 })), 'Invalid Retry Delay');
  t.is(decode(retryDelayPayload(id, { delayMs: 1, maxDelayMs: 86_400_001, jitterPercent: 0 })), 'Invalid Retry Max Delay');
  t.is(decode(retryDelayPayload(id, { delayMs: 1, maxDelayMs: 0, jitterPercent: 101 })), 'Invalid Retry Jitter');
  t.is(decode(retryDelayPayload('6ba7b810-9dad-11d1-80b4-00c04fd430c4', { delayMs: 1, maxDelayMs: 0, jitterPercent: 0 })), 'Invalid ID');
  t.is(decode(Buffer.concat([retryAtPayload(id, 5), Buffer.from([0])])), 'trailing garbage detected');
});

test('the real engine after replay: a job waiting out its retry delay waits until TIME + delay, with its own delay kept', async (t) => {
  const dir = tempDir();
  const id = newId();
  const waiting = newId();
  const delay = { delayMs: 400, maxDelayMs: 2000, jitterPercent: 0 };
  fs.writeFileSync(
    path.join(dir, '000000001.log'),
    segment(
      record(T0_SEC, 0, jobPayload(RecordType.Add, restoredJob({ id, createdSec: T0_SEC, ttl: 600_000, maxFails: 5 }))),
      record(T0_SEC, 0, retryDelayPayload(id, delay)),
      record(T0_SEC, 0, idPayload(RecordType.StartAttempt, id)),
      record(T0_SEC + 1, 0, resultPayload(RecordType.Fail, id, 'down')),
      record(T0_SEC + 1, 0, retryAtPayload(id, 400)),
      record(T0_SEC, 0, jobPayload(RecordType.Add, restoredJob({ id: waiting, createdSec: T0_SEC, ttl: 600_000, ttr: 100 }))),
      record(T0_SEC, 0, idPayload(RecordType.StartAttempt, waiting)),
      record(T0_SEC, 100_000_000, idPayload(RecordType.TimeoutAttempt, waiting)),
      record(T0_SEC, 100_000_000, retryAtPayload(waiting, 5000)),
    ),
  );
  const now = T0 + 1399;
  const engine = new Engine({ now: () => now });
  await (
    await openCommandLog(
      options(dir, () => now),
      engine,
    )
  ).close();
  engine.tick(now);
  const job = engine.inspectJob(id)!;
  t.like(job, { state: JobState.Pending, fails: 1, attempts: 1, retryAt: T0 + 1400 });
  t.deepEqual(job.retryDelay, delay);
  t.like(engine.inspectJob(waiting)!, { state: JobState.Pending, retryAt: T0 + 5100 });
  t.like(engine.inspectQueue('q'), { readyLen: 0, scheduledLen: 2 });
  engine.tick(T0 + 1400);
  t.like(engine.inspectQueue('q'), { readyLen: 1, scheduledLen: 1 });
  t.is(job.retryAt, 0);
});

test('a retry record (type 14) decodes, and replay starts the failed job over as of that record', async (t) => {
  const id = newId();
  const p = idPayload(RecordType.Retry, id);
  t.is(p[0], 14);
  t.deepEqual(decodePayload(p, 0, p.length), { type: RecordType.Retry, id });
  const nonV4 = idPayload(RecordType.Retry, '6ba7b810-9dad-11d1-80b4-00c04fd430c4');
  t.is(decodePayload(nonV4, 0, nonV4.length), 'Invalid ID');
  const dir = tempDir();
  const kept = newId();
  fs.writeFileSync(
    path.join(dir, '000000001.log'),
    segment(
      record(T0_SEC, 0, jobPayload(RecordType.Add, restoredJob({ id, createdSec: T0_SEC, ttl: 600_000 }))),
      record(T0_SEC, 0, jobPayload(RecordType.Add, restoredJob({ id: kept, createdSec: T0_SEC, ttl: 600_000 }))),
      record(T0_SEC, 0, idPayload(RecordType.StartAttempt, id)),
      record(T0_SEC, 0, resultPayload(RecordType.Fail, id, 'no')),
      record(T0_SEC, 0, resultPayload(RecordType.Fail, kept, 'no')),
      record(T0_SEC + 1, 0, idPayload(RecordType.Retry, id)),
      record(T0_SEC + 1, 0, idPayload(RecordType.Retry, newId())),
    ),
  );
  const engine = new Engine({ now: () => T0 + 2000 });
  await (
    await openCommandLog(
      options(dir, () => T0 + 2000),
      engine,
    )
  ).close();
  t.like(engine.inspectJob(id)!, { state: JobState.New, attempts: 0, fails: 0, result: null });
  t.deepEqual(
    engine.inspectJobs('q', 0, 10)!.map((j) => j.id),
    [id],
  );
  t.deepEqual(
    engine.inspectStateJobs('q', 'failed', 0, 10)!.map((j) => j.id),
    [kept],
  );
});
