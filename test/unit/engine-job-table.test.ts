import { randomUUID } from 'node:crypto';
import test from 'ava';
import fc from 'fast-check';
import { Job } from '../../src/jobs/job.js';
import { JobTable } from '../../src/jobs/job-table.js';
import { Queue } from '../../src/jobs/queue.js';

const QUEUE = new Queue('q');

/** A new job's slot in the queue's store. */
function job(id: string): number {
  return Job.create(id, QUEUE, 1000, 60_000, 0, 0, 0, '', 1, 0, 0, 0, false).slot;
}

/** IDs from a small pool so that sets, replacements and deletes hit the same keys often. */
const POOL = Array.from({ length: 64 }, () => randomUUID());

type Op = { op: 'set' | 'insert-new' | 'delete' | 'get'; key: number };
const op = fc.record({ op: fc.constantFrom<Op['op']>('set', 'set', 'insert-new', 'delete', 'get'), key: fc.nat({ max: POOL.length - 1 }) });

test('job table: any sequence of set, delete and get answers like a Map', (t) => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const table = new JobTable(QUEUE.store);
      const model = new Map<string, number>();
      for (const { op: kind, key } of ops) {
        const id = POOL[key]!;
        if (kind === 'set' || (kind === 'insert-new' && model.has(id))) {
          const j = job(id);
          if (table.set(j) !== (model.get(id) ?? -1)) return false;
          model.set(id, j);
        } else if (kind === 'insert-new') {
          // Only for an ID no job has, as replay vouches.
          const j = job(id);
          table.insertNew(j);
          model.set(id, j);
        } else if (kind === 'delete') {
          if (table.delete(id) !== model.delete(id)) return false;
        } else if (table.get(id) !== (model.get(id) ?? -1) || table.has(id) !== model.has(id)) {
          return false;
        }
        if (table.size !== model.size) return false;
      }
      const listed = [...table.values()];
      return (
        POOL.every((id) => table.get(id) === (model.get(id) ?? -1)) &&
        listed.length === model.size &&
        listed.every((j) => model.get(QUEUE.store.idText(j)) === j)
      );
    }),
  );
  t.pass();
});

test('job table: deleting from the middle of long probe runs keeps every other job findable', (t) => {
  // 2,000 keys fill the 64 shards of 64 slots to about half, some near the load at which they double: long runs; deleting every third key exercises the backward shift.
  const table = new JobTable(QUEUE.store);
  const ids = Array.from({ length: 2000 }, () => randomUUID());
  const jobs = ids.map((id) => job(id));
  for (const j of jobs) t.is(table.set(j), -1);
  for (let i = 0; i < ids.length; i += 3) t.true(table.delete(ids[i]!));
  for (let i = 0; i < ids.length; i++) t.is(table.get(ids[i]!), i % 3 === 0 ? -1 : jobs[i]!);
  t.is(table.size, ids.length - Math.ceil(ids.length / 3));
  t.false(table.delete(ids[0]!), 'a second delete finds nothing');
});

test('job table: grows past a hundred thousand jobs and shrinks back as they leave', (t) => {
  const table = new JobTable(QUEUE.store);
  const ids = Array.from({ length: 100_000 }, () => randomUUID());
  const jobs = ids.map((id) => job(id));
  for (const j of jobs) table.set(j);
  t.is(table.size, ids.length);
  for (let i = 0; i < ids.length; i++) if (table.get(ids[i]!) !== jobs[i]!) return t.fail(`lost ${ids[i]}`);
  for (let i = 0; i < ids.length - 10; i++) table.delete(ids[i]!);
  t.is(table.size, 10);
  for (let i = ids.length - 10; i < ids.length; i++) t.is(table.get(ids[i]!), jobs[i]!);
  const replacement = job(ids[ids.length - 1]!);
  t.is(table.set(replacement), jobs[ids.length - 1]!, 'set on a taken ID returns the job it replaces');
  t.is(table.get(ids[ids.length - 1]!), replacement);
  t.is(table.size, 10);
});

