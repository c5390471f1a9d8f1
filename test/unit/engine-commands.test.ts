import test from 'ava';
import { JobState } from '../../src/jobs/job.js';
import { Engine } from '../../src/jobs/engine.js';
import { FakeClock, Harness, RecordingJournal, T0, id, newJob, newRun, newScheduled, tag } from './engine-support.js';

// Section numbers and Qn in the test titles refer to docs/protocol.md (Qn: its section 9).

test('add: NEW in the ready list, created with nanoseconds, TTL from created, journaled', (t) => {
  const h = new Harness();
  t.is(h.engine.add(newJob(1, { priority: 10, maxAttempts: 3 })), null);
  const job = h.engine.inspectJob(id(1))!;
  t.is(job.state, JobState.New);
  t.is(job.attempts, 0);
  t.is(job.createdSec, T0 / 1000);
  t.is(job.createdNsec, 0);
  t.is(job.expiresAt, T0 + 60_000);
  t.false(job.scheduled);
  t.deepEqual(h.readyIds(), [tag(1)]);
  t.deepEqual(h.engine.inspectQueue('q'), { name: 'q', readyLen: 1, scheduledLen: 0, paused: false });
  t.deepEqual(h.journal.take(), [`add ${id(1)}`]);
  t.is(h.engine.jobCount, 1);
});

test('add, schedule and run copy the payload: the bytes they were given may be overwritten at once', (t) => {
  const h = new Harness();
  const added = newJob(1, { payload: 'added' });
  const scheduled = newScheduled(2, 0, { payload: 'scheduled' });
  const run = newRun(3, { payload: 'run' });
  t.is(h.engine.add(added), null);
  t.is(h.engine.schedule(scheduled), null);
  h.engine.run(run, () => undefined);
  // The connection hands the engine views of its read buffer, which the next read refills.
  for (const spec of [added, scheduled, run]) (spec.payload as Buffer).fill(0x7e);
  t.is(h.engine.inspectJob(id(1))!.payload, 'added');
  t.is(h.engine.inspectJob(id(2))!.payload, 'scheduled');
  t.is(h.engine.inspectJob(id(3))!.payload, 'run');
});

test('add: duplicate while known in any state, including finished; invalid-time before duplicate', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1));
  t.is(h.engine.add(newJob(1)), 'duplicate-job');
  t.is(h.engine.schedule(newScheduled(1, 5000)), 'duplicate-job');
  t.is(h.engine.complete(id(1), 'x'), null);
  t.is(h.engine.add(newJob(1)), 'duplicate-job');
  const run = h.run(1);
  t.is(run.value, 'duplicate-job');
  t.is(h.engine.add(newJob(1, { ttl: 0 })), 'invalid-time');
  h.engine.delete(id(1));
  t.is(h.engine.add(newJob(1)), null, 'a deleted ID is free again');
  t.deepEqual(h.journal.take(), [`add ${id(1)}`, `complete ${id(1)} x`, `delete ${id(1)}`, `add ${id(1)}`]);
});

test('a rejected add creates no queue', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1, { name: 'a' }));
  t.is(h.engine.add(newJob(1, { name: 'b' })), 'duplicate-job');
  t.is(h.engine.inspectQueue('b'), null);
  t.is(h.engine.add(newJob(2, { name: 'c', ttl: 0 })), 'invalid-time');
  t.is(h.engine.inspectQueue('c'), null);
});

test('created is strictly increasing within one millisecond and when the clock goes back', (t) => {
  const h = new Harness();
  for (let i = 1; i <= 3; i++) h.engine.add(newJob(i));
  h.clock.t -= 5;
  h.engine.add(newJob(4));
  const c = [1, 2, 3, 4].map((i) => h.engine.inspectJob(id(i))!.createdNsec);
  t.deepEqual(c, [0, 1, 2, 3]);
  h.clock.t = T0 + 1;
  h.engine.add(newJob(5));
  t.is(h.engine.inspectJob(id(5))!.createdNsec, 1_000_000);
});

