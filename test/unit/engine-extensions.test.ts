import test from 'ava';
import { Engine, type EngineOptions } from '../../src/jobs/engine.js';
import { Job, JobState } from '../../src/jobs/job.js';
import { Queue } from '../../src/jobs/queue.js';
import { StateList } from '../../src/jobs/state-list.js';
import { retryDelayMs } from '../../src/jobs/retry-delay.js';
import { FakeClock, RecordingJournal, T0, id, newJob, newRun } from './engine-support.js';

const QUEUE = new Queue('q');

function slotsOf(jobs: Job[]): number[] {
  return jobs.map((job) => job.slot);
}

// The engine side of the protocol extensions (docs/protocol-extensions.md): touch,
// pause/resume and retry delays, on an injected clock.

function setup(options: EngineOptions = {}): { clock: FakeClock; journal: RecordingJournal; engine: Engine } {
  const clock = new FakeClock();
  const journal = new RecordingJournal();
  return { clock, journal, engine: new Engine(clock, journal, options) };
}

/** Leases from `names`, waiting as long as it takes: moves the clock from deadline to deadline until a job comes. */
function leaseWhenReady(engine: Engine, clock: FakeClock, names: string[]): Job {
  let got: Job | null = null;
  engine.lease(names, 86_400_000, (job) => (got = job));
  for (let i = 0; got === null && i < 100; i++) {
    clock.t = Math.max(clock.t, engine.nextDeadline());
    engine.tick(clock.t);
  }
  if (got === null) throw new Error('no job came');
  return got;
}

test('a failing dependency retried with exponential delay: attempts are spaced as configured', (t) => {
  const { clock, journal, engine } = setup();
  engine.add(newJob(1, { maxFails: 8, retry: { delayMs: 100, maxDelayMs: 1000, jitterPercent: 0 } }));
  const leasedAt: number[] = [];
  for (let attempt = 1; attempt <= 7; attempt++) {
    const job = leaseWhenReady(engine, clock, ['q']);
    leasedAt.push(clock.t - T0);
    t.is(job.attempts, attempt);
    clock.t += 5; // the handler works 5 ms, then the dependency fails it
    t.is(engine.fail(id(1), 'dependency down'), null);
  }
  const gaps = leasedAt.slice(1).map((at, i) => at - leasedAt[i]! - 5);
  t.deepEqual(gaps, [100, 200, 400, 800, 1000, 1000]);
  t.is(engine.inspectJob(id(1))!.state, JobState.Pending);
  const records = journal.take();
  t.deepEqual(
    records.filter((r) => r.startsWith('retry')),
    [
      `retry-delay ${id(1)} 100 1000 0`,
      `retry-at ${id(1)} 100 5`,
      `retry-at ${id(1)} 200 110`,
      `retry-at ${id(1)} 400 315`,
      `retry-at ${id(1)} 800 720`,
      `retry-at ${id(1)} 1000 1525`,
      `retry-at ${id(1)} 1000 2530`,
      `retry-at ${id(1)} 1000 3535`,
    ],
  );
});

test('while a job waits out its delay it is listed as scheduled, shows retry-at, and leases skip it', (t) => {
  const { clock, engine } = setup();
  engine.add(newJob(1, { maxFails: 3, retry: { delayMs: 500, maxDelayMs: 0, jitterPercent: 0 } }));
  leaseWhenReady(engine, clock, ['q']);
  engine.fail(id(1), 'x');
  const job = engine.inspectJob(id(1))!;
  t.is(job.retryAt, T0 + 500);
  t.like(engine.inspectQueue('q'), { readyLen: 0, scheduledLen: 1 });
  t.deepEqual(engine.inspectScheduledJobs('q', 0, 10), [job]);
  let got: unknown = 'waiting';
  engine.lease(['q'], 0, (j) => (got = j));
  t.is(got, null);
  clock.t = T0 + 499;
  engine.tick(clock.t);
  t.is(job.retryAt, T0 + 500);
  clock.t = T0 + 500;
  engine.tick(clock.t);
  t.is(job.retryAt, 0);
  t.like(engine.inspectQueue('q'), { readyLen: 1, scheduledLen: 0 });
  // complete works on a waiting job, as on a scheduled one.
  leaseWhenReady(engine, clock, ['q']);
  engine.fail(id(1), 'y');
  t.is(engine.complete(id(1), 'done anyway'), null);
  t.is(job.state, JobState.Completed);
  t.is(job.retryAt, 0);
  t.is(engine.nextDeadline(), T0 + 60_000, 'only the TTL is left');
});

