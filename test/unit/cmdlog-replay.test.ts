import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { openCommandLog } from '../../src/cmdlog/command-log.js';
import { CmdlogCorruptError, CmdlogRefusalError, isCmdlogRefusal } from '../../src/cmdlog/errors.js';
import { writeUvarint } from '../../src/cmdlog/varint.js';
import type { CommandLogOptions } from '../../src/cmdlog/types.js';
import { Engine } from '../../src/jobs/engine.js';
import { JobState } from '../../src/jobs/job.js';
import { captureLogger, FaultyFs, newId, openRefused, RecordingEngine, tempDir } from '../helpers/cmdlog-fakes.js';
import { HEADER, idPayload, jobPayload, record, RecordType, restoredJob, resultPayload, segment } from '../helpers/cmdlog-records.js';
import { flipBits } from '../helpers/bytes.js';

const NOW_SEC = Math.floor(Date.now() / 1000);
/**
 * Replay's clock, fixed at the records' TIME: which jobs replay finds expired must not
 * depend on how long after this file loaded a test starts (a loaded machine runs the
 * last tests here more than a minute later, past the records' 60 s TTL).
 */
const clock = { now: () => NOW_SEC * 1000 };

/**
 * Replay reads and checks segments on the main thread for small logs and in a worker
 * thread for large ones; every test of replay's outcome runs both ways, and again with
 * the worker checking runs of a few dozen bytes, so that its runs and reads end inside
 * and between records everywhere. The tests that open a log dozens of times skip the
 * plain worker mode, which the 24-byte one covers and more.
 */
const MODES: Array<{ name: string; replayWorker: CommandLogOptions['replayWorker']; manyOpens: boolean }> = [
  { name: 'inline', replayWorker: undefined, manyOpens: true },
  { name: 'worker', replayWorker: { fromBytes: 0 }, manyOpens: false },
  { name: 'worker, 24-byte runs', replayWorker: { fromBytes: 0, runBytes: 24 }, manyOpens: true },
];

function baseOptions(dir: string, extra: Partial<CommandLogOptions> = {}): CommandLogOptions {
  return { dir, sync: 'os', syncIntervalMs: 1000, segmentSize: 1 << 20, cleanIntervalMs: 300000, logger: captureLogger().logger, now: clock.now, ...extra };
}

/** An add created when this file was loaded; its hour of TTL outlasts the slowest run of these tests (a minute did not, on a busy machine). */
function addRecord(id: string, extra: Parameters<typeof restoredJob>[0] | object = {}): Buffer {
  return record(NOW_SEC, 0, jobPayload(RecordType.Add, restoredJob({ id, createdSec: NOW_SEC, ttl: 3_600_000, ...extra })));
}

function writeSegments(dir: string, segments: Record<number, Buffer>): void {
  for (const [num, buf] of Object.entries(segments)) fs.writeFileSync(path.join(dir, `${String(num).padStart(9, '0')}.log`), buf);
}

const ids = Array.from({ length: 3 }, () => newId());
const base = [addRecord(ids[0]!), record(NOW_SEC, 0, idPayload(RecordType.StartAttempt, ids[0]!)), addRecord(ids[1]!)];

