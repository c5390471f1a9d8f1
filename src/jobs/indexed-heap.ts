/**
 * A binary min-heap that tells each item its position, so an item can be removed or
 * re-sorted in O(log n) without a search. Subclasses say what "earlier" means and where
 * the position is kept (a field of the item), so no wrapper object exists per entry.
 */
export abstract class IndexedHeap<T> {
  protected readonly items: T[] = [];

  /** True when `a` must come out before `b`. Must be a strict total order for determinism. */
  protected abstract before(a: T, b: T): boolean;
  /** Records the item's position; -1 means "not in this heap". */
  protected abstract setIndex(item: T, index: number): void;

  get size(): number {
    return this.items.length;
  }

  /** The first item, undefined when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    this.items.push(item);
    this.up(item, this.items.length - 1);
  }

  /** Removes and returns the first item, undefined when empty. */
  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0] as T;
    this.remove(0);
    return top;
  }

  /** Removes the item at `index` (an index this heap gave it). */
  remove(index: number): void {
    const items = this.items;
    const last = items.pop() as T;
    if (index === items.length) {
      this.setIndex(last, -1);
      return;
    }
    this.setIndex(items[index] as T, -1);
    if (index > 0 && this.before(last, items[(index - 1) >> 1] as T)) this.up(last, index);
    else this.down(last, index);
  }

  private up(item: T, index: number): void {
    const items = this.items;
    let i = index;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p] as T;
      if (!this.before(item, parent)) break;
      items[i] = parent;
      this.setIndex(parent, i);
      i = p;
    }
    items[i] = item;
    this.setIndex(item, i);
  }

  private down(item: T, index: number): void {
    const items = this.items;
    const n = items.length;
    let i = index;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.before(items[c + 1] as T, items[c] as T)) c++;
      const child = items[c] as T;
      if (!this.before(child, item)) break;
      items[i] = child;
      this.setIndex(child, i);
      i = c;
    }
    items[i] = item;
    this.setIndex(item, i);
  }
}