test('schedule: scheduled list until its time, then ready and waiting leasers woken; nothing journaled then', (t) => {
  const h = new Harness();
  t.is(h.engine.schedule(newScheduled(1, 5000, { priority: 2 })), null);
  t.deepEqual(h.scheduledIds(), [tag(1)]);
  t.deepEqual(h.readyIds(), []);
  t.is(h.engine.nextDeadline(), T0 + 5000);
  const lease = h.lease('q', 10_000);
  h.advance(4999);
  t.is(lease.value, undefined);
  h.advance(1);
  t.is(lease.value, `job ${tag(1)}`);
  t.deepEqual(h.journal.take(), [`schedule ${id(1)}`, `start ${id(1)} 5000`]);
  t.is(h.engine.inspectJob(id(1))!.expiresAt, T0 + 5000 + 60_000, 'TTL counts from the time');
});

test('schedule: a past time with time + ttl ahead is ready at once; time + ttl not ahead is invalid-time', (t) => {
  const h = new Harness();
  t.is(h.engine.schedule(newScheduled(1, -1000)), null);
  t.deepEqual(h.readyIds(), [tag(1)]);
  t.is(h.engine.schedule(newScheduled(2, -60_000)), 'invalid-time');
  t.is(h.engine.schedule(newScheduled(3, -60_001, { ttl: 60_002 })), null);
  t.is(h.engine.schedule(newScheduled(2, 100, { ttl: 1 })), null);
});

test('schedule: a sub-millisecond time becomes ready only once it has passed', (t) => {
  const h = new Harness();
  h.engine.schedule(newScheduled(1, 10.5));
  h.at(10);
  t.deepEqual(h.readyIds(), []);
  h.at(11);
  t.deepEqual(h.readyIds(), [tag(1)]);
});

test('worked session 11.3: lease, timeout, complete, duplicate result, result, delete, not-found', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1, { ttr: 5000, priority: 10, maxAttempts: 3 }));
  t.is(h.lease('q', 1000).value, `job ${tag(1)}`);
  const second = h.lease('q', 100);
  t.is(second.value, undefined);
  h.advance(100);
  t.is(second.value, 'timeout');
  const job = h.engine.inspectJob(id(1))!;
  t.is(job.state, JobState.Leased);
  t.is(job.attempts, 1);
  t.is(h.engine.complete(id(1), 'pong'), null);
  t.is(h.engine.complete(id(1), 'pong'), 'duplicate-result');
  t.is(h.engine.fail(id(1), 'x'), 'duplicate-result');
  t.is(h.result(1, 1000).value, `${tag(1)} 1 pong`);
  t.is(h.engine.delete(id(1)), null);
  t.is(h.engine.delete(id(1)), 'not-found');
  t.is(h.result(1, 1000).value, 'not-found');
  t.is(h.engine.complete(id(1), 'x'), 'not-found');
  t.is(h.engine.fail(id(1), 'x'), 'not-found');
  t.deepEqual(h.journal.take(), [`add ${id(1)}`, `start ${id(1)} 0`, `complete ${id(1)} pong`, `delete ${id(1)}`]);
  t.is(h.engine.nextDeadline(), Infinity, 'no deadline is left');
});

test('worked session 11.4 and 7.5: fail is final without max-fails; fails counted', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1, { ttr: 2000 }));
  h.lease('q', 1000);
  t.is(h.engine.fail(id(1), 'bounced'), null);
  t.is(h.state(1), JobState.Failed);
  t.is(h.engine.inspectJob(id(1))!.fails, 1);
  t.is(h.result(1, 0).value, `${tag(1)} 0 bounced`);
  t.is(h.engine.nextDeadline(), T0 + 60_000, 'TTR stopped, TTL remains');
});

test('max-fails: retried while fails < max-fails, the N-th fail is final, waiters not woken by retries', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1, { maxFails: 3 }));
  h.engine.add(newJob(2));
  const waiting = h.result(1, 50_000);
  t.is(h.lease('q', 0).value, `job ${tag(1)}`);
  t.is(h.engine.fail(id(1), 'f1'), null);
  let job = h.engine.inspectJob(id(1))!;
  t.is(job.state, JobState.Pending);
  t.is(job.fails, 1);
  t.is(job.store.deadlineIndexOf(job.slot), -1, 'TTR stopped');
  t.deepEqual(h.readyIds(), [tag(1), tag(2)], 'back at its original place');
  t.is(waiting.value, undefined);
  t.is(h.engine.fail(id(1), 'f2'), null, 'fail from PENDING is accepted');
  t.is(h.state(1), JobState.Pending);
  t.deepEqual(h.readyIds(), [tag(1), tag(2)]);
  t.is(h.engine.fail(id(1), 'f3'), null);
  job = h.engine.inspectJob(id(1))!;
  t.is(job.state, JobState.Failed);
  t.is(job.fails, 3);
  t.deepEqual(h.readyIds(), [tag(2)]);
  t.is(waiting.value, `${tag(1)} 0 f3`);
  t.deepEqual(h.journal.take(), [`add ${id(1)}`, `add ${id(2)}`, `start ${id(1)} 0`, `fail ${id(1)} f1`, `fail ${id(1)} f2`, `fail ${id(1)} f3`]);
});

