import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { openCommandLog } from '../../src/cmdlog/command-log.js';
import { CmdlogCorruptError } from '../../src/cmdlog/errors.js';
import { preReadCommandLog, type LogPreRead } from '../../src/cmdlog/pre-read.js';
import type { CommandLog, CommandLogOptions } from '../../src/cmdlog/types.js';
import { Engine } from '../../src/jobs/engine.js';
import type { Job } from '../../src/jobs/job.js';
import { captureLogger, copyDir, newId, tempDir } from '../helpers/cmdlog-fakes.js';
import { flipBits } from '../helpers/bytes.js';
import { jobPayload, record, RecordType, restoredJob } from '../helpers/cmdlog-records.js';

// The pre-read of a hot restart (docs/command-log.md 10.5): a log read while its server
// still appends, then only its tail once that server let go, must give the engine a full
// replay begun at the pre-read's start gives, deadlines included, and the same log after.

const BASE = Date.UTC(2026, 11, 7, 3, 0, 0);
/** When the pre-read starts (its replay's start), when the old server stops, when the new one serves. */
const T0 = BASE + 10_000;
const STOP = BASE + 18_000;
const T2 = BASE + 20_000;

class Clock {
  t = BASE;
  now = (): number => this.t;
}

function options(dir: string, clock: Clock, extra: Partial<CommandLogOptions> = {}): CommandLogOptions {
  return { dir, sync: 'os', syncIntervalMs: 1000, segmentSize: 2048, cleanIntervalMs: 3_600_000, logger: captureLogger().logger, now: clock.now, ...extra };
}

/** A server on the log: an engine journaling into it, its deadlines fired as its clock moves. */
class OldServer {
  readonly engine: Engine;
  readonly ids: string[] = [];

  private constructor(
    readonly clock: Clock,
    readonly log: CommandLog,
  ) {
    this.engine = new Engine({ now: clock.now }, log, { random: () => 0.5 });
  }

  static async open(dir: string, clock: Clock): Promise<OldServer> {
    return new OldServer(clock, await openCommandLog(options(dir, clock), new Engine({ now: clock.now })));
  }

  at(t: number): void {
    this.clock.t = t;
    this.engine.tick(t);
  }

  add(queue: string, ttl: number, extra: { ttr?: number; priority?: number; maxAttempts?: number; maxFails?: number } = {}): string {
    const id = newId();
    const error = this.engine.add({
      id,
      name: queue,
      ttr: extra.ttr ?? 1000,
      ttl,
      priority: extra.priority ?? 0,
      maxAttempts: extra.maxAttempts ?? 0,
      maxFails: extra.maxFails ?? 0,
      payload: Buffer.from(`p-${id}`),
    });
    if (error !== null) throw new Error(error);
    this.ids.push(id);
    return id;
  }

  schedule(queue: string, atMs: number, ttl: number): string {
    const id = newId();
    const error = this.engine.schedule({
      id,
      name: queue,
      ttr: 1000,
      ttl,
      priority: 0,
      maxAttempts: 0,
      maxFails: 0,
      payload: Buffer.from('s'),
      timeSec: Math.floor(atMs / 1000),
      timeNsec: (atMs % 1000) * 1e6,
    });
    if (error !== null) throw new Error(error);
    this.ids.push(id);
    return id;
  }

  /** Once every record so far is in the files (group commit writes them after this turn of the event loop). */
  written(): Promise<void> {
    return new Promise((resolve) => this.log.whenDurable(this.log.lastSeq, resolve));
  }

  lease(queue: string): string {
    let leased: Job | null = null;
    this.engine.lease([queue], 0, (job) => (leased = job));
    if (leased === null) throw new Error(`nothing to lease in ${queue}`);
    return (leased as Job).id;
  }
}

