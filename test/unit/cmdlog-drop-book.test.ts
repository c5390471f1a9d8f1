import test from 'ava';
import fc from 'fast-check';
import { DropBook } from '../../src/cmdlog/drop-book.js';

/** A record-like buffer holding the 16-byte ID `n` at offset 3 (IDs sit inside records). */
function id(n: number): Buffer {
  const buf = Buffer.alloc(3 + 16 + 2, 0xee);
  buf.fill(0, 3, 19);
  buf.writeUInt32LE(n >>> 0, 3);
  buf.writeUInt32BE(Math.floor(n / 2 ** 32), 15);
  return buf;
}

test('drop book: a job record drops at its exact expiration, later records for its ID at the next whole second', (t) => {
  const book = new DropBook();
  const a = id(1);
  const b = id(2);
  t.is(book.other(a, 3), 0, 'no add seen: droppable at once');
  t.is(book.job(a, 3, 1_800_000_000_500), 1_800_000_000_500);
  t.is(book.other(a, 3), 1_800_000_001_000);
  t.is(book.job(a, 3, 1_800_000_000_100), 1_800_000_000_100, 'an earlier second add keeps the later expiration');
  t.is(book.other(a, 3), 1_800_000_001_000);
  t.is(book.job(b, 3, 1_800_000_002_000), 1_800_000_002_000);
  t.is(book.other(b, 3), 1_800_000_002_000, 'a whole second stays as it is');
  book.prune(1_800_000_001_000);
  t.is(book.other(a, 3), 1_800_000_001_000, 'not before its second is over');
  book.prune(1_800_000_001_001);
  t.is(book.other(a, 3), 0);
  t.is(book.other(b, 3), 1_800_000_002_000);
});

test('drop book: IDs that differ in any one byte are told apart', (t) => {
  const book = new DropBook();
  const base = id(0);
  book.job(base, 3, 5_000);
  for (let i = 3; i < 19; i++) {
    const other = Buffer.from(base);
    other[i] = 1;
    t.is(book.other(other, 3), 0, `byte ${i - 3}`);
  }
  t.is(book.other(base, 3), 5_000);
});

test('drop book: expirations before 1970 are past, after 2106 are kept for good', (t) => {
  const book = new DropBook();
  book.job(id(1), 3, -5_000);
  book.job(id(2), 3, 2 ** 32 * 1000 + 5_000);
  t.true(book.other(id(1), 3) > 0 && book.other(id(1), 3) <= 1_000, 'before 1970: droppable at the first pass');
  t.is(book.other(id(2), 3), 0xffffffff * 1000);
  book.prune(0xffffffff * 1000);
  t.is(book.other(id(2), 3), 0xffffffff * 1000);
});

test('drop book: a million IDs grow the table and pruning shrinks it back without losing one', (t) => {
  const book = new DropBook();
  const n = 1_000_000;
  const buf = Buffer.alloc(16 * n);
  const expiration = (i: number): number => (i % 2 === 0 ? 1_000_000 : 2_000_000) + i * 1000;
  for (let i = 0; i < n; i++) {
    buf.writeUInt32LE(i, 16 * i);
    buf.writeUInt32LE(i * 7, 16 * i + 8);
    book.job(buf, 16 * i, expiration(i));
  }
  let wrong = 0;
  for (let i = 0; i < n; i++) if (book.other(buf, 16 * i) !== expiration(i)) wrong++;
  t.is(wrong, 0);
  const now = expiration(n / 2);
  book.prune(now);
  for (let i = 0; i < n; i++) if (book.other(buf, 16 * i) !== (expiration(i) >= now ? expiration(i) : 0)) wrong++;
  t.is(wrong, 0);
});

test('drop book: answers like a map of the latest expiration per ID, rounded up to the second', (t) => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('job' as const), id: fc.integer({ min: 0, max: 3000 }), at: fc.integer({ min: 1, max: 5_000_000 }) }),
    fc.record({ kind: fc.constant('prune' as const), at: fc.integer({ min: 0, max: 5_000_000 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
      const book = new DropBook();
      const model = new Map<number, number>();
      for (const o of ops) {
        if (o.kind === 'job') {
          t.is(book.job(id(o.id), 3, o.at), o.at);
          const sec = Math.ceil(o.at / 1000);
          model.set(o.id, Math.max(model.get(o.id) ?? 0, sec));
        } else {
          book.prune(o.at);
          for (const [k, sec] of model) if (sec * 1000 < o.at) model.delete(k);
        }
      }
      for (let k = 0; k <= 3000; k++) if (book.other(id(k), 3) !== (model.get(k) ?? 0) * 1000) return false;
      return true;
    }),
    { numRuns: 30 },
  );
  t.pass();
});

test('drop book: moved as its state (to or from the replay worker), it answers the same', (t) => {
  const book = new DropBook();
  for (let i = 0; i < 5000; i++) book.job(id(i), 3, 1_800_000_000_000 + i * 1000);
  const moved = DropBook.fromState(book.toState());
  for (let i = 0; i < 5000; i += 7) t.is(moved.other(id(i), 3), book.other(id(i), 3));
  t.is(moved.other(id(99_999), 3), 0);
  moved.job(id(99_999), 3, 1_900_000_000_000);
  t.is(moved.other(id(99_999), 3), 1_900_000_000_000);
});
