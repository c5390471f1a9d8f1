import type { Job } from './job.js';
import { queueBefore } from './order.js';
import { SortedBlocks } from './sorted-blocks.js';

/**
 * A ready or scheduled list of one queue, in the order of docs/protocol.md 7.2. A job in
 * it has Job.listIndex 0 (its place is found by its keys, which do not change while it is
 * listed); -1 once it left.
 */
export class JobList extends SortedBlocks<Job> {
  protected before(a: Job, b: Job): boolean {
    return queueBefore(a, b);
  }
  protected mark(job: Job, inList: boolean): void {
    job.listIndex = inList ? 0 : -1;
  }
}
