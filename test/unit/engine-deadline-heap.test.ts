import test from 'ava';
import fc from 'fast-check';
import { DeadlineHeap } from '../../src/jobs/job-heaps.js';
import { Job } from '../../src/jobs/job.js';
import { Queue } from '../../src/jobs/queue.js';
import { createdBefore } from '../../src/jobs/order.js';
import { T0, id } from './engine-support.js';

const QUEUE = new Queue('q');

function job(n: number, createdNsec: number): Job {
  return Job.create(id(n), QUEUE, 1000, 60_000, 0, 0, 0, '', T0 / 1000, createdNsec, 0, 0, false);
}

const opArb = fc.oneof(
  fc.record({ k: fc.constant('push' as const), at: fc.integer({ min: 0, max: 20 }), nsec: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ k: fc.constant('remove' as const), pick: fc.nat() }),
  fc.record({ k: fc.constant('pop' as const) }),
);

test('deadlines come out earliest first, ties by created time then ID; positions stay right under removal', (t) => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
      const heap = new DeadlineHeap(QUEUE.store);
      const held = new Map<Job, number>();
      let n = 0;
      for (const op of ops) {
        if (op.k === 'push') {
          const j = job(++n, op.nsec);
          heap.push(j.slot, T0 + op.at);
          held.set(j, T0 + op.at);
        } else if (op.k === 'remove' && held.size > 0) {
          const j = [...held.keys()][op.pick % held.size]!;
          heap.remove(j.store.deadlineIndexOf(j.slot));
          held.delete(j);
          if (j.store.deadlineIndexOf(j.slot) !== -1) return false;
        } else if (op.k === 'pop') {
          const expected = [...held].sort(([a, aAt], [b, bAt]) => (aAt !== bAt ? aAt - bAt : createdBefore(QUEUE.store, a.slot, b.slot) ? -1 : 1))[0];
          if (heap.nextAt() !== (expected?.[1] ?? Infinity)) return false;
          const slot = heap.pop();
          if (slot !== (expected?.[0].slot ?? -1)) return false;
          if (expected !== undefined) held.delete(expected[0]);
        }
        if (heap.size !== held.size) return false;
        for (const [j, at] of held) if (heap.timeAt(j.store.deadlineIndexOf(j.slot)) !== at) return false;
      }
      return true;
    }),
  );
  t.pass();
});
