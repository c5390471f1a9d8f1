import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { openCommandLog } from '../../src/cmdlog/command-log.js';
import type { CommandLog, CommandLogOptions } from '../../src/cmdlog/types.js';
import { RecordScanner } from '../../src/cmdlog/record.js';
import { readGoTimeNsec, readGoTimeSec } from '../../src/cmdlog/go-time.js';
import { captureLogger, closedAfter, FaultyFs, makeJob, RecordingEngine, segmentFiles, sleep, tempDir } from '../helpers/cmdlog-fakes.js';
import { eventually } from '../helpers/waits.js';

function options(dir: string, extra: Partial<CommandLogOptions> = {}): CommandLogOptions {
  return { dir, sync: 'interval', syncIntervalMs: 1000, segmentSize: 64 * 1024 * 1024, cleanIntervalMs: 300000, logger: captureLogger().logger, ...extra };
}

const durable = (log: CommandLog, seq = log.lastSeq): Promise<void> => new Promise((resolve) => log.whenDurable(seq, resolve));

/**
 * A log whose cleaner is paused, for tests that look at its segments as the appender left
 * them: the first cleaning pass comes a second after the open, and a sealed segment whose
 * records retire nothing (deletes and expires of unknown IDs) is dropped by it, which a
 * busy machine's 'interval' fsyncs can leave time for.
 */
async function openUncleaned(dir: string, extra: Partial<CommandLogOptions>): Promise<CommandLog> {
  const log = await openCommandLog(options(dir, extra), new RecordingEngine());
  await log.pauseCleaning();
  return log;
}

/** Replays `dir` into a recording fake and returns its calls. */
async function replayCalls(dir: string): Promise<RecordingEngine> {
  const engine = new RecordingEngine();
  const log = await openCommandLog(options(dir), engine);
  await log.close();
  return engine;
}

/** Offsets and TIME of every record of a segment file, checking every CRC. */
function records(file: string): Array<{ offset: number; sec: number; nsec: number }> {
  const buf = fs.readFileSync(file);
  const scanner = new RecordScanner();
  const out = [];
  for (let pos = 8; pos < buf.length; pos = scanner.next) {
    if (scanner.scan(buf, pos, buf.length) !== 'ok') throw new Error(`bad record at ${pos}`);
    out.push({ offset: pos, sec: readGoTimeSec(buf, pos), nsec: readGoTimeNsec(buf, pos) });
  }
  return out;
}

test('a fresh directory gets no segment until the first append; records replay in order', async (t) => {
  const dir = path.join(tempDir(), 'new', 'log');
  const log = closedAfter(t, await openCommandLog(options(dir), new RecordingEngine()));
  t.is(log.lastSeq, 0);
  t.deepEqual(segmentFiles(dir), []);
  const job = makeJob({ name: 'mail' });
  log.add(job);
  log.startAttempt(job.id, 1_800_000_000_123);
  log.timeoutAttempt(job.id);
  log.complete(job.id, 'ok');
  log.expire(job.id);
  log.delete(job.id);
  log.schedule(makeJob({ id: job.id, timeMs: Date.now() + 5000 }));
  log.fail(job.id, 'bad');
  t.is(log.lastSeq, 8);
  let fired = 0;
  log.whenDurable(1, () => fired++);
  t.is(fired, 0);
  await durable(log);
  t.is(fired, 1);
  log.whenDurable(3, () => fired++);
  t.is(fired, 2, 'already durable: at once');
  await log.close();
  t.deepEqual(segmentFiles(dir), ['000000001.log']);
  t.false(fs.readdirSync(dir).some((n) => n.endsWith('.new')));
  const recs = records(path.join(dir, '000000001.log'));
  t.is(recs.length, 8);
  t.is(recs[1]!.sec, 1_800_000_000);
  t.is(recs[1]!.nsec, 123_000_000, 'start-attempt TIME is the lease moment');
  const engine = await replayCalls(dir);
  t.deepEqual(
    engine.calls.map((c) => c[0]),
    ['restore', 'start', 'timeout', 'complete', 'expire', 'delete', 'restore', 'fail'],
  );
  t.is(engine.calls[1]![2], 1_800_000_000_123);
});

test('group commit: all records of one turn go out in one write', async (t) => {
  const dir = tempDir();
  const faulty = new FaultyFs();
  const log = closedAfter(t, await openCommandLog(options(dir, { fs: faulty }), new RecordingEngine()));
  for (let i = 0; i < 1000; i++) log.add(makeJob());
  await durable(log);
  const headerWrite = 1;
  t.is(faulty.writes, headerWrite + 1);
  for (let i = 0; i < 10; i++) log.delete(makeJob().id);
  await durable(log);
  t.is(faulty.writes, headerWrite + 2);
  await log.close();
  t.is(records(path.join(dir, '000000001.log')).length, 1010);
});

