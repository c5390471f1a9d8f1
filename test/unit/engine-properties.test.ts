import test from 'ava';
import fc from 'fast-check';
import { Engine } from '../../src/jobs/engine.js';
import { Job, JobState } from '../../src/jobs/job.js';
import type { Journal, RestoredJob } from '../../src/jobs/types.js';
import type { RetryDelay } from '../../src/jobs/retry-delay.js';
import { queueBefore } from '../../src/jobs/order.js';
import type { JobList } from '../../src/jobs/job-list.js';
import type { StateList } from '../../src/jobs/state-list.js';
import type { ReadyList } from '../../src/jobs/ready-list.js';
import type { JobStore } from '../../src/jobs/job-store.js';
import type { JobTable } from '../../src/jobs/job-table.js';
import { FakeClock, T0, id } from './engine-support.js';

const NAMES = ['a', 'b', 'c'];

type Op =
  | { k: 'add'; n: number; name: number; prio: number; ttr: number; ttl: number; ma: number; mf: number; retry: RetryDelay | null }
  | { k: 'schedule'; n: number; name: number; prio: number; at: number; ttl: number; mf: number }
  | { k: 'run'; n: number; name: number; ttr: number; w: number }
  | { k: 'lease'; names: number[]; w: number }
  | { k: 'result'; n: number; w: number }
  | { k: 'complete' | 'fail' | 'delete'; n: number }
  | { k: 'cancel' }
  | { k: 'advance'; ms: number }
  | { k: 'hold'; on: boolean }
  | { k: 'touch'; n: number; ttr: number | null }
  | { k: 'pause'; name: number; on: boolean }
  | { k: 'retry'; n: number }
  | { k: 'retry-failed'; name: number };

