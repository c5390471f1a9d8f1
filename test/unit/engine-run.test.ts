import test from 'ava';
import { JobState } from '../../src/jobs/job.js';
import { Harness, id, newJob, tag } from './engine-support.js';

// Section numbers and Qn in the test titles refer to docs/protocol.md (Qn: its section 9).

test('worked session 11.7: run completed by a worker; the job is gone afterwards; no add record', (t) => {
  const h = new Harness();
  const run = h.run(1, { ttr: 5000, timeout: 10_000 });
  const job = h.engine.inspectJob(id(1))!;
  t.is(job.ttl, 0);
  t.is(job.maxAttempts, 0);
  t.is(job.maxFails, 0);
  t.true(job.foreground);
  t.is(job.store.expiryIndexOf(job.slot), -1, 'no TTL');
  t.is(h.lease('q', 1000).value, `job ${tag(1)}`);
  t.is(h.engine.complete(id(1), 'small'), null);
  t.is(run.value, `${tag(1)} 1 small`);
  t.is(h.result(1, 0).value, 'not-found');
  t.is(h.engine.jobCount, 0);
  t.deepEqual(h.journal.take(), [`start ${id(1)} 0`, `complete ${id(1)} small`, `expire ${id(1)}`]);
  const again = h.run(1, { ttr: 5000, timeout: 200 });
  h.advance(199);
  t.is(again.value, undefined);
  h.advance(1);
  t.is(again.value, 'timeout');
  t.is(h.engine.inspectJob(id(1)), null);
  t.deepEqual(h.journal.take(), [`expire ${id(1)}`]);
  t.deepEqual(h.readyIds(), []);
});

test('run observed timing: ttr 1500, W 500, leased at +0.3 s, completed at +1.3 s → result at +1.3 s', (t) => {
  const h = new Harness();
  const run = h.run(1, { ttr: 1500, timeout: 500 });
  h.at(300);
  h.lease('q', 0);
  h.at(500);
  t.is(run.value, undefined);
  t.is(h.state(1), JobState.Leased);
  h.at(1300);
  t.is(run.value, undefined);
  h.engine.complete(id(1), 'late');
  t.is(run.value, `${tag(1)} 1 late`);
  t.deepEqual(h.journal.take(), [`start ${id(1)} 300`, `complete ${id(1)} late`, `expire ${id(1)}`]);
});

test('run observed timing: ttr 1000, W 300, leased at +0.1 s, never completed → timeout at +1.1 s', (t) => {
  const h = new Harness();
  const run = h.run(1, { ttr: 1000, timeout: 300 });
  h.at(100);
  h.lease('q', 0);
  h.at(300);
  t.is(h.engine.nextDeadline(), h.clock.t + 800);
  h.at(1099);
  t.is(run.value, undefined);
  h.at(1100);
  t.is(run.value, 'timeout');
  t.is(h.engine.inspectJob(id(1)), null);
  t.deepEqual(h.readyIds(), []);
  t.deepEqual(h.journal.take(), [`start ${id(1)} 100`, `timeout ${id(1)}`, `expire ${id(1)}`]);
  t.is(h.engine.nextDeadline(), Infinity);
});

test('run: the TTR wait ends the same way when the clock jumps past both deadlines', (t) => {
  const h = new Harness();
  const run = h.run(1, { ttr: 1000, timeout: 300 });
  h.at(100);
  h.lease('q', 0);
  h.at(5000);
  t.is(run.value, 'timeout');
  t.deepEqual(h.journal.take(), [`start ${id(1)} 100`, `timeout ${id(1)}`, `expire ${id(1)}`]);
});

test('run: TTR expiries before T0 + W requeue and the run keeps waiting', (t) => {
  const h = new Harness();
  const run = h.run(1, { ttr: 100, timeout: 1000 });
  h.lease('q', 0);
  h.at(100);
  t.is(h.state(1), JobState.Pending);
  t.is(run.value, undefined);
  h.at(200);
  h.lease('q', 0);
  h.at(250);
  h.engine.fail(id(1), 'bad');
  t.is(run.value, `${tag(1)} 0 bad`, 'first fail is final for a run job');
  t.deepEqual(h.journal.take(), [`start ${id(1)} 0`, `timeout ${id(1)}`, `start ${id(1)} 200`, `fail ${id(1)} bad`, `expire ${id(1)}`]);
});

test('run: at T0 + W a requeued (PENDING) job times out the run', (t) => {
  const h = new Harness();
  const run = h.run(1, { ttr: 100, timeout: 300 });
  h.lease('q', 0);
  h.at(300);
  t.is(run.value, 'timeout');
  t.deepEqual(h.journal.take(), [`start ${id(1)} 0`, `timeout ${id(1)}`, `expire ${id(1)}`]);
});

test('run: W = 0 times out immediately, even with a waiting leaser', (t) => {
  const h = new Harness();
  const lease = h.lease('q', 1000);
  const run = h.run(1, { timeout: 0 });
  t.is(run.value, 'timeout');
  t.is(lease.value, undefined);
  t.is(h.engine.inspectJob(id(1)), null);
  t.deepEqual(h.journal.take(), [`expire ${id(1)}`]);
});