test('rotation with a tiny segment size: a segment exceeds it by at most one record', async (t) => {
  const dir = tempDir();
  const log = closedAfter(t, await openUncleaned(dir, { segmentSize: 100 }));
  const ids = Array.from({ length: 7 }, () => makeJob().id);
  for (const id of ids) log.delete(id);
  await durable(log);
  log.expire(ids[0]!);
  await durable(log);
  await log.close();
  const files = segmentFiles(dir);
  // Each record is 37 bytes: 8 + 37 + 37 = 82 < 100, the third makes 119.
  t.deepEqual(files, ['000000001.log', '000000002.log', '000000003.log']);
  t.deepEqual(
    files.map((f) => fs.statSync(path.join(dir, f)).size),
    [119, 119, 82],
  );
  const engine = await replayCalls(dir);
  t.deepEqual(
    engine.calls.map((c) => c[1]),
    [...ids, ids[0]],
  );
});

test('a segment size below the header still puts one record in each segment', async (t) => {
  const dir = tempDir();
  const log = closedAfter(t, await openUncleaned(dir, { segmentSize: 1, sync: 'os' }));
  for (let i = 0; i < 3; i++) log.expire(makeJob().id);
  await durable(log);
  await log.close();
  t.deepEqual(
    segmentFiles(dir).map((f) => fs.statSync(path.join(dir, f)).size),
    [45, 45, 45],
  );
});

test('appending continues in the highest segment after a restart, rotating if it is full', async (t) => {
  const dir = tempDir();
  let log = closedAfter(t, await openCommandLog(options(dir, { segmentSize: 200 }), new RecordingEngine()));
  for (let i = 0; i < 3; i++) log.expire(makeJob().id);
  await log.close();
  log = closedAfter(t, await openCommandLog(options(dir, { segmentSize: 200 }), new RecordingEngine()));
  log.expire(makeJob().id);
  await log.close();
  t.deepEqual(segmentFiles(dir), ['000000001.log']);
  t.is(records(path.join(dir, '000000001.log')).length, 4);
  log = closedAfter(t, await openCommandLog(options(dir, { segmentSize: 100 }), new RecordingEngine()));
  log.expire(makeJob().id);
  await log.close();
  t.deepEqual(segmentFiles(dir), ['000000001.log', '000000002.log']);
});