test('max-fails 1 and 0 both make the first fail final', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1, { maxFails: 1 }));
  h.engine.add(newJob(2, { maxFails: 0 }));
  h.engine.fail(id(1), 'a');
  h.engine.fail(id(2), 'b');
  t.is(h.state(1), JobState.Failed);
  t.is(h.state(2), JobState.Failed);
});

test('max-fails retry hands the job to a waiting leaser, journaled after the fail', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1, { maxFails: 2 }));
  h.lease('q', 0);
  const waiting = h.lease('q', 5000);
  h.advance(10);
  h.engine.fail(id(1), 'again');
  t.is(waiting.value, `job ${tag(1)}`);
  t.is(h.engine.inspectJob(id(1))!.attempts, 2);
  t.deepEqual(h.journal.take().slice(2), [`fail ${id(1)} again`, `start ${id(1)} 10`]);
});

test('max-fails retry of a scheduled job before its time stays in the scheduled list', (t) => {
  const h = new Harness();
  h.engine.schedule(newScheduled(1, 5000, { maxFails: 2 }));
  h.engine.fail(id(1), 'early');
  t.is(h.state(1), JobState.Pending);
  t.deepEqual(h.scheduledIds(), [tag(1)]);
  t.deepEqual(h.readyIds(), []);
  h.at(5000);
  t.deepEqual(h.readyIds(), [tag(1)]);
  t.is(h.state(1), JobState.Pending);
});

test('max-fails retry up to max-attempts: the next lease fails it with the last failure, waking waiters', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1, { maxFails: 5, maxAttempts: 1 }));
  h.engine.add(newJob(2));
  const waiting = h.result(1, 50_000);
  h.lease('q', 0);
  h.engine.fail(id(1), 'last');
  h.journal.take();
  t.is(h.lease('q', 0).value, `job ${tag(2)}`, 'the lease skips the failed job and goes on');
  t.is(h.state(1), JobState.Failed);
  t.is(waiting.value, `${tag(1)} 0 last`);
  t.deepEqual(h.journal.take(), [`start ${id(2)} 0`], 'nothing is journaled for a failure at lease time');
  t.is(h.result(1, 0).value, `${tag(1)} 0 last`);
});

test('worked session 11.8: TTR expiry requeues PENDING, then max-attempts fails with an empty result', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1, { ttr: 300, maxAttempts: 2 }));
  const waiting = h.result(1, 60_000);
  h.lease('q', 1000);
  h.advance(299);
  t.is(h.state(1), JobState.Leased);
  h.advance(1);
  t.is(h.state(1), JobState.Pending);
  t.deepEqual(h.engine.inspectQueue('q'), { name: 'q', readyLen: 1, scheduledLen: 0, paused: false });
  h.advance(100);
  t.is(h.lease('q', 1000).value, `job ${tag(1)}`);
  h.advance(300);
  t.is(h.state(1), JobState.Failed);
  t.is(waiting.value, `${tag(1)} 0 `);
  t.deepEqual(h.engine.inspectQueue('q'), { name: 'q', readyLen: 0, scheduledLen: 0, paused: false });
  const late = h.lease('q', 100);
  h.advance(100);
  t.is(late.value, 'timeout');
  t.is(h.result(1, 0).value, `${tag(1)} 0 `);
  t.deepEqual(h.journal.take(), [`add ${id(1)}`, `start ${id(1)} 0`, `timeout ${id(1)}`, `start ${id(1)} 400`, `timeout ${id(1)}`]);
});

test('a requeued job returns to its original place, ahead of newer jobs of its priority', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1, { ttr: 100 }));
  h.lease('q', 0);
  h.advance(1);
  h.engine.add(newJob(2));
  h.advance(100);
  t.deepEqual(h.readyIds(), [tag(1), tag(2)]);
});

