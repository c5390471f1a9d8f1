import type { JobStore } from './job-store.js';
import { queueBefore } from './order.js';
import { SortedBlocks } from './sorted-blocks.js';

/**
 * A ready or scheduled list of one queue, of job slots in the order of docs/protocol.md
 * 7.2. A job in it has listIndex 0 (its place is found by its keys, which do not change
 * while it is listed); -1 once it left.
 */
export class JobList extends SortedBlocks {
  constructor(protected readonly store: JobStore) {
    super();
  }
  protected before(a: number, b: number): boolean {
    return queueBefore(this.store, a, b);
  }
  protected mark(slot: number, inList: boolean): void {
    this.store.setListIndex(slot, inList ? 0 : -1);
  }
}