for (const m of MODES) {
  const options = (dir: string, extra: Partial<CommandLogOptions> = {}): CommandLogOptions => baseOptions(dir, { replayWorker: m.replayWorker, ...extra });

  test(`torn tail at cut points all through the last record: truncated, warned, the rest replayed (${m.name})`, async (t) => {
    const last = record(NOW_SEC, 0, resultPayload(RecordType.Complete, ids[0]!, 'done'));
    const whole = segment(...base, last);
    const keep = whole.length - last.length;
    // Every cut inline; in TIME, SIZE, payload and CRC with a worker, which takes long to start here.
    const cuts = Array.from({ length: last.length - 1 }, (_, i) => i + 1).filter(
      (cut) => m.replayWorker === undefined || cut % 4 === 1 || cut === last.length - 1,
    );
    for (const cut of cuts) {
      const dir = tempDir();
      writeSegments(dir, { 3: segment(...base), 4: whole.subarray(0, keep + cut) });
      const engine = new RecordingEngine();
      const { logger, lines } = captureLogger();
      const log = await openCommandLog(options(dir, { logger }), engine);
      await log.close();
      t.is(engine.calls.length, 6, `cut ${cut}`);
      t.is(fs.statSync(path.join(dir, '000000004.log')).size, keep);
      const warn = lines.find((l) => l.level === 40 && String(l.msg).includes('torn'));
      t.is(warn?.bytesDropped, cut);
      t.is(warn?.offset, keep);
      t.regex(String(warn?.file), /000000004\.log$/);
      // The bytes cut are kept beside the segment, exactly.
      t.is(warn?.keptIn, path.join(dir, '000000004.log.torn'));
      t.deepEqual(fs.readFileSync(path.join(dir, '000000004.log.torn')), last.subarray(0, cut));
    }
  });

  test(`a zero-filled highest segment (its header never reached the disk) is rewritten as an empty one, its bytes kept; elsewhere it refuses (${m.name})`, async (t) => {
    const dir = tempDir();
    writeSegments(dir, { 1: segment(...base), 2: Buffer.alloc(4096) });
    const { logger, lines } = captureLogger();
    const engine = new RecordingEngine();
    await (await openCommandLog(options(dir, { logger }), engine)).close();
    t.is(engine.calls.length, 3);
    t.deepEqual(fs.readFileSync(path.join(dir, '000000002.log')), HEADER);
    t.deepEqual(fs.readFileSync(path.join(dir, '000000002.log.torn')), Buffer.alloc(4096));
    t.true(lines.some((l) => l.level === 40 && l.bytes === 4096 && l.keptIn === path.join(dir, '000000002.log.torn')));
    const lower = tempDir();
    writeSegments(lower, { 1: Buffer.alloc(4096), 2: segment(...base) });
    const err = await t.throwsAsync(openRefused(openCommandLog(options(lower), new RecordingEngine())), { instanceOf: CmdlogCorruptError });
    t.is(err?.offset, 0);
    t.regex(err.message, /000000001\.log.*invalid segment header/);
  });

  test(`a zero-filled tail (a power cut on some file systems) is torn: cut, kept in .torn, the rest replayed (${m.name})`, async (t) => {
    const whole = segment(...base);
    const last = record(NOW_SEC, 0, resultPayload(RecordType.Complete, ids[0]!, 'done'));
    const tails = {
      'zeros only': Buffer.alloc(4096),
      'a record cut short, then zeros': Buffer.concat([last.subarray(0, 20), Buffer.alloc(5000)]),
      'a record whose payload never landed': Buffer.concat([last.subarray(0, 16), Buffer.alloc(last.length - 16), Buffer.alloc(3000)]),
    };
    for (const [label, tail] of Object.entries(tails)) {
      const dir = tempDir();
      writeSegments(dir, { 1: Buffer.concat([whole, tail]) });
      const engine = new RecordingEngine();
      const { logger, lines } = captureLogger();
      await (await openCommandLog(options(dir, { logger }), engine)).close();
      t.is(engine.calls.length, 3, label);
      t.deepEqual(fs.readFileSync(path.join(dir, '000000001.log')), whole, label);
      t.deepEqual(fs.readFileSync(path.join(dir, '000000001.log.torn')), tail, label);
      t.true(
        lines.some((l) => l.level === 40 && l.bytesDropped === tail.length),
        label,
      );
    }
  });

  test(`damage followed by whole records is not a torn tail: a flipped SIZE bit or a bad CRC before the end refuses, cutting nothing (${m.name})`, async (t) => {
    // Many records after the damage, as in a real log: the start must not cut them off as a "torn tail".
    const tailRecords = Array.from({ length: 40 }, () => addRecord(newId(), { payload: 'x'.repeat(100) }));
    const damagedAt = 8 + base[0]!.length + base[1]!.length;
    const sizeAt = damagedAt + 15;
    for (const [label, edit] of [
      ['SIZE bit 0 flipped (record looks shorter)', (b: Buffer) => flipBits(b, sizeAt, 0x01)],
      ['SIZE bit 6 flipped (record looks longer)', (b: Buffer) => flipBits(b, sizeAt, 0x40)],
      ['SIZE grows past the end of the file', (b: Buffer) => ((b[sizeAt] = 0xff), (b[sizeAt + 1] = 0x7f))],
      ['CRC of a record in the middle', (b: Buffer) => flipBits(b, damagedAt + base[2]!.length - 1, 0x10)],
    ] as const) {
      const buf = segment(...base, ...tailRecords);
      edit(buf);
      t.true(buf.length - damagedAt > 4000, 'the damage lies thousands of bytes before the end');
      const dir = tempDir();
      writeSegments(dir, { 1: segment(...base), 2: buf });
      const err = await t.throwsAsync(openRefused(openCommandLog(options(dir), new RecordingEngine())), { instanceOf: CmdlogCorruptError }, label);
      t.is(err?.code, 'ECMDLOG_CORRUPT');
      t.is(err?.file, path.join(dir, '000000002.log'), label);
      t.is(err?.offset, damagedAt, label);
      t.regex(err.message, /whole records follow/, label);
      t.true(isCmdlogRefusal(err), label);
      t.deepEqual(fs.readFileSync(path.join(dir, '000000002.log')), buf, `${label}: nothing cut`);
      t.false(fs.existsSync(path.join(dir, '000000002.log.torn')), label);
    }
  });

  test(`a CRC mismatch on the last record of the highest segment is a torn tail (${m.name})`, async (t) => {
    const dir = tempDir();
    const buf = segment(...base);
    flipBits(buf, buf.length - 1, 0xff);
    writeSegments(dir, { 1: buf });
    const engine = new RecordingEngine();
    await (await openCommandLog(options(dir), engine)).close();
    t.is(engine.calls.length, 2);
  });

  async function refuses(t: import('ava').ExecutionContext, segments: Record<number, Buffer>, file: string, offset: number, reason: RegExp): Promise<void> {
    const dir = tempDir();
    writeSegments(dir, segments);
    const err = await t.throwsAsync(openRefused(openCommandLog(options(dir), new RecordingEngine())), { instanceOf: CmdlogCorruptError });
    t.is(err?.file, path.join(dir, file));
    t.is(err?.offset, offset);
    t.regex(err.message, reason);
    t.true(err.message.includes(file));
    // The lock was released: the directory opens again once repaired.
    fs.rmSync(path.join(dir, file));
    await (await openCommandLog(options(dir), new RecordingEngine())).close();
  }

  test(`corrupt CRC in the middle refuses to start, naming file and offset (${m.name})`, async (t) => {
    const buf = segment(...base);
    flipBits(buf, 8 + 20, 1);
    await refuses(t, { 1: buf, 2: segment() }, '000000001.log', 8, /crc mismatch/);
    const mid = segment(...base);
    flipBits(mid, 8 + base[0]!.length + 20, 1);
    await refuses(t, { 5: mid }, '000000005.log', 8 + base[0]!.length, /crc mismatch/);
  });

  test(`torn record in a lower segment refuses (${m.name})`, async (t) => {
    const buf = segment(...base);
    await refuses(t, { 1: buf.subarray(0, buf.length - 3), 2: segment() }, '000000001.log', 8 + base[0]!.length + base[1]!.length, /unexpected EOF/);
  });

  if (m.manyOpens)
    test(`unknown type, bad payloads, bad header, oversized SIZE refuse (${m.name})`, async (t) => {
      await refuses(t, { 1: segment(record(NOW_SEC, 0, Buffer.from([15]))) }, '000000001.log', 8, /unknown record type 15/);
      // Segments behind the bad one: a worker reading ahead is stopped too.
      await refuses(
        t,
        { 1: segment(record(NOW_SEC, 0, Buffer.from([15]))), 2: segment(...base), 3: segment(...base), 4: segment(...base) },
        '000000001.log',
        8,
        /unknown record type 15/,
      );
      await refuses(t, { 1: segment(base[0]!, record(NOW_SEC, 0, Buffer.from([15, 1, 2]))) }, '000000001.log', 8 + base[0]!.length, /unknown record type/);
      await refuses(t, { 1: segment(record(NOW_SEC, 0, Buffer.alloc(0))) }, '000000001.log', 8, /EOF/);
      await refuses(t, { 1: segment(addRecord(newId(), { ttl: 2_592_000_001 })) }, '000000001.log', 8, /Invalid TTL/);
      await refuses(t, { 1: segment(addRecord(newId(), { name: 'bad name' })) }, '000000001.log', 8, /Invalid Name/);
      await refuses(t, { 1: Buffer.concat([Buffer.from('wqwq\0\0\0\x02'), base[0]!]) }, '000000001.log', 0, /invalid segment header/);
      await refuses(t, { 1: Buffer.from('wqw'), 2: segment() }, '000000001.log', 3, /unexpected EOF/);
      await refuses(t, { 1: Buffer.alloc(0), 2: segment() }, '000000001.log', 0, /EOF/);
      const huge = Buffer.alloc(40);
      base[0]!.copy(huge, 0, 0, 15);
      writeUvarint(huge, 15, 3 * 1024 * 1024);
      await refuses(t, { 1: segment(huge) }, '000000001.log', 8, /above 2 MiB/);
      const zeroed = record(0, 0, idPayload(RecordType.Expire, ids[0]!)).fill(0, 0, 1);
      await refuses(t, { 1: segment(zeroed, base[0]!) }, '000000001.log', 8, /crc mismatch/);
      const v2 = record(NOW_SEC, 0, idPayload(RecordType.Expire, ids[0]!));
      v2[0] = 2;
      const fixed = record(NOW_SEC, 0, idPayload(RecordType.Expire, ids[0]!));
      // Recompute the CRC over the edited TIME so only the version is wrong.
      const { crc32c } = await import('@node-rs/crc32');
      v2.writeUInt32BE(crc32c(v2.subarray(0, v2.length - 4)), v2.length - 4);
      t.not(v2.compare(fixed), 0);
      await refuses(t, { 1: segment(v2) }, '000000001.log', 8, /unsupported version/);
    });

  test(`engine refusals stop replay: second start-attempt, duplicate result (${m.name})`, async (t) => {
    const id = newId();
    const start = record(NOW_SEC, 0, idPayload(RecordType.StartAttempt, id));
    await refuses(t, { 1: segment(addRecord(id), start, start) }, '000000001.log', 8 + addRecord(id).length + start.length, /Job already leased/);
    const done = record(NOW_SEC, 0, resultPayload(RecordType.Complete, id, ''));
    await refuses(t, { 1: segment(addRecord(id), done, done) }, '000000001.log', 8 + addRecord(id).length + done.length, /Duplicate result/);
  });

  test(`a 0–7 byte highest segment is rewritten as a bare header (${m.name})`, async (t) => {
    for (const size of [0, 1, 7]) {
      const dir = tempDir();
      writeSegments(dir, { 1: segment(...base), 2: HEADER.subarray(0, size) });
      const { logger, lines } = captureLogger();
      const engine = new RecordingEngine();
      const log = await openCommandLog(options(dir, { logger }), engine);
      t.deepEqual(fs.readFileSync(path.join(dir, '000000002.log')), HEADER);
      t.true(lines.some((l) => l.level === 40 && l.bytes === size));
      t.is(engine.calls.length, 3);
      log.expire(ids[2]!);
      await log.close();
      t.is(fs.statSync(path.join(dir, '000000002.log')).size, 8 + 37);
    }
  });

  test(`a segment that is a directory or a FIFO refuses at once, naming it, and releases the lock (${m.name})`, async (t) => {
    const dir = tempDir();
    writeSegments(dir, { 1: segment(...base), 3: segment(...base) });
    const seg = path.join(dir, '000000002.log');
    for (const [kind, make] of [
      ['a directory', () => fs.mkdirSync(seg)],
      ['a FIFO', () => execFileSync('mkfifo', [seg])],
    ] as const) {
      make();
      const err = await t.throwsAsync(openRefused(openCommandLog(options(dir), new RecordingEngine())), { instanceOf: CmdlogRefusalError });
      t.is(err?.code, 'ECMDLOG_NOT_A_FILE');
      t.is(err?.file, seg);
      t.true(err.message.includes(`${seg} is ${kind}`), err.message);
      fs.rmSync(seg, { recursive: true });
    }
    await (await openCommandLog(options(dir), new RecordingEngine())).close();
  });

  test(`gaps, junk names and leftovers: only segments are read, leftovers removed (${m.name})`, async (t) => {
    const dir = tempDir();
    writeSegments(dir, { 7: segment(base[0]!), 9: segment(base[2]!) });
    for (const junk of ['00000001.log', '0000000010.log', '00000000a.log', '000000009.txt']) fs.writeFileSync(path.join(dir, junk), 'junk');
    fs.writeFileSync(path.join(dir, '000000007.log.rw'), 'partial');
    fs.writeFileSync(path.join(dir, '000000010.log.new'), 'wq');
    const engine = new RecordingEngine();
    const log = await openCommandLog(options(dir), engine);
    t.deepEqual(
      engine.calls.map((c) => c[1]),
      [ids[0], ids[1]],
    );
    t.false(fs.existsSync(path.join(dir, '000000007.log.rw')));
    t.false(fs.existsSync(path.join(dir, '000000010.log.new')));
    t.true(fs.existsSync(path.join(dir, '00000001.log')));
    log.expire(ids[0]!);
    await log.close();
    t.is(fs.statSync(path.join(dir, '000000009.log')).size, 8 + base[2]!.length + 37);
  });

  test(`a second add for a live ID replaces the job with a warning (real engine) (${m.name})`, async (t) => {
    const dir = tempDir();
    const id = newId();
    writeSegments(dir, { 1: segment(addRecord(id, { name: 'first' }), addRecord(id, { name: 'second' })) });
    const engine = new Engine(clock);
    const { logger, lines } = captureLogger();
    await (await openCommandLog(options(dir, { logger }), engine)).close();
    t.is(engine.inspectJob(id)?.name, 'second');
    t.true(lines.some((l) => l.level === 40 && l.id === id));
  });

  test(`expired adds are skipped; a replayed lease keeps its start-attempt TIME (real engine) (${m.name})`, async (t) => {
    const dir = tempDir();
    const gone = newId();
    const leased = newId();
    writeSegments(dir, {
      1: segment(
        addRecord(gone, { createdSec: NOW_SEC - 100, ttl: 1000 }),
        record(NOW_SEC, 0, resultPayload(RecordType.Complete, gone, 'x')),
        addRecord(leased, { ttr: 60_000 }),
        record(NOW_SEC - 10, 500_000_000, idPayload(RecordType.StartAttempt, leased)),
      ),
    });
    const engine = new Engine(clock);
    await (await openCommandLog(options(dir), engine)).close();
    t.is(engine.inspectJob(gone), null);
    t.is(engine.deadlineOf(engine.inspectJob(leased)!), (NOW_SEC - 10) * 1000 + 500 + 60_000);
  });
}

