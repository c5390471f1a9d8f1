import type { Job } from './job.js';
import { TimedJobHeap } from './timed-heap.js';

/**
 * Every job's pending state deadline: the TTR end while leased, the scheduled time while
 * scheduled. Most jobs have none, so the deadline lives only here.
 */
export class DeadlineHeap extends TimedJobHeap {
  protected setIndex(job: Job, index: number): void {
    job.deadlineIndex = index;
  }

  /** The deadline of the job at `index` (a deadlineIndex this heap gave it). */
  deadlineAt(index: number): number {
    return this.ats[index] as number;
  }
}
