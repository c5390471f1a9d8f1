import type { Job } from './job.js';
import { createdBefore } from './order.js';

/** Deadline order: earlier first; at the same instant, the order of createdBefore. */
function earlier(aAt: number, a: Job, bAt: number, b: Job): boolean {
  return aAt !== bAt ? aAt < bAt : createdBefore(a, b);
}

/**
 * Every job's pending state deadline: the TTR end while leased, the scheduled time while
 * scheduled. A binary min-heap that tells each job its position (Job.deadlineIndex), like
 * IndexedHeap, but it keeps the deadlines itself, as unboxed doubles beside the jobs: a
 * ms timestamp in a job field would cost every job, most of which have no deadline, a
 * 16-byte heap number, and comparisons read this array instead of each job.
 */
export class DeadlineHeap {
  private readonly jobs: Job[] = [];
  private readonly ats: number[] = [];

  get size(): number {
    return this.jobs.length;
  }

  /** Earliest deadline, Infinity when empty. */
  nextAt(): number {
    return this.jobs.length === 0 ? Infinity : (this.ats[0] as number);
  }

  /** The deadline of the job at `index` (a deadlineIndex this heap gave it). */
  deadlineAt(index: number): number {
    return this.ats[index] as number;
  }

  push(job: Job, at: number): void {
    this.jobs.push(job);
    this.ats.push(at);
    this.up(job, at, this.jobs.length - 1);
  }

  /** Removes and returns the job with the earliest deadline, undefined when empty. */
  pop(): Job | undefined {
    if (this.jobs.length === 0) return undefined;
    const top = this.jobs[0] as Job;
    this.remove(0);
    return top;
  }

  /** Removes the job at `index` (a deadlineIndex this heap gave it). */
  remove(index: number): void {
    const jobs = this.jobs;
    const last = jobs.pop() as Job;
    const lastAt = this.ats.pop() as number;
    if (index === jobs.length) {
      last.deadlineIndex = -1;
      return;
    }
    (jobs[index] as Job).deadlineIndex = -1;
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
    job.deadlineIndex = index;
  }
}