test('a TTR timeout retries after the delay too; the server default applies to jobs without their own, never to run jobs', (t) => {
  const { clock, engine } = setup({ retryDelay: { delayMs: 1000, maxDelayMs: 0, jitterPercent: 50 }, random: () => 0.5 });
  engine.add(newJob(1, { ttr: 100 }));
  leaseWhenReady(engine, clock, ['q']);
  clock.t = T0 + 100;
  engine.tick(clock.t);
  const job = engine.inspectJob(id(1))!;
  t.is(job.state, JobState.Pending);
  t.is(job.retryAt, T0 + 100 + 750, 'jitter 50% with a draw of 0.5 takes a quarter off');
  // A job's own delay of 0 means no delay, whatever the default.
  engine.add(newJob(2, { ttr: 100, name: 'own', retry: { delayMs: 0, maxDelayMs: 0, jitterPercent: 0 } }));
  leaseWhenReady(engine, clock, ['own']);
  clock.t += 100;
  engine.tick(clock.t);
  t.like(engine.inspectQueue('own'), { readyLen: 1, scheduledLen: 0 });
  // A run's job goes back at once: its run is waiting.
  let outcome: unknown;
  engine.run(newRun(3, { name: 'r', ttr: 100, timeout: 10_000 }), (o) => (outcome = o));
  leaseWhenReady(engine, clock, ['r']);
  clock.t += 100;
  engine.tick(clock.t);
  t.like(engine.inspectQueue('r'), { readyLen: 1, scheduledLen: 0 });
  t.is(outcome, undefined);
});

test('retryDelayMs: fixed, exponential with a cap, jitter, no overflow for late retries', (t) => {
  const fixed = { delayMs: 300, maxDelayMs: 0, jitterPercent: 0 };
  t.deepEqual(
    [1, 2, 10].map((n) => retryDelayMs(fixed, n, Math.random)),
    [300, 300, 300],
  );
  const exp = { delayMs: 50, maxDelayMs: 86_400_000, jitterPercent: 0 };
  t.deepEqual(
    [1, 2, 3, 255].map((n) => retryDelayMs(exp, n, Math.random)),
    [50, 100, 200, 86_400_000],
  );
  t.is(
    retryDelayMs({ delayMs: 1000, maxDelayMs: 0, jitterPercent: 100 }, 1, () => 0.999),
    1,
  );
  t.is(
    retryDelayMs({ delayMs: 1000, maxDelayMs: 0, jitterPercent: 20 }, 1, () => 0),
    1000,
  );
  t.is(
    retryDelayMs({ delayMs: 0, maxDelayMs: 500, jitterPercent: 20 }, 3, () => 0.5),
    0,
  );
  t.is(
    retryDelayMs({ delayMs: 400, maxDelayMs: 100, jitterPercent: 0 }, 1, () => 0),
    100,
    'a cap below the delay caps it',
  );
});

test('touch restarts the lease clock; refused unless leased; a paused queue keeps its jobs from leases', (t) => {
  const { clock, journal, engine } = setup();
  engine.add(newJob(1, { ttr: 100 }));
  t.is(engine.touch(id(1), null), 'not-leased');
  t.is(engine.touch(id(9), 50), 'not-found');
  const job = leaseWhenReady(engine, clock, ['q']);
  clock.t = T0 + 80;
  t.is(engine.touch(id(1), 1000), null);
  t.is(engine.deadlineOf(job), T0 + 1080);
  clock.t = T0 + 500;
  t.is(engine.touch(id(1), null), null);
  t.is(engine.deadlineOf(job), T0 + 600);
  engine.pause('q', true);
  engine.pause('q', true);
  clock.t = T0 + 600;
  engine.tick(clock.t);
  t.is(job.state, JobState.Pending);
  t.is(engine.touch(id(1), null), 'not-leased');
  let got: unknown = 'waiting';
  engine.lease(['q'], 0, (j) => (got = j));
  t.is(got, null);
  engine.pause('q', false);
  engine.lease(['q'], 0, (j) => (got = j));
  t.is((got as Job | null)?.serial, job.serial);
  t.deepEqual(
    journal.take().filter((r) => /^(touch|pause|resume)/.test(r)),
    [`touch ${id(1)} 1000 80`, `touch ${id(1)} 100 500`, 'pause q', 'resume q'],
  );
});