test("a segment that cannot be read stops the start with the system's error and releases the lock", async (t) => {
  const dir = tempDir();
  writeSegments(dir, { 1: segment(...base), 2: segment(...base), 3: segment(...base) });
  const faulty = new FaultyFs();
  faulty.failReads = { path: path.join(dir, '000000002.log'), code: 'EIO' };
  const err = await t.throwsAsync(openRefused(openCommandLog(baseOptions(dir, { fs: faulty }), new RecordingEngine())));
  t.is((err as NodeJS.ErrnoException).code, 'EIO');
  t.false(isCmdlogRefusal(err), 'a failing disk is not a damaged log');
  faulty.failReads = null;
  await (await openCommandLog(baseOptions(dir, { fs: faulty }), new RecordingEngine())).close();
});

test('a torn tail is cut only once its bytes are safe in .torn: when that fails, nothing is cut and the start stops', async (t) => {
  const dir = tempDir();
  const torn = Buffer.concat([segment(...base), base[0]!.subarray(0, 30)]);
  writeSegments(dir, { 1: torn });
  const faulty = new FaultyFs();
  faulty.failFsync = 'EIO';
  const err = await t.throwsAsync(openRefused(openCommandLog(baseOptions(dir, { fs: faulty }), new RecordingEngine())));
  t.is((err as NodeJS.ErrnoException).code, 'EIO');
  t.deepEqual(fs.readFileSync(path.join(dir, '000000001.log')), torn);
  // Next time (the disk well again) the bytes go to the next free name, then the cut.
  faulty.failFsync = null;
  const { logger, lines } = captureLogger();
  await (await openCommandLog(baseOptions(dir, { fs: faulty, logger }), new RecordingEngine())).close();
  t.deepEqual(fs.readFileSync(path.join(dir, '000000001.log')), segment(...base));
  t.deepEqual(fs.readFileSync(path.join(dir, '000000001.log.torn.2')), base[0]!.subarray(0, 30));
  t.true(lines.some((l) => l.keptIn === path.join(dir, '000000001.log.torn.2')));
});

