import type { Job } from './job.js';

/** Holes are squeezed out once there are more of them than this and than live jobs. */
const MIN_COMPACT = 32;

/**
 * A queue's jobs in one state (leased, completed or failed), in the order they entered
 * it, for `inspect <state>-jobs`. Each job knows its slot (Job.listIndex, which no ready
 * or scheduled list uses while it is in this state), so entering and leaving are O(1)
 * with no comparison: a leaving job leaves a hole, and the holes are squeezed out once
 * they outnumber the jobs, so a page walks at most about twice its offset + limit.
 */
export class StateList {
  private slots: (Job | null)[] = [];
  private holes = 0;

  get size(): number {
    return this.slots.length - this.holes;
  }

  push(job: Job): void {
    job.listIndex = this.slots.length;
    this.slots.push(job);
  }

  remove(index: number): void {
    const slots = this.slots;
    (slots[index] as Job).listIndex = -1;
    if (index === slots.length - 1) slots.pop();
    else {
      slots[index] = null;
      this.holes++;
    }
    if (this.holes > MIN_COMPACT && this.holes > slots.length - this.holes) this.compact();
  }

  /** Up to `limit` jobs after skipping `offset`, in the order they entered the state. */
  ordered(offset: number, limit: number): Job[] {
    const out: Job[] = [];
    let skip = offset;
    for (const job of this.slots) {
      if (job === null) continue;
      if (skip > 0) skip--;
      else if (out.length < limit) out.push(job);
      else break;
    }
    return out;
  }

  private compact(): void {
    const live: Job[] = [];
    for (const job of this.slots) {
      if (job === null) continue;
      job.listIndex = live.length;
      live.push(job);
    }
    this.slots = live;
    this.holes = 0;
  }
}
