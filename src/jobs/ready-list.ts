import type { JobStore } from './job-store.js';
import { JobList } from './job-list.js';
import { TimedSlotHeap } from './timed-slot-heap.js';
import { floorMs, readyAt } from './wall-time.js';

/** Wall-clock ms since which a job in a ready list has been ready: its scheduled time if it has one after its creation, else its creation. */
function readySince(store: JobStore, slot: number): number {
  return Math.max(readyAt(store, slot), floorMs(store.createdSecOf(slot), store.createdNsecOf(slot)));
}

/**
 * The ready jobs of one list by readySince, a time that does not change while a job is
 * ready; each job knows its position (the store's ageIndex). Only the earliest time is
 * ever read, never which job has it, so jobs ready since the same millisecond (most of
 * a busy queue's) need no order among them: a sift compares times and reads nothing else.
 */
class AgeHeap extends TimedSlotHeap {
  protected override earlier(aAt: number, _a: number, bAt: number): boolean {
    return aAt < bAt;
  }
  protected setIndex(slot: number, index: number): void {
    this.store.setAgeIndex(slot, index);
  }
}

/**
 * A queue's ready list that also knows, in O(1), the job ready the longest (for the
 * metrics' oldest-ready age): beside the list in queue order it keeps a min-heap of the
 * same jobs by readySince. A job leaving the list leaves the heap at once, by its
 * position: no entry outlives its job's place in the list, so the heap never reads a slot
 * that another job has taken since. An add in creation order costs the heap one comparison.
 */
export class ReadyList extends JobList {
  private readonly ages: AgeHeap;

  constructor(store: JobStore) {
    super(store);
    this.ages = new AgeHeap(store);
  }

  /** Wall-clock ms since which the job ready the longest has been ready; Infinity when none is. */
  get oldestSince(): number {
    return this.ages.nextAt();
  }

  override push(slot: number): void {
    super.push(slot);
    this.ages.push(slot, readySince(this.store, slot));
  }

  override pop(): number {
    const slot = super.pop();
    if (slot >= 0) this.ages.remove(this.store.ageIndexOf(slot));
    return slot;
  }

  override replace(from: number, to: number): void {
    super.replace(from, to);
    this.ages.replace(this.store.ageIndexOf(to), to);
  }

  override remove(slot: number): void {
    super.remove(slot);
    this.ages.remove(this.store.ageIndexOf(slot));
  }
}