test('worker and inline replay apply the same records and leave the cleaner the same drop instants', async (t) => {
  // Jobs in every fate over four segments; a third of them (TTL 60 s) expired by the clock below.
  const now = (NOW_SEC + 120) * 1000;
  const records: Buffer[] = [];
  for (let i = 0; i < 2000; i++) {
    const id = newId();
    records.push(addRecord(id, { createdSec: NOW_SEC - (i % 7 === 0 ? 100 : 0), ttl: i % 3 === 0 ? 60_000 : 600_000, payload: 'p'.repeat(i % 50) }));
    if (i % 5 === 1) records.push(record(NOW_SEC, 0, idPayload(RecordType.StartAttempt, id)));
    if (i % 5 === 1 && i % 2 === 0) records.push(record(NOW_SEC, 0, resultPayload(RecordType.Complete, id, 'ok')));
    if (i % 5 === 2) records.push(record(NOW_SEC, 0, idPayload(RecordType.Delete, id)));
    if (i % 5 === 3) records.push(record(NOW_SEC, 0, idPayload(RecordType.Expire, id)));
  }
  const quarter = Math.ceil(records.length / 4);
  const segments = Object.fromEntries([0, 1, 2, 3].map((k) => [k + 1, segment(...records.slice(k * quarter, (k + 1) * quarter))]));
  const outcomes = [];
  for (const replayWorker of [undefined, { fromBytes: 0, runBytes: 4096 }]) {
    const dir = tempDir();
    writeSegments(dir, segments);
    const engine = new RecordingEngine();
    const { logger, lines } = captureLogger();
    const log = await openCommandLog(baseOptions(dir, { logger, replayWorker, now: () => now }), engine);
    await log.cleanNow();
    await log.close();
    const sizes = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .map((f) => [f, fs.statSync(path.join(dir, f)).size]);
    const done = lines.find((l) => l.msg === 'cmdlog: replay done');
    outcomes.push({ calls: engine.calls, sizes, done: done?.records });
    t.is(done?.worker, replayWorker !== undefined);
    t.is(engine.restoresDone, 1);
  }
  t.is(outcomes[0]!.done, records.length);
  t.deepEqual(outcomes[1], outcomes[0]);
  t.true(
    outcomes[0]!.sizes.reduce((sum, [, size]) => sum + Number(size), 0) < Object.values(segments).reduce((sum, b) => sum + b.length, 0),
    'cleaning dropped records',
  );
});