test('job table: jobs put off by insertNew, many or few, are placed sorted by the next call and found like any other', (t) => {
  const table = new JobTable(QUEUE.store);
  const before = Array.from({ length: 3000 }, () => randomUUID());
  const beforeJobs = before.map((id) => job(id));
  for (const j of beforeJobs) t.is(table.set(j), -1);
  // Enough to be sorted (SORTED_FROM), then a few placed one by one.
  for (const count of [30_000, 7]) {
    const ids = Array.from({ length: count }, () => randomUUID());
    const jobs = ids.map((id) => job(id));
    const sizeBefore = table.size;
    for (const j of jobs) table.insertNew(j);
    t.is(table.size, sizeBefore + count, 'counted at once');
    for (let i = 0; i < ids.length; i++) t.is(table.get(ids[i]!), jobs[i]!);
    const again = job(ids[0]!);
    t.is(table.set(again), jobs[0]!, 'a placed job is replaced like any other');
    t.true(table.delete(ids[1]!));
    t.is(table.size, sizeBefore + count - 1);
  }
  for (let i = 0; i < before.length; i++) t.is(table.get(before[i]!), beforeJobs[i]!, 'the jobs placed before are still found');
  table.insertNew(job(randomUUID()));
  t.is([...table.values()].length, table.size, 'values places them first');
});

test('job table: placeNew places the jobs put off, and the table goes on growing and shrinking from there', (t) => {
  const table = new JobTable(QUEUE.store);
  const ids = Array.from({ length: 50_000 }, () => randomUUID());
  for (const id of ids) table.insertNew(job(id));
  table.placeNew();
  for (let i = 0; i < ids.length; i += 2) t.true(table.delete(ids[i]!));
  for (let i = 0; i < 20_000; i++) t.is(table.set(job(randomUUID())), -1);
  t.is(table.size, 45_000);
  for (let i = 0; i < ids.length; i++) t.is(table.has(ids[i]!), i % 2 === 1);
});

test('job table: IDs that differ in one character are told apart', (t) => {
  const table = new JobTable(QUEUE.store);
  const base = '0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d';
  const a = job(base);
  table.set(a);
  for (let i = 0; i < base.length; i++) {
    if (base[i] === '-') continue;
    const other = base.slice(0, i) + (base[i] === 'f' ? 'e' : 'f') + base.slice(i + 1);
    t.is(table.get(other), -1, `character ${i}`);
  }
  t.is(table.get(base), a);
});

test('job table: its shards double at sizes spread over a fifth of the growth and more, not all at one size', (t) => {
  const table = new JobTable(QUEUE.store);
  const shards = (table as unknown as { shards: { capacity: number }[] }).shards;
  // The table size at which each shard reached 2,048 places.
  const doubledAt = new Map<number, number>();
  for (let n = 1; doubledAt.size < shards.length; n++) {
    table.set(job(randomUUID()));
    shards.forEach((shard, i) => {
      if (shard.capacity >= 2048 && !doubledAt.has(i)) doubledAt.set(i, n);
    });
  }
  const sizes = [...doubledAt.values()].sort((a, b) => a - b);
  t.true(sizes.at(-1)! > 1.2 * sizes[0]!, `first at ${sizes[0]} jobs, last at ${sizes.at(-1)}`);
});

test('job table: sequential IDs (a counter in the last digits, as clients make them) spread over all its shards', (t) => {
  const table = new JobTable(QUEUE.store);
  const n = 16_384;
  for (let i = 0; i < n; i++) table.set(job(`00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`));
  // A place is two words, the job's hash tag then its slot: count the tags that are set.
  const shards = (table as unknown as { shards: { places: Int32Array }[] }).shards;
  const held = shards.map((shard) => shard.places.reduce((count, word, i) => count + (i % 2 === 0 && word !== 0 ? 1 : 0), 0));
  t.is(
    held.reduce((a, b) => a + b, 0),
    n,
  );
  t.true(Math.max(...held) <= (3 * n) / shards.length, `most in one shard: ${Math.max(...held)} of ${n}`);
});
