import type { JobStore } from './job-store.js';
import { TimedSlotHeap } from './timed-slot-heap.js';

/**
 * A min-heap of ready jobs by readySince. Only the earliest time is ever read, never
 * which job has it, so jobs ready since the same millisecond need no order among them: a
 * sift compares times and reads nothing else.
 */
class AgeHeap extends TimedSlotHeap {
  protected override earlier(aAt: number, _a: number, bAt: number): boolean {
    return aAt < bAt;
  }
  protected setIndex(slot: number, index: number): void {
    this.store.setAgeIndex(slot, index);
  }
}

/** Room of an empty run: a power of two, as every room is. */
const MIN_ROOM = 64;
/** The run moves to a smaller ring once its jobs fill less than one place in SPARSE; after the move, at least one in four. */
const SPARSE = 8;

/** A run position kept in the store's ageIndex: -2 for 0, -3 for 1, …; -1 is "in neither", and heap positions are 0 and up. */
function runIndex(position: number): number {
  return -2 - position;
}

/** The least power of two, MIN_ROOM or more, that holds `n`. */
function roomFor(n: number): number {
  let room = MIN_ROOM;
  while (room < n) room *= 2;
  return room;
}

/**
 * The readySince times of one ready list's jobs, for the earliest of them (oldestSince),
 * each job knowing where its time is (the store's ageIndex).
 *
 * A job whose time is no earlier than the last one taken in goes to the end of the run:
 * a ring in time order from its head, where a job that leaves leaves a gap (slot -1) and
 * its time, so the order holds across gaps. The run's earliest time is at its head, which
 * moves past gaps as they reach it. Any other job goes to a heap. A queue's jobs mostly
 * come in the order of their times (each ready since its add, taken in in the order of the
 * adds) and mostly leave from the head (a lease takes the oldest of a priority): then a
 * job costs the run a write at each end, where a heap of every job cost a lease a sift
 * from its root, a cache miss at each of log n levels and a store write for every job
 * moved.
 *
 * When the ring is full it doubles, or, if gaps left by jobs leaving out of order (a
 * higher priority, a delete) are at least half of it, the run moves to a ring without
 * them; it also moves to a smaller one once it is sparse. Each move is paid for by the
 * pushes or removals since the last, and the ring stays within a small factor of the jobs
 * it holds.
 */
export class ReadyAges {
  private slots = new Int32Array(MIN_ROOM);
  private ats = new Float64Array(MIN_ROOM);
  /** The run's entries are `span` places from `head`, round the ring; the head's slot is a job's whenever the run holds one. */
  private head = 0;
  private span = 0;
  private runCount = 0;
  private readonly heap: AgeHeap;

  constructor(private readonly store: JobStore) {
    this.heap = new AgeHeap(store);
  }

  get size(): number {
    return this.runCount + this.heap.size;
  }

  /** Wall-clock ms since which the job ready the longest has been ready; Infinity when none is. */
  get oldestSince(): number {
    const heapAt = this.heap.nextAt();
    return this.runCount > 0 && this.ats[this.head]! < heapAt ? this.ats[this.head]! : heapAt;
  }

  push(slot: number, at: number): void {
    const mask = this.slots.length - 1;
    if (this.span > 0 && at < this.ats[(this.head + this.span - 1) & mask]!) {
      this.heap.push(slot, at);
      return;
    }
    if (this.span === this.slots.length) {
      if (2 * this.runCount <= this.span) this.compact();
      else this.grow();
    }
    const position = (this.head + this.span++) & (this.slots.length - 1);
    this.slots[position] = slot;
    this.ats[position] = at;
    this.runCount++;
    this.store.setAgeIndex(slot, runIndex(position));
  }

  remove(slot: number): void {
    const index = this.store.ageIndexOf(slot);
    if (index >= 0) {
      this.heap.remove(index);
      return;
    }
    this.store.setAgeIndex(slot, -1);
    const position = runIndex(index);
    this.slots[position] = -1;
    if (--this.runCount === 0) {
      this.head = this.span = 0;
      if (this.slots.length > MIN_ROOM) this.compact();
      return;
    }
    if (position === this.head) {
      const mask = this.slots.length - 1;
      let head = position;
      do {
        head = (head + 1) & mask;
        this.span--;
      } while (this.slots[head] === -1);
      this.head = head;
    }
    if (this.slots.length > MIN_ROOM && SPARSE * this.runCount < this.slots.length) this.compact();
  }

  /** A job moved to slot `to` (JobStore.moveTopDown), its ageIndex with it. */
  replace(to: number): void {
    const index = this.store.ageIndexOf(to);
    if (index >= 0) this.heap.replace(index, to);
    else this.slots[runIndex(index)] = to;
  }

  /**
   * Doubles the full ring. Its entries keep their places, but for those past the end of
   * the old ring, from its start up to the head: they go after them, in the new half.
   */
  private grow(): void {
    const room = this.slots.length;
    const slots = new Int32Array(2 * room);
    const ats = new Float64Array(2 * room);
    slots.set(this.slots.subarray(this.head), this.head);
    ats.set(this.ats.subarray(this.head), this.head);
    slots.set(this.slots.subarray(0, this.head), room);
    ats.set(this.ats.subarray(0, this.head), room);
    for (let i = 0; i < this.head; i++) {
      const slot = this.slots[i]!;
      if (slot >= 0) this.store.setAgeIndex(slot, runIndex(room + i));
    }
    this.slots = slots;
    this.ats = ats;
  }

  /** Moves the run's jobs, without its gaps, to the start of a ring of twice their number of places (at least MIN_ROOM). */
  private compact(): void {
    const room = roomFor(2 * this.runCount);
    const slots = new Int32Array(room);
    const ats = new Float64Array(room);
    const mask = this.slots.length - 1;
    let to = 0;
    for (let i = 0; i < this.span; i++) {
      const from = (this.head + i) & mask;
      const slot = this.slots[from]!;
      if (slot < 0) continue;
      slots[to] = slot;
      ats[to] = this.ats[from]!;
      this.store.setAgeIndex(slot, runIndex(to));
      to++;
    }
    this.slots = slots;
    this.ats = ats;
    this.head = 0;
    this.span = to;
  }
}
