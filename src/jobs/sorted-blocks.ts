/** A block is split in two once it holds more than this many items. */
const MAX_BLOCK = 512;
/** A block this small is merged into its successor when both fit in one. */
const MIN_BLOCK = MAX_BLOCK / 8;
/** Room of a new block, doubled as it fills up to MAX_BLOCK + 1. */
const FIRST_ROOM = 8;

/** Items `items[start, end)` of one block, in order. */
class Block {
  constructor(
    public items: Int32Array,
    public start: number,
    public end: number,
  ) {}

  get length(): number {
    return this.end - this.start;
  }

  first(): number {
    return this.items[this.start]!;
  }

  last(): number {
    return this.items[this.end - 1]!;
  }

  /** Makes room for one more item at the end, moving the items to the front or growing the array. */
  roomForOne(): void {
    if (this.end < this.items.length) return;
    if (this.start > 0) {
      this.items.copyWithin(0, this.start, this.end);
    } else {
      const more = new Int32Array(Math.min(2 * this.items.length, MAX_BLOCK + 1));
      more.set(this.items.subarray(this.start, this.end));
      this.items = more;
    }
    this.end -= this.start;
    this.start = 0;
  }
}

function blockOf(items: Int32Array): Block {
  const room = Math.max(FIRST_ROOM, Math.min(MAX_BLOCK + 1, 1 << (32 - Math.clz32(items.length))));
  const block = new Block(new Int32Array(room), 0, items.length);
  block.items.set(items);
  return block;
}

/**
 * Small non-negative integers (the store's job slots, queue numbers) in a strict total
 * order, kept as a list of sorted blocks of at most MAX_BLOCK items each, every block a
 * typed array: an item costs 4 bytes, not an 8-byte pointer. Insert and remove cost a
 * binary search over the blocks' last items, one within a block, and moving at most
 * MAX_BLOCK items; taking the first item moves none (a block starts where its first
 * item is). A window at any offset is found by skipping whole blocks, so paging deep
 * into millions of items walks a few thousand block lengths instead of every item
 * before the window (a heap, which this replaced for queue lists, had to take out
 * offset + limit items in order to show a page).
 *
 * Items are found by their order alone, so an item's keys must not change while it is in
 * the list, and no two items may compare equal.
 */
export abstract class SortedBlocks {
  private blocks: Block[] = [];
  private count = 0;
  /**
   * The block of a list that emptied (at most MAX_BLOCK + 1 items of room), kept for its
   * next item: a list that goes from some items to none and back at every few leases would
   * otherwise make a block and two arrays each time.
   */
  private spare: Block | null = null;

  /** True when `a` comes before `b`. Must be a strict total order over the items held. */
  protected abstract before(a: number, b: number): boolean;
  /** Called with true when the item enters the list, false when it leaves it. */
  protected abstract mark(item: number, inList: boolean): void;

  get size(): number {
    return this.count;
  }

  /** The first item, -1 when empty. */
  peek(): number {
    const first = this.blocks[0];
    return first === undefined ? -1 : first.first();
  }

  push(item: number): void {
    const blocks = this.blocks;
    this.count++;
    this.mark(item, true);
    const last = blocks[blocks.length - 1];
    if (last === undefined) {
      const spare = this.spare;
      this.spare = null;
      if (spare === null) blocks.push(blockOf(Int32Array.of(item)));
      else {
        spare.items[0] = item;
        spare.end = 1;
        blocks.push(spare);
      }
      return;
    }
    // Items mostly arrive in order (first in, first out): they go to the end at one comparison,
    // and a full last block is left full, not split in halves that would each keep half
    // their room empty.
    if (this.before(last.last(), item)) {
      if (last.length < MAX_BLOCK) {
        last.roomForOne();
        last.items[last.end++] = item;
      } else {
        blocks.push(blockOf(Int32Array.of(item)));
      }
      return;
    }
    const b = this.blockOf(item);
    const block = blocks[b]!;
    const i = this.indexIn(block, item);
    block.roomForOne();
    block.items.copyWithin(block.start + i + 1, block.start + i, block.end);
    block.items[block.start + i] = item;
    block.end++;
    if (block.length > MAX_BLOCK) this.split(b);
  }