test("'always': callbacks wait for the fsync, and records of one moment share it", async (t) => {
  const dir = tempDir();
  const faulty = new FaultyFs();
  const log = closedAfter(t, await openCommandLog(options(dir, { fs: faulty, sync: 'always' }), new RecordingEngine()));
  const order: string[] = [];
  for (let i = 0; i < 50; i++) {
    log.expire(makeJob().id);
    log.whenDurable(log.lastSeq, () => order.push(`a${i}`));
  }
  await durable(log);
  t.is(order.length, 50);
  t.is(faulty.fsyncsOf('000000001.log'), 1, 'the segment');
  t.true(faulty.fsyncsOf(path.basename(dir)) >= 1, 'and the directory entry of the new segment');
  const before = faulty.fsyncsOf('000000001.log');
  log.expire(makeJob().id);
  await durable(log);
  t.is(faulty.fsyncsOf('000000001.log'), before + 1);
  // Records that arrive while an fsync runs share the next one. The fsyncs are slowed
  // down so that this holds on any disk: on a fast one each could end within a turn.
  faulty.fsyncDelayMs = 20;
  const start = faulty.fsyncsOf('000000001.log');
  const waits: Promise<void>[] = [];
  for (let i = 0; i < 20; i++) {
    log.expire(makeJob().id);
    waits.push(durable(log));
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(waits);
  const fsyncs = faulty.fsyncsOf('000000001.log') - start;
  t.true(fsyncs < 20, `${fsyncs} fsyncs for 20 turns`);
  await log.close();
});

test("'interval' fsyncs on its timer once a segment is open; 'os' never before close", async (t) => {
  const dir = tempDir();
  const faulty = new FaultyFs();
  const log = closedAfter(t, await openCommandLog(options(dir, { fs: faulty, syncIntervalMs: 20 }), new RecordingEngine()));
  await sleep(100);
  t.is(faulty.fsyncs, 0);
  log.expire(makeJob().id);
  await durable(log);
  t.is(faulty.fsyncsOf('000000001.log'), 0, 'the callback does not wait for fsync');
  t.true(await eventually(() => faulty.fsyncsOf('000000001.log') >= 1), 'the interval timer fsyncs');
  await log.close();

  const dir2 = tempDir();
  const faulty2 = new FaultyFs();
  const log2 = closedAfter(t, await openCommandLog(options(dir2, { fs: faulty2, sync: 'os' }), new RecordingEngine()));
  for (let i = 0; i < 5; i++) {
    log2.expire(makeJob().id);
    await durable(log2);
  }
  await sleep(50);
  t.is(faulty2.fsyncsOf('000000001.log'), 0);
  await log2.close();
});

for (const partialBytes of [0, 30]) {
  test(`disk full (partial write ${partialBytes}) → read-only → recovery; nothing torn in the middle`, async (t) => {
    const dir = tempDir();
    const faulty = new FaultyFs();
    const { logger, lines } = captureLogger();
    const log = closedAfter(t, await openCommandLog(options(dir, { fs: faulty, logger }), new RecordingEngine()));
    const changes: boolean[] = [];
    log.onReadOnlyChange = (ro) => changes.push(ro);
    log.expire(makeJob().id);
    await durable(log);
    faulty.failWrites = 'ENOSPC';
    faulty.partialBytes = partialBytes;
    const fired: number[] = [];
    const ids = Array.from({ length: 5 }, () => makeJob().id);
    for (const id of ids.slice(0, 3)) {
      log.delete(id);
      const seq = log.lastSeq;
      log.whenDurable(seq, () => fired.push(seq));
    }
    t.true(await eventually(() => log.readOnly));
    t.deepEqual(changes, [true]);
    t.deepEqual(fired, []);
    for (const id of ids.slice(3)) {
      log.delete(id);
      const seq = log.lastSeq;
      log.whenDurable(seq, () => fired.push(seq));
    }
    await sleep(1100);
    t.true(log.readOnly, 'still failing');
    faulty.failWrites = null;
    await durable(log);
    t.false(log.readOnly);
    t.deepEqual(changes, [true, false]);
    t.deepEqual(fired, [2, 3, 4, 5, 6]);
    t.true(lines.some((l) => String(l.msg).includes('read-only')));
    await log.close();
    t.is(records(path.join(dir, '000000001.log')).length, 6);
    const engine = await replayCalls(dir);
    t.deepEqual(
      engine.calls.slice(1).map((c) => c[1]),
      ids,
    );
  });
}

test("an fsync failure under 'always' rewrites the records from the last good fsync", async (t) => {
  const dir = tempDir();
  const faulty = new FaultyFs();
  const log = closedAfter(t, await openCommandLog(options(dir, { fs: faulty, sync: 'always' }), new RecordingEngine()));
  log.expire(makeJob().id);
  await durable(log);
  faulty.failFsync = 'EIO';
  let fired = false;
  log.expire(makeJob().id);
  log.whenDurable(log.lastSeq, () => (fired = true));
  t.true(await eventually(() => log.readOnly));
  t.false(fired);
  faulty.failFsync = null;
  await durable(log);
  t.true(fired);
  t.false(log.readOnly);
  await log.close();
  t.is(records(path.join(dir, '000000001.log')).length, 2);
});

test('a segment that cannot be created keeps the log read-only until it can', async (t) => {
  const dir = tempDir();
  const log = closedAfter(t, await openUncleaned(dir, { segmentSize: 50 }));
  log.expire(makeJob().id);
  log.expire(makeJob().id);
  await durable(log);
  fs.mkdirSync(path.join(dir, '000000002.log'));
  fs.writeFileSync(path.join(dir, '000000002.log', 'x'), 'x');
  log.expire(makeJob().id);
  t.true(await eventually(() => log.readOnly));
  fs.rmSync(path.join(dir, '000000002.log'), { recursive: true });
  await durable(log);
  t.false(log.readOnly);
  await log.close();
  t.deepEqual(segmentFiles(dir), ['000000001.log', '000000002.log']);
});

test('close is idempotent and, while read-only, logs the records it could not write', async (t) => {
  const dir = tempDir();
  const faulty = new FaultyFs();
  const { logger, lines } = captureLogger();
  const log = closedAfter(t, await openCommandLog(options(dir, { fs: faulty, logger }), new RecordingEngine()));
  log.expire(makeJob().id);
  await durable(log);
  faulty.failWrites = 'EIO';
  log.expire(makeJob().id);
  log.expire(makeJob().id);
  t.true(await eventually(() => log.readOnly));
  const first = log.close();
  t.is(log.close(), first);
  await first;
  const line = lines.find((l) => l.unwrittenRecords === 2 && String(l.msg).includes('closing'));
  t.truthy(line);
  t.is(records(path.join(dir, '000000001.log')).length, 1);
});