test('worker and inline replay leave the real engine the same jobs: re-added IDs, second adds and IDs after their delete included', async (t) => {
  const ids = Array.from({ length: 6000 }, () => newId());
  const records: Buffer[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    records.push(addRecord(id, { priority: i % 11, payload: Buffer.from(`p${i}`) }));
    if (i % 4 === 1)
      records.push(record(NOW_SEC, 0, idPayload(RecordType.StartAttempt, id)), record(NOW_SEC, 0, resultPayload(RecordType.Complete, id, `r${i}`)));
    // A second add for a live ID replaces the job; an add after a delete starts the ID over.
    if (i % 4 === 2) records.push(addRecord(id, { priority: 99, payload: Buffer.from('second') }));
    if (i % 4 === 3) records.push(record(NOW_SEC, 0, idPayload(RecordType.Delete, id)), addRecord(id, { payload: Buffer.from('again') }));
  }
  const half = Math.ceil(records.length / 2);
  const segments = { 1: segment(...records.slice(0, half)), 2: segment(...records.slice(half)) };
  const states = [];
  for (const replayWorker of [undefined, { fromBytes: 0 }]) {
    const dir = tempDir();
    writeSegments(dir, segments);
    const engine = new Engine(clock);
    const log = await openCommandLog(baseOptions(dir, { replayWorker }), engine);
    await log.close();
    states.push(
      ids.map((id) => {
        const job = engine.inspectJob(id);
        return job === null ? null : [job.state, job.priority, job.payload, job.result, job.attempts];
      }),
    );
    t.is(engine.jobCount, ids.length);
  }
  t.deepEqual(states[1], states[0]);
  t.deepEqual(states[0]!.slice(0, 4), [
    [JobState.New, 0, 'p0', null, 0],
    [JobState.Completed, 1, 'p1', 'r1', 1],
    [JobState.New, 99, 'second', null, 0],
    [JobState.New, 0, 'again', null, 0],
  ]);
});