/** Until T0: jobs of every kind, leased, finished, retried, paused, some expiring or due between T0 and T2. */
function beforePreRead(s: OldServer): void {
  s.at(BASE);
  for (let i = 0; i < 30; i++) s.add('q', 60_000, { priority: i % 3 });
  for (let i = 0; i < 8; i++) s.add('short', 1500);
  s.add('r', 60_000);
  s.schedule('q', BASE + 12_000, 30_000);
  s.schedule('q', BASE + 100_000, 30_000);
  s.at(BASE + 2000);
  const a = s.lease('q');
  s.engine.complete(a, 'done');
  const b = s.lease('q');
  s.engine.fail(b, 'bad');
  s.add('q', 60_000, { maxFails: 3 });
  s.engine.pause('r', true);
  s.at(BASE + 5000);
  // Leased just before the pre-read, its TTR ends between T0 and T2.
  s.add('ttr', 60_000, { ttr: 4000, maxAttempts: 2 });
  s.lease('ttr');
  s.engine.touch(s.lease('q'), 6000);
  s.at(BASE + 9000);
  s.lease('q');
  for (let i = 0; i < 5; i++) s.add('soon', T0 + 3000 - (BASE + 9000) + i * 1000);
  s.engine.delete(s.ids[3]!);
  s.engine.fail(s.lease('q'), 'again');
  s.at(T0);
}

/** From T0 to STOP, its deadlines fired only up to STOP - 3 s: some jobs expire after that without a record. */
function afterPreRead(s: OldServer, preReadIds: string[]): void {
  s.at(T0 + 500);
  for (let i = 0; i < 25; i++) s.add('q', 60_000);
  s.engine.complete(s.lease('q'), 'ok');
  s.engine.delete(preReadIds[10]!);
  s.add('late', STOP + 1000 - (T0 + 500));
  s.at(BASE + 14_000);
  s.lease('q');
  s.engine.pause('r', false);
  s.at(STOP - 3000);
  s.add('q', 60_000);
  s.clock.t = STOP;
}

interface Dump {
  jobs: number;
  evicted: number;
  memory: number;
  next: number;
  queues: unknown[];
}

function dump(engine: Engine): Dump {
  const jobRow = (job: Job): unknown[] => [
    job.id,
    job.state,
    job.attempts,
    job.fails,
    job.result,
    job.expiresAt,
    engine.deadlineOf(job),
    job.retryAt,
    job.createdSec,
    job.createdNsec,
  ];
  const queues = engine.inspectQueues(0, 1000).map((q) => ({
    ...q,
    ready: engine.inspectJobs(q.name, 0, 1000)!.map(jobRow),
    scheduled: engine.inspectScheduledJobs(q.name, 0, 1000)!.map(jobRow),
    leased: engine.inspectStateJobs(q.name, 'leased', 0, 1000)!.map(jobRow),
    completed: engine.inspectStateJobs(q.name, 'completed', 0, 1000)!.map(jobRow),
    failed: engine.inspectStateJobs(q.name, 'failed', 0, 1000)!.map(jobRow),
  }));
  return { jobs: engine.jobCount, evicted: engine.evictedJobs, memory: engine.jobMemoryBytes, next: engine.nextDeadline(), queues };
}

/** Damages a file in place (the same inode, the same size). */
function flipFileByte(file: string, offset: number): void {
  const buf = fs.readFileSync(file);
  flipBits(buf, offset, 0x40);
  fs.writeFileSync(file, buf);
}

/** Every file of the log directory but its lock, by name. */
function files(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const name of fs.readdirSync(dir).sort()) if (!name.endsWith('.lock')) out[name] = fs.readFileSync(path.join(dir, name));
  return out;
}

/**
 * A new server as a hot restart makes it: pre-read at T0 (while `between` runs the old one
 * on), tail replay at T2; `stopped` sees the directory as the old server left it.
 */
async function hotRestart(
  dir: string,
  between: (s: OldServer, preRead: LogPreRead) => Promise<void> | void,
  stopped: (dir: string) => void,
): Promise<{ engine: Engine; log: CommandLog; lines: Array<Record<string, unknown>>; startedOver: boolean; preRead: LogPreRead }> {
  const clock = new Clock();
  const old = await OldServer.open(dir, clock);
  beforePreRead(old);
  await old.written();
  const { logger, lines } = captureLogger();
  const newClock = new Clock();
  newClock.t = T0;
  let engine = new Engine({ now: newClock.now }, null, { random: () => 0.5 });
  const preRead = await preReadCommandLog(options(dir, newClock, { logger }), engine);
  const preReadIds = old.ids.slice();
  await between(old, preRead);
  afterPreRead(old, preReadIds);
  await old.log.close();
  stopped(dir);
  newClock.t = T2;
  let startedOver = false;
  const log = await openCommandLog(options(dir, newClock, { logger }), engine, {
    preRead,
    startOver: () => {
      startedOver = true;
      engine = new Engine({ now: newClock.now }, null, { random: () => 0.5 });
      return engine;
    },
  });
  engine.setJournal(log);
  return { engine, log, lines, startedOver, preRead };
}

