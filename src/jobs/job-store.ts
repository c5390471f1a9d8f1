import { PayloadSlab } from './payload-slab.js';

/** Slots of a fresh store. */
const MIN_CAPACITY = 1024;
/** A full store grows by half: at most a third of its slots are empty room. */
const GROWTH = 1.5;
/** Below this share of its slots taken, the store shrinks by half. */
const MIN_LOAD = 0.2;

/**
 * The fields of every job of an engine, in typed-array columns indexed by the job's slot
 * number, as a C server keeps them in structs: a queued job's numbers cost 64 bytes here,
 * unboxed and out of the garbage collector's sight, where each was an 8-byte field of
 * the job object (16 of them with the object's header, 152 bytes). The Job object that
 * remains holds its queue, its slot and the record of what only some jobs have
 * (job.ts); the payloads are in `payloads`.
 *
 * A slot is taken when a job is made and given back when the engine drops the job
 * (`free`); a freed slot is handed to the next job made, so a Job object must not be read
 * once the engine has dropped it (Job.slot is -1 from then on, and reading it throws).
 * The columns grow by half when full, and halve (moving the jobs of the upper half down)
 * when under a fifth of their slots are taken.
 */
export class JobStore {
  readonly payloads = new PayloadSlab();
  /** The ID's four words (id-words.ts) at 4 * slot. */
  ids = new Int32Array(4 * MIN_CAPACITY);
  ttr = new Int32Array(MIN_CAPACITY);
  /** At most 2,592,000,000 ms (MAX_TTL). */
  ttl = new Uint32Array(MIN_CAPACITY);
  priority = new Int32Array(MIN_CAPACITY);
  payloadRef = new Int32Array(MIN_CAPACITY);
  createdSec = new Float64Array(MIN_CAPACITY);
  createdNsec = new Int32Array(MIN_CAPACITY);
  /** State, attempts, max-attempts, max-fails and the foreground flag (job.ts). */
  bits = new Int32Array(MIN_CAPACITY);
  listIndex = new Int32Array(MIN_CAPACITY);
  expiryIndex = new Int32Array(MIN_CAPACITY);
  deadlineIndex = new Int32Array(MIN_CAPACITY);
  ageIndex = new Int32Array(MIN_CAPACITY);
  private capacity = MIN_CAPACITY;
  /** Slots never taken start here. */
  private top = 0;
  /** Freed slots below `top`, taken again last freed first. */
  private freed = new Int32Array(MIN_CAPACITY);
  private freedCount = 0;

  /** Slots taken. */
  get size(): number {
    return this.top - this.freedCount;
  }

  /** A slot for a new job, its columns to be written by the caller. */
  take(): number {
    if (this.freedCount > 0) return this.freed[--this.freedCount]!;
    if (this.top === this.capacity) this.resize(Math.floor(this.capacity * GROWTH));
    return this.top++;
  }

  free(slot: number): void {
    if (this.freedCount === this.freed.length) this.freed = copied(this.freed, new Int32Array(Math.floor(this.freed.length * GROWTH)));
    this.freed[this.freedCount++] = slot;
  }

  /** True when so few slots are taken that the columns should shrink (`shrink`). */
  get wantsShrink(): boolean {
    return this.capacity > MIN_CAPACITY && this.size < this.capacity * MIN_LOAD;
  }

  /**
   * Halves the columns (to MIN_CAPACITY at least), moving the jobs whose slots are past
   * the new end to free slots below it. `jobs` must give every job holding a slot (the
   * engine's table); each moved job gets its new slot through `moved`.
   */
  shrink(jobs: Iterable<{ slot: number }>): void {
    const capacity = Math.max(MIN_CAPACITY, Math.floor(this.capacity / 2));
    const taken = new Uint8Array(capacity);
    const movers: { slot: number }[] = [];
    for (const job of jobs) {
      if (job.slot < capacity) taken[job.slot] = 1;
      else movers.push(job);
    }
    let free = 0;
    for (const job of movers) {
      while (taken[free] === 1) free++;
      this.move(job.slot, free);
      taken[free] = 1;
      job.slot = free;
    }
    this.top = Math.min(this.top, capacity);
    this.freedCount = 0;
    this.freed = new Int32Array(Math.max(MIN_CAPACITY, capacity >> 2));
    // Taken again lowest first, so that the top end empties out.
    for (let slot = this.top - 1; slot >= 0; slot--) if (taken[slot] === 0) this.free(slot);
    this.resize(capacity);
  }

  private move(from: number, to: number): void {
    this.ids.copyWithin(4 * to, 4 * from, 4 * from + 4);
    this.ttr[to] = this.ttr[from]!;
    this.ttl[to] = this.ttl[from]!;
    this.priority[to] = this.priority[from]!;
    this.payloadRef[to] = this.payloadRef[from]!;
    this.createdSec[to] = this.createdSec[from]!;
    this.createdNsec[to] = this.createdNsec[from]!;
    this.bits[to] = this.bits[from]!;
    this.listIndex[to] = this.listIndex[from]!;
    this.expiryIndex[to] = this.expiryIndex[from]!;
    this.deadlineIndex[to] = this.deadlineIndex[from]!;
    this.ageIndex[to] = this.ageIndex[from]!;
  }

  private resize(capacity: number): void {
    this.ids = copied(this.ids, new Int32Array(4 * capacity));
    this.ttr = copied(this.ttr, new Int32Array(capacity));
    this.ttl = copied(this.ttl, new Uint32Array(capacity));
    this.priority = copied(this.priority, new Int32Array(capacity));
    this.payloadRef = copied(this.payloadRef, new Int32Array(capacity));
    this.createdSec = copied(this.createdSec, new Float64Array(capacity));
    this.createdNsec = copied(this.createdNsec, new Int32Array(capacity));
    this.bits = copied(this.bits, new Int32Array(capacity));
    this.listIndex = copied(this.listIndex, new Int32Array(capacity));
    this.expiryIndex = copied(this.expiryIndex, new Int32Array(capacity));
    this.deadlineIndex = copied(this.deadlineIndex, new Int32Array(capacity));
    this.ageIndex = copied(this.ageIndex, new Int32Array(capacity));
    this.capacity = capacity;
  }
}

/** `to` with as much of `from` as fits. */
function copied<T extends Int32Array | Uint32Array | Float64Array>(from: T, to: T): T {
  to.set(from.length <= to.length ? from : from.subarray(0, to.length));
  return to;
}
