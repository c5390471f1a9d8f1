import { PayloadSlab } from './payload-slab.js';

/** Slots per page of every column: 2^14, so a page of IDs is 256 KiB and one of 4-byte fields 64 KiB. */
export const PAGE_SHIFT = 14;
const PAGE_SLOTS = 1 << PAGE_SHIFT;
export const PAGE_MASK = PAGE_SLOTS - 1;
/** Below this share of its slots taken, the store gives back half its pages. */
const MIN_LOAD = 0.2;

type Column<T> = T[];

/**
 * The fields of every job of an engine, in typed-array columns indexed by the job's slot
 * number, as a C server keeps them in structs: a queued job's numbers cost 64 bytes here,
 * unboxed and out of the garbage collector's sight, where each was an 8-byte field of
 * the job object (16 of them with the object's header, 152 bytes). The Job object that
 * remains holds its queue, its slot and the record of what only some jobs have
 * (job.ts); the payloads are in `payloads`.
 *
 * Each column is a list of pages of PAGE_SLOTS slots: slot s is at
 * `column[s >>> PAGE_SHIFT][s & PAGE_MASK]` (four words at `4 * (s & PAGE_MASK)` for the
 * IDs). The store grows by one page of each column and never copies what it holds.
 * Growing flat columns by half copied them all at once, and at 1.5 million jobs that
 * was about 150 MB of new typed arrays in one step: V8 answered the jump in external
 * memory with two full collections done at once, a pause of half a second.
 *
 * A slot is taken when a job is made and given back when the engine drops the job
 * (`free`); a freed slot is handed to the next job made, so a Job object must not be read
 * once the engine has dropped it (Job.slot is -1 from then on, and reading it throws).
 * Under a fifth of its slots taken, the store moves the jobs of its upper half down
 * and gives those pages back.
 */
export class JobStore {
  readonly payloads = new PayloadSlab();
  /** The ID's four words (id-words.ts) at 4 * cell of the page. */
  readonly ids: Column<Int32Array> = [];
  readonly ttr: Column<Int32Array> = [];
  /** At most 2,592,000,000 ms (MAX_TTL). */
  readonly ttl: Column<Uint32Array> = [];
  readonly priority: Column<Int32Array> = [];
  readonly payloadRef: Column<Int32Array> = [];
  readonly createdSec: Column<Float64Array> = [];
  readonly createdNsec: Column<Int32Array> = [];
  /** State, attempts, max-attempts, max-fails and the foreground flag (job.ts). */
  readonly bits: Column<Int32Array> = [];
  readonly listIndex: Column<Int32Array> = [];
  readonly expiryIndex: Column<Int32Array> = [];
  readonly deadlineIndex: Column<Int32Array> = [];
  readonly ageIndex: Column<Int32Array> = [];
  private capacity = 0;
  /** Slots never taken start here. */
  private top = 0;
  /** Freed slots below `top`, taken again last freed first. */
  private freed = new Int32Array(PAGE_SLOTS);
  private freedCount = 0;
  /** Every column but the IDs, one field a slot. */
  private readonly scalars: Column<Int32Array | Uint32Array | Float64Array>[] = [
    this.ttr,
    this.ttl,
    this.priority,
    this.payloadRef,
    this.createdSec,
    this.createdNsec,
    this.bits,
    this.listIndex,
    this.expiryIndex,
    this.deadlineIndex,
    this.ageIndex,
  ];

  constructor() {
    this.addPage();
  }

  /** Slots taken. */
  get size(): number {
    return this.top - this.freedCount;
  }

  /** A slot for a new job, its columns to be written by the caller. */
  take(): number {
    if (this.freedCount > 0) return this.freed[--this.freedCount]!;
    if (this.top === this.capacity) this.addPage();
    return this.top++;
  }

  free(slot: number): void {
    if (this.freedCount === this.freed.length) {
      const more = new Int32Array(2 * this.freed.length);
      more.set(this.freed);
      this.freed = more;
    }
    this.freed[this.freedCount++] = slot;
  }

  /** True when so few slots are taken that the columns should shrink (`shrink`). */
  get wantsShrink(): boolean {
    return this.capacity > PAGE_SLOTS && this.size < this.capacity * MIN_LOAD;
  }

  /**
   * Gives back the upper half of the pages (keeping one at least), moving the jobs whose
   * slots are past the new end to free slots below it. `jobs` must give every job holding
   * a slot (the engine's table); each moved job's `slot` is set to its new one.
   */
  shrink(jobs: Iterable<{ slot: number }>): void {
    const capacity = Math.max(1, this.ids.length >>> 1) * PAGE_SLOTS;
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
    this.freed = new Int32Array(PAGE_SLOTS);
    // Taken again lowest first, so that the top end empties out.
    for (let slot = this.top - 1; slot >= 0; slot--) if (taken[slot] === 0) this.free(slot);
    this.dropPagesFrom(capacity >>> PAGE_SHIFT);
  }

  private move(from: number, to: number): void {
    const fp = from >>> PAGE_SHIFT;
    const fc = from & PAGE_MASK;
    const tp = to >>> PAGE_SHIFT;
    const tc = to & PAGE_MASK;
    this.ids[tp]!.set(this.ids[fp]!.subarray(4 * fc, 4 * fc + 4), 4 * tc);
    for (const column of this.scalars) column[tp]![tc] = column[fp]![fc]!;
  }

  private addPage(): void {
    this.ids.push(new Int32Array(4 * PAGE_SLOTS));
    this.ttr.push(new Int32Array(PAGE_SLOTS));
    this.ttl.push(new Uint32Array(PAGE_SLOTS));
    this.priority.push(new Int32Array(PAGE_SLOTS));
    this.payloadRef.push(new Int32Array(PAGE_SLOTS));
    this.createdSec.push(new Float64Array(PAGE_SLOTS));
    this.createdNsec.push(new Int32Array(PAGE_SLOTS));
    this.bits.push(new Int32Array(PAGE_SLOTS));
    this.listIndex.push(new Int32Array(PAGE_SLOTS));
    this.expiryIndex.push(new Int32Array(PAGE_SLOTS));
    this.deadlineIndex.push(new Int32Array(PAGE_SLOTS));
    this.ageIndex.push(new Int32Array(PAGE_SLOTS));
    this.capacity += PAGE_SLOTS;
  }

  private dropPagesFrom(pages: number): void {
    this.ids.length = pages;
    for (const column of this.scalars) column.length = pages;
    this.capacity = pages * PAGE_SLOTS;
  }
}
