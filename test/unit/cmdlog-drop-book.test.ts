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

const T = 1_800_000_000_000;

test('drop book: a job record and the records after it drop once the job has expired', (t) => {
  const book = new DropBook();
  const a = id(1);
  t.is(book.other(a, 3), 0, 'no add seen: droppable at once');
  const add = book.job(a, 3, T + 500);
  const start = book.other(a, 3);
  const second = book.job(a, 3, T + 100);
  const complete = book.other(a, 3);
  for (const r of [add, start, second, complete]) {
    t.false(book.droppable(r, T + 500), 'not at its expiration');
    t.true(book.droppable(r, T + 501), 'just after the latest expiration of its adds');
  }
  t.is(book.openLives, 1);
  book.prune(T + 500);
  t.is(book.openLives, 1);
  book.prune(T + 501);
  t.is(book.openLives, 0, 'an expired job is forgotten');
  t.is(book.other(a, 3), 0);
});

test('drop book: a delete retires the earlier records once durable, and goes itself once its adds are gone', (t) => {
  const book = new DropBook();
  const a = id(7);
  const add = book.job(a, 3, T + 86_400_000);
  const start = book.other(a, 3);
  const complete = book.other(a, 3);
  const del = book.end(a, 3);
  t.is(book.openLives, 0, 'the ID is forgotten at its delete');
  t.is(book.other(a, 3), 0, 'a record after the delete finds no job');
  for (const r of [add, start, complete, del]) t.false(book.droppable(r, T), 'nothing before the delete is durable');
  book.durable(del);
  t.true(book.droppable(add, T));
  t.true(book.droppable(start, T));
  t.true(book.droppable(complete, T));
  t.false(book.droppable(del, T), 'the delete stays while its add is in the log');
  t.false(book.dropped(start));
  t.false(book.droppable(del, T));
  t.true(book.dropped(add), 'the last add gone: the delete may go');
  t.true(book.droppable(del, T));
  t.false(book.dropped(complete));
  t.is(book.lives, 1);
  t.false(book.dropped(del));
  t.is(book.lives, 0, 'nothing about the ID is left');
});

test('drop book: a completed job keeps its records until its TTL, a failed one too', (t) => {
  const book = new DropBook();
  const add = book.job(id(1), 3, T + 60_000);
  const complete = book.other(id(1), 3);
  const add2 = book.job(id(2), 3, T + 60_000);
  const fail = book.other(id(2), 3);
  for (const r of [add, complete, add2, fail]) {
    book.durable(r);
    t.false(book.droppable(r, T + 60_000));
    t.true(book.droppable(r, T + 60_001));
  }
});

test('drop book: an ID reused after its delete starts a new life that the old delete does not retire', (t) => {
  const book = new DropBook();
  const a = id(3);
  const add1 = book.job(a, 3, T + 86_400_000);
  const del1 = book.end(a, 3);
  const add2 = book.job(a, 3, T + 86_400_000);
  const start2 = book.other(a, 3);
  book.durable(del1);
  t.true(book.droppable(add1, T));
  t.false(book.droppable(add2, T), 'the new add is live');
  t.false(book.droppable(start2, T));
  t.true(book.dropped(add1));
  t.true(book.droppable(del1, T));
  t.false(book.droppable(add2, T));
  const expire2 = book.end(a, 3);
  t.false(book.droppable(add2, T), 'its end is not durable yet');
  book.durable(expire2);
  t.true(book.droppable(add2, T));
  t.true(book.droppable(start2, T));
  t.false(book.droppable(expire2, T));
});

test('drop book: an end whose adds expired is droppable without them going', (t) => {
  const book = new DropBook();
  book.job(id(1), 3, T + 1000);
  const del = book.end(id(1), 3);
  t.false(book.droppable(del, T + 1000));
  t.true(book.droppable(del, T + 1001), 'replay skips the expired add: the delete finds nothing');
  t.is(book.end(id(2), 3), 0, 'an end without an add (a run) is droppable at once');
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
  t.true(book.other(base, 3) < 0);
});

