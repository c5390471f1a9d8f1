import test from 'ava';
import fc from 'fast-check';
import { Engine } from '../../src/jobs/engine.js';
import { JOB_OVERHEAD_BYTES } from '../../src/jobs/job-memory.js';
import { FakeClock, T0, id, newJob, newRun, newScheduled } from './engine-support.js';

// The memory budget (docs/operations.md, Memory budget): the engine's running count of the
// bytes jobs hold must equal, after any sequence of commands, timers and replay, the sum
// recomputed from the jobs themselves; add, schedule and run past the budget are refused,
// while lease, complete, fail and delete go on.

const IDS = 12;

/** The model: every job still known, summed from scratch. */
function recount(engine: Engine): number {
  let bytes = 0;
  for (let n = 0; n < IDS; n++) {
    const job = engine.inspectJob(id(n));
    if (job !== null) bytes += JOB_OVERHEAD_BYTES + job.payload.length + (job.result?.length ?? 0);
  }
  return bytes;
}

const n = fc.integer({ min: 0, max: IDS - 1 });
const text = fc.string({ maxLength: 40 });
const op = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), n, payload: text, ttl: fc.integer({ min: 1, max: 5000 }), maxFails: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('schedule' as const), n, payload: text, at: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({ kind: fc.constant('run' as const), n, payload: text, timeout: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({ kind: fc.constant('lease' as const) }),
  fc.record({ kind: fc.constant('complete' as const), n, result: text }),
  fc.record({ kind: fc.constant('fail' as const), n, result: text }),
  fc.record({ kind: fc.constant('delete' as const), n }),
  fc.record({ kind: fc.constant('retry' as const), n }),
  fc.record({ kind: fc.constant('restore' as const), n, payload: text }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 2500 }) }),
);
type Op = typeof op extends fc.Arbitrary<infer O> ? O : never;

function apply(engine: Engine, clock: FakeClock, o: Op): string | null {
  switch (o.kind) {
    case 'add':
      return engine.add(newJob(o.n, { payload: o.payload, ttl: o.ttl, maxFails: o.maxFails }));
    case 'schedule':
      return engine.schedule(newScheduled(o.n, clock.t + o.at, { payload: o.payload }));
    case 'run': {
      let outcome: string | null = null;
      engine.run(newRun(o.n, { payload: o.payload, timeout: o.timeout }), (r) => {
        outcome = typeof r === 'string' ? r : null;
      });
      return outcome;
    }
    case 'lease':
      engine.lease(['q'], 0, () => undefined);
      return null;
    case 'complete':
      return engine.complete(id(o.n), o.result);
    case 'fail':
      return engine.fail(id(o.n), o.result);
    case 'delete':
      return engine.delete(id(o.n));
    case 'retry':
      return engine.retryFailed(id(o.n));
    case 'restore':
      engine.restore({ ...newJob(o.n, { payload: o.payload }), createdSec: Math.floor(clock.t / 1000), createdNsec: 0, timeSec: 0, timeNsec: 0 }, clock.t);
      return null;
    case 'advance':
      clock.t += o.ms;
      engine.tick(clock.t);
      return null;
  }
}

test('the count of bytes held stays exact through add, schedule, run, lease, complete, fail, delete, retry, TTR/TTL timers and replay', (t) => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const clock = new FakeClock();
      const engine = new Engine(clock);
      for (const o of ops) {
        apply(engine, clock, o);
        if (engine.jobMemoryBytes !== recount(engine)) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('past the budget add, schedule and run are refused and counted; nothing else is, and a refusal changes nothing', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2000 }), fc.array(op, { maxLength: 80 }), (budget, ops) => {
      const clock = new FakeClock();
      const engine = new Engine(clock, null, { memoryBudget: budget });
      let refusals = 0;
      for (const o of ops) {
        const before = engine.jobMemoryBytes;
        const jobs = engine.jobCount;
        const fits = before + JOB_OVERHEAD_BYTES + ('payload' in o ? o.payload.length : 0) <= budget;
        const known = 'n' in o && engine.inspectJob(id(o.n)) !== null;
        const outcome = apply(engine, clock, o);
        const creates = o.kind === 'add' || o.kind === 'schedule' || o.kind === 'run';
        if (creates && !known && !fits) {
          refusals++;
          if (outcome !== 'memory-full' || engine.jobMemoryBytes !== before || engine.jobCount !== jobs) return false;
        } else if (outcome === 'memory-full') return false;
        if (engine.counters.memoryRefused !== refusals) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('a full budget still lets the queue drain: lease, complete (whose result is held past the budget), delete; then adds fit again', (t) => {
  const clock = new FakeClock();
  const budget = 3 * (JOB_OVERHEAD_BYTES + 10);
  const engine = new Engine(clock, null, { memoryBudget: budget });
  for (let i = 0; i < 3; i++) t.is(engine.add(newJob(i, { payload: 'x'.repeat(10) })), null);
  t.is(engine.jobMemoryBytes, budget);
  t.is(engine.add(newJob(3, { payload: '' })), 'memory-full');
  t.is(engine.schedule(newScheduled(3, T0 + 1000, { payload: '' })), 'memory-full');
  let ran: unknown;
  engine.run(newRun(3), (outcome) => (ran = outcome));
  t.is(ran, 'memory-full');
  t.is(engine.counters.memoryRefused, 3);
  t.is(engine.inspectQueue('q')!.readyLen, 3, 'a refused job never entered a queue');

  engine.lease(['q'], 0, () => undefined);
  t.is(engine.complete(id(0), 'a result that goes past the budget'), null, 'complete is never refused');
  t.true(engine.jobMemoryBytes > budget);
  t.is(engine.delete(id(0)), null);
  t.is(engine.delete(id(1)), null);
  t.is(engine.jobMemoryBytes, JOB_OVERHEAD_BYTES + 10);
  t.is(engine.add(newJob(3, { payload: '' })), null, 'after draining adds work again');
});