  /** Removes and returns the first item, -1 when empty. */
  pop(): number {
    const first = this.blocks[0];
    if (first === undefined) return -1;
    const item = first.items[first.start++]!;
    this.count--;
    this.mark(item, false);
    if (first.length === 0) this.dropBlock(0);
    return item;
  }

  /** Removes the item, which must be in the list. */
  remove(item: number): void {
    const blocks = this.blocks;
    const b = this.blockOf(item);
    const block = blocks[b]!;
    const i = this.indexIn(block, item);
    if (i === block.length || block.items[block.start + i] !== item) throw new Error('SortedBlocks.remove: item not in the list');
    block.items.copyWithin(block.start + i, block.start + i + 1, block.end);
    block.end--;
    this.count--;
    this.mark(item, false);
    if (block.length === 0) {
      this.dropBlock(b);
    } else if (block.length < MIN_BLOCK && b + 1 < blocks.length && block.length + blocks[b + 1]!.length <= MAX_BLOCK) {
      const next = blocks[b + 1]!;
      const merged = new Int32Array(block.length + next.length);
      merged.set(block.items.subarray(block.start, block.end));
      merged.set(next.items.subarray(next.start, next.end), block.length);
      blocks[b] = blockOf(merged);
      blocks.splice(b + 1, 1);
    }
  }

  /** Puts `to` in the place of `from`, an item of the same order that is in the list (the mark stays as it is). */
  replace(from: number, to: number): void {
    const block = this.blocks[this.blockOf(to)]!;
    const i = this.indexIn(block, to);
    if (i === block.length || block.items[block.start + i] !== from) throw new Error('SortedBlocks.replace: item not in the list');
    block.items[block.start + i] = to;
  }

  /** True when this very item is in the list (found by its order). */
  has(item: number): boolean {
    if (this.count === 0) return false;
    const block = this.blocks[this.blockOf(item)]!;
    const i = this.indexIn(block, item);
    return i < block.length && block.items[block.start + i] === item;
  }

  /** Up to `limit` items after skipping `offset`, in order; whole blocks before the window are skipped by their lengths. */
  ordered(offset: number, limit: number): number[] {
    const out: number[] = [];
    if (offset >= this.count || limit <= 0) return out;
    const blocks = this.blocks;
    let b = 0;
    let skip = offset;
    while (skip >= blocks[b]!.length) skip -= blocks[b++]!.length;
    for (; b < blocks.length && out.length < limit; b++, skip = 0) {
      const block = blocks[b]!;
      const end = Math.min(block.end, block.start + skip + limit - out.length);
      for (let i = block.start + skip; i < end; i++) out.push(block.items[i]!);
    }
    return out;
  }

  /** Every item, in order. */
  toArray(): number[] {
    return this.ordered(0, this.count);
  }

  /** Takes out block `b`, which has emptied; keeps it as the spare if it was the last one. */
  private dropBlock(b: number): void {
    const block = this.blocks.splice(b, 1)[0]!;
    if (this.blocks.length > 0) return;
    block.start = 0;
    block.end = 0;
    this.spare = block;
  }

  /** The block the item belongs in: the first whose last item is not before it, else the last block. */
  private blockOf(item: number): number {
    const blocks = this.blocks;
    let lo = 0;
    let hi = blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.before(blocks[mid]!.last(), item)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first position in the block (counted from its start) whose item is not before `item`. */
  private indexIn(block: Block, item: number): number {
    const { items, start } = block;
    let lo = 0;
    let hi = block.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.before(items[start + mid]!, item)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private split(b: number): void {
    const block = this.blocks[b]!;
    const half = block.start + (block.length >> 1);
    const upper = blockOf(block.items.subarray(half, block.end));
    block.end = half;
    this.blocks.splice(b + 1, 0, upper);
  }
}
