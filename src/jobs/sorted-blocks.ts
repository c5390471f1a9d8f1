/** A block is split in two once it holds more than this many items. */
const MAX_BLOCK = 512;
/** A block this small is merged into its successor when both fit in one. */
const MIN_BLOCK = MAX_BLOCK / 8;

/**
 * Items in a strict total order, kept as a list of sorted blocks of at most MAX_BLOCK
 * items each. Insert and remove cost a binary search over the blocks' last items, one
 * within a block, and moving at most MAX_BLOCK pointers; taking the first item is a
 * shift of the first block. A window at any offset is found by skipping whole blocks, so
 * paging deep into millions of items walks a few thousand block lengths instead of every
 * item before the window (a heap, which this replaced for queue lists, had to take out
 * offset + limit items in order to show a page).
 *
 * Items are found by their order alone, so an item's keys must not change while it is in
 * the list, and no two items may compare equal.
 */
export abstract class SortedBlocks<T> {
  private blocks: T[][] = [];
  private count = 0;

  /** True when `a` comes before `b`. Must be a strict total order over the items held. */
  protected abstract before(a: T, b: T): boolean;
  /** Called with true when the item enters the list, false when it leaves it. */
  protected abstract mark(item: T, inList: boolean): void;

  get size(): number {
    return this.count;
  }

  /** The first item, undefined when empty. */
  peek(): T | undefined {
    const first = this.blocks[0];
    return first === undefined ? undefined : first[0];
  }

  push(item: T): void {
    const blocks = this.blocks;
    this.count++;
    this.mark(item, true);
    const last = blocks[blocks.length - 1];
    if (last === undefined) {
      blocks.push([item]);
      return;
    }
    // Items mostly arrive in order (first in, first out): they go to the end at one comparison,
    // and a full last block is left full, not split in halves that would each keep half
    // their room empty (a JS array keeps the capacity it grew to).
    if (this.before(last[last.length - 1]!, item)) {
      if (last.length < MAX_BLOCK) last.push(item);
      else blocks.push([item]);
      return;
    }
    const b = this.blockOf(item);
    const block = blocks[b]!;
    block.splice(this.indexIn(block, item), 0, item);
    if (block.length > MAX_BLOCK) this.split(b);
  }

  /** Removes and returns the first item, undefined when empty. */
  pop(): T | undefined {
    const first = this.blocks[0];
    if (first === undefined) return undefined;
    const item = first.shift() as T;
    this.count--;
    this.mark(item, false);
    if (first.length === 0) this.blocks.shift();
    return item;
  }

  /** Removes the item, which must be in the list. */
  remove(item: T): void {
    const blocks = this.blocks;
    const b = this.blockOf(item);
    const block = blocks[b]!;
    const i = this.indexIn(block, item);
    if (block[i] !== item) throw new Error('SortedBlocks.remove: item not in the list');
    block.splice(i, 1);
    this.count--;
    this.mark(item, false);
    if (block.length === 0) blocks.splice(b, 1);
    else if (block.length < MIN_BLOCK && b + 1 < blocks.length && block.length + blocks[b + 1]!.length <= MAX_BLOCK) {
      blocks[b] = block.concat(blocks[b + 1]!);
      blocks.splice(b + 1, 1);
    }
  }

  /** True when this very item is in the list (found by its order). */
  has(item: T): boolean {
    if (this.count === 0) return false;
    const block = this.blocks[this.blockOf(item)]!;
    return block[this.indexIn(block, item)] === item;
  }

  /** Up to `limit` items after skipping `offset`, in order; whole blocks before the window are skipped by their lengths. */
  ordered(offset: number, limit: number): T[] {
    const out: T[] = [];
    if (offset >= this.count || limit <= 0) return out;
    const blocks = this.blocks;
    let b = 0;
    let skip = offset;
    while (skip >= blocks[b]!.length) skip -= blocks[b++]!.length;
    for (; b < blocks.length && out.length < limit; b++, skip = 0) {
      const block = blocks[b]!;
      const end = Math.min(block.length, skip + limit - out.length);
      for (let i = skip; i < end; i++) out.push(block[i]!);
    }
    return out;
  }

  /** Every item, in order. */
  toArray(): T[] {
    const out: T[] = [];
    for (const block of this.blocks) for (const item of block) out.push(item);
    return out;
  }

  /** The block the item belongs in: the first whose last item is not before it, else the last block. */
  private blockOf(item: T): number {
    const blocks = this.blocks;
    let lo = 0;
    let hi = blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const block = blocks[mid]!;
      if (this.before(block[block.length - 1]!, item)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first position in the block whose item is not before `item`. */
  private indexIn(block: T[], item: T): number {
    let lo = 0;
    let hi = block.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.before(block[mid]!, item)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private split(b: number): void {
    const block = this.blocks[b]!;
    this.blocks.splice(b + 1, 0, block.splice(block.length >> 1));
  }
}
