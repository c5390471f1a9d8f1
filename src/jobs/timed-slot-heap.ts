import type { JobStore } from './job-store.js';
import { createdBefore } from './order.js';
import { roomFor } from './slot-heap.js';

/**
 * A binary min-heap of job slots, each with a time (wall-clock ms) fixed while it is in
 * the heap, that tells each job its position (a column of the store, says the subclass),
 * like SlotHeap. It keeps the times itself, as doubles beside the slots, so comparisons
 * read this array instead of the store: a column would cost every job 8 bytes, where
 * only the jobs in the heap need one, and working the time out of the store's columns at
 * each comparison costs a sift several reads per level. At the same time, the order of
 * createdBefore, unless a subclass needs none.
 */
export abstract class TimedSlotHeap {
  private slots = new Int32Array(0);
  private ats = new Float64Array(0);
  private count = 0;

  constructor(protected readonly store: JobStore) {}

  /** Records the position of `slot`; -1 means "not in this heap". */
  protected abstract setIndex(slot: number, index: number): void;

  get size(): number {
    return this.count;
  }

  /** Earliest time, Infinity when empty. */
  nextAt(): number {
    return this.count === 0 ? Infinity : this.ats[0]!;
  }

  /** The time of the job at `index` (an index this heap gave it). */
  timeAt(index: number): number {
    return this.ats[index]!;
  }

  push(slot: number, at: number): void {
    this.resize(this.count + 1);
    this.up(slot, at, this.count++);
  }

  /** Removes and returns the job with the earliest time, -1 when empty. */
  pop(): number {
    if (this.count === 0) return -1;
    const top = this.slots[0]!;
    this.remove(0);
    return top;
  }

  /** The job at `index` moved to `slot` (JobStore.moveTopDown), its position already there. */
  replace(index: number, slot: number): void {
    this.slots[index] = slot;
  }

  /** Removes the job at `index` (an index this heap gave it). */
  remove(index: number): void {
    const last = this.slots[--this.count]!;
    const lastAt = this.ats[this.count]!;
    if (index === this.count) {
      this.setIndex(last, -1);
    } else {
      this.setIndex(this.slots[index]!, -1);
      const p = (index - 1) >> 1;
      if (index > 0 && this.earlier(lastAt, last, this.ats[p]!, this.slots[p]!)) this.up(last, lastAt, index);
      else this.down(last, lastAt, index);
    }
    this.resize(this.count);
  }

  /** True when the job `a` at `aAt` comes out before `b` at `bAt`. */
  protected earlier(aAt: number, a: number, bAt: number, b: number): boolean {
    return aAt !== bAt ? aAt < bAt : createdBefore(this.store, a, b);
  }

  private resize(n: number): void {
    const room = roomFor(this.slots.length, n);
    if (room === this.slots.length) return;
    const slots = new Int32Array(room);
    const ats = new Float64Array(room);
    slots.set(this.slots.subarray(0, this.count));
    ats.set(this.ats.subarray(0, this.count));
    this.slots = slots;
    this.ats = ats;
  }

  private up(slot: number, at: number, index: number): void {
    const { slots, ats } = this;
    let i = index;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = slots[p]!;
      const parentAt = ats[p]!;
      if (!this.earlier(at, slot, parentAt, parent)) break;
      this.place(parent, parentAt, i);
      i = p;
    }
    this.place(slot, at, i);
  }

  private down(slot: number, at: number, index: number): void {
    const { slots, ats } = this;
    const n = this.count;
    let i = index;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.earlier(ats[c + 1]!, slots[c + 1]!, ats[c]!, slots[c]!)) c++;
      const child = slots[c]!;
      const childAt = ats[c]!;
      if (!this.earlier(childAt, child, at, slot)) break;
      this.place(child, childAt, i);
      i = c;
    }
    this.place(slot, at, i);
  }

  private place(slot: number, at: number, index: number): void {
    this.slots[index] = slot;
    this.ats[index] = at;
    this.setIndex(slot, index);
  }
}
