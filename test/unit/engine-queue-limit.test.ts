import test from 'ava';
import fc from 'fast-check';
import { Engine } from '../../src/jobs/engine.js';
import { FakeClock, id, newJob, newRun, newScheduled } from './engine-support.js';

// limits.maxQueues in the engine (docs/protocol.md 12.6): after any sequence of commands,
// timers and replay, every job's queue exists, a refusal happens only when every queue
// holds something, commands never take the count past the limit (waiting leases aside),
// and replay never refuses.

const IDS = 10;
const NAMES = ['a', 'b', 'c', 'd', 'e'];
const MAX_QUEUES = 3;

const n = fc.integer({ min: 0, max: IDS - 1 });
const name = fc.constantFrom(...NAMES);
const op = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), n, name, ttl: fc.integer({ min: 1, max: 5000 }) }),
  fc.record({ kind: fc.constant('schedule' as const), n, name, at: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({ kind: fc.constant('run' as const), n, name, timeout: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({ kind: fc.constant('lease' as const), names: fc.uniqueArray(name, { minLength: 1, maxLength: 3 }), timeout: fc.integer({ min: 0, max: 2000 }) }),
  fc.record({ kind: fc.constant('pause' as const), name, paused: fc.boolean() }),
  fc.record({ kind: fc.constant('complete' as const), n }),
  fc.record({ kind: fc.constant('delete' as const), n }),
  fc.record({ kind: fc.constant('restore' as const), n, name }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 2500 }) }),
);

/** Queues the engine knows, by name, with what each holds. */
function queues(engine: Engine): Map<string, { jobs: number; paused: boolean }> {
  const held = new Map<string, { jobs: number; paused: boolean }>();
  for (const queue of engine.queueList) held.set(queue.name, { jobs: 0, paused: queue.paused });
  for (let i = 0; i < IDS; i++) {
    const job = engine.inspectJob(id(i));
    if (job === null) continue;
    const entry = held.get(job.name);
    if (entry === undefined) throw new Error(`job ${i} in queue ${job.name}, which the engine does not know`);
    entry.jobs++;
  }
  return held;
}

test('queue limit: jobs never lose their queue, refusals only when no queue is empty, replay never refused', (t) => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const clock = new FakeClock();
      const engine = new Engine(clock, null, { maxQueues: MAX_QUEUES });
      let waitingLeases = 0;
      for (const o of ops) {
        const before = queues(engine);
        const target = 'name' in o ? o.name : null;
        const isNew = target !== null && !before.has(target);
        // The engine's own notion of empty also needs no waiting lease; a lease that waits
        // here is cancelled by none, so only a queue it does not name can be freed for sure.
        const someEmpty = [...before.values()].some((q) => q.jobs === 0 && !q.paused);
        let refused = false;
        switch (o.kind) {
          case 'add':
            refused = engine.add(newJob(o.n, { name: o.name, ttl: o.ttl })) === 'too-many-queues';
            break;
          case 'schedule':
            refused = engine.schedule(newScheduled(o.n, clock.t + o.at, { name: o.name })) === 'too-many-queues';
            break;
          case 'run':
            engine.run(newRun(o.n, { name: o.name, timeout: o.timeout }), (r) => {
              if (r === 'too-many-queues') refused = true;
            });
            break;
          case 'lease': {
            // Answered at once (before lease returns), a lease never waited.
            let waits = false;
            const cancel = engine.lease(o.names, o.timeout, () => {
              if (waits) waitingLeases--;
            });
            if (cancel !== null) {
              waits = true;
              waitingLeases++;
            }
            break;
          }
          case 'pause':
            refused = engine.pause(o.name, o.paused) === 'too-many-queues';
            break;
          case 'complete':
            engine.complete(id(o.n), 'r');
            break;
          case 'delete':
            engine.delete(id(o.n));
            break;
          case 'restore':
            engine.restore({ ...newJob(o.n, { name: o.name }), createdSec: Math.floor(clock.t / 1000), createdNsec: 0, timeSec: 0, timeNsec: 0 }, clock.t);
            break;
          case 'advance':
            clock.t += o.ms;
            engine.tick(clock.t);
            break;
        }
        const after = queues(engine);
        if (refused) {
          if (!isNew) throw new Error(`${o.kind} on the existing queue ${target} refused`);
          if (before.size < MAX_QUEUES) throw new Error(`${o.kind} refused with ${before.size} queues`);
          if (someEmpty && waitingLeases === 0) throw new Error(`${o.kind} refused while a queue was empty`);
          if (after.has(target)) throw new Error('a refused command created its queue');
        }
        if (o.kind === 'restore' && !after.has(o.name)) throw new Error('replay refused a queue');
        if (o.kind !== 'restore' && o.kind !== 'lease' && waitingLeases === 0 && after.size > Math.max(MAX_QUEUES, before.size))
          throw new Error(`${o.kind} took the queues to ${after.size}`);
      }
    }),
    { numRuns: 300, includeErrorInReport: true },
  );
  t.pass();
});

test('queue limit: the queue empty longest makes room first, a paused or waited-on one never', (t) => {
  const clock = new FakeClock();
  const engine = new Engine(clock, null, { maxQueues: 3 });
  for (const [i, name] of ['a', 'b', 'c'].entries()) t.is(engine.add(newJob(i, { name })), null);
  t.is(engine.add(newJob(3, { name: 'd' })), 'too-many-queues');
  t.is(engine.pause('a', true), null);
  t.is(engine.delete(id(0)), null);
  t.is(engine.delete(id(2)), null);
  t.is(engine.delete(id(1)), null);
  // a is paused; c emptied before b; a lease waits on b.
  t.not(
    engine.lease(['b'], 1000, () => undefined),
    null,
  );
  t.is(engine.add(newJob(3, { name: 'd' })), null);
  t.deepEqual(
    engine.queueList.map((q) => q.name),
    ['a', 'b', 'd'],
  );
  t.is(engine.add(newJob(4, { name: 'e' })), 'too-many-queues');
  t.is(engine.counters.queuesRefused, 2);
  t.is(engine.counters.queuesReclaimed, 1);
});
