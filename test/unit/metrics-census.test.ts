import test from 'ava';
import { Engine } from '../../src/jobs/engine.js';
import type { NewJob } from '../../src/jobs/types.js';
import { OTHER_QUEUES, takeCensus } from '../../src/metrics/census.js';
import { censusReusable, instanceRegistry } from '../../src/metrics/instance-metrics.js';
import { ServerStats } from '../../src/server/stats.js';
import { newId } from '../helpers/replies.js';
import { parseScrape, series } from '../helpers/prometheus.js';

const clock = { now: () => 1_800_000_000_000 };

function job(name: string): NewJob {
  return { id: newId(), name, ttr: 1000, ttl: 60_000, priority: 0, maxAttempts: 0, maxFails: 0, payload: 'p' };
}

function fill(engine: Engine, backlog: Record<string, number>): void {
  for (const [name, count] of Object.entries(backlog)) for (let i = 0; i < count; i++) engine.add(job(name));
}

test('the queues with the largest backlogs get tallies of their own, the rest one sum; ties go to the earlier name', async (t) => {
  const engine = new Engine(clock);
  fill(engine, { a: 1, b: 5, c: 3, d: 3 });
  engine.ensureQueue('e');
  engine.lease(['b'], 0, () => undefined);
  const census = await takeCensus(engine, 2);
  t.deepEqual(
    census.queues.map((q) => [q.name, q.ready, q.leased]),
    [
      ['b', 4, 1],
      ['c', 3, 0],
    ],
  );
  t.is(census.other!.name, OTHER_QUEUES);
  t.is(census.other!.ready, 1 + 3);
  t.is(census.other!.added, 1 + 3);
  t.is(census.queueCount, 5);
  t.is((await takeCensus(engine, 5)).other, null);
  t.deepEqual((await takeCensus(engine, 0)).queues, []);
  t.is((await takeCensus(engine, 0)).other!.ready, 11);
});

test('the oldest ready job is the one ready longest, whatever its priority', async (t) => {
  let now = 1_800_000_000_000;
  const engine = new Engine({ now: () => now });
  engine.add({ ...job('q'), priority: 0 });
  now += 5000;
  engine.add({ ...job('q'), priority: 9 });
  const census = await takeCensus(engine, 10);
  t.is(census.queues[0]!.oldestReadySince, 1_800_000_000_000);
});

test('under a million queue names a scrape stays bounded, and yields to the event loop while it counts', async (t) => {
  const stats = new ServerStats();
  const engine = new Engine(clock);
  stats.engine = engine;
  // Names in increasing order, so building the engine's sorted queue list stays linear.
  for (let i = 0; i < 1_000_000; i++) engine.ensureQueue(`q${String(i).padStart(7, '0')}`);
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

test('a census that took long is reused for a hundred times its work; a quick one is taken at every scrape', async (t) => {
  t.false(censusReusable(5, 0), 'a walk of 5 ms or less is never reused');
  t.true(censusReusable(300, 29_999));
  t.false(censusReusable(300, 30_000));
  const stats = new ServerStats();
  const engine = new Engine(clock);
  stats.engine = engine;
  const registry = instanceRegistry(stats, { instance: 'i', maxQueues: 10 });
  const ready = async (): Promise<number | undefined> =>
    parseScrape(await registry.metrics()).get(series('workq_jobs', { instance: 'i', queue: 'small', state: 'ready' }));
  fill(engine, { small: 1 });
  t.is(await ready(), 1);
  fill(engine, { small: 1 });
  t.is(await ready(), 2);
});
