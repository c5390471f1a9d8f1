import type { Job } from './job.js';
import { JobList } from './job-list.js';
import { floorMs, readyAt } from './wall-time.js';

/** Stale entries the age heap may hold beyond one per ready job before it is rebuilt. */
const MIN_REBUILD = 64;

/** Wall-clock ms since which a job in a ready list has been ready: its scheduled time if it has one after its creation, else its creation. */
export function readySince(job: Job): number {
  return Math.max(readyAt(job), floorMs(job.createdSec, job.createdNsec));
}

/**
 * A queue's ready list that also knows, in O(1), the job ready the longest (for the
 * metrics' oldest-ready age). Beside the heap in queue order it keeps a second min-heap
 * of the same jobs by readySince, a key that does not change while a job is ready.
 * That heap gives jobs no position field: a job leaving the ready list is popped from
 * it when it is on top (a lease in creation order, the common case), else left there as
 * a stale entry, popped once it reaches the top. Whether an entry is stale is a search
 * of this list by the job's order (has). Stale entries are bounded: past one per
 * ready job (and MIN_REBUILD) the heap is rebuilt from the ready jobs, which costs no
 * more than the removals that made them stale.
 */
export class ReadyList extends JobList {
  private ages: Job[] = [];
  /** At least the readySince of every entry in `ages`: a job at or past it goes to the end with no comparison (an add, in creation order). */
  private latestSince = -Infinity;

  /** The ready job that has been ready the longest (any of them on a tie); undefined when none is. */
  get oldest(): Job | undefined {
    return this.ages[0];
  }

  override push(job: Job): void {
    super.push(job);
    const ages = this.ages;
    const since = readySince(job);
    if (since >= this.latestSince) {
      this.latestSince = since;
      ages.push(job);
      return;
    }
    let i = ages.length;
    ages.push(job);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = ages[p] as Job;
      if (readySince(parent) <= since) break;
      ages[i] = parent;
      i = p;
    }
    ages[i] = job;
  }

  override pop(): Job | undefined {
    const job = super.pop();
    if (job !== undefined) this.forget(job);
    return job;
  }

  override remove(job: Job): void {
    super.remove(job);
    this.forget(job);
  }

  /** The job has left the list: drop it and any stale entries from the top of the age heap. */
  private forget(job: Job): void {
    if (this.ages[0] === job) this.popAge();
    while (this.ages.length > 0 && !this.has(this.ages[0] as Job)) this.popAge();
    if (this.ages.length > 2 * this.size + MIN_REBUILD) this.rebuildAges();
  }

  private popAge(): void {
    const ages = this.ages;
    const last = ages.pop() as Job;
    if (ages.length > 0) this.siftDown(last, 0);
  }

  private siftDown(job: Job, index: number): void {
    const ages = this.ages;
    const n = ages.length;
    const since = readySince(job);
    let i = index;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && readySince(ages[c + 1] as Job) < readySince(ages[c] as Job)) c++;
      const child = ages[c] as Job;
      if (readySince(child) >= since) break;
      ages[i] = child;
      i = c;
    }
    ages[i] = job;
  }

  private rebuildAges(): void {
    this.ages = this.toArray();
    for (let i = (this.ages.length >> 1) - 1; i >= 0; i--) this.siftDown(this.ages[i] as Job, i);
  }
}
