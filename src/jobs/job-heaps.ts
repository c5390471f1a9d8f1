import type { Job } from './job.js';
import { IndexedHeap } from './indexed-heap.js';
import { queueBefore } from './order.js';
import { TimedJobHeap } from './timed-heap.js';

/** A ready or scheduled list of one queue, in the order of PROTOCOL.md 7.2. */
export class JobList extends IndexedHeap<Job> {
  protected before(a: Job, b: Job): boolean {
    return queueBefore(a, b);
  }
  protected setIndex(job: Job, index: number): void {
    job.listIndex = index;
  }
}

/** Every background job's TTL end (Job.expiresAt), kept here so that heap order costs no recomputation. */
export class ExpiryHeap extends TimedJobHeap {
  protected setIndex(job: Job, index: number): void {
    job.expiryIndex = index;
  }
}