const nArb = fc.integer({ min: 1, max: 12 });
const nameArb = fc.integer({ min: 0, max: 2 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('add' as const),
      n: nArb,
      name: nameArb,
      prio: fc.integer({ min: -1, max: 1 }),
      ttr: fc.integer({ min: 1, max: 300 }),
      ttl: fc.integer({ min: 1, max: 2000 }),
      ma: fc.integer({ min: 0, max: 2 }),
      mf: fc.integer({ min: 0, max: 3 }),
      retry: fc.option(
        fc.record({ delayMs: fc.integer({ min: 0, max: 300 }), maxDelayMs: fc.integer({ min: 0, max: 600 }), jitterPercent: fc.integer({ min: 0, max: 100 }) }),
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('schedule' as const),
      n: nArb,
      name: nameArb,
      prio: fc.integer({ min: -1, max: 1 }),
      at: fc.integer({ min: -200, max: 800 }),
      ttl: fc.integer({ min: 1, max: 2000 }),
      mf: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('run' as const),
      n: nArb,
      name: nameArb,
      ttr: fc.integer({ min: 1, max: 300 }),
      w: fc.integer({ min: 0, max: 600 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({ k: fc.constant('lease' as const), names: fc.array(nameArb, { minLength: 1, maxLength: 3 }), w: fc.integer({ min: 0, max: 500 }) }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('result' as const), n: nArb, w: fc.integer({ min: 0, max: 500 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constantFrom('complete' as const, 'fail' as const, 'delete' as const), n: nArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cancel' as const) }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 400 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('hold' as const), on: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('touch' as const), n: nArb, ttr: fc.option(fc.integer({ min: 1, max: 400 })) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('pause' as const), name: nameArb, on: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('retry' as const), n: nArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('retry-failed' as const), name: nameArb }) },
);

/** What an add/schedule record of `job` carries (accessor fields included, which a spread would miss). */
function recordOf(job: Job): RestoredJob {
  return {
    id: job.id,
    name: job.name,
    ttr: job.ttr,
    ttl: job.ttl,
    priority: job.priority,
    maxAttempts: job.maxAttempts,
    maxFails: job.maxFails,
    payload: Buffer.from(job.payload, 'latin1'),
    createdSec: job.createdSec,
    createdNsec: job.createdNsec,
    timeSec: job.timeSec,
    timeNsec: job.timeNsec,
  };
}

/** Replays every record into a mirror engine, as the command log's replay would. */
class MirrorJournal implements Journal {
  constructor(
    readonly mirror: Engine,
    readonly clock: FakeClock,
    readonly errors: string[],
  ) {}
  private check(what: string, r: string | null): void {
    if (r !== null && r !== 'unknown') this.errors.push(`${what}: ${r}`);
  }
  add(job: Job): void {
    this.check('add', this.mirror.restore(recordOf(job), this.clock.t));
  }
  schedule(job: Job): void {
    this.check('schedule', this.mirror.restore(recordOf(job), this.clock.t));
  }
  startAttempt(jobId: string, at: number): void {
    this.check('start', this.mirror.restoreStartAttempt(jobId, at));
  }
  complete(jobId: string, result: string): void {
    this.check('complete', this.mirror.restoreComplete(jobId, result));
  }
  fail(jobId: string, result: string): void {
    this.check('fail', this.mirror.restoreFail(jobId, result));
  }
  delete(jobId: string): void {
    this.check('delete', this.mirror.restoreDelete(jobId));
  }
  expire(jobId: string): void {
    this.check('expire', this.mirror.restoreExpire(jobId));
  }
  timeoutAttempt(jobId: string): void {
    this.check('timeout', this.mirror.restoreTimeoutAttempt(jobId));
  }
  touch(jobId: string, ttr: number, at: number): void {
    this.check('touch', this.mirror.restoreTouch(jobId, ttr, at));
  }
  pause(name: string, paused: boolean): void {
    this.mirror.restorePause(name, paused);
  }
  retryDelay(jobId: string, delay: RetryDelay): void {
    this.check('retry-delay', this.mirror.restoreRetryDelay(jobId, delay));
  }
  retryAt(jobId: string, delayMs: number, at: number): void {
    this.check('retry-at', this.mirror.restoreRetryAt(jobId, delayMs, at));
  }
  restartFailed(jobId: string): void {
    this.check('retry', this.mirror.restoreRetry(jobId, this.clock.t));
  }
}

type Internals = {
  store: JobStore;
  jobs: JobTable;
  queues: Map<string, { ready: ReadyList; scheduled: JobList; leased: StateList; completed: StateList; failed: StateList; waitHead: unknown; paused: boolean }>;
  held: boolean;
};

/** Every job in the engine's table, as views. */
function jobsOf(engine: Engine): Job[] {
  const inner = engine as unknown as Internals;
  return [...inner.jobs.values()].map((slot) => Job.at(inner.store, slot));
}

/** The slot the table holds under the ID, -1 when none. */
function slotOf(engine: Engine, id: string): number {
  return (engine as unknown as Internals).jobs.get(id);
}

function listItems(list: JobList): number[] {
  return list.toArray();
}

/** A state list's places, -1 for a hole. */
function statePlaces(list: StateList): number[] {
  const inner = list as unknown as { places: Int32Array; end: number };
  return Array.from(inner.places.subarray(0, inner.end));
}

/** Wall-clock ms since which a ready job has been ready (its scheduled time, if after its creation). */
function readySince(job: Job): number {
  return Math.max(job.timeSec * 1000 + Math.ceil(job.timeNsec / 1e6), job.createdSec * 1000 + Math.floor(job.createdNsec / 1e6));
}

function checkInvariants(engine: Engine, now: number, problems: string[]): void {
  const inner = engine as unknown as Internals;
  const store = inner.store;
  // Each list read once, whatever the number of jobs in it.
  const placesOf = new Map<StateList, number[]>();
  const places = (list: StateList): number[] => placesOf.get(list) ?? placesOf.set(list, statePlaces(list)).get(list)!;
  const itemsOf = new Map<JobList, Set<number>>();
  const items = (list: JobList): Set<number> => itemsOf.get(list) ?? itemsOf.set(list, new Set(listItems(list))).get(list)!;
  let queued = 0;
  for (const job of jobsOf(engine)) {
    const q = inner.queues.get(job.name)!;
    const final = job.state === JobState.Completed || job.state === JobState.Failed;
    queued++;
    if (job.state === JobState.Leased) {
      if (places(q.leased)[job.store.listIndexOf(job.slot)] !== job.slot || job.store.deadlineIndexOf(job.slot) < 0 || engine.deadlineOf(job) === Infinity)
        problems.push(`leased ${job.id} misplaced`);
    } else if (final) {
      if (
        places(job.state === JobState.Completed ? q.completed : q.failed)[job.store.listIndexOf(job.slot)] !== job.slot ||
        job.store.deadlineIndexOf(job.slot) !== -1
      )
        problems.push(`final ${job.id} not in its state's list`);
    } else {
      const list = job.store.deadlineIndexOf(job.slot) >= 0 ? q.scheduled : q.ready;
      if (job.store.listIndexOf(job.slot) !== 0 || !items(list).has(job.slot)) problems.push(`${job.id} not in its list`);
      if (job.store.deadlineIndexOf(job.slot) >= 0 && engine.deadlineOf(job) === Infinity) problems.push(`${job.id} scheduled without time`);
    }
    if (job.foreground !== (job.store.expiryIndexOf(job.slot) === -1)) problems.push(`${job.id} expiry entry wrong`);
  }
  let listed = 0;
  for (const q of inner.queues.values()) {
    for (const list of [q.leased, q.completed, q.failed]) {
      listed += list.size;
      places(list).forEach((slot, i) => {
        if (slot !== -1 && (store.listIndexOf(slot) !== i || slotOf(engine, store.idText(slot)) !== slot)) problems.push('state list place wrong');
      });
      if (places(list).filter((slot) => slot !== -1).length !== list.size) problems.push('state list size wrong');
      if (list.ordered(0, 1000).length !== list.size) problems.push('state list window wrong');
    }
    for (const list of [q.ready, q.scheduled]) {
      const items = listItems(list);
      listed += items.length;
      items.forEach((slot, i) => {
        if (i > 0 && !queueBefore(store, items[i - 1]!, slot)) problems.push('list order broken');
        if (slotOf(engine, store.idText(slot)) !== slot) problems.push(`listed ${store.idText(slot)} not in the table`);
      });
      const window = list.ordered(0, items.length);
      for (let i = 1; i < window.length; i++) if (!queueBefore(store, window[i - 1]!, window[i]!)) problems.push('window out of order');
    }
    if (q.waitHead !== null && q.ready.size > 0 && !q.paused) problems.push('a lease waits while a job is ready');
    const ready = listItems(q.ready);
    const oldest = ready.reduce((min, slot) => Math.min(min, readySince(Job.at(store, slot))), Infinity);
    if (q.ready.oldestSince !== oldest) problems.push('oldest ready job wrong');
    agesProblems(store, q.ready, ready, problems);
  }
  if (listed !== queued) problems.push(`listed ${listed} != queued ${queued}`);
  // The store's memory of ID texts stands in for the table only while the two agree (Engine.slotOf).
  const recent = store as unknown as { recentTexts: string[] };
  for (const text of recent.recentTexts) {
    const slot = store.recentSlotOf(text);
    if (slot >= 0 && slotOf(engine, text) !== slot) problems.push(`remembered ${text} at ${slot}, the table has ${slotOf(engine, text)}`);
  }
  if (!inner.held && engine.nextDeadline() <= now) problems.push('a due deadline did not fire');
}

/** ReadyAges' parts, read by the invariants below. */
interface AgesInside {
  size: number;
  slots: Int32Array;
  ats: Float64Array;
  head: number;
  span: number;
  runCount: number;
  heap: { size: number; slots: Int32Array };
}

/** Every ready job's time is where its ageIndex says, the run is in time order with a job at its head, and neither part holds much more room than jobs. */
function agesProblems(store: JobStore, list: ReadyList, ready: number[], problems: string[]): void {
  const ages = (list as unknown as { ages: AgesInside }).ages;
  if (ages.size !== list.size) problems.push(`ages of ${ages.size} for ${list.size} ready jobs`);
  for (const slot of ready) {
    const index = store.ageIndexOf(slot);
    const there = index >= 0 ? ages.heap.slots[index] : ages.slots[-2 - index];
    if (there !== slot) problems.push(`age entry of ${store.idText(slot)} lost`);
  }
  const mask = ages.slots.length - 1;
  let jobs = 0;
  for (let i = 0; i < ages.span; i++) {
    const at = (ages.head + i) & mask;
    if (ages.slots[at]! >= 0) jobs++;
    if (i > 0 && ages.ats[at]! < ages.ats[(at - 1) & mask]!) problems.push('age run out of time order');
  }
  if (jobs !== ages.runCount || jobs + ages.heap.size !== list.size) problems.push(`age run of ${jobs} jobs, counted ${ages.runCount}`);
  if (ages.runCount > 0 && ages.slots[ages.head]! < 0) problems.push('age run head is a gap');
  if (ages.slots.length > 8 * ages.runCount + 64) problems.push(`age run room of ${ages.slots.length} for ${ages.runCount} jobs`);
  if (ages.heap.slots.length > 4 * ages.heap.size + 64) problems.push(`age heap room of ${ages.heap.slots.length} for ${ages.heap.size} jobs`);
}

function sameState(live: Engine, mirror: Engine, problems: string[], now: number): void {
  for (const job of jobsOf(live)) {
    if (job.foreground) continue;
    const m = mirror.inspectJob(job.id);
    if (m === null) {
      problems.push(`mirror lost ${job.id}`);
      continue;
    }
    // Failing at lease time is not journaled (docs/command-log.md 8): the mirror still has it queued.
    const leaseTimeFailure = job.state === JobState.Failed && m.state !== JobState.Failed && m.state !== JobState.Leased;
    if (!leaseTimeFailure && (m.state !== job.state || m.attempts !== job.attempts || m.fails !== job.fails)) {
      problems.push(`mirror differs on ${job.id}: ${m.state}/${m.attempts}/${m.fails} vs ${job.state}/${job.attempts}/${job.fails}`);
    }
    if (job.state === JobState.Leased && mirror.deadlineOf(m) !== live.deadlineOf(job)) problems.push(`mirror TTR differs on ${job.id}`);
    // The end of a retry wait is not journaled (like a scheduled time): the mirror's ends at its next tick.
    const waitEnded = job.retryAt === 0 && m.retryAt <= now;
    if (!leaseTimeFailure && !waitEnded && m.retryAt !== job.retryAt) problems.push(`mirror retry wait differs on ${job.id}: ${m.retryAt} vs ${job.retryAt}`);
  }
  for (const m of jobsOf(mirror)) if (slotOf(live, m.id) < 0) problems.push(`mirror kept ${m.id}`);
  const mirrorQueues = (mirror as unknown as Internals).queues;
  for (const [name, q] of (live as unknown as Internals).queues) {
    if (q.paused !== (mirrorQueues.get(name)?.paused ?? false)) problems.push(`mirror differs on the pause of ${name}`);
  }
}

/** Jobs of the ballast: more than two pages of the store (JobStore), so that deleting them leaves it under a fifth full. */
const BALLAST = 33_000;
const BALLAST_FROM = 1_000;

/**
 * Applies the ops to an engine whose journal a mirror engine replays, checking the
 * invariants and the mirror after each, then runs every deadline out and checks that
 * everything ended. With `drainAt`, BALLAST jobs of a queue of their own are added first
 * and deleted before op `drainAt`: the store, then under a fifth full, moves the jobs of
 * the ops down while they are in every state (JobStore.moveTopDown).
 */
function runOps(ops: Op[], defaultDelay: number | null, random: number, drainAt: number | null): void {
  const clock = new FakeClock();
  const problems: string[] = [];
  const mirror = new Engine(clock);
  // Half the runs with a server default retry delay (exponential, jittered by a fixed draw).
  const options = defaultDelay === null ? {} : { retryDelay: { delayMs: defaultDelay, maxDelayMs: 4 * defaultDelay, jitterPercent: 30 }, random: () => random };
  const engine = new Engine(clock, new MirrorJournal(mirror, clock, problems), options);
  if (drainAt !== null) {
    for (let i = 0; i < BALLAST; i++)
      engine.add({ id: id(BALLAST_FROM + i), name: 'z', ttr: 1000, ttl: 10_000_000, priority: 0, maxAttempts: 0, maxFails: 0, payload: Buffer.alloc(0) });
  }
  const calls = new Map<number, number>();
  const cancels: Array<() => void> = [];
  const cancelled = new Set<number>();
  const paused = new Set<string>();
  let seq = 0;
  const track = () => {
    const k = ++seq;
    calls.set(k, 0);
    return (outcome: unknown) => {
      calls.set(k, calls.get(k)! + 1);
      if (outcome instanceof Job && outcome.state !== JobState.Leased) problems.push('lease handed out a job that is not leased');
      if (outcome instanceof Job && paused.has(outcome.name)) problems.push('lease took a job from a paused queue');
    };
  };
  for (let index = 0; index < ops.length; index++) {
    const op = ops[index]!;
    if (index === drainAt) {
      for (let i = 0; i < BALLAST; i++) engine.delete(id(BALLAST_FROM + i));
      const pages = (engine as unknown as Internals).store.pageCount;
      if (pages > 2) problems.push(`${pages} pages left once the ballast was deleted`);
    }
    switch (op.k) {
      case 'add':
        engine.add({
          id: id(op.n),
          name: NAMES[op.name]!,
          ttr: op.ttr,
          ttl: op.ttl,
          priority: op.prio,
          maxAttempts: op.ma,
          maxFails: op.mf,
          payload: Buffer.alloc(1),
          retry: op.retry,
        });
        break;
      case 'schedule': {
        const at = clock.t + op.at;
        engine.schedule({
          id: id(op.n),
          name: NAMES[op.name]!,
          ttr: 100,
          ttl: op.ttl,
          priority: op.prio,
          maxAttempts: 0,
          maxFails: op.mf,
          payload: Buffer.alloc(1),
          timeSec: Math.floor(at / 1000),
          timeNsec: (at % 1000) * 1e6,
        });
        break;
      }
      case 'run':
        engine.run({ id: id(op.n), name: NAMES[op.name]!, ttr: op.ttr, timeout: op.w, priority: 0, payload: Buffer.alloc(1) }, track());
        break;
      case 'lease': {
        const k = seq + 1;
        const c = engine.lease(
          op.names.map((i) => NAMES[i]!),
          op.w,
          track(),
        );
        if (c !== null)
          cancels.push(() => {
            c();
            if (calls.get(k) === 0) cancelled.add(k);
          });
        break;
      }
      case 'result': {
        const k = seq + 1;
        const c = engine.result(id(op.n), op.w, track());
        if (c !== null)
          cancels.push(() => {
            c();
            if (calls.get(k) === 0) cancelled.add(k);
          });
        break;
      }
      case 'complete':
        engine.complete(id(op.n), 'c');
        break;
      case 'fail':
        engine.fail(id(op.n), 'f');
        break;
      case 'delete':
        engine.delete(id(op.n));
        break;
      case 'cancel':
        cancels.shift()?.();
        break;
      case 'advance':
        clock.t += op.ms;
        engine.tick(clock.t);
        break;
      case 'hold':
        engine.holdJobDeadlines(op.on);
        if (!op.on) engine.tick(clock.t);
        break;
      case 'touch': {
        // The model: only a leased job can be touched, and its lease then ends ttr from now.
        const job = engine.inspectJob(id(op.n));
        const expected = job === null ? 'not-found' : job.state !== JobState.Leased ? 'not-leased' : null;
        const r = engine.touch(id(op.n), op.ttr);
        if (r !== expected) problems.push(`touch gave ${r}, the model ${expected}`);
        if (r === null && engine.deadlineOf(job!) !== clock.t + (op.ttr ?? job!.ttr)) problems.push('touch set the wrong lease end');
        break;
      }
      case 'retry': {
        // The model: only a failed background job starts over, as NEW with its counters at 0.
        const job = engine.inspectJob(id(op.n));
        const expected = job === null ? 'not-found' : job.state !== JobState.Failed || job.foreground ? 'not-failed' : null;
        const r = engine.retryFailed(id(op.n));
        if (r !== expected) problems.push(`retry gave ${r}, the model ${expected}`);
        // A lease waiting on its queue may have taken it at once: then it is on its first attempt.
        const startedOver =
          job !== null &&
          job.fails === 0 &&
          job.result === null &&
          ((job.state === JobState.New && job.attempts === 0) || (job.state === JobState.Leased && job.attempts === 1));
        if (r === null && !startedOver) problems.push(`retried ${job!.id} did not start over`);
        break;
      }
      case 'retry-failed': {
        const name = NAMES[op.name]!;
        const failed = (engine.inspectStateJobs(name, 'failed', 0, 100) ?? []).length;
        const n = engine.retryAllFailed(name);
        if (n !== (engine.inspectQueue(name) === null ? null : failed)) problems.push(`retry-failed gave ${n}, ${failed} were failed`);
        if ((engine.inspectStateJobs(name, 'failed', 0, 100) ?? []).length !== 0) problems.push('retry-failed left failed jobs');
        break;
      }
      case 'pause':
        if (op.on) paused.add(NAMES[op.name]!);
        else paused.delete(NAMES[op.name]!);
        engine.pause(NAMES[op.name]!, op.on);
        break;
    }
    // While the ballast is there, only the op before the drain is checked: it is the state the moves start from.
    if (drainAt === null || index >= drainAt - 1) {
      checkInvariants(engine, clock.t, problems);
      sameState(engine, mirror, problems, clock.t);
    }
    if (problems.length > 0) break;
  }
  // Liveness: with deadlines released, every job and every waiter ends by its deadlines (paused queues too).
  engine.holdJobDeadlines(false);
  for (let i = 0; i < 50 && engine.nextDeadline() !== Infinity; i++) {
    clock.t = Math.max(clock.t, engine.nextDeadline());
    engine.tick(clock.t);
    checkInvariants(engine, clock.t, problems);
  }
  if (engine.jobCount !== 0) problems.push(`${engine.jobCount} jobs outlived their deadlines`);
  if (engine.nextDeadline() !== Infinity) problems.push('deadlines left');
  for (const [k, n] of calls) {
    const expected = cancelled.has(k) ? 0 : 1;
    if (n !== expected) problems.push(`callback ${k} called ${n} times`);
  }
  sameState(engine, mirror, problems, clock.t);
  if (problems.length > 0) throw new Error(problems.slice(0, 5).join('\n'));
}

test('random operations keep every job in one place, replay mirrors the journal, and everything ends', (t) => {
  fc.assert(
    fc.property(
      fc.array(opArb, { minLength: 1, maxLength: 80 }),
      fc.option(fc.integer({ min: 1, max: 200 })),
      fc.double({ min: 0, max: 0.999, noNaN: true }),
      (ops, defaultDelay, random) => runOps(ops, defaultDelay, random, null),
    ),
    { numRuns: Number(process.env.ENGINE_RUNS ?? 400) },
  );
  t.pass();
});

test('the same, with the store compacted under the jobs: a ballast of 33,000 jobs is deleted midway, and the jobs of the ops move down in every state', (t) => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 2, maxLength: 60 }), fc.nat(), (ops, drain) => {
      runOps(ops, null, 0, 1 + (drain % (ops.length - 1)));
    }),
    { numRuns: Number(process.env.ENGINE_BALLAST_RUNS ?? 25) },
  );
  t.pass();
});

test('created stamps stay strictly increasing under any clock', (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 200 }), (steps) => {
      const clock = new FakeClock();
      const engine = new Engine(clock);
      let prev: Job | null = null;
      steps.forEach((d, i) => {
        clock.t += d;
        engine.add({ id: id(i + 1), name: 'q', ttr: 1, ttl: 1_000_000, priority: 0, maxAttempts: 0, maxFails: 0, payload: Buffer.alloc(0) });
        const job = engine.inspectJob(id(i + 1))!;
        if (prev !== null && !(job.createdSec > prev.createdSec || (job.createdSec === prev.createdSec && job.createdNsec > prev.createdNsec))) {
          throw new Error('created went backwards');
        }
        prev = job;
      });
      const listed = (engine.inspectJobs('q', 0, 100) ?? []).map((j) => j.id);
      if (
        listed.join() !==
        steps
          .slice(0, 100)
          .map((_, i) => id(i + 1))
          .join()
      )
        throw new Error('not FIFO');
    }),
  );
  t.is(T0 % 1000, 0);
});

