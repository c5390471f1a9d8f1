import type { JobStore } from './job-store.js';
import { roomFor } from './slot-heap.js';

/** Holes are squeezed out once there are more of them than this and than live jobs. */
const MIN_COMPACT = 32;
/** Places per chunk whose live jobs are counted, so a page skips whole chunks (log2). */
const CHUNK_BITS = 10;
/** An empty place. */
const HOLE = -1;

/**
 * A queue's jobs in one state (leased, completed or failed), as slots in the order they
 * entered it, for `inspect <state>-jobs`. Each job knows its place (the store's
 * listIndex, which no ready or scheduled list uses while it is in this state), so
 * entering and leaving are O(1) with no comparison: a leaving job leaves a hole, and the
 * holes are squeezed out once they outnumber the jobs. The live jobs of every chunk of
 * 1024 places are counted, so a page deep into millions skips whole chunks and visits
 * at most two chunks' places.
 */
export class StateList {
  private places = new Int32Array(0);
  private end = 0;
  private holes = 0;
  /** Live jobs in each chunk of places. */
  private live: number[] = [];

  constructor(private readonly store: JobStore) {}

  get size(): number {
    return this.end - this.holes;
  }

  push(slot: number): void {
    const index = this.end;
    this.resize(index + 1);
    this.store.setListIndex(slot, index);
    this.places[this.end++] = slot;
    const chunk = index >> CHUNK_BITS;
    this.live[chunk] = (this.live[chunk] ?? 0) + 1;
  }

  remove(index: number): void {
    const places = this.places;
    this.store.setListIndex(places[index]!, -1);
    const chunk = index >> CHUNK_BITS;
    this.live[chunk] = this.live[chunk]! - 1;
    if (index === this.end - 1) {
      this.end--;
      // An emptied list keeps its first chunk's count (0) and its smallest room: a list that
      // goes from one job to none and back at every lease would otherwise make both anew each time.
      if ((this.end & ((1 << CHUNK_BITS) - 1)) === 0) this.live.length = Math.max(1, this.end >> CHUNK_BITS);
      this.resize(this.end);
    } else {
      places[index] = HOLE;
      this.holes++;
    }
    if (this.holes > MIN_COMPACT && this.holes > this.end - this.holes) this.compact();
  }

  /** The job at `index` moved to `slot` (JobStore.moveTopDown), its place already there. */
  replace(index: number, slot: number): void {
    this.places[index] = slot;
  }

  /** Up to `limit` jobs after skipping `offset`, in the order they entered the state. */
  ordered(offset: number, limit: number): number[] {
    const out: number[] = [];
    const { places, live } = this;
    let skip = offset;
    let chunk = 0;
    while (chunk < live.length && skip >= live[chunk]!) skip -= live[chunk++]!;
    for (let i = chunk << CHUNK_BITS; i < this.end && out.length < limit; i++) {
      const slot = places[i]!;
      if (slot === HOLE) continue;
      if (skip > 0) skip--;
      else out.push(slot);
    }
    return out;
  }

  private compact(): void {
    const places = this.places;
    let n = 0;
    for (let i = 0; i < this.end; i++) {
      const slot = places[i]!;
      if (slot === HOLE) continue;
      this.store.setListIndex(slot, n);
      places[n++] = slot;
    }
    this.end = n;
    this.holes = 0;
    this.live = [];
    for (let left = n; left > 0; left -= 1 << CHUNK_BITS) this.live.push(Math.min(left, 1 << CHUNK_BITS));
    this.resize(n);
  }

  private resize(n: number): void {
    const room = roomFor(this.places.length, n);
    if (room === this.places.length) return;
    const places = new Int32Array(room);
    places.set(this.places.subarray(0, this.end));
    this.places = places;
  }
}
