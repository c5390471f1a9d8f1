import type { Job } from './job.js';
import { IndexedHeap } from './indexed-heap.js';
import { expiresBefore } from './order.js';

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
