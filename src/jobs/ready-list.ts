import type { Job } from './job.js';
import { IndexedHeap } from './indexed-heap.js';
import { JobList } from './job-list.js';
import { createdBefore } from './order.js';
import { floorMs, readyAt } from './wall-time.js';

/** Wall-clock ms since which a job in a ready list has been ready: its scheduled time if it has one after its creation, else its creation. */
export function readySince(job: Job): number {
  return Math.max(readyAt(job), floorMs(job.createdSec, job.createdNsec));
}

/** The ready jobs of one list by readySince, a key that does not change while a job is ready; each job knows its position (Job.ageIndex). */
class AgeHeap extends IndexedHeap<Job> {
  protected before(a: Job, b: Job): boolean {
    const aSince = readySince(a);
    const bSince = readySince(b);
    return aSince !== bSince ? aSince < bSince : createdBefore(a, b);
  }
  protected setIndex(job: Job, index: number): void {
    job.ageIndex = index;
  }
}

/**
 * A queue's ready list that also knows, in O(1), the job ready the longest (for the
 * metrics' oldest-ready age): beside the list in queue order it keeps a min-heap of the
 * same jobs by readySince. A job leaving the list leaves the heap at once, by its
 * position: no entry outlives its job's place in the list, so the heap never reads a job
 * the engine has dropped (whose slot another job may hold by then). An add in creation
 * order costs the heap one comparison.
 */
export class ReadyList extends JobList {
  private readonly ages = new AgeHeap();

  /** The ready job that has been ready the longest (the earliest created on a tie); undefined when none is. */
  get oldest(): Job | undefined {
    return this.ages.peek();
  }

  override push(job: Job): void {
    super.push(job);
    this.ages.push(job);
  }

  override pop(): Job | undefined {
    const job = super.pop();
    if (job !== undefined) this.ages.remove(job.ageIndex);
    return job;
  }

  override remove(job: Job): void {
    super.remove(job);
    this.ages.remove(job.ageIndex);
  }
}
