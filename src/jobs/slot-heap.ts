/** Room of an empty heap. */
const MIN_ROOM = 64;

/** Room for `n` items: grown by half when full, halved when under a quarter full. */
export function roomFor(room: number, n: number): number {
  if (n > room) return Math.max(MIN_ROOM, room + (room >> 1));
  if (room > MIN_ROOM && n < room >> 2) return room >> 1;
  return room;
}

/**
 * A binary min-heap of small non-negative integers, job slots (job-store.ts) or waiter
 * numbers, that tells each its position, so one can be removed or re-sorted in O(log n)
 * without a search. They are in a typed array, 4 bytes each where a pointer costs 8.
 * Subclasses say what "earlier" means and where the position is kept (a column of the
 * store, a field of the waiter).
 */
export abstract class SlotHeap {
  protected items = new Int32Array(0);
  private count = 0;

  /** True when `a` must come out before `b`. Must be a strict total order for determinism. */
  protected abstract before(a: number, b: number): boolean;
  /** Records the position of `item`; -1 means "not in this heap". */
  protected abstract setIndex(item: number, index: number): void;

  get size(): number {
    return this.count;
  }

  /** The first item, -1 when empty. */
  peek(): number {
    return this.count === 0 ? -1 : this.items[0]!;
  }

  /** The item at `index` (an index this heap gave it). */
  at(index: number): number {
    return this.items[index]!;
  }

  push(slot: number): void {
    this.resize(this.count + 1);
    this.up(slot, this.count++);
  }

  /** Removes and returns the first item, -1 when empty. */
  pop(): number {
    if (this.count === 0) return -1;
    const top = this.items[0]!;
    this.remove(0);
    return top;
  }

  /** The job at `index` moved to `slot` (JobStore.moveTopDown), its position already there. */
  replace(index: number, slot: number): void {
    this.items[index] = slot;
  }

  /** Removes the item at `index` (an index this heap gave it). */
  remove(index: number): void {
    const items = this.items;
    const last = items[--this.count]!;
    if (index === this.count) {
      this.setIndex(last, -1);
    } else {
      this.setIndex(items[index]!, -1);
      if (index > 0 && this.before(last, items[(index - 1) >> 1]!)) this.up(last, index);
      else this.down(last, index);
    }
    this.resize(this.count);
  }

  private resize(n: number): void {
    const room = roomFor(this.items.length, n);
    if (room === this.items.length) return;
    const items = new Int32Array(room);
    items.set(this.items.subarray(0, this.count));
    this.items = items;
  }

  private up(slot: number, index: number): void {
    const items = this.items;
    let i = index;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p]!;
      if (!this.before(slot, parent)) break;
      items[i] = parent;
      this.setIndex(parent, i);
      i = p;
    }
    items[i] = slot;
    this.setIndex(slot, i);
  }

  private down(slot: number, index: number): void {
    const items = this.items;
    const n = this.count;
    let i = index;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.before(items[c + 1]!, items[c]!)) c++;
      const child = items[c]!;
      if (!this.before(child, slot)) break;
      items[i] = child;
      this.setIndex(child, i);
      i = c;
    }
    items[i] = slot;
    this.setIndex(slot, i);
  }
}
