import test from 'ava';
import { SortedBlocks } from '../../src/jobs/sorted-blocks.js';

/** Numbers in ascending order, counting every comparison: the work of each operation. */
class Counted extends SortedBlocks {
  comparisons = 0;
  readonly inList = new Set<number>();
  protected before(a: number, b: number): boolean {
    this.comparisons++;
    return a < b;
  }
  protected mark(item: number, inList: boolean): void {
    if (inList) this.inList.add(item);
    else this.inList.delete(item);
  }
}

/** A fixed shuffle of 0 … n-1. */
function shuffled(n: number): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  let seed = 12345;
  for (let i = n - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

test('items come out in order whatever order they went in; pop, remove and windows agree with a sorted array', (t) => {
  const list = new Counted();
  const items = shuffled(5000);
  for (const x of items) list.push(x);
  t.is(list.size, 5000);
  t.deepEqual(
    list.toArray(),
    [...items].sort((a, b) => a - b),
  );
  for (const x of items.slice(0, 2500)) list.remove(x);
  const kept = items.slice(2500).sort((a, b) => a - b);
  t.deepEqual(list.toArray(), kept);
  t.deepEqual(list.ordered(1000, 100), kept.slice(1000, 1100));
  t.deepEqual(list.ordered(2450, 100), kept.slice(2450));
  t.deepEqual(list.ordered(2500, 100), []);
  const first = kept[0]!;
  t.is(list.peek(), first);
  t.is(list.pop(), first);
  t.false(list.inList.has(first));
  t.is(list.inList.size, 2499);
  t.throws(() => list.remove(first));
});

test('each insert, remove and deep window costs comparisons logarithmic in the size, not linear', (t) => {
  const n = 200_000;
  const list = new Counted();
  const items = shuffled(n);
  for (const x of items) list.push(x);
  // log2(200k) is about 18: a binary search over blocks and one within a block.
  t.true(list.comparisons / n < 2 * 18, `${list.comparisons / n} comparisons per insert`);
  list.comparisons = 0;
  t.deepEqual(
    list.ordered(n - 150, 100),
    Array.from({ length: 100 }, (_, i) => n - 150 + i),
  );
  t.is(list.comparisons, 0, 'a window is found by counting, with no comparison');
  list.comparisons = 0;
  for (const x of items.slice(0, 1000)) list.remove(x);
  t.true(list.comparisons / 1000 < 2 * 18, `${list.comparisons / 1000} comparisons per remove`);
});

test('items arriving in order cost one comparison each', (t) => {
  const list = new Counted();
  for (let i = 0; i < 10_000; i++) list.push(i);
  t.is(list.comparisons, 9999);
  list.comparisons = 0;
  for (let i = 0; i < 10_000; i++) t.is(list.pop(), i);
  t.is(list.comparisons, 0);
  t.is(list.size, 0);
  t.is(list.peek(), -1, 'empty');
});

test('a list that empties and fills again reuses its block: items in and out a few at a time make no new block', (t) => {
  const list = new Counted();
  const blocks = (list as unknown as { blocks: { items: Int32Array }[] }).blocks;
  list.push(1);
  const first = blocks[0]!;
  const items = first.items;
  for (let i = 2; i < 50; i++) {
    if (i % 2 === 0) t.is(list.pop(), i - 1);
    else list.remove(i - 1);
    t.is(list.size, 0);
    t.is(list.peek(), -1);
    t.deepEqual(list.toArray(), []);
    list.push(i);
    t.deepEqual(list.toArray(), [i]);
    t.is(blocks[0], first, 'the same block');
    t.is(blocks[0]!.items, items, 'the same array');
  }
  // Batches that fill the block past its first room and drain it again keep that block too.
  list.pop();
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 64; i++) list.push(100 + i);
    t.is(blocks.length, 1);
    t.is(blocks[0], first, 'the same block, grown');
    while (list.size > 0) list.pop();
  }
  // A list of many blocks drained keeps only the last of them.
  for (let i = 0; i < 5000; i++) list.push(i);
  t.true(blocks.length > 5);
  while (list.size > 0) list.pop();
  list.push(7);
  t.deepEqual(list.toArray(), [7]);
  t.is(blocks.length, 1);
});
