import test from 'ava';
import { DropBook } from '../../src/cmdlog/drop-book.js';

test('drop book: a job record drops at its exact expiration, later records for its ID at the next whole second', (t) => {
  const book = new DropBook();
  t.is(book.other('a'), 0, 'no add seen: droppable at once');
  t.is(book.job('a', 1_800_000_000_500), 1_800_000_000_500);
  t.is(book.other('a'), 1_800_000_001_000);
  t.is(book.job('a', 1_800_000_000_100), 1_800_000_000_100, 'an earlier second add keeps the later expiration');
  t.is(book.other('a'), 1_800_000_001_000);
  t.is(book.job('b', 1_800_000_002_000), 1_800_000_002_000);
  t.is(book.other('b'), 1_800_000_002_000, 'a whole second stays as it is');
  book.prune(1_800_000_001_000);
  t.is(book.other('a'), 1_800_000_001_000, 'not before its second is over');
  book.prune(1_800_000_001_001);
  t.is(book.other('a'), 0);
  t.is(book.other('b'), 1_800_000_002_000);
});