/** A full replay of `copy` begun at `from`, its deadlines applied at T2. */
async function fullReplay(copy: string, from: number): Promise<{ engine: Engine; log: CommandLog; dir: string }> {
  const clock = new Clock();
  clock.t = from;
  const engine = new Engine({ now: clock.now }, null, { random: () => 0.5 });
  const log = await openCommandLog(options(copy, clock), engine);
  clock.t = T2;
  engine.setJournal(log);
  return { engine, log, dir: copy };
}

/**
 * Runs both on logs equal up to the old server's stop, and compares them at T2, later, and
 * the logs they leave. The full replay begins at `fullFrom`: the pre-read's start, or the
 * new server's own (T2) when it has to replay the whole log after all.
 */
async function compareWithFullReplay(
  t: import('ava').ExecutionContext,
  between: (s: OldServer, preRead: LogPreRead) => Promise<void> | void = () => undefined,
  damage: (dir: string) => void = () => undefined,
  fullFrom = T0,
): Promise<{ lines: Array<Record<string, unknown>>; startedOver: boolean }> {
  const dir = path.join(tempDir(), 'log');
  // The full replay reads the log as the old server left it: copied once it stopped.
  const fullDir = path.join(tempDir(), 'stopped');
  const hot = await hotRestart(dir, between, (stoppedDir) => {
    damage(stoppedDir);
    copyDir(stoppedDir, fullDir);
  });
  const full = await fullReplay(fullDir, fullFrom);
  t.deepEqual(dump(hot.engine), dump(full.engine), 'after replay, before the deadlines passed while down');
  t.true(hot.engine.jobCount > 0, 'the log held jobs');
  for (const at of [T2, T2 + 5000, BASE + 80_000, BASE + 200_000]) {
    hot.engine.tick(at);
    full.engine.tick(at);
    t.deepEqual(dump(hot.engine), dump(full.engine), `at T0 + ${at - T0} ms`);
  }
  await hot.log.close();
  await full.log.close();
  t.deepEqual(files(dir), files(full.dir), 'the same log afterwards, byte for byte');
  return { lines: hot.lines, startedOver: hot.startedOver };
}

test('pre-read, then the tail: the same engine as a full replay begun at the pre-read, deadlines and the log after included', async (t) => {
  const { lines, startedOver } = await compareWithFullReplay(t);
  t.false(startedOver);
  const tail = lines.find((l) => l.msg === 'cmdlog: replayed the tail after the pre-read');
  t.truthy(tail);
  t.true((tail!.preRead as number) > 0 && (tail!.tail as number) > 0, JSON.stringify(tail));
});

test('a torn record at the end (the old server killed mid-write): the tail repairs it as a full replay does', async (t) => {
  const { lines, startedOver } = await compareWithFullReplay(t, undefined, (dir) => {
    const last = fs
      .readdirSync(dir)
      .filter((name) => name.endsWith('.log'))
      .sort()
      .at(-1)!;
    fs.appendFileSync(path.join(dir, last), Buffer.from([1, 0, 0, 0, 14, 226, 157]));
  });
  t.false(startedOver);
  t.truthy(lines.find((l) => String(l.msg).startsWith('cmdlog: torn record at the end of the log removed')));
});

test('a cleaning pass rewrites a segment the pre-read read: found, and the log is replayed whole instead', async (t) => {
  const { lines, startedOver } = await compareWithFullReplay(
    t,
    async (s) => {
      // The 'short' jobs' records are droppable once their TTL passed.
      s.clock.t = BASE + 30_000;
      await s.log.cleanNow();
      s.clock.t = T0;
    },
    undefined,
    T2,
  );
  t.true(startedOver);
  const warn = lines.find((l) => l.msg === 'cmdlog: the log changed since the pre-read: replaying it whole');
  t.regex(String(warn?.reason), /\d{9}\.log (was replaced|changed|is gone)/);
});

test('with the cleaning paused, a pass does not touch the segments and the tail takes up the pre-read', async (t) => {
  const { startedOver } = await compareWithFullReplay(t, async (s) => {
    await s.log.pauseCleaning();
    s.clock.t = BASE + 30_000;
    await s.log.cleanNow();
    s.clock.t = T0;
  });
  t.false(startedOver);
});