test('drop book: a million IDs, half of them deleted in random order, are all still found', (t) => {
  const book = new DropBook();
  const n = 1_000_000;
  const buf = Buffer.alloc(16 * n);
  for (let i = 0; i < n; i++) {
    buf.writeUInt32LE(i, 16 * i);
    buf.writeUInt32LE(i * 7, 16 * i + 8);
    book.job(buf, 16 * i, T + i);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => ((a * 2654435761) >>> 0) - ((b * 2654435761) >>> 0));
  const ends = new Map<number, number>();
  for (const i of order) if (i % 2 === 0) ends.set(i, book.end(buf, 16 * i));
  t.is(book.openLives, n / 2);
  let wrong = 0;
  for (let i = 0; i < n; i++) if (book.other(buf, 16 * i) < 0 !== (i % 2 === 1)) wrong++;
  t.is(wrong, 0);
  for (let i = 1; i < n; i += 2) ends.set(i, book.end(buf, 16 * i));
  t.is(book.openLives, 0);
  book.prune(T);
  for (let i = 0; i < n; i++) if (book.other(buf, 16 * i) !== 0) wrong++;
  t.is(wrong, 0);
});

/** The rules of docs/command-log.md 11.4 written out: each record knows its life (null: an ID without an open one). */
interface Life {
  jobs: Rec[];
  end: Rec | null;
}
interface Rec {
  kind: 'job' | 'other' | 'end';
  exp: number;
  life: Life | null;
  durable: boolean;
  gone: boolean;
  value: number;
}

function modelDroppable(r: Rec, now: number): boolean {
  const life = r.life;
  if (life === null) return 0 < now;
  if (Math.max(...life.jobs.map((x) => x.exp)) < now) return true;
  if (r.kind === 'end') return life.jobs.every((x) => x.gone);
  return life.end !== null && life.end.durable;
}

test('drop book: decides like the rules of 11.4 written out per ID (property)', (t) => {
  const op = fc.oneof(
    fc.record({
      kind: fc.constantFrom('job' as const, 'other' as const, 'end' as const),
      id: fc.integer({ min: 0, max: 5 }),
      exp: fc.integer({ min: 1, max: 100 }),
    }),
    fc.record({ kind: fc.constant('durable' as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), fc.integer({ min: 0, max: 101 }), (ops, now) => {
      const book = new DropBook();
      const open = new Map<number, Life>();
      const all: Rec[] = [];
      for (const o of ops) {
        if (o.kind === 'durable' || o.kind === 'drop') {
          const live = all.filter((r) => !r.gone);
          if (live.length === 0) continue;
          const r = live[o.pick % live.length]!;
          if (o.kind === 'durable') {
            r.durable = true;
            book.durable(r.value);
          } else if (r.durable && book.droppable(r.value, now)) {
            r.gone = true;
            book.dropped(r.value);
          }
          continue;
        }
        const buf = id(o.id);
        const value = o.kind === 'job' ? book.job(buf, 3, o.exp) : o.kind === 'other' ? book.other(buf, 3) : book.end(buf, 3);
        let life = open.get(o.id) ?? null;
        if (life === null && o.kind === 'job') {
          life = { jobs: [], end: null };
          open.set(o.id, life);
        }
        const r: Rec = { kind: o.kind, exp: o.exp, life, durable: false, gone: false, value };
        all.push(r);
        if (life !== null && o.kind === 'job') life.jobs.push(r);
        if (life !== null && o.kind === 'end') {
          life.end = r;
          open.delete(o.id);
        }
      }
      return all.every((r) => r.gone || book.droppable(r.value, now) === modelDroppable(r, now));
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('drop book: moved as its state (to or from the replay worker), it answers the same', (t) => {
  const book = new DropBook();
  const values: number[] = [];
  for (let i = 0; i < 5000; i++) values.push(book.job(id(i), 3, T + i * 1000));
  for (let i = 0; i < 5000; i += 3) book.durable(book.end(id(i), 3));
  const moved = DropBook.fromState(book.toState());
  for (let i = 0; i < 5000; i++) t.is(moved.droppable(values[i]!, T), i % 3 === 0);
  t.is(moved.other(id(99_999), 3), 0);
  t.true(moved.droppable(moved.job(id(99_999), 3, T + 5), T + 6));
});

test('drop book: sequential IDs (a counter in the last bytes, as clients make them) spread over all its tables', (t) => {
  const book = new DropBook();
  const n = 16_384;
  for (let i = 0; i < n; i++) {
    const buf = Buffer.alloc(3 + 16 + 2);
    buf.writeUInt32BE(i, 3 + 12);
    book.job(buf, 3, T + 1000);
  }
  const used = book.toState().tables.map((table) => table.used);
  t.is(
    used.reduce((a, b) => a + b, 0),
    n,
  );
  t.true(Math.max(...used) <= (3 * n) / used.length, `most in one table: ${Math.max(...used)} of ${n}`);
});
