import test from 'ava';
import { JobState } from '../../src/jobs/job.js';
import type { RestoredJob } from '../../src/jobs/types.js';
import { Harness, T0, id, newJob, tag } from './engine-support.js';

/** A record as replay would decode it: created at T0 + createdMs, scheduled at T0 + atMs when given. */
function record(n: number, createdMs: number, over: Partial<RestoredJob> = {}, atMs?: number): RestoredJob {
  const c = T0 + createdMs;
  const base: RestoredJob = {
    id: id(n),
    name: 'q',
    ttr: 1000,
    ttl: 60_000,
    priority: 0,
    maxAttempts: 0,
    maxFails: 0,
    payload: Buffer.from('x'),
    createdSec: Math.floor(c / 1000),
    createdNsec: (c % 1000) * 1e6 + 7,
    timeSec: 0,
    timeNsec: 0,
  };
  if (atMs !== undefined) {
    const a = T0 + atMs;
    base.timeSec = Math.floor(a / 1000);
    base.timeNsec = (a % 1000) * 1e6;
  }
  return { ...base, ...over };
}

test('restore: expired records are skipped without a trace; live ones keep their times', (t) => {
  const h = new Harness();
  h.clock.t = T0 + 100_000;
  const now = h.clock.t;
  t.is(h.engine.restore(record(1, 0), now), 'expired');
  t.is(h.engine.restore(record(2, 40_000, { ttl: 60_000 }), now), 'expired', 'created + ttl = now');
  t.is(h.engine.restore(record(3, 0, { ttl: 50_000 }, 50_000), now), 'expired', 'time + ttl has passed');
  t.is(h.engine.inspectQueue('q'), null);
  t.is(h.engine.restore(record(4, 50_000), now), null);
  const job = h.engine.inspectJob(id(4))!;
  t.is(job.createdNsec, 7);
  t.is(job.expiresAt, T0 + 110_000);
  t.is(h.engine.restore(record(5, 0, {}, 200_000), now), null);
  t.is(h.engine.restore(record(6, 0, {}, 90_000), now), null);
  t.deepEqual(h.readyIds(), [tag(4), tag(6)]);
  t.deepEqual(h.scheduledIds(), [tag(5)]);
  t.deepEqual(h.journal.records, []);
  t.is(h.engine.evictedJobs, 0);
});

test('restore: a second add for a live ID replaces the earlier job', (t) => {
  const h = new Harness();
  h.engine.restore(record(1, 0, { name: 'a', priority: 1 }), T0);
  t.is(h.engine.restore(record(1, 5, { name: 'b' }), T0), 'replaced');
  t.is(h.engine.jobCount, 1);
  t.deepEqual(h.readyIds('a'), []);
  t.deepEqual(h.readyIds('b'), [tag(1)]);
  t.is(h.engine.inspectJob(id(1))!.name, 'b');
});

test('restoreStartAttempt: leases with TTR deadline at + ttr; replay errors of docs/command-log.md 10.2', (t) => {
  const h = new Harness();
  h.engine.restore(record(1, 0, { ttr: 500, maxAttempts: 1 }), T0);
  h.engine.restore(record(2, 0, {}, 30_000), T0);
  t.is(h.engine.restoreStartAttempt(id(9), T0), 'unknown');
  t.is(h.engine.restoreStartAttempt(id(1), T0 + 10), null);
  const job = h.engine.inspectJob(id(1))!;
  t.is(job.state, JobState.Leased);
  t.is(job.attempts, 1);
  t.is(h.engine.deadlineOf(job), T0 + 510);
  t.is(h.engine.restoreStartAttempt(id(1), T0 + 20), 'already-leased');
  t.is(h.engine.restoreTimeoutAttempt(id(1)), null);
  t.is(job.state, JobState.Failed, 'max-attempts reached at the TTR end');
  t.is(h.engine.restoreStartAttempt(id(1), T0 + 20), 'already-processed');
  t.is(h.engine.restoreStartAttempt(id(2), T0 + 20), null, 'from the scheduled list too');
  t.deepEqual(h.scheduledIds(), []);
  t.is(h.engine.restoreTimeoutAttempt(id(2)), null);
  t.deepEqual(h.readyIds(), [tag(2)]);
  h.engine.restore(record(3, 0, { maxAttempts: 2, maxFails: 5 }), T0);
  h.engine.restoreStartAttempt(id(3), T0);
  h.engine.restoreFail(id(3), 'f');
  h.engine.restoreStartAttempt(id(3), T0);
  h.engine.restoreFail(id(3), 'f');
  t.is(h.engine.restoreStartAttempt(id(3), T0), 'max-attempts');
  t.deepEqual(h.journal.records, []);
});

