import type { JobStore } from './job-store.js';
import { JobList } from './job-list.js';
import { ReadyAges } from './ready-ages.js';
import { floorMs, readyAt } from './wall-time.js';

/** Wall-clock ms since which a job in a ready list has been ready: its scheduled time if it has one after its creation, else its creation. */
function readySince(store: JobStore, slot: number): number {
  return Math.max(readyAt(store, slot), floorMs(store.createdSecOf(slot), store.createdNsecOf(slot)));
}

/**
 * A queue's ready list that also knows, in O(1), the job ready the longest (for the
 * metrics' oldest-ready age): beside the list in queue order it keeps the same jobs'
 * readySince times (ReadyAges). A job leaving the list leaves those at once, by its
 * position: no entry outlives its job's place in the list, so none is ever read for a slot
 * that another job has taken since.
 */
export class ReadyList extends JobList {
  private readonly ages: ReadyAges;

  constructor(store: JobStore) {
    super(store);
    this.ages = new ReadyAges(store);
  }

  /** Wall-clock ms since which the job ready the longest has been ready; Infinity when none is. */
  get oldestSince(): number {
    return this.ages.oldestSince;
  }

  override push(slot: number): void {
    super.push(slot);
    this.ages.push(slot, readySince(this.store, slot));
  }

  override pop(): number {
    const slot = super.pop();
    if (slot >= 0) this.ages.remove(slot);
    return slot;
  }

  override replace(from: number, to: number): void {
    super.replace(from, to);
    this.ages.replace(to);
  }

  override remove(slot: number): void {
    super.remove(slot);
    this.ages.remove(slot);
  }
}
