import test from 'ava';
import { Engine } from '../../src/jobs/engine.js';
import type { NewJob } from '../../src/jobs/types.js';
import { OTHER_QUEUES, tallyQueues } from '../../src/metrics/queue-tallies.js';
import { instanceRegistry, talliesReusable } from '../../src/metrics/instance-metrics.js';
import { ServerStats } from '../../src/server/stats.js';
import { newId } from '../helpers/replies.js';
import { parseScrape, series } from '../helpers/prometheus.js';

const clock = { now: () => 1_800_000_000_000 };

function job(name: string): NewJob {
  return { id: newId(), name, ttr: 1000, ttl: 60_000, priority: 0, maxAttempts: 0, maxFails: 0, payload: Buffer.from('p') };
}

function fill(engine: Engine, backlog: Record<string, number>): void {
  for (const [name, count] of Object.entries(backlog)) for (let i = 0; i < count; i++) engine.add(job(name));
}

test('the queues with the largest backlogs get tallies of their own, the rest one sum; ties go to the earlier name', async (t) => {
  const engine = new Engine(clock);
  fill(engine, { a: 1, b: 5, c: 3, d: 3 });
  // A paused queue stays though it never held a job (docs/protocol.md Q17).
  engine.pause('e', true);
  engine.lease(['b'], 0, () => undefined);
  const tallies = await tallyQueues(engine, 2);
  t.deepEqual(
    tallies.queues.map((q) => [q.name, q.ready, q.leased]),
    [
      ['b', 4, 1],
      ['c', 3, 0],
    ],
  );
  t.is(tallies.other!.name, OTHER_QUEUES);
  t.is(tallies.other!.ready, 1 + 3);
  t.is(tallies.other!.added, 1 + 3);
  t.is(tallies.queueCount, 5);
  t.is((await tallyQueues(engine, 5)).other, null);
  t.deepEqual((await tallyQueues(engine, 0)).queues, []);
  t.is((await tallyQueues(engine, 0)).other!.ready, 11);
});

test('the oldest ready job is the one ready longest, whatever its priority', async (t) => {
  let now = 1_800_000_000_000;
  const engine = new Engine({ now: () => now });
  engine.add({ ...job('q'), priority: 0 });
  now += 5000;
  engine.add({ ...job('q'), priority: 9 });
  const tallies = await tallyQueues(engine, 10);
  t.is(tallies.queues[0]!.oldestReadySince, 1_800_000_000_000);
});

test("every state is counted from the lists, and the other bucket's oldest ready job is among the queues left out", async (t) => {
  let now = 1_800_000_000_000;
  const engine = new Engine({ now: () => now });
  const ids: string[] = [];
  const add = (name: string): void => {
    const spec = job(name);
    ids.push(spec.id);
    engine.add(spec);
    now += 1000;
  };
  add('quiet'); // the oldest ready job of all, in a queue too small for a label
  for (let i = 0; i < 5; i++) add('busy');
  add('small');
  engine.lease(['busy'], 0, () => undefined);
  engine.lease(['busy'], 0, (leased) => engine.complete(leased!.id, 'r'));
  engine.lease(['busy'], 0, (leased) => engine.fail(leased!.id, 'r'));
  engine.schedule({ ...job('busy'), timeSec: 1_900_000_000, timeNsec: 0 });
  const tallies = await tallyQueues(engine, 1);
  const busy = tallies.queues[0]!;
  t.deepEqual([busy.name, busy.ready, busy.scheduled, busy.leased, busy.completed, busy.failed], ['busy', 2, 1, 1, 1, 1]);
  t.is(busy.oldestReadySince, 1_800_000_000_000 + 4000, 'the three oldest of busy were leased');
  t.is(tallies.other!.ready, 2);
  t.is(tallies.other!.oldestReadySince, 1_800_000_000_000, 'quiet, not busy');
  engine.lease(['quiet'], 0, () => undefined);
  t.is((await tallyQueues(engine, 1)).other!.oldestReadySince, 1_800_000_000_000 + 6000, 'small, once quiet has none ready');
  t.is((await tallyQueues(engine, 0)).other!.oldestReadySince, 1_800_000_000_000 + 4000, 'busy, once nothing has a label');
});

test('under a million queue names a scrape stays bounded, and yields to the event loop while it counts them', async (t) => {
  const stats = new ServerStats();
  const engine = new Engine(clock);
  stats.engine = engine;
  // Paused, so they stay without a job (docs/protocol.md Q17).
  for (let i = 0; i < 1_000_000; i++) engine.pause(`q${String(i).padStart(7, '0')}`, true);
  fill(engine, { q0500000: 7, q0000001: 2, q0999999: 1 });
  const registry = instanceRegistry(stats, { instance: 'big', maxQueues: 2 });

  let turns = 0;
  let counting = true;
  const tick = (): void => {
    turns++;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  const text = await registry.metrics();
  counting = false;

  const samples = parseScrape(text);
  const jobSeries = [...samples.keys()].filter((key) => key.startsWith('workq_jobs{'));
  t.is(jobSeries.length, 3 * 5, 'two queues of their own and the other bucket, five states each');
  t.is(samples.get(series('workq_jobs', { instance: 'big', queue: 'q0500000', state: 'ready' })), 7);
  t.is(samples.get(series('workq_jobs', { instance: 'big', queue: 'q0000001', state: 'ready' })), 2);
  t.is(samples.get(series('workq_jobs', { instance: 'big', queue: OTHER_QUEUES, state: 'ready' })), 1);
  t.is(samples.get(series('workq_queues', { instance: 'big' })), 1_000_000);
  t.true(text.length < 64 * 1024, `scrape of ${text.length} bytes`);
  // A million queues are looked at in slices with turns of the event loop between them.
  t.true(turns >= 100, `${turns} turns`);
});

test('tallies whose pass took long are reused for a hundred times its work; quick ones are taken at every scrape', async (t) => {
  t.false(talliesReusable(5, 0), 'a pass of 5 ms or less is never reused');
  t.true(talliesReusable(300, 29_999));
  t.false(talliesReusable(300, 30_000));
  const stats = new ServerStats();
  const engine = new Engine(clock);
  stats.engine = engine;
  // A clock that stands still: the pass took no time, whatever this busy machine does meanwhile.
  const registry = instanceRegistry(stats, { instance: 'i', maxQueues: 10, monotonicNow: () => 0 });
  const ready = async (): Promise<number | undefined> =>
    parseScrape(await registry.metrics()).get(series('workq_jobs', { instance: 'i', queue: 'small', state: 'ready' }));
  fill(engine, { small: 1 });
  t.is(await ready(), 1);
  fill(engine, { small: 1 });
  t.is(await ready(), 2);
});