test('replay speed (records/s) with the real engine', async (t) => {
  const dir = tempDir();
  const parts: Buffer[] = [];
  const n = 100_000;
  for (let i = 0; i < n / 4; i++) {
    const id = newId();
    parts.push(
      addRecord(id),
      record(NOW_SEC, 0, idPayload(RecordType.StartAttempt, id)),
      record(NOW_SEC, 0, resultPayload(RecordType.Complete, id, 'ok')),
      record(NOW_SEC, 0, idPayload(RecordType.Delete, id)),
    );
  }
  writeSegments(dir, { 1: segment(...parts.slice(0, n / 2)), 2: segment(...parts.slice(n / 2)) });
  for (const [label, engine] of [
    ['fake', new RecordingEngine()],
    ['real', new Engine(clock)],
  ] as const) {
    const { logger, lines } = captureLogger();
    const started = performance.now();
    const log = await openCommandLog(baseOptions(dir, { logger }), engine);
    const ms = performance.now() - started;
    await log.close();
    const done = lines.find((l) => l.msg === 'cmdlog: replay done');
    t.is(done?.records, n);
    t.log(
      `${label} engine: ${n} records in ${ms.toFixed(0)} ms (open included) = ${Math.round((n * 1000) / ms)} records/s; replay loop ${String(done?.recordsPerSec)} records/s`,
    );
  }
  t.pass();
});
