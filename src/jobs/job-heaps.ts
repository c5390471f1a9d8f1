import type { Job } from './job.js';
import { IndexedHeap } from './indexed-heap.js';
import { expiresBefore, queueBefore } from './order.js';

/** A ready or scheduled list of one queue, in the order of docs/protocol.md 7.2. */
export class JobList extends IndexedHeap<Job> {
  protected before(a: Job, b: Job): boolean {
    return queueBefore(a, b);
  }
  protected setIndex(job: Job, index: number): void {
    job.listIndex = index;
  }
}

/** Every background job's TTL end. */
export class ExpiryHeap extends IndexedHeap<Job> {
  protected before(a: Job, b: Job): boolean {
    return expiresBefore(a, b);
  }
  protected setIndex(job: Job, index: number): void {
    job.expiryIndex = index;
  }
  nextAt(): number {
    const top = this.items[0];
    return top === undefined ? Infinity : top.expiresAt;
  }
}