test('restoreStartAttempt: the 255 cap', (t) => {
  const h = new Harness();
  h.engine.restore(record(1, 0), T0);
  for (let i = 0; i < 255; i++) {
    t.is(h.engine.restoreStartAttempt(id(1), T0), null);
    h.engine.restoreTimeoutAttempt(id(1));
  }
  t.is(h.engine.restoreStartAttempt(id(1), T0), 'max-attempts');
  t.is(h.state(1), JobState.Pending);
});

test('restoreComplete / restoreFail: unknown, duplicate-result, max-fails rule', (t) => {
  const h = new Harness();
  h.engine.restore(record(1, 0), T0);
  h.engine.restore(record(2, 0, { maxFails: 2 }), T0);
  h.engine.restore(record(3, 0, { maxFails: 2 }, 30_000), T0);
  t.is(h.engine.restoreComplete(id(9), 'r'), 'unknown');
  t.is(h.engine.restoreFail(id(9), 'r'), 'unknown');
  t.is(h.engine.restoreComplete(id(1), 'r'), null);
  t.is(h.engine.restoreComplete(id(1), 'r'), 'duplicate-result');
  t.is(h.engine.restoreFail(id(1), 'r'), 'duplicate-result');
  h.engine.restoreStartAttempt(id(2), T0);
  t.is(h.engine.restoreFail(id(2), 'f1'), null);
  let job = h.engine.inspectJob(id(2))!;
  t.is(job.state, JobState.Pending);
  t.is(job.fails, 1);
  t.is(job.store.deadlineIndexOf(job.slot), -1);
  t.deepEqual(h.readyIds(), [tag(2)]);
  t.is(h.engine.restoreFail(id(2), 'f2'), null);
  job = h.engine.inspectJob(id(2))!;
  t.is(job.state, JobState.Failed);
  t.is(job.result, 'f2');
  t.is(h.engine.restoreFail(id(3), 'early'), null);
  t.deepEqual(h.scheduledIds(), [tag(3)], 'a retried scheduled job waits for its time');
  t.deepEqual(h.journal.records, []);
});

test('restoreDelete / restoreExpire / restoreTimeoutAttempt on unknown and live IDs', (t) => {
  const h = new Harness();
  h.engine.restore(record(1, 0), T0);
  h.engine.restore(record(2, 0), T0);
  h.engine.restore(record(3, 0), T0);
  t.is(h.engine.restoreDelete(id(9)), 'unknown');
  t.is(h.engine.restoreExpire(id(9)), 'unknown');
  t.is(h.engine.restoreTimeoutAttempt(id(9)), 'unknown');
  t.is(h.engine.restoreTimeoutAttempt(id(3)), null, 'not leased: nothing changes');
  t.is(h.state(3), JobState.New);
  t.is(h.engine.restoreDelete(id(1)), null);
  t.is(h.engine.restoreExpire(id(2)), null);
  t.is(h.engine.jobCount, 1);
  t.is(h.engine.evictedJobs, 0, 'evicted-jobs starts at 0 after a restart');
});

test('after replay, passed deadlines fire at the first tick, earliest first, with their live records', (t) => {
  const h = new Harness();
  const replayStart = T0 + 9_000;
  const now = T0 + 10_000;
  h.clock.t = now;
  h.engine.restore(record(1, 0, { ttl: 9_000 + 500 }), replayStart);
  h.engine.restore(record(2, 0, { ttr: 3000 }), replayStart);
  h.engine.restore(record(3, 0, { ttl: 20_000 }, 5_000), replayStart);
  h.engine.restore(record(4, 0, { ttr: 100 }), replayStart);
  h.engine.restore(record(5, 0, { ttl: 10_001 }), replayStart);
  h.engine.restoreStartAttempt(id(2), T0 + 1000);
  h.engine.restoreStartAttempt(id(4), T0 + 9000);
  h.engine.restoreComplete(id(4), 'done');
  t.deepEqual(h.journal.records, []);
  t.is(h.engine.nextDeadline(), T0 + 4000);
  t.deepEqual(h.readyIds(), [tag(1), tag(5), tag(3)]);
  h.engine.tick(now);
  t.deepEqual(h.journal.take(), [`timeout ${id(2)}`, `expire ${id(1)}`]);
  t.is(h.engine.evictedJobs, 1);
  t.deepEqual(h.readyIds(), [tag(2), tag(5), tag(3)]);
  h.advance(1);
  t.deepEqual(h.journal.take(), [`expire ${id(5)}`]);
});

test('jobs created after replay come after the replayed ones (FIFO)', (t) => {
  const h = new Harness();
  const rec = record(1, 0);
  rec.createdNsec = 999_999;
  h.engine.restore(rec, T0);
  h.engine.add(newJob(2));
  t.deepEqual(h.readyIds(), [tag(1), tag(2)]);
  const job = h.engine.inspectJob(id(2))!;
  t.is(job.createdSec, T0 / 1000);
  t.is(job.createdNsec, 1_000_000);
});