test('TTR expiry of a job failed meanwhile by max-attempts keeps its last failure', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1, { ttr: 100, maxAttempts: 2, maxFails: 3 }));
  h.lease('q', 0);
  h.engine.fail(id(1), 'boom');
  h.lease('q', 0);
  h.advance(100);
  t.is(h.state(1), JobState.Failed);
  t.is(h.result(1, 0).value, `${tag(1)} 0 boom`);
});

test('the 255-lease cap: 255 leases, then the next lease fails the job and times out', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1, { ttr: 10, ttl: 2_000_000 }));
  const waiting = h.result(1, 1_000_000);
  for (let i = 0; i < 255; i++) {
    t.is(h.lease('q', 0).value, `job ${tag(1)}`);
    h.advance(10);
  }
  t.is(h.state(1), JobState.Pending);
  const last = h.lease('q', 0);
  t.is(last.value, 'timeout');
  const job = h.engine.inspectJob(id(1))!;
  t.is(job.state, JobState.Failed);
  t.is(job.attempts, 255);
  t.is(waiting.value, `${tag(1)} 0 `);
  const records = h.journal.take();
  t.is(records.filter((r) => r.startsWith('start')).length, 255);
  t.is(records.at(-1), `timeout ${id(1)}`);
});

test('a job at the cap that becomes ready is failed and the waiting leaser keeps waiting', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1, { ttr: 10, maxAttempts: 0, ttl: 2_000_000 }));
  for (let i = 0; i < 255; i++) {
    h.lease('q', 0);
    if (i < 254) h.advance(10);
  }
  const waiting = h.lease('q', 1000);
  h.advance(10);
  t.is(h.state(1), JobState.Failed);
  t.is(waiting.value, undefined);
  h.engine.add(newJob(2));
  t.is(waiting.value, `job ${tag(2)}`);
});

test('complete works from NEW, PENDING and scheduled-not-yet-ready; the result lives until the TTL', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1));
  h.engine.schedule(newScheduled(2, 5000, { ttl: 1000 }));
  h.engine.add(newJob(3, { ttr: 10 }));
  h.lease('q', 0);
  h.lease('q', 0);
  h.advance(10);
  t.is(h.state(3), JobState.Pending);
  t.is(h.engine.complete(id(3), 'c'), null);
  t.is(h.engine.complete(id(2), 's'), null);
  t.deepEqual(h.scheduledIds(), []);
  t.is(h.state(2), JobState.Completed);
  t.is(h.engine.evictedJobs, 0);
  h.at(5999);
  t.is(h.state(2), JobState.Completed);
  h.at(6000);
  t.is(h.state(2), undefined);
  t.is(h.engine.evictedJobs, 0, 'finished jobs are not evictions');
});

test('complete after the TTR ran out and another worker re-leased the job', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1, { ttr: 100 }));
  h.lease('q', 0);
  h.advance(100);
  h.lease('q', 0);
  t.is(h.engine.complete(id(1), 'late'), null);
  t.is(h.state(1), JobState.Completed);
  h.advance(1000);
  t.deepEqual(h.journal.take().slice(-1), [`complete ${id(1)} late`], 'no TTR fires after completion');
});

test('worked session 11.9: TTL expiry removes unfinished jobs and counts evictions', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1, { ttl: 300 }));
  h.engine.add(newJob(2, { ttl: 300, ttr: 1000 }));
  h.engine.add(newJob(3, { ttl: 300 }));
  h.engine.add(newJob(4, { ttl: 300 }));
  h.lease('q', 0);
  h.lease('q', 0);
  h.engine.complete(id(4), 'ok');
  const waiting = h.result(3, 1000);
  h.advance(300);
  t.is(h.engine.jobCount, 0);
  t.is(h.engine.evictedJobs, 3);
  t.is(h.engine.complete(id(1), 'x'), 'not-found');
  t.is(waiting.value, undefined, 'waiters of an expired job wait out their own deadline');
  h.advance(699);
  t.is(waiting.value, undefined);
  h.advance(1);
  t.is(waiting.value, 'timeout');
  t.deepEqual(h.journal.take().slice(-4), [`expire ${id(1)}`, `expire ${id(2)}`, `expire ${id(3)}`, `expire ${id(4)}`]);
  t.is(h.engine.add(newJob(1)), null, 'the ID is free again');
});

