import type { Job } from './job.js';
import { createdBefore } from './order.js';

/** Earlier first; at the same instant, the order of createdBefore. */
function earlier(aAt: number, a: Job, bAt: number, b: Job): boolean {
  return aAt !== bAt ? aAt < bAt : createdBefore(a, b);
}

/**
 * Jobs ordered by an instant in ms. A binary min-heap that tells each job its position
 * (a field of the job chosen by the subclass), like IndexedHeap, but it keeps the instants
 * itself, as unboxed doubles beside the jobs: a ms timestamp in a job field would cost
 * every job a 16-byte heap number, and comparisons read this array instead of each job,
 * allocating nothing.
 */
export abstract class TimedJobHeap {
  private readonly jobs: Job[] = [];
  protected readonly ats: number[] = [];

  /** Records the job's position; -1 means "not in this heap". */
  protected abstract setIndex(job: Job, index: number): void;

  get size(): number {
    return this.jobs.length;
  }

  /** Earliest instant, Infinity when empty. */
  nextAt(): number {
    return this.jobs.length === 0 ? Infinity : (this.ats[0] as number);
  }

  push(job: Job, at: number): void {
    this.jobs.push(job);
    this.ats.push(at);
    this.up(job, at, this.jobs.length - 1);
  }

  /** Removes and returns the job with the earliest instant, undefined when empty. */
  pop(): Job | undefined {
    if (this.jobs.length === 0) return undefined;
    const top = this.jobs[0] as Job;
    this.remove(0);
    return top;
  }

  /** Removes the job at `index` (a position this heap gave it). */
  remove(index: number): void {
    const jobs = this.jobs;
    const last = jobs.pop() as Job;
    const lastAt = this.ats.pop() as number;
    if (index === jobs.length) {
      this.setIndex(last, -1);
      return;
    }
    this.setIndex(jobs[index] as Job, -1);
    const p = (index - 1) >> 1;
    if (index > 0 && earlier(lastAt, last, this.ats[p] as number, jobs[p] as Job)) this.up(last, lastAt, index);
    else this.down(last, lastAt, index);
  }

  private up(job: Job, at: number, index: number): void {
    const jobs = this.jobs;
    const ats = this.ats;
    let i = index;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = jobs[p] as Job;
      const parentAt = ats[p] as number;
      if (!earlier(at, job, parentAt, parent)) break;
      this.place(parent, parentAt, i);
      i = p;
    }
    this.place(job, at, i);
  }

  private down(job: Job, at: number, index: number): void {
    const jobs = this.jobs;
    const ats = this.ats;
    const n = jobs.length;
    let i = index;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && earlier(ats[c + 1] as number, jobs[c + 1] as Job, ats[c] as number, jobs[c] as Job)) c++;
      const child = jobs[c] as Job;
      const childAt = ats[c] as number;
      if (!earlier(childAt, child, at, job)) break;
      this.place(child, childAt, i);
      i = c;
    }
    this.place(job, at, i);
  }

  private place(job: Job, at: number, index: number): void {
    this.jobs[index] = job;
    this.ats[index] = at;
    this.setIndex(job, index);
  }
}

