import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { openCommandLog } from '../../src/cmdlog/command-log.js';
import type { CommandLog, CommandLogOptions } from '../../src/cmdlog/types.js';
import { Engine } from '../../src/jobs/engine.js';
import { flipBits } from '../helpers/bytes.js';
import { captureLogger, closedAfter, copyDir, makeJob, newId, RecordingEngine, segmentFiles, tempDir } from '../helpers/cmdlog-fakes.js';

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