test('delete in every state stops its deadlines and wakes nobody', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1));
  h.engine.add(newJob(2, { priority: -1 }));
  h.engine.schedule(newScheduled(3, 500));
  h.engine.add(newJob(4, { priority: -2 }));
  h.lease('q', 0);
  h.engine.complete(id(4), 'done');
  const waiting = h.result(2, 100);
  for (const n of [1, 2, 3, 4]) t.is(h.engine.delete(id(n)), null);
  t.is(h.engine.jobCount, 0);
  t.deepEqual(h.engine.inspectQueue('q'), { name: 'q', readyLen: 0, scheduledLen: 0, paused: false });
  t.is(h.engine.nextDeadline(), T0 + 100);
  h.engine.add(newJob(2));
  h.engine.complete(id(2), 'new');
  t.is(waiting.value, undefined, 'a new job under the same ID never reaches old waiters');
  h.advance(100);
  t.is(waiting.value, 'timeout');
});

test('result: immediate when finished, timeout 0 at once, all waiters get the result (Q11), cancel', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1));
  t.is(h.result(1, 0).value, 'timeout');
  const a = h.result(1, 1000);
  const b = h.result(1, 2000);
  let c: string | undefined;
  const cancel = h.engine.result(id(1), 3000, () => {
    c = 'called';
  });
  t.truthy(cancel);
  cancel!();
  cancel!();
  h.advance(500);
  h.engine.complete(id(1), 'r');
  t.is(a.value, `${tag(1)} 1 r`);
  t.is(b.value, `${tag(1)} 1 r`);
  t.is(c, undefined);
  t.is(h.engine.nextDeadline(), T0 + 60_000);
});

test('result waiter times out at its deadline; the job keeps going', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1));
  const a = h.result(1, 1000);
  h.advance(999);
  t.is(a.value, undefined);
  h.advance(1);
  t.is(a.value, 'timeout');
  t.is(h.state(1), JobState.New);
});

test('lease with timeout 0 returns a ready job (Q8) or times out at once', (t) => {
  const h = new Harness();
  t.is(h.lease('q', 0).value, 'timeout');
  h.engine.add(newJob(1));
  t.is(h.lease('q', 0).value, `job ${tag(1)}`);
});

test('a waiting lease creates its queues, inspect never does; they go when no lease waits on them and they never held a job (Q17)', (t) => {
  const h = new Harness();
  t.is(h.engine.inspectQueue('a'), null);
  t.is(h.engine.inspectJobs('a', 0, 10), null);
  t.is(h.engine.inspectScheduledJobs('a', 0, 10), null);
  h.lease(['b', 'a'], 0);
  t.deepEqual(h.engine.inspectQueues(0, 10), [], 'a lease that returned at once leaves no queue');
  const first = h.lease(['b', 'a', 'b'], 100);
  const second = h.lease(['a', 'C'], 200);
  t.deepEqual(
    h.engine.inspectQueues(0, 10).map((q) => q.name),
    ['C', 'a', 'b'],
  );
  t.deepEqual(h.engine.inspectJobs('a', 0, 10), []);
  h.advance(100);
  t.is(first.value, 'timeout');
  t.deepEqual(
    h.engine.inspectQueues(0, 10).map((q) => q.name),
    ['C', 'a'],
    'b is gone with its last waiting lease',
  );
  h.engine.add(newJob(1, { name: 'a' }));
  t.is(second.value, `job ${tag(1)}`);
  t.deepEqual(
    h.engine.inspectQueues(0, 10).map((q) => q.name),
    ['a'],
    'a held a job, so it stays',
  );
  h.engine.complete(id(1), 'r');
  h.lease(['a'], 0);
  t.deepEqual(
    h.engine.inspectQueues(0, 10).map((q) => q.name),
    ['a'],
  );
  h.engine.pause('p', true);
  h.lease(['p'], 0);
  t.deepEqual(
    h.engine.inspectQueues(0, 10).map((q) => q.name),
    ['a', 'p'],
    'a paused queue stays',
  );
  h.engine.pause('p', false);
  h.engine.pause('r', false);
  h.lease(['p', 'r'], 0);
  t.deepEqual(
    h.engine.inspectQueues(0, 10).map((q) => q.name),
    ['a', 'p', 'r'],
    'so does a queue once paused or resumed',
  );
});