test('a state list keeps entry order and its slots through removals and compaction', (t) => {
  const list = new StateList(QUEUE.store);
  const jobs = Array.from({ length: 200 }, (_, i) => Job.create(id(i + 1), QUEUE, 1, 1, 0, 0, 0, '', 0, i, 0, 0, false));
  for (const job of jobs) list.push(job.slot);
  // Remove every job but each fifth, from the front: holes pile up, then get squeezed out.
  const kept = jobs.filter((_, i) => i % 5 === 0);
  for (const job of jobs) if (!kept.includes(job)) list.remove(job.store.listIndexOf(job.slot));
  t.is(list.size, kept.length);
  t.deepEqual(list.ordered(0, 1000), slotsOf(kept));
  t.deepEqual(list.ordered(3, 2), slotsOf(kept.slice(3, 5)));
  t.deepEqual(list.ordered(40, 10), []);
  const places = list as unknown as { places: Int32Array; end: number };
  t.true(places.end < jobs.length, 'compacted');
  for (const job of kept) t.is(places.places[job.store.listIndexOf(job.slot)], job.slot);
  list.remove(kept.at(-1)!.store.listIndexOf(kept.at(-1)!.slot));
  t.is(kept.at(-1)!.store.listIndexOf(kept.at(-1)!.slot), -1);
  t.deepEqual(list.ordered(0, 1000), slotsOf(kept.slice(0, -1)));
});

test('a state list that empties and fills again keeps its room: a job leased and completed at a time makes no new array', (t) => {
  const list = new StateList(QUEUE.store);
  const inside = list as unknown as { places: Int32Array; live: number[] };
  const jobs = Array.from({ length: 3 }, (_, i) => Job.create(id(i + 1), QUEUE, 1, 1, 0, 0, 0, '', 0, i, 0, 0, false));
  list.push(jobs[0]!.slot);
  const places = inside.places;
  const live = inside.live;
  for (const job of [...jobs, ...jobs]) {
    list.remove(QUEUE.store.listIndexOf(list.ordered(0, 1)[0]!));
    t.is(list.size, 0);
    t.deepEqual(list.ordered(0, 10), []);
    list.push(job.slot);
    t.deepEqual(list.ordered(0, 10), [job.slot]);
  }
  t.is(inside.places, places, 'the same array of places');
  t.is(inside.live, live, 'the same chunk counts');
  t.deepEqual(inside.live, [1]);
});

test('a state list pages like a plain list across many chunks of slots, and skips whole chunks to reach a deep page', (t) => {
  const list = new StateList(QUEUE.store);
  const jobs = Array.from({ length: 10_000 }, (_, i) => Job.create(id(i + 1), QUEUE, 1, 1, 0, 0, 0, '', 0, i, 0, 0, false));
  for (const job of jobs) list.push(job.slot);
  let seed = 7;
  const model = [...jobs];
  for (let round = 0; round < 4000; round++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const victim = model.splice(seed % model.length, 1)[0]!;
    list.remove(victim.store.listIndexOf(victim.slot));
    if (round % 997 === 0) {
      for (const offset of [0, 1023, 1024, 3000, model.length - 5, model.length])
        t.deepEqual(list.ordered(offset, 100), slotsOf(model.slice(offset, offset + 100)), `offset ${offset}`);
    }
  }
  // From the end: chunks empty out, and new jobs fill them again.
  for (let i = 0; i < 3000; i++) {
    const job = model.pop()!;
    list.remove(job.store.listIndexOf(job.slot));
  }
  const more = Array.from({ length: 2000 }, (_, i) => Job.create(id(20_001 + i), QUEUE, 1, 1, 0, 0, 0, '', 0, i, 0, 0, false));
  for (const job of more) {
    list.push(job.slot);
    model.push(job);
  }
  t.is(list.size, model.length);
  for (const offset of [0, 1500, 2999, 3000, model.length - 1])
    t.deepEqual(list.ordered(offset, 100), slotsOf(model.slice(offset, offset + 100)), `offset ${offset}`);
});