test('run: a waiting leaser gets the run job at once (start journaled, never an add)', (t) => {
  const h = new Harness();
  const lease = h.lease('q', 1000);
  h.run(1);
  t.is(lease.value, `job ${tag(1)}`);
  t.deepEqual(h.journal.take(), [`start ${id(1)} 0`]);
});

test('run: duplicate IDs both ways', (t) => {
  const h = new Harness();
  h.run(1);
  t.is(h.run(1).value, 'duplicate-job');
  t.is(h.engine.add(newJob(1)), 'duplicate-job');
  h.engine.add(newJob(2));
  t.is(h.run(2).value, 'duplicate-job');
});

test('run: result waiters get the run job result too (Q11)', (t) => {
  const h = new Harness();
  const run = h.run(1);
  const res = h.result(1, 1000);
  h.engine.complete(id(1), 'ok');
  t.is(run.value, `${tag(1)} 1 ok`);
  t.is(res.value, `${tag(1)} 1 ok`);
});

test('run: result waiters of a run that timed out wait out their own deadline', (t) => {
  const h = new Harness();
  const run = h.run(1, { timeout: 100 });
  const res = h.result(1, 500);
  h.at(100);
  t.is(run.value, 'timeout');
  t.is(res.value, undefined);
  h.at(500);
  t.is(res.value, 'timeout');
});

test('run: delete before the wait-timeout → timeout at the wait-timeout; a new job reusing the ID is untouched (Q2)', (t) => {
  const h = new Harness();
  const run = h.run(1, { timeout: 300 });
  h.lease('q', 0);
  h.engine.delete(id(1));
  h.engine.add(newJob(1));
  h.at(299);
  t.is(run.value, undefined);
  h.at(300);
  t.is(run.value, 'timeout');
  t.is(h.state(1), JobState.New);
  t.deepEqual(h.journal.take(), [`start ${id(1)} 0`, `delete ${id(1)}`, `add ${id(1)}`]);
});

test('run: delete during the TTR wait → timeout at that TTR deadline; no expire record (Q2)', (t) => {
  const h = new Harness();
  const run = h.run(1, { ttr: 1000, timeout: 300 });
  h.lease('q', 0);
  h.at(300);
  h.engine.delete(id(1));
  h.engine.add(newJob(1));
  h.at(999);
  t.is(run.value, undefined);
  h.at(1000);
  t.is(run.value, 'timeout');
  t.is(h.state(1), JobState.New);
  t.deepEqual(h.journal.take(), [`start ${id(1)} 0`, `delete ${id(1)}`, `add ${id(1)}`]);
});

test('run: a run job at the 255-lease cap fails at lease time and the run gets the failure (Q12)', (t) => {
  const h = new Harness();
  const run = h.run(1, { ttr: 1, timeout: 10_000 });
  for (let i = 0; i < 255; i++) {
    h.lease('q', 0);
    h.advance(1);
  }
  t.is(run.value, undefined);
  t.is(h.lease('q', 0).value, 'timeout');
  t.is(run.value, `${tag(1)} 0 `);
  t.is(h.engine.inspectJob(id(1)), null);
  t.is(h.journal.take().at(-1), `expire ${id(1)}`);
});

test('run while job deadlines are held: the reply goes out at its deadline, removal and expire wait for release', (t) => {
  const h = new Harness();
  const run = h.run(1, { ttr: 1000, timeout: 300 });
  const other = h.run(2, { ttr: 1000, timeout: 300 });
  h.lease('q', 0);
  h.journal.take();
  h.engine.holdJobDeadlines(true);
  h.at(300);
  t.is(other.value, 'timeout');
  t.is(h.state(2), JobState.New, 'still there while held');
  h.at(1000);
  t.is(run.value, 'timeout');
  t.is(h.state(1), JobState.Leased);
  t.deepEqual(h.journal.take(), []);
  h.engine.holdJobDeadlines(false);
  t.deepEqual(h.journal.take(), [`expire ${id(2)}`, `expire ${id(1)}`]);
  t.is(h.engine.jobCount, 0);
  h.engine.holdJobDeadlines(true);
  h.engine.holdJobDeadlines(false);
});

test('run held at completion: removal after release, and a job deleted meanwhile is left alone', (t) => {
  const h = new Harness();
  const run = h.run(1);
  const run2 = h.run(2, { timeout: 100 });
  h.engine.holdJobDeadlines(true);
  h.engine.complete(id(1), 'x');
  t.is(run.value, `${tag(1)} 1 x`);
  h.at(100);
  t.is(run2.value, 'timeout');
  h.engine.delete(id(2));
  h.engine.add(newJob(2));
  h.journal.take();
  h.engine.holdJobDeadlines(false);
  t.deepEqual(h.journal.take(), [`expire ${id(1)}`]);
  t.is(h.state(2), JobState.New);
});