test('multi-name lease chooses by priority, then scheduled time, then created; ties go to the name listed first (Q9)', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1, { name: 'a', priority: 1 }));
  h.engine.add(newJob(2, { name: 'b', priority: 5 }));
  t.is(h.lease(['a', 'b'], 0).value, `job ${tag(2)}`);
  h.engine.schedule(newScheduled(3, -10, { name: 'c', priority: 1 }));
  h.advance(1);
  h.engine.add(newJob(4, { name: 'b', priority: 1 }));
  t.is(h.lease(['c', 'b', 'a'], 0).value, `job ${tag(1)}`, 'oldest unscheduled of priority 1');
  t.is(h.lease(['c', 'b'], 0).value, `job ${tag(4)}`, 'unscheduled before scheduled');
  t.is(h.lease(['c', 'b'], 0).value, `job ${tag(3)}`);
  // Equal keys 1–3 cannot happen across distinct jobs with our stamps, so restore two twins.
  const twin = {
    name: 'x',
    ttr: 1000,
    ttl: 60_000,
    priority: 0,
    maxAttempts: 0,
    maxFails: 0,
    payload: Buffer.alloc(0),
    createdSec: T0 / 1000,
    createdNsec: 5,
    timeSec: 0,
    timeNsec: 0,
  };
  h.engine.restore({ ...twin, id: id(0x20) }, h.clock.t);
  h.engine.restore({ ...twin, id: id(0x10), name: 'y' }, h.clock.t);
  t.is(h.lease(['x', 'y'], 0).value, `job ${tag(0x20)}`);
  h.engine.restore({ ...twin, id: id(0x30) }, h.clock.t);
  t.is(h.lease(['y', 'x'], 0).value, `job ${tag(0x10)}`);
});

test('waiting leases: the longest waiting gets the job, across multi-name waits, no lost wake-ups (Q10)', (t) => {
  const h = new Harness();
  const first = h.lease(['a', 'b'], 5000);
  h.advance(1);
  const second = h.lease(['b'], 5000);
  h.advance(1);
  const third = h.lease(['b', 'a', 'b'], 5000);
  h.engine.add(newJob(1, { name: 'b' }));
  t.is(first.value, `job ${tag(1)}`);
  h.engine.add(newJob(2, { name: 'a' }));
  t.is(third.value, `job ${tag(2)}`, 'first left every queue it waited on');
  h.engine.add(newJob(3, { name: 'b' }));
  t.is(second.value, `job ${tag(3)}`);
  h.engine.add(newJob(4, { name: 'b' }));
  t.deepEqual(h.readyIds('b'), [tag(4)]);
  t.is(h.engine.nextDeadline(), T0 + 1002, 'no wait-timeout left: the first TTR is next');
});

test('a cancelled lease gets nothing and the next waiter does', (t) => {
  const h = new Harness();
  let got = 0;
  const cancel = h.engine.lease(['q'], 1000, () => got++);
  const other = h.lease('q', 1000);
  cancel!();
  cancel!();
  h.engine.add(newJob(1));
  t.is(got, 0);
  t.is(other.value, `job ${tag(1)}`);
});

test('a lease times out at its own deadline, measured from the start of the command', (t) => {
  const h = new Harness();
  const w = h.lease(['a', 'b'], 200);
  t.is(h.engine.nextDeadline(), T0 + 200);
  h.advance(150);
  h.advance(50);
  t.is(w.value, 'timeout');
  h.engine.add(newJob(1, { name: 'a' }));
  t.deepEqual(h.readyIds('a'), [tag(1)]);
});

test('a lease callback may lease again synchronously', (t) => {
  const h = new Harness();
  const got: string[] = [];
  h.engine.lease(['q'], 1000, (j) => {
    got.push(j!.id);
    h.engine.lease(['q'], 0, (k) => got.push(k === null ? 'none' : k.id));
  });
  h.engine.add(newJob(1));
  t.deepEqual(got, [id(1), 'none']);
});

test('inspect jobs / scheduled-jobs: consistent windows in queue order without disturbing the lists', (t) => {
  const h = new Harness();
  const prios = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
  prios.forEach((p, i) => h.engine.add(newJob(i + 1, { priority: p })));
  const all = h.engine.inspectJobs('q', 0, 100)!.map((j) => j.priority);
  t.deepEqual(
    all,
    [...prios].sort((a, b) => b - a),
  );
  t.deepEqual(
    h.engine.inspectJobs('q', 3, 4)!.map((j) => j.priority),
    all.slice(3, 7),
  );
  t.deepEqual(h.engine.inspectJobs('q', 10, 100)!.length, 1);
  t.deepEqual(h.engine.inspectJobs('q', 11, 100), []);
  t.deepEqual(h.engine.inspectJobs('q', 4294967295, 100), []);
  t.deepEqual(
    h.engine.inspectJobs('q', 0, 100)!.map((j) => j.priority),
    all,
    'unchanged by inspection',
  );
  h.engine.schedule(newScheduled(20, 5000, { priority: 1 }));
  h.engine.schedule(newScheduled(21, 4000, { priority: 1 }));
  h.engine.schedule(newScheduled(22, 9000, { priority: 2 }));
  t.deepEqual(h.scheduledIds(), [tag(22), tag(21), tag(20)], 'priority first, then time');
  t.deepEqual(
    h.engine.inspectScheduledJobs('q', 1, 1)!.map((j) => j.id),
    [id(21)],
  );
});

