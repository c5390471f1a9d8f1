import test from 'ava';
import fc from 'fast-check';
import type { JobStore } from '../../src/jobs/job-store.js';
import { ReadyAges } from '../../src/jobs/ready-ages.js';

/** The part of the store ReadyAges uses: each slot's ageIndex. */
class AgeIndexes {
  readonly index = new Map<number, number>();
  ageIndexOf(slot: number): number {
    return this.index.get(slot) ?? -1;
  }
  setAgeIndex(slot: number, index: number): void {
    this.index.set(slot, index);
  }
}

interface Inside {
  slots: Int32Array;
  ats: Float64Array;
  head: number;
  span: number;
  runCount: number;
  heap: { size: number };
}

function inside(ages: ReadyAges): Inside {
  return ages as unknown as Inside;
}

/** Jobs held: slot → readySince. */
type Model = Map<number, number>;

function oldest(model: Model): number {
  let min = Infinity;
  for (const at of model.values()) min = Math.min(min, at);
  return min;
}

function check(t: { is(a: unknown, b: unknown, m?: string): void; true(v: boolean, m?: string): void }, ages: ReadyAges, model: Model, step: string): void {
  t.is(ages.size, model.size, `${step}: size`);
  t.is(ages.oldestSince, oldest(model), `${step}: oldest`);
  const run = inside(ages);
  t.true(run.slots.length <= 8 * run.runCount + 64, `${step}: room of ${run.slots.length} for ${run.runCount} jobs in the run`);
  if (run.runCount > 0) t.true(run.slots[run.head]! >= 0, `${step}: the run's head is a job`);
}

const op = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('push' as const), back: fc.nat(3), late: fc.boolean() }), weight: 5 },
  { arbitrary: fc.record({ k: fc.constant('remove' as const), pick: fc.nat(), oldest: fc.boolean() }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('move' as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('drain' as const), keep: fc.nat(3) }), weight: 1 },
);

test('the earliest time is the least of the jobs held, through pushes in and out of time order, removals anywhere, moved slots and drains (property)', (t) => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 400 }), fc.integer({ min: 1, max: 40 }), (ops, burst) => {
      const store = new AgeIndexes();
      const ages = new ReadyAges(store as unknown as JobStore);
      const model: Model = new Map();
      let nextSlot = 0;
      let now = 1_000;
      const remove = (slot: number): void => {
        ages.remove(slot);
        model.delete(slot);
        t.is(store.ageIndexOf(slot), -1, 'a job removed has no place');
      };
      for (const [i, o] of ops.entries()) {
        if (o.k === 'push') {
          // A burst of jobs per op, so rings grow past their first room; most in time order, some late (a retry, a schedule).
          for (let b = 0; b < burst; b++) {
            now += o.back === 0 ? 0 : 1;
            const at = o.late && b === 0 ? now - 50 - o.back : now;
            ages.push(nextSlot, at);
            model.set(nextSlot++, at);
          }
        } else if (o.k === 'remove' && model.size > 0) {
          // The oldest (a lease of one priority) or any (another priority, a delete).
          const slots = [...model.keys()];
          const slot = o.oldest ? slots.reduce((a, b) => (model.get(b)! < model.get(a)! ? b : a)) : slots[o.pick % slots.length]!;
          remove(slot);
        } else if (o.k === 'move' && model.size > 0) {
          // JobStore.moveTopDown: the job's fields, its ageIndex too, go to a new slot, and the holder is told.
          const slots = [...model.keys()];
          const from = slots[o.pick % slots.length]!;
          const to = nextSlot++;
          store.setAgeIndex(to, store.ageIndexOf(from));
          store.index.delete(from);
          ages.replace(to);
          model.set(to, model.get(from)!);
          model.delete(from);
        } else if (o.k === 'drain') {
          const slots = [...model.keys()];
          for (const slot of slots.slice(0, Math.max(0, slots.length - o.keep))) remove(slot);
        }
        check(t, ages, model, `op ${i} ${o.k}`);
      }
      for (const slot of [...model.keys()]) remove(slot);
      check(t, ages, model, 'emptied');
      t.is(inside(ages).slots.length, 64, 'an empty run is back to its least room');
    }),
    { numRuns: 150 },
  );
});

test('jobs in time order, taken from the head, stay in the run: none goes to the heap and the ring is not moved once it has room', (t) => {
  const store = new AgeIndexes();
  const ages = new ReadyAges(store as unknown as JobStore);
  for (let slot = 0; slot < 1000; slot++) ages.push(slot, 1_000 + slot);
  const run = inside(ages);
  const ring = run.slots;
  t.is(ring.length, 1024);
  // A steady flow: one in, the oldest out, round the ring several times.
  for (let slot = 1000; slot < 5000; slot++) {
    ages.push(slot, 1_000 + slot);
    ages.remove(slot - 1000);
    t.is(ages.oldestSince, 1_000 + slot - 999);
  }
  t.is(run.heap.size, 0);
  t.is(inside(ages).slots, ring, 'the same ring throughout');
});

test('a job ready since before the last one taken in goes to the heap, and is the oldest while it is held', (t) => {
  const store = new AgeIndexes();
  const ages = new ReadyAges(store as unknown as JobStore);
  ages.push(1, 5_000);
  ages.push(2, 6_000);
  ages.push(3, 2_000);
  t.is(inside(ages).heap.size, 1);
  t.true(store.ageIndexOf(3) >= 0, 'a heap position');
  t.true(store.ageIndexOf(1) <= -2 && store.ageIndexOf(2) <= -2, 'run positions');
  t.is(ages.oldestSince, 2_000);
  ages.remove(3);
  t.is(ages.oldestSince, 5_000);
  ages.remove(1);
  t.is(ages.oldestSince, 6_000);
  ages.remove(2);
  t.is(ages.oldestSince, Infinity);
});

test('gaps left by jobs leaving out of order are squeezed out when the ring fills, and a sparse ring moves to a smaller one', (t) => {
  const store = new AgeIndexes();
  const ages = new ReadyAges(store as unknown as JobStore);
  for (let slot = 0; slot < 1024; slot++) ages.push(slot, slot);
  // Every other job leaves, never the head: half the ring is gaps.
  for (let slot = 1; slot < 1024; slot += 2) ages.remove(slot);
  ages.push(5000, 5000);
  t.is(inside(ages).slots.length, 1024, 'squeezed into a ring of the same room, not doubled');
  t.is(inside(ages).span, 513);
  // Most leave: the ring is sparse.
  for (let slot = 0; slot < 1000; slot += 2) ages.remove(slot);
  t.true(inside(ages).slots.length <= 128, `${inside(ages).slots.length} places for ${ages.size} jobs`);
  t.is(ages.oldestSince, 1000);
});
