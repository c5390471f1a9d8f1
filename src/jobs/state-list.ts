import type { Job } from './job.js';

/** Holes are squeezed out once there are more of them than this and than live jobs. */
const MIN_COMPACT = 32;
/** Slots per chunk whose live jobs are counted, so a page skips whole chunks (log2). */
const CHUNK_BITS = 10;

/**
 * A queue's jobs in one state (leased, completed or failed), in the order they entered
 * it, for `inspect <state>-jobs`. Each job knows its slot (Job.listIndex, which no ready
 * or scheduled list uses while it is in this state), so entering and leaving are O(1)
 * with no comparison: a leaving job leaves a hole, and the holes are squeezed out once
 * they outnumber the jobs. The live jobs of every chunk of 1024 slots are counted, so a
 * page deep into millions skips whole chunks and visits at most two chunks' slots.
 */
export class StateList {
  private slots: (Job | null)[] = [];
  private holes = 0;
  /** Live jobs in each chunk of slots. */
  private live: number[] = [];

  get size(): number {
    return this.slots.length - this.holes;
  }

  push(job: Job): void {
    const index = this.slots.length;
    job.listIndex = index;
    this.slots.push(job);
    const chunk = index >> CHUNK_BITS;
    this.live[chunk] = (this.live[chunk] ?? 0) + 1;
  }

  remove(index: number): void {
    const slots = this.slots;
    (slots[index] as Job).listIndex = -1;
    const chunk = index >> CHUNK_BITS;
    this.live[chunk] = this.live[chunk]! - 1;
    if (index === slots.length - 1) {
      slots.pop();
      if ((slots.length & ((1 << CHUNK_BITS) - 1)) === 0) this.live.length = slots.length >> CHUNK_BITS;
    } else {
      slots[index] = null;
      this.holes++;
    }
    if (this.holes > MIN_COMPACT && this.holes > slots.length - this.holes) this.compact();
  }

  /** Up to `limit` jobs after skipping `offset`, in the order they entered the state. */
  ordered(offset: number, limit: number): Job[] {
    const out: Job[] = [];
    const { slots, live } = this;
    let skip = offset;
    let chunk = 0;
    while (chunk < live.length && skip >= live[chunk]!) skip -= live[chunk++]!;
    for (let i = chunk << CHUNK_BITS; i < slots.length && out.length < limit; i++) {
      const job = slots[i];
      if (job === null || job === undefined) continue;
      if (skip > 0) skip--;
      else out.push(job);
    }
    return out;
  }

  private compact(): void {
    const jobs: Job[] = [];
    for (const job of this.slots) {
      if (job === null) continue;
      job.listIndex = jobs.length;
      jobs.push(job);
    }
    this.slots = jobs;
    this.holes = 0;
    this.live = [];
    for (let n = jobs.length; n > 0; n -= 1 << CHUNK_BITS) this.live.push(Math.min(n, 1 << CHUNK_BITS));
  }
}