test('far-future scheduled times sort by their real value (Q20)', (t) => {
  const h = new Harness();
  const at = (iso: string) => Date.parse(iso) - T0;
  h.engine.schedule(newScheduled(1, at('2300-01-01T00:00:00Z')));
  h.engine.schedule(newScheduled(2, at('2030-01-01T00:00:00Z')));
  h.engine.schedule(newScheduled(3, at('2262-04-12T00:00:00Z')));
  h.engine.schedule(newScheduled(4, at('9999-12-31T23:59:59Z')));
  t.deepEqual(h.scheduledIds(), [tag(2), tag(3), tag(1), tag(4)]);
  t.is(h.engine.nextDeadline(), Date.parse('2030-01-01T00:00:00Z'));
});

test('ready list order: priority, unscheduled before scheduled, created, then ID bytes', (t) => {
  const h = new Harness();
  h.engine.schedule(newScheduled(1, -100));
  h.engine.add(newJob(2));
  h.engine.add(newJob(3, { priority: 1 }));
  h.engine.schedule(newScheduled(4, -200));
  h.engine.add(newJob(5, { priority: -2147483648 }));
  h.engine.add(newJob(6, { priority: 2147483647 }));
  t.deepEqual(h.readyIds(), [tag(6), tag(3), tag(2), tag(4), tag(1), tag(5)]);
  const twin = {
    name: 'z',
    ttr: 1000,
    ttl: 60_000,
    priority: 0,
    maxAttempts: 0,
    maxFails: 0,
    payload: Buffer.alloc(0),
    createdSec: T0 / 1000,
    createdNsec: 0,
    timeSec: 0,
    timeNsec: 0,
  };
  h.engine.restore({ ...twin, id: 'f0000000-0000-4000-8000-000000000000' }, h.clock.t);
  h.engine.restore({ ...twin, id: 'a0000000-0000-4000-8000-000000000000' }, h.clock.t);
  t.deepEqual(
    h.engine.inspectJobs('z', 0, 10)!.map((j) => j.id[0]),
    ['a', 'f'],
  );
});

test('inspect queues: byte order and window', (t) => {
  const h = new Harness();
  for (const name of ['b', 'a', 'Z', '_x', '0', 'A', '-y']) h.engine.pause(name, true);
  h.engine.pause('a', true);
  const names = h.engine.inspectQueues(0, 100).map((q) => q.name);
  t.deepEqual(names, ['-y', '0', 'A', 'Z', '_x', 'a', 'b']);
  t.deepEqual(
    h.engine.inspectQueues(2, 2).map((q) => q.name),
    ['A', 'Z'],
  );
  t.deepEqual(h.engine.inspectQueues(7, 2), []);
  t.deepEqual(h.engine.inspectQueues(4294967295, 100), []);
});

test('tick fires every due deadline earliest first across kinds', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1, { ttl: 300 }));
  h.engine.add(newJob(2, { ttr: 100 }));
  h.lease('q', 0);
  h.lease('q', 0);
  const w = h.result(2, 200);
  h.engine.schedule(newScheduled(3, 150));
  h.journal.take();
  t.is(h.engine.nextDeadline(), T0 + 100);
  h.advance(1000);
  t.is(w.value, 'timeout');
  t.deepEqual(h.journal.take(), [`timeout ${id(2)}`, `expire ${id(1)}`]);
  t.deepEqual(h.readyIds(), [tag(2), tag(3)]);
});

