import test from 'ava';
import { Engine } from '../../src/jobs/engine.js';
import type { Queue } from '../../src/jobs/queue.js';
import type { NewJob } from '../../src/jobs/types.js';
import { FakeClock, T0, id } from './engine-support.js';

function spec(n: number, priority = 0): NewJob {
  return { id: id(n), name: 'q', ttr: 1000, ttl: 10_000_000, priority, maxAttempts: 0, maxFails: 0, payload: Buffer.from('p') };
}

/** Seconds since T0 at which the queue's oldest ready job became ready; null when none is ready. */
function oldestAt(engine: Engine): number | null {
  const queue = (engine as unknown as { queues: Map<string, Queue> }).queues.get('q')!;
  const since = queue.ready.oldestSince;
  return since === Infinity ? null : (since - T0) / 1000;
}

function leaseOne(engine: Engine): string {
  let leased = '';
  engine.lease(['q'], 0, (job) => (leased = job!.id));
  return leased;
}

test('the oldest ready job follows adds, leases in priority order, deletes, timeouts and schedules', (t) => {
  const clock = new FakeClock();
  const engine = new Engine(clock);
  engine.pause('q', false);
  const at = (s: number): void => {
    clock.t = T0 + s * 1000;
  };
  t.is(oldestAt(engine), null);
  at(0);
  engine.add(spec(1, 0));
  at(1);
  engine.add(spec(2, 5));
  at(2);
  engine.add(spec(3, 5));
  t.is(oldestAt(engine), 0, 'the first added, though last in queue order');

  t.is(leaseOne(engine), id(2), 'a lease takes the higher priority');
  t.is(oldestAt(engine), 0, 'which leaves the oldest in place');
  t.is(engine.delete(id(1)), null);
  t.is(oldestAt(engine), 2, 'deleting the oldest makes the next one oldest');

  at(3);
  engine.add(spec(4, 9));
  t.is(oldestAt(engine), 2, 'a newer job of a higher priority is not older');
  t.is(leaseOne(engine), id(4));
  t.is(leaseOne(engine), id(3));
  t.is(oldestAt(engine), null, 'nothing ready once all are leased');

  at(1001);
  engine.tick(clock.now());
  t.is(oldestAt(engine), 1, 'a job back from a TTR timeout has been ready since it was created');

  at(1002);
  t.is(engine.schedule({ ...spec(5), timeSec: (T0 + 1_010_000) / 1000, timeNsec: 0 }), null);
  t.is(oldestAt(engine), 1, 'a scheduled job is not ready');
  t.is(engine.delete(id(2)), null);
  t.is(engine.delete(id(3)), null);
  t.is(engine.delete(id(4)), null);
  t.is(oldestAt(engine), null);
  at(1011);
  engine.tick(clock.now());
  t.is(oldestAt(engine), 1010, 'a scheduled job is ready from its time, not from when it was created');
});

test('removals out of age order leave the age heap holding exactly the ready jobs, and it still names the oldest', (t) => {
  const clock = new FakeClock();
  const engine = new Engine(clock);
  // Priorities rising with age: every lease takes the newest job, never the oldest.
  for (let n = 1; n <= 2000; n++) {
    clock.t = T0 + n * 1000;
    engine.add(spec(n, n));
  }
  for (let n = 2000; n > 1; n--) {
    t.is(leaseOne(engine), id(n));
    if (n % 100 === 0) t.is(oldestAt(engine), 1);
  }
  const queue = (engine as unknown as { queues: Map<string, Queue> }).queues.get('q')!;
  t.is((queue.ready as unknown as { ages: { size: number } }).ages.size, queue.ready.size);
  t.is(leaseOne(engine), id(1));
  t.is(oldestAt(engine), null);
});