test('the bytes before where the pre-read stopped changed in place: replayed whole, which then judges them', async (t) => {
  const dir = path.join(tempDir(), 'log');
  const clock = new Clock();
  const old = await OldServer.open(dir, clock);
  beforePreRead(old);
  await old.log.close();
  const { logger, lines } = captureLogger();
  const engine = new Engine(clock);
  const preRead = await preReadCommandLog(options(dir, clock, { logger }), engine);
  const last = fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.log'))
    .sort()
    .at(-1)!;
  flipFileByte(path.join(dir, last), preRead.offset - 10);
  let startedOver: Engine | null = null;
  const log = await openCommandLog(options(dir, clock, { logger }), engine, { preRead, startOver: () => (startedOver = new Engine(clock)) });
  await log.close();
  t.not(startedOver, null);
  t.regex(String(lines.find((l) => l.msg === 'cmdlog: the log changed since the pre-read: replaying it whole')?.reason), /no longer those it read/);
  // The damaged record is the log's last: a full replay takes it for a torn one.
  t.truthy(lines.find((l) => String(l.msg).startsWith('cmdlog: torn record at the end of the log removed')));
});

test('a pre-read changes nothing in the directory, and refuses a damaged sealed segment as a full replay does', async (t) => {
  const dir = path.join(tempDir(), 'log');
  const clock = new Clock();
  const old = await OldServer.open(dir, clock);
  beforePreRead(old);
  await old.log.close();
  const before = files(dir);
  await preReadCommandLog(options(dir, clock), new Engine(clock));
  t.deepEqual(files(dir), before);
  flipFileByte(path.join(dir, '000000001.log'), 40);
  await t.throwsAsync(preReadCommandLog(options(dir, clock), new Engine(clock)), { instanceOf: CmdlogCorruptError, message: /000000001\.log/ });
});

test('a pre-read of a directory that does not exist yet reads nothing; the tail then replays what the old server wrote', async (t) => {
  const dir = path.join(tempDir(), 'new');
  const clock = new Clock();
  const engine = new Engine(clock);
  const preRead = await preReadCommandLog(options(dir, clock), engine);
  t.is(preRead.records, 0);
  const old = await OldServer.open(dir, clock);
  const id = old.add('q', 60_000);
  await old.log.close();
  const log = await openCommandLog(options(dir, clock), engine, { preRead, startOver: () => new Engine(clock) });
  t.is(engine.inspectJob(id)?.id, id);
  await log.close();
});

test('a record half written when the pre-read reads is not read yet; the tail reads it whole, from the same offset', async (t) => {
  const dir = path.join(tempDir(), 'log');
  const clock = new Clock();
  const old = await OldServer.open(dir, clock);
  beforePreRead(old);
  await old.log.close();
  const id = newId();
  const createdSec = Math.floor(T0 / 1000);
  const late = record(createdSec, 0, jobPayload(RecordType.Add, restoredJob({ id, name: 'late', createdSec, ttl: 3_600_000 })));
  const last = path.join(
    dir,
    fs
      .readdirSync(dir)
      .filter((name) => name.endsWith('.log'))
      .sort()
      .at(-1)!,
  );
  fs.appendFileSync(last, late.subarray(0, 30));
  const sizeBefore = fs.statSync(last).size;

  clock.t = T0;
  const { logger, lines } = captureLogger();
  const engine = new Engine(clock);
  const preRead = await preReadCommandLog(options(dir, clock, { logger }), engine);
  t.is(preRead.offset, sizeBefore - 30, 'stopped before the record being written');
  t.is(engine.inspectJob(id), null);
  t.is(fs.statSync(last).size, sizeBefore, 'nothing cut');
  fs.appendFileSync(last, late.subarray(30));

  const fullDir = path.join(tempDir(), 'full');
  copyDir(dir, fullDir);
  const log = await openCommandLog(options(dir, clock, { logger }), engine, { preRead, startOver: () => new Engine(clock) });
  const full = await fullReplay(fullDir, T0);
  t.is(engine.inspectJob(id)?.name, 'late');
  t.deepEqual(dump(engine), dump(full.engine));
  t.is(lines.find((l) => l.msg === 'cmdlog: replayed the tail after the pre-read')?.tail, 1);
  await log.close();
  await full.log.close();
});
