import test from 'ava';
import { Engine } from '../../src/jobs/engine.js';
import type { JobStore } from '../../src/jobs/job-store.js';
import type { JobTable } from '../../src/jobs/job-table.js';
import type { NewJob } from '../../src/jobs/types.js';
import { FakeClock, id } from './engine-support.js';

function spec(n: number, ttr = 1000): NewJob {
  return { id: id(n), name: 'q', ttr, ttl: 10_000_000, priority: 0, maxAttempts: 0, maxFails: 0, payload: Buffer.from(`p${n}`) };
}

interface Inside {
  store: JobStore;
  jobs: JobTable;
}

function inside(engine: Engine): Inside {
  return engine as unknown as Inside;
}

function leaseOne(engine: Engine): string {
  let leased = '';
  engine.lease(['q'], 0, (job) => (leased = job!.id));
  return leased;
}

test('a job leased is found by the text of its lease reply without the table, and a complete by that text reaches it', (t) => {
  const engine = new Engine(new FakeClock());
  t.is(engine.add(spec(1)), null);
  const text = leaseOne(engine);
  const { store, jobs } = inside(engine);
  t.is(store.recentSlotOf(text), jobs.get(text), 'the slot the table holds');
  t.is(store.recentSlotOf(id(2)), -1, 'a text never made is not there');
  t.is(engine.complete(text, 'done'), null);
  t.is(engine.inspectJob(id(1))!.result, 'done');
});

test('a text made for a job that has left names nothing: a new job under the same ID is found, not the slot it left', (t) => {
  const engine = new Engine(new FakeClock());
  const { store } = inside(engine);
  t.is(engine.add(spec(1)), null);
  t.is(engine.add(spec(2)), null);
  const first = leaseOne(engine);
  const slot = store.recentSlotOf(first);
  t.true(slot >= 0);
  t.is(engine.delete(first), null);
  t.is(store.recentSlotOf(first), -1, 'the slot was freed');
  // The freed slot goes to the next job; the ID comes back on a job of its own.
  t.is(engine.add(spec(3)), null);
  t.is(engine.add({ ...spec(1), payload: Buffer.from('again') }), null);
  t.is(store.recentSlotOf(first), -1, 'the slot holds another job now');
  t.is(engine.complete(first, 'x'), null);
  const job = engine.inspectJob(first)!;
  t.is(job.payload, 'again', 'the new job under that ID');
  t.is(job.result, 'x');
  t.is(engine.inspectJob(id(3))!.result, null, 'not the job that took the slot');
});

test('a text made before the store moved its job down still finds the job where it is now', (t) => {
  const engine = new Engine(new FakeClock());
  const { store } = inside(engine);
  // Two pages and more of jobs, then all but the last few deleted: the store moves those down to give pages back.
  const many = 40_000;
  for (let n = 1; n <= many; n++) t.is(engine.add(spec(n, 1000 + n)), null);
  for (let n = 1; n <= many - 5; n++) if (n % 2 === 0) t.is(engine.delete(id(n)), null);
  const texts = [leaseOne(engine)];
  // The last job's text, made while it is in a top page (an inspect reads its ID out).
  const last = engine.inspectJob(id(many))!.id;
  const { jobs } = inside(engine);
  const slotBefore = jobs.get(last);
  t.is(store.recentSlotOf(last), slotBefore);
  for (let n = 1; n <= many - 5; n++) if (n % 2 === 1 && n > 1) t.is(engine.delete(id(n)), null);
  for (let i = 0; i < 4; i++) texts.push(leaseOne(engine));
  t.true(store.pageCount <= 2, `${store.pageCount} pages`);
  t.not(jobs.get(last), slotBefore, 'the last job moved down');
  t.is(store.recentSlotOf(last), jobs.get(last), 'its text made before the move names the slot it moved to');
  for (const text of texts) {
    const job = engine.inspectJob(text);
    t.is(job?.id, text);
    t.is(engine.complete(text, 'ok'), null, `complete of ${text}`);
  }
});

test('IDs that share a place in the store’s memory of texts: the later one takes it, and the earlier is still found through the table', (t) => {
  const engine = new Engine(new FakeClock());
  const { store } = inside(engine);
  // The place is taken from the last digits: these two differ only before them.
  const a = '00000000-0000-4000-8000-100000000abc';
  const b = '00000000-0000-4000-8000-200000000abc';
  t.is(engine.add({ ...spec(0), id: a }), null);
  t.is(engine.add({ ...spec(0), id: b }), null);
  t.is(leaseOne(engine), a);
  t.is(leaseOne(engine), b);
  t.is(store.recentSlotOf(a), -1, 'b took its place');
  t.true(store.recentSlotOf(b) >= 0);
  t.is(engine.complete(a, 'done a'), null);
  t.is(engine.complete(b, 'done b'), null);
  t.is(engine.inspectJob(a)!.result, 'done a');
  t.is(engine.inspectJob(b)!.result, 'done b');
});