test('holdJobDeadlines: TTR, TTL and schedule wait; wait-timeouts still fire; release lets them go', (t) => {
  const h = new Harness();
  h.engine.add(newJob(1, { ttr: 100, ttl: 200 }));
  h.engine.schedule(newScheduled(2, 50));
  h.lease('q', 0);
  const w = h.lease('other', 150);
  h.journal.take();
  h.engine.holdJobDeadlines(true);
  t.is(h.engine.nextDeadline(), T0 + 150);
  h.advance(300);
  t.is(w.value, 'timeout');
  t.is(h.state(1), JobState.Leased);
  t.deepEqual(h.scheduledIds(), [tag(2)]);
  t.deepEqual(h.journal.take(), []);
  t.is(h.engine.nextDeadline(), Infinity);
  h.engine.holdJobDeadlines(false);
  t.is(h.engine.nextDeadline(), T0 + 50);
  h.engine.tick(h.clock.t);
  t.deepEqual(h.journal.take(), [`timeout ${id(1)}`, `expire ${id(1)}`]);
  t.deepEqual(h.readyIds(), [tag(2)]);
});

test('no journal: the engine works without one and setJournal switches it', (t) => {
  const clock = new FakeClock();
  const engine = new Engine(clock);
  engine.add(newJob(1, { ttr: 10 }));
  engine.lease(['q'], 0, () => undefined);
  engine.run({ id: id(2), name: 'q', ttr: 10, timeout: 0, priority: 0, payload: Buffer.alloc(0) }, () => undefined);
  clock.t += 10;
  engine.tick(clock.t);
  engine.fail(id(1), '');
  engine.delete(id(1));
  const journal = new RecordingJournal();
  engine.setJournal(journal);
  engine.schedule(newScheduled(3, 10));
  t.deepEqual(journal.records, [`schedule ${id(3)}`]);
});

test('many deadlines due at one instant fire over several ticks, earliest first, so clients are served between them', (t) => {
  const h = new Harness();
  const n = 10_000;
  for (let i = 1; i <= n; i++) h.engine.schedule(newScheduled(i, 50, { ttl: 60_000 }));
  h.clock.t = T0 + 50;
  let ticks = 0;
  const sizes: number[] = [];
  while (h.engine.nextDeadline() <= h.clock.t) {
    h.engine.tick(h.clock.t);
    ticks++;
    sizes.push(h.engine.inspectQueue('q')!.readyLen);
  }
  t.true(ticks >= 3, `${ticks} ticks`);
  t.true(sizes[0]! < n, 'the first tick stopped before all were fired');
  t.is(sizes[sizes.length - 1], n);
  t.is(h.engine.inspectQueue('q')!.scheduledLen, 0);
  t.deepEqual(h.readyIds().slice(0, 3), [tag(1), tag(2), tag(3)]);
});

test('a lease naming one queue many times waits on it once and frees nothing it should keep', (t) => {
  const h = new Harness();
  const names = Array.from({ length: 20_000 }, (_, i) => (i % 2 === 0 ? 'a' : `n${i % 1000}`));
  const seen = h.lease(names, 1000);
  t.is(h.engine.inspectQueues(0, 100).length, 100);
  h.engine.add(newJob(1, { name: 'a' }));
  t.is(seen.value, `job ${tag(1)}`);
  t.deepEqual(
    h.engine.inspectQueues(0, 100).map((q) => q.name),
    ['a'],
    'the names that never held a job are freed with the lease',
  );
  h.engine.add(newJob(2, { name: 'a' }));
  t.deepEqual(h.readyIds('a'), [tag(2)], 'the served lease waits no more');
});

test('readyPayloadLength: the payload of the job a lease on those names would take now, 0 when it would wait; it takes nothing', (t) => {
  const h = new Harness();
  t.is(h.engine.readyPayloadLength(['q', 'missing']), 0);
  h.engine.add(newJob(1, { payload: 'x'.repeat(10) }));
  h.engine.add(newJob(2, { name: 'r', priority: 5, payload: 'y'.repeat(300) }));
  t.is(h.engine.readyPayloadLength(['q']), 10);
  t.is(h.engine.readyPayloadLength(['q', 'r']), 300, 'the higher priority across the names, as lease picks');
  t.is(h.engine.readyPayloadLength(['q', 'r']), 300, 'nothing was taken');
  h.engine.pause('r', true);
  t.is(h.engine.readyPayloadLength(['q', 'r']), 10, 'a paused queue gives nothing');
  t.is(h.lease('q', 0).value, `job ${tag(1)}`);
  t.is(h.engine.readyPayloadLength(['q']), 0);
});