test('ordered windows equal a full sort for any offset and limit', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ p: fc.integer({ min: -3, max: 3 }), s: fc.option(fc.integer({ min: 1, max: 5 })) }), { maxLength: 60 }),
      fc.array(fc.nat(60), { maxLength: 20 }),
      fc.nat(70),
      fc.integer({ min: 1, max: 100 }),
      (specs, removals, offset, limit) => {
        const clock = new FakeClock();
        const engine = new Engine(clock);
        specs.forEach((s, i) => {
          if (s.s === null)
            engine.add({ id: id(i + 1), name: 'q', ttr: 1, ttl: 1_000_000, priority: s.p, maxAttempts: 0, maxFails: 0, payload: Buffer.alloc(0) });
          else
            engine.schedule({
              id: id(i + 1),
              name: 'q',
              ttr: 1,
              ttl: 1_000_000,
              priority: s.p,
              maxAttempts: 0,
              maxFails: 0,
              payload: Buffer.alloc(0),
              timeSec: T0 / 1000 - s.s,
              timeNsec: 0,
            });
        });
        for (const r of removals) engine.delete(id(r + 1));
        const all = engine.inspectJobs('q', 0, 1000) ?? [];
        const sorted = [...all].sort((a, b) => (queueBefore(a.store, a.slot, b.slot) ? -1 : 1));
        if (all.map((j) => j.id).join() !== sorted.map((j) => j.id).join()) throw new Error('full window not sorted');
        const w = engine.inspectJobs('q', offset, limit) ?? [];
        if (
          w.map((j) => j.id).join() !==
          sorted
            .slice(offset, offset + limit)
            .map((j) => j.id)
            .join()
        )
          throw new Error('window differs');
      },
    ),
  );
  t.pass();
});
