import type { JobStore } from './job-store.js';
import { expiresBefore } from './order.js';
import { SlotHeap } from './slot-heap.js';
import { TimedSlotHeap } from './timed-slot-heap.js';

/** Every background job's TTL end. */
export class ExpiryHeap extends SlotHeap {
  constructor(private readonly store: JobStore) {
    super();
  }
  protected before(a: number, b: number): boolean {
    return expiresBefore(this.store, a, b);
  }
  protected setIndex(slot: number, index: number): void {
    this.store.setExpiryIndex(slot, index);
  }
  nextAt(): number {
    return this.size === 0 ? Infinity : this.store.expiresAtOf(this.items[0]!);
  }
}

/**
 * Every job's pending state deadline: the TTR end while leased, the scheduled time while
 * scheduled. Most jobs have none, so it is kept here rather than in a column.
 */
export class DeadlineHeap extends TimedSlotHeap {
  protected setIndex(slot: number, index: number): void {
    this.store.setDeadlineIndex(slot, index);
  }
}
