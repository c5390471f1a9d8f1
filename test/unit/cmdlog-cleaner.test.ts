import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { openCommandLog } from '../../src/cmdlog/command-log.js';
import type { CommandLog, CommandLogOptions } from '../../src/cmdlog/types.js';
import { Engine } from '../../src/jobs/engine.js';
import { flipBits } from '../helpers/bytes.js';
import { captureLogger, closedAfter, copyDir, FaultyFs, makeJob, newId, RecordingEngine, segmentFiles, tempDir } from '../helpers/cmdlog-fakes.js';

const T0 = 1_800_000_000_000;

function options(dir: string, now: () => number, extra: Partial<CommandLogOptions> = {}): CommandLogOptions {
  return { dir, sync: 'os', syncIntervalMs: 1000, segmentSize: 300, cleanIntervalMs: 300000, logger: captureLogger().logger, now, ...extra };
}

const durable = (log: CommandLog): Promise<void> => new Promise((resolve) => log.whenDurable(log.lastSeq, resolve));

function dirBytes(dir: string): number {
  return segmentFiles(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
}

/** Replays `dir` into a real engine at `at` and describes every job of `ids`. */
async function stateAt(dir: string, at: number, ids: string[]): Promise<string[]> {
  const engine = new Engine({ now: () => at });
  const log = await openCommandLog(
    options(dir, () => at),
    engine,
  );
  await log.close();
  engine.tick(at);
  return ids.map((id) => {
    const j = engine.inspectJob(id);
    return j === null ? `${id} gone` : `${id} ${j.name} state ${j.state} attempts ${j.attempts} fails ${j.fails} ${j.result ?? ''}`;
  });
}

test('cleaning drops only what cannot matter: replayed state identical, deleted jobs stay deleted, log shrinks', async (t) => {
  const dir = tempDir();
  let now = T0;
  const log = closedAfter(
    t,
    await openCommandLog(
      options(dir, () => now),
      new RecordingEngine(),
    ),
  );
  const short = makeJob({ name: 'short', ttl: 10_000, createdMs: now });
  const deleted = makeJob({ name: 'deleted', ttl: 100_000, createdMs: now });
  const lasting = makeJob({ name: 'lasting', ttl: 100_000, createdMs: now });
  const reused = makeJob({ name: 'reused1', ttl: 10_000, createdMs: now });
  const runId = newId();
  log.add(short);
  log.startAttempt(short.id, now);
  log.complete(short.id, 'done');
  log.add(deleted);
  log.delete(deleted.id);
  log.add(lasting);
  log.startAttempt(lasting.id, now);
  log.fail(lasting.id, 'bad');
  log.startAttempt(runId, now);
  log.complete(runId, 'run');
  log.expire(runId);
  log.add(reused);
  log.delete(reused.id);
  const reusedAgain = makeJob({ id: reused.id, name: 'reused2', ttl: 100_000, createdMs: now });
  log.add(reusedAgain);
  log.startAttempt(reused.id, now);
  for (let i = 0; i < 10; i++) log.expire(newId());
  await durable(log);
  now = T0 + 20_000;
  const ids = [short.id, deleted.id, lasting.id, reused.id, runId];
  const before = path.join(tempDir(), 'before');
  copyDir(dir, before);
  const segmentsBefore = segmentFiles(dir);
  const active = segmentsBefore.at(-1)!;
  const activeBytes = fs.readFileSync(path.join(dir, active));
  await log.cleanNow();
  t.deepEqual(fs.readFileSync(path.join(dir, active)), activeBytes, 'the active segment is never touched');
  t.true(dirBytes(dir) < dirBytes(before), `${dirBytes(dir)} < ${dirBytes(before)}`);
  t.false(fs.readdirSync(dir).some((n) => n.endsWith('.rw')));
  await log.close();
  const expected = await stateAt(before, now, ids);
  t.deepEqual(await stateAt(dir, now, ids), expected);
  t.true(expected[1]!.endsWith('gone'), 'the deleted job stays deleted');
  t.regex(expected[3]!, /reused2 state 3 attempts 1/, 'its TTR ran out after the replay');
  // Later, once every add has expired, the whole log but the active segment goes.
  now = T0 + 200_000;
  const again = closedAfter(
    t,
    await openCommandLog(
      options(dir, () => now),
      new RecordingEngine(),
    ),
  );
  await again.cleanNow();
  await again.close();
  t.deepEqual(segmentFiles(dir), [segmentFiles(dir).at(-1)]);
});

test('kept records are copied byte for byte and the cleaned log replays the same calls', async (t) => {
  const dir = tempDir();
  let now = T0;
  const log = closedAfter(
    t,
    await openCommandLog(
      options(dir, () => now, { segmentSize: 4096 }),
      new RecordingEngine(),
    ),
  );
  const keep = Array.from({ length: 20 }, (_, i) => makeJob({ ttl: 100_000, createdMs: now, payload: Buffer.from([i, 13, 10, 0, 255]).toString('latin1') }));
  const drop = Array.from({ length: 60 }, () => makeJob({ ttl: 1000, createdMs: now }));
  for (let i = 0; i < 20; i++) {
    log.add(keep[i]!);
    log.add(drop[3 * i]!);
    log.add(drop[3 * i + 1]!);
    log.add(drop[3 * i + 2]!);
    log.startAttempt(keep[i]!.id, now + i);
  }
  for (let i = 0; i < 40; i++) log.expire(newId());
  await durable(log);
  const before = path.join(tempDir(), 'before');
  copyDir(dir, before);
  now = T0 + 5000;
  await log.cleanNow();
  await log.close();
  const replay = async (d: string): Promise<unknown[]> => {
    const engine = new RecordingEngine();
    await (
      await openCommandLog(
        options(d, () => now),
        engine,
      )
    ).close();
    return engine.calls.filter((c) => c[0] !== 'restore' || keep.some((j) => j.id === c[1]));
  };
  const cleaned = await replay(dir);
  t.deepEqual(
    cleaned.filter((c) => (c as string[])[0] !== 'expire'),
    (await replay(before)).filter((c) => (c as string[])[0] !== 'expire'),
  );
  t.true(dirBytes(dir) < dirBytes(before));
});

test('disk use stays bounded under a steady add/lease/complete churn', async (t) => {
  const dir = tempDir();
  let now = T0;
  const log = closedAfter(
    t,
    await openCommandLog(
      options(dir, () => now, { segmentSize: 2048 }),
      new RecordingEngine(),
    ),
  );
  const sizes: number[] = [];
  for (let round = 0; round < 30; round++) {
    for (let i = 0; i < 20; i++) {
      const job = makeJob({ ttl: 3000, createdMs: now });
      log.add(job);
      log.startAttempt(job.id, now);
      log.complete(job.id, 'ok');
    }
    await durable(log);
    now += 1000;
    await log.cleanNow();
    sizes.push(dirBytes(dir));
  }
  await log.close();
  const steady = sizes.slice(10);
  t.true(Math.max(...steady) <= Math.min(...steady) * 2 + 4096, sizes.join(' '));
  t.true(Math.max(...steady) < 20 * 3 * 150 * 8, 'a few rounds of records at most');
});

test('a pass aborts on a damaged sealed segment and leaves it as it was', async (t) => {
  const dir = tempDir();
  let now = T0;
  const { logger, lines } = captureLogger();
  const log = closedAfter(
    t,
    await openCommandLog(
      options(dir, () => now, { logger }),
      new RecordingEngine(),
    ),
  );
  for (let i = 0; i < 12; i++) log.add(makeJob({ ttl: i % 2 === 0 ? 1000 : 100_000, createdMs: now }));
  await durable(log);
  const first = path.join(dir, segmentFiles(dir)[0]!);
  const damaged = fs.readFileSync(first);
  flipBits(damaged, 30, 1);
  fs.writeFileSync(first, damaged);
  now += 5000;
  await log.cleanNow();
  t.deepEqual(fs.readFileSync(first), damaged);
  t.true(lines.some((l) => String(l.msg).includes('cleaning pass aborted')));
  await log.close();
});

test('paused (a hot restart pre-reads the log), no pass touches a segment; resumed, cleaning goes on', async (t) => {
  const dir = tempDir();
  let now = T0;
  const log = closedAfter(
    t,
    await openCommandLog(
      options(dir, () => now),
      new RecordingEngine(),
    ),
  );
  for (let i = 0; i < 20; i++) log.add(makeJob({ name: 'short', ttl: 1000, createdMs: now }));
  log.add(makeJob({ name: 'lasting', ttl: 100_000, createdMs: now }));
  await durable(log);
  const before = segmentFiles(dir).map((f) => [f, fs.statSync(path.join(dir, f)).ino]);
  now = T0 + 10_000;
  await log.pauseCleaning();
  await log.cleanNow();
  t.deepEqual(
    segmentFiles(dir).map((f) => [f, fs.statSync(path.join(dir, f)).ino]),
    before,
  );
  log.resumeCleaning();
  await log.cleanNow();
  t.true(segmentFiles(dir).length < before.length, 'the emptied segments deleted');
});

/** stateAt on a copy of `dir`, which a log may hold open. */
function stateOfCopy(dir: string, at: number, ids: string[]): Promise<string[]> {
  const copy = path.join(tempDir(), 'copy');
  copyDir(dir, copy);
  return stateAt(copy, at, ids);
}

/** Fills the active segment with expire records of unknown IDs until it is sealed (segmentSize 300: a few suffice). */
async function sealActive(log: CommandLog): Promise<void> {
  for (let i = 0; i < 12; i++) log.expire(newId());
  await durable(log);
}

test('a deleted job with a long TTL: its records go at once, its delete once its add is gone, and it stays deleted', async (t) => {
  const dir = tempDir();
  const now = T0;
  const log = closedAfter(
    t,
    await openCommandLog(
      options(dir, () => now),
      new RecordingEngine(),
    ),
  );
  const job = makeJob({ name: 'deleted', ttl: 86_400_000, createdMs: now });
  const kept = makeJob({ name: 'kept', ttl: 86_400_000, createdMs: now });
  log.add(job);
  log.add(kept);
  log.startAttempt(job.id, now);
  log.complete(job.id, 'done');
  await sealActive(log);
  log.delete(job.id);
  await sealActive(log);
  const before = path.join(tempDir(), 'before');
  copyDir(dir, before);
  await log.cleanNow();
  const ids = [job.id, kept.id];
  t.deepEqual(await stateOfCopy(dir, now, ids), await stateAt(before, now, ids));
  t.true((await stateOfCopy(dir, now, ids))[0]!.endsWith('gone'));
  const bytes = Buffer.concat(segmentFiles(dir).map((f) => fs.readFileSync(path.join(dir, f))));
  t.is(bytes.indexOf(Buffer.from('deleted')), -1, 'the add is gone a day before its TTL');
  t.not(bytes.indexOf(Buffer.from('kept')), -1);
  t.false(bytes.includes(Buffer.from('done')), 'and its complete');
  // The delete went in the same pass (a second sweep, once the add's removal was durable).
  t.true(dirBytes(dir) < dirBytes(before) - 40);
  await log.close();
  // A restart: the job stays deleted, and a clean after it leaves the same.
  t.true((await stateOfCopy(dir, now + 1000, ids))[0]!.endsWith('gone'));
  t.regex((await stateOfCopy(dir, now + 1000, ids))[1]!, /kept state/);
});

test('a completed background job keeps its add and result until its TTL', async (t) => {
  const dir = tempDir();
  let now = T0;
  const log = closedAfter(
    t,
    await openCommandLog(
      options(dir, () => now),
      new RecordingEngine(),
    ),
  );
  const job = makeJob({ name: 'bg', ttl: 60_000, createdMs: now });
  log.add(job);
  log.startAttempt(job.id, now);
  log.complete(job.id, 'the-result');
  await sealActive(log);
  now = T0 + 59_000;
  await log.cleanNow();
  t.regex((await stateOfCopy(dir, now, [job.id]))[0]!, /bg state \d+ attempts 1 fails 0 the-result/);
  now = T0 + 60_001;
  await log.cleanNow();
  t.true((await stateOfCopy(dir, now, [job.id]))[0]!.endsWith('gone'));
  await log.close();
});

test('an ID reused after its delete keeps its new job through cleaning and restarts', async (t) => {
  const dir = tempDir();
  const now = T0;
  const log = closedAfter(
    t,
    await openCommandLog(
      options(dir, () => now),
      new RecordingEngine(),
    ),
  );
  const first = makeJob({ name: 'first', ttl: 86_400_000, createdMs: now });
  log.add(first);
  await sealActive(log);
  log.delete(first.id);
  const second = makeJob({ id: first.id, name: 'second', ttl: 86_400_000, createdMs: now });
  log.add(second);
  log.startAttempt(second.id, now);
  await sealActive(log);
  await log.cleanNow();
  await log.cleanNow();
  t.regex((await stateOfCopy(dir, now, [first.id]))[0]!, /second state \d+ attempts 1/);
  await log.close();
  // Replayed afresh (a new drop book), cleaned again: still the second job.
  const again = closedAfter(
    t,
    await openCommandLog(
      options(dir, () => now),
      new RecordingEngine(),
    ),
  );
  await again.cleanNow();
  await again.close();
  t.regex((await stateOfCopy(dir, now, [first.id]))[0]!, /second state \d+ attempts 1/);
  const bytes = Buffer.concat(segmentFiles(dir).map((f) => fs.readFileSync(path.join(dir, f))));
  t.is(bytes.indexOf(Buffer.from('first')), -1, 'the first add is gone');
});

test('a delete in the active segment retires the sealed add, and goes itself once sealed', async (t) => {
  const dir = tempDir();
  const now = T0;
  const log = closedAfter(
    t,
    await openCommandLog(
      options(dir, () => now),
      new RecordingEngine(),
    ),
  );
  const job = makeJob({ name: 'deleted', ttl: 86_400_000, createdMs: now });
  log.add(job);
  await sealActive(log);
  log.delete(job.id);
  await durable(log);
  const active = segmentFiles(dir).at(-1)!;
  const activeBytes = fs.readFileSync(path.join(dir, active));
  await log.cleanNow();
  t.deepEqual(fs.readFileSync(path.join(dir, active)), activeBytes, 'the active segment is never touched');
  const sealedBytes = Buffer.concat(
    segmentFiles(dir)
      .filter((f) => f !== active)
      .map((f) => fs.readFileSync(path.join(dir, f))),
  );
  t.is(sealedBytes.indexOf(Buffer.from('deleted')), -1, 'the add is gone from the sealed segments');
  t.true((await stateOfCopy(dir, now, [job.id]))[0]!.endsWith('gone'));
  await sealActive(log);
  await log.cleanNow();
  t.false(segmentFiles(dir).includes(active), 'the segment of the delete went once sealed');
  t.true((await stateOfCopy(dir, now, [job.id]))[0]!.endsWith('gone'));
  await log.close();
});

test('a delete is not acted on before it is durable (sync interval: fsynced)', async (t) => {
  const dir = tempDir();
  const now = T0;
  const faulty = new FaultyFs();
  faulty.fsyncDelayMs = 200;
  const log = closedAfter(
    t,
    await openCommandLog(
      options(dir, () => now, { sync: 'interval', syncIntervalMs: 60_000, fs: faulty }),
      new RecordingEngine(),
    ),
  );
  const job = makeJob({ name: 'deleted', ttl: 86_400_000, createdMs: now });
  log.add(job);
  for (let i = 0; i < 12; i++) log.expire(newId());
  // The add's segment is sealed once fsynced; the delete waits in the next one for an fsync that the long interval holds back.
  await new Promise((resolve) => setTimeout(resolve, 600));
  log.delete(job.id);
  await new Promise((resolve) => setImmediate(resolve));
  await log.cleanNow();
  const bytes = Buffer.concat(segmentFiles(dir).map((f) => fs.readFileSync(path.join(dir, f))));
  t.not(bytes.indexOf(Buffer.from('deleted')), -1, 'the add stays while its delete is not fsynced');
  await log.close();
});

/** Copies the directory before every rename and unlink: what a crash at each step of a pass would leave. */
class SnapshottingFs extends FaultyFs {
  readonly snapshots: string[] = [];
  constructor(private readonly dir: string) {
    super();
  }
  private snap(): void {
    const to = path.join(tempDir(), `snap${this.snapshots.length}`);
    copyDir(this.dir, to);
    this.snapshots.push(to);
  }
  override renameSync(a: string, b: string): void {
    if (a.endsWith('.rw')) this.snap();
    super.renameSync(a, b);
    if (a.endsWith('.rw')) this.snap();
  }
  override unlinkSync(p: string): void {
    if (p.endsWith('.log')) this.snap();
    super.unlinkSync(p);
    if (p.endsWith('.log')) this.snap();
  }
}

test('a crash at any step of a pass (between rewrites, before a removal) leaves a log that replays the same', async (t) => {
  const dir = tempDir();
  const now = T0;
  const snapshotting = new SnapshottingFs(dir);
  const log = closedAfter(
    t,
    await openCommandLog(
      options(dir, () => now, { fs: snapshotting }),
      new RecordingEngine(),
    ),
  );
  const jobs = Array.from({ length: 12 }, (_, i) => makeJob({ name: `j${i}`, ttl: 86_400_000, createdMs: now }));
  for (const job of jobs) log.add(job);
  await sealActive(log);
  for (const job of jobs.slice(0, 8)) {
    log.startAttempt(job.id, now);
    log.delete(job.id);
  }
  const reused = makeJob({ id: jobs[0]!.id, name: 'reused', ttl: 86_400_000, createdMs: now });
  log.add(reused);
  await sealActive(log);
  const ids = jobs.map((j) => j.id);
  const expected = await stateOfCopy(dir, now, ids);
  await log.cleanNow();
  await log.close();
  t.true(snapshotting.snapshots.length >= 4, `${snapshotting.snapshots.length} steps`);
  for (const snapshot of snapshotting.snapshots) t.deepEqual(await stateAt(snapshot, now, ids), expected, snapshot);
  t.deepEqual(await stateOfCopy(dir, now, ids), expected);
  t.regex(expected[0]!, /reused state/);
  t.true(expected.slice(1, 8).every((s) => s.endsWith('gone')));
});

test('property: a log cleaned at random moments replays like the same log never cleaned, at several later instants', async (t) => {
  const ids = Array.from({ length: 6 }, () => newId());
  const op = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), id: fc.nat(5), long: fc.boolean(), attempts: fc.constantFrom(0, 2) }),
    fc.record({ kind: fc.constantFrom('lease' as const, 'clean' as const) }),
    fc.record({ kind: fc.constantFrom('complete' as const, 'fail' as const, 'delete' as const), id: fc.nat(5) }),
    fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
      const cleaned = tempDir();
      const plain = tempDir();
      let now = T0;
      const clock = (): number => now;
      const logs = [await openCommandLog(options(cleaned, clock), new RecordingEngine()), await openCommandLog(options(plain, clock), new RecordingEngine())];
      const tee = new Proxy({} as CommandLog, {
        get:
          (_, key) =>
          (...args: unknown[]) => {
            for (const log of logs) (log[key as keyof CommandLog] as (...a: unknown[]) => unknown).apply(log, args);
          },
      });
      const engine = new Engine({ now: clock }, tee);
      try {
        for (const o of ops) {
          if (o.kind === 'add') {
            engine.add({
              id: ids[o.id]!,
              name: 'q',
              ttr: 5000,
              ttl: o.long ? 86_400_000 : 30_000,
              priority: 0,
              maxAttempts: o.attempts,
              maxFails: 0,
              payload: Buffer.from('p'),
            });
          } else if (o.kind === 'lease') {
            engine.lease(['q'], 0, () => undefined);
          } else if (o.kind === 'complete') {
            engine.complete(ids[o.id]!, 'ok');
          } else if (o.kind === 'fail') {
            engine.fail(ids[o.id]!, 'bad');
          } else if (o.kind === 'delete') {
            engine.delete(ids[o.id]!);
          } else if (o.kind === 'wait') {
            now += o.ms;
            engine.tick(now);
          } else {
            await Promise.all(logs.map(durable));
            await logs[0]!.cleanNow();
          }
        }
        await Promise.all(logs.map(durable));
        await logs[0]!.cleanNow();
      } finally {
        await Promise.all(logs.map((log) => log.close()));
      }
      for (const at of [now, now + 10_000, now + 60_000, now + 86_400_001]) {
        const [a, b] = [await stateAt(cleaned, at, ids), await stateAt(plain, at, ids)];
        if (JSON.stringify(a) !== JSON.stringify(b)) {
          t.log(at - T0, a, b);
          return false;
        }
      }
      return true;
    }),
    { numRuns: 40 },
  );
  t.pass();
});
