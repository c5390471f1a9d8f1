import test from 'ava';
import fc from 'fast-check';
import { Engine } from '../../src/jobs/engine.js';
import type { Job } from '../../src/jobs/job.js';
import type { JobStore } from '../../src/jobs/job-store.js';
import { EMPTY_PAYLOAD, PayloadSlab, SLAB_MAX_PAYLOAD } from '../../src/jobs/payload-slab.js';
import type { RunOutcome } from '../../src/jobs/types.js';
import { FakeClock, RecordingJournal, T0, id, newJob, newRun, newScheduled } from './engine-support.js';

/** Every byte value, so a latin1 round trip that lost or widened one would show. */
const ALL_BYTES = String.fromCharCode(...Array.from({ length: 256 }, (_, b) => b));

/** A payload of `length` bytes that no other `n` gives. */
function payloadOf(n: number, length: number): string {
  const head = `${n}:`;
  return (head + ALL_BYTES.repeat(Math.ceil(length / 256) + 1)).slice(0, length);
}

const MIB = 1 << 20;

function slabOf(engine: Engine): PayloadSlab {
  return (engine as unknown as { store: JobStore }).store.payloads;
}

test('a payload reads back as text, as its length and as copied bytes, at every size, the large ones kept as strings', (t) => {
  const slab = new PayloadSlab();
  for (const length of [0, 1, 2, 6, 7, 8, 255, 256, 4095, SLAB_MAX_PAYLOAD, SLAB_MAX_PAYLOAD + 1, 1 << 20]) {
    const payload = payloadOf(length, length);
    for (const ref of [slab.store(Buffer.from(payload, 'latin1')), slab.store(Buffer.from(`xx${payload}yy`, 'latin1').subarray(2, 2 + length))]) {
      if (length === 0) t.is(ref, EMPTY_PAYLOAD);
      else t.is(ref < 0, length > SLAB_MAX_PAYLOAD);
      t.is(slab.length(ref), length);
      t.is(slab.text(ref), payload);
      const out = Buffer.alloc(length + 4, 0x2a);
      t.is(slab.copy(ref, out, 2), 2 + length);
      t.is(out.toString('latin1', 2, 2 + length), payload);
      t.is(out.toString('latin1', 0, 2) + out.toString('latin1', 2 + length), '****');
    }
  }
});

test('chunks whose entries are all freed are given back, and a freed slab holds nothing', (t) => {
  const slab = new PayloadSlab();
  const refs = Array.from({ length: 30_000 }, (_, n) => slab.store(Buffer.from(payloadOf(n, 100), 'latin1')));
  t.true(slab.chunkCount >= 2);
  // First in, first out: chunks empty in turn, and no compaction is ever due.
  for (const ref of refs) {
    slab.free(ref);
    t.false(slab.wantsCompaction);
  }
  t.is(slab.liveBytes, 0);
  t.true(slab.chunkCount <= 1);
});

test('stores, frees and compactions in any order keep every live payload intact, and compaction gives the dead bytes back (property)', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(2000), fc.integer({ min: 0, max: SLAB_MAX_PAYLOAD + 100 }), fc.nat(2)), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 2, max: 5 }),
      (steps, keepEvery) => {
        const slab = new PayloadSlab();
        const live = new Map<number, { ref: number; payload: string }>();
        let n = 0;
        for (const [count, length, order] of steps) {
          for (let i = 0; i < count; i++, n++) {
            const payload = payloadOf(n, length);
            live.set(n, {
              ref: n % 2 === 0 ? slab.store(Buffer.from(payload, 'latin1')) : slab.store(Buffer.from(`x${payload}`, 'latin1').subarray(1)),
              payload,
            });
          }
          // Frees out of order: all but one in keepEvery, from the newest (order 0), the oldest (1) or alternately (2).
          const keys = [...live.keys()];
          if (order === 0) keys.reverse();
          for (let i = 0; i < keys.length; i++) {
            if (i % keepEvery === 0 || (order === 2 && i % 2 === 0)) continue;
            slab.free(live.get(keys[i]!)!.ref);
            live.delete(keys[i]!);
          }
          if (slab.wantsCompaction) {
            const chunksBefore = slab.chunkCount;
            slab.beginCompaction();
            for (const entry of live.values()) entry.ref = slab.relocate(entry.ref);
            slab.endCompaction();
            if (slab.chunkCount > chunksBefore) return false;
          }
          for (const { ref, payload } of live.values()) {
            if (slab.length(ref) !== payload.length || slab.text(ref) !== payload) return false;
          }
        }
        return true;
      },
    ),
    { numRuns: 40 },
  );
  t.pass();
});

test('a dropped job is never read: its slot and payload space go to the next job, and reading it throws instead of showing that job', (t) => {
  const engine = new Engine(new FakeClock());
  t.is(engine.add(newJob(1, { payload: 'a'.repeat(100) })), null);
  const dropped = engine.inspectJob(id(1)) as Job;
  t.is(dropped.payload, 'a'.repeat(100));
  t.is(engine.delete(id(1)), null);
  // The slot and the chunk space are free: the next job takes both.
  t.is(engine.add(newJob(2, { payload: 'b'.repeat(100) })), null);
  const next = engine.inspectJob(id(2)) as Job;
  t.is(next.payload, 'b'.repeat(100));
  t.false(dropped.live);
  t.is(next.slot, dropped.slot, 'the slot went to the next job');
  t.throws(() => dropped.payload);
  t.throws(() => dropped.id);
  t.throws(() => dropped.state);
  t.is(engine.delete(id(1)), 'not-found');
  let leased = null as Job | null;
  engine.lease(['q'], 0, (job) => (leased = job));
  t.is(leased!.serial, next.serial);
  t.is(engine.complete(id(2), 'done'), null);
  t.is(engine.delete(id(2)), null);
  t.is(engine.add(newJob(3, { payload: 'c'.repeat(100) })), null);
  t.throws(() => leased!.payload);
  t.is(engine.inspectJob(id(3))?.payload, 'c'.repeat(100));
});

test('jobs deleted out of order compact the slab: the rest keep their payloads, and the chunks of the dead bytes are given back', (t) => {
  const engine = new Engine(new FakeClock());
  const count = 9000;
  const length = 3000;
  for (let n = 1; n <= count; n++) t.is(engine.add(newJob(n, { payload: payloadOf(n, length) })), null);
  const slab = slabOf(engine);
  const chunksFull = slab.chunkCount;
  // Two jobs of every three go, so every chunk keeps a third of its entries.
  for (let n = 1; n <= count; n++) if (n % 3 !== 0) t.is(engine.delete(id(n)), null);
  // Dead bytes stay below the live ones (past 8 MiB), plus the current chunk: without compaction all the chunks would stay.
  t.true(slab.chunkCount * MIB <= 2 * slab.liveBytes + MIB, `${slab.chunkCount} chunks of ${chunksFull}, ${slab.liveBytes} bytes live`);
  for (let n = 3; n <= count; n += 3) {
    const job = engine.inspectJob(id(n));
    if (job?.payload !== payloadOf(n, length)) t.fail(`job ${n}: payload changed`);
  }
  t.is(engine.jobCount, count / 3);
});

test('the store grows under jobs and gives its pages back as they leave in any order, and every job left keeps its fields, payload and place', (t) => {
  const clock = new FakeClock();
  const engine = new Engine(clock);
  const store = (engine as unknown as { store: JobStore }).store;
  const count = 40_000;
  for (let n = 1; n <= count; n++) {
    t.is(engine.add(newJob(n, { payload: payloadOf(n, n % 300), priority: n % 7, ttr: 1000 + n })), null);
  }
  // Lease a few, so that list and heap positions of every kind move with the jobs.
  const leased = new Set<string>();
  for (let i = 0; i < 50; i++) engine.lease(['q'], 0, (job) => leased.add(job!.id));
  t.is(store.size, count);
  // All but one job in fifty leave, in an order unrelated to their slots.
  const kept: number[] = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + ((i * 7919) % count);
    if (n % 50 === 0) kept.push(n);
    else t.is(engine.delete(id(n)), null);
  }
  t.is(store.size, kept.length);
  t.is(store.pageCount, 2, '800 jobs left of 40,000: they moved down to the first page of 16,384 slots, and one spare page is kept');
  for (const n of kept) {
    const job = engine.inspectJob(id(n));
    if (job === null || job.id !== id(n) || job.payload !== payloadOf(n, n % 300) || job.priority !== n % 7 || job.ttr !== 1000 + n) t.fail(`job ${n} changed`);
  }
  // The lists and heaps still hold exactly the jobs left, in order: leases take the ready ones by priority, then FIFO.
  const ready = kept.filter((n) => !leased.has(id(n))).sort((a, b) => (b % 7) - (a % 7) || a - b);
  const got: string[] = [];
  for (;;) {
    let job: Job | null = null;
    engine.lease(['q'], 0, (j) => (job = j));
    if (job === null) break;
    got.push((job as Job).id);
  }
  t.deepEqual(got, ready.map(id));
  // TTR ends and TTL ends still fire for the jobs left.
  clock.t += 1_000_000_000;
  engine.tick(clock.t);
  t.is(engine.jobCount, 0);
  t.is(store.size, 0);
  t.is(store.pageCount, 1, 'the free pages were given back');
});

test('jobs passing through first in, first out let the pages go as the backlog drains: the jobs left move down, and every list and heap follows them', (t) => {
  const clock = new FakeClock();
  const engine = new Engine(clock);
  const store = (engine as unknown as { store: JobStore }).store;
  // A backlog of five pages' worth, then a steady flow: each new job in, the oldest out.
  const backlog = 80_000;
  for (let n = 1; n <= backlog; n++) t.is(engine.add(newJob(n, { ttr: 1000 + n })), null);
  t.is(store.pageCount, 5);
  for (let n = backlog + 1; n <= 2 * backlog; n++) {
    t.is(engine.delete(id(n - backlog)), null);
    t.is(engine.add(newJob(n, { ttr: 1000 + n })), null);
  }
  t.is(store.pageCount, 5, 'as many pages as the backlog needs, reused');
  // Some of the newest are leased, completed and failed, with a result waiter on one: the moves must carry each kind of place.
  const lastN = 2 * backlog;
  const waited: string[] = [];
  engine.result(id(lastN), 10_000_000, (outcome) => waited.push(outcome === 'timeout' || outcome === 'not-found' ? outcome : outcome.result));
  t.is(engine.delete(id(backlog + 1)), null);
  // The backlog drains from the oldest: under a fifth of the slots taken, the jobs left (all in the top pages) move down, a few at each delete.
  let moves = 0;
  const moveTopDown = store.moveTopDown.bind(store);
  store.moveTopDown = (): number => {
    moves++;
    return moveTopDown();
  };
  let mostMoves = 0;
  for (let n = backlog + 2; n <= lastN - 3000; n++) {
    moves = 0;
    t.is(engine.delete(id(n)), null);
    mostMoves = Math.max(mostMoves, moves);
  }
  t.true(mostMoves > 0 && mostMoves <= 64, `at most ${mostMoves} moves in one delete`);
  t.true(store.pageCount <= 2, `${store.pageCount} pages for ${store.size} jobs`);
  for (let n = lastN - 2999; n <= lastN; n++) {
    const job = engine.inspectJob(id(n));
    if (job === null || job.id !== id(n) || job.ttr !== 1000 + n) t.fail(`job ${n} changed`);
  }
  // Leases take them in order; completes, fails and the waiter find them where they are now.
  const leased: string[] = [];
  for (let i = 0; i < 3000; i++) engine.lease(['q'], 0, (job) => leased.push(job!.id));
  t.deepEqual(
    leased,
    Array.from({ length: 3000 }, (_, i) => id(lastN - 2999 + i)),
  );
  t.is(engine.complete(id(lastN), 'done'), null);
  t.deepEqual(waited, ['done']);
  t.is(engine.fail(id(lastN - 1), 'no'), null);
  t.is(
    engine
      .inspectStateJobs('q', 'completed', 0, 10)
      ?.map((job) => job.id)
      .join(),
    id(lastN),
  );
  t.is(engine.inspectStateJobs('q', 'leased', 0, 1)?.[0]?.id, id(lastN - 2999));
  // TTR ends fire for the jobs left, then TTL ends take every job.
  clock.t += 1_000_000_000;
  engine.tick(clock.t);
  t.is(engine.jobCount, 0);
  t.is(store.pageCount, 1);
});

test('a move down carries scheduled jobs, runs and their waiters, and the ends of runs held back while job deadlines are held', (t) => {
  const clock = new FakeClock();
  const journal = new RecordingJournal();
  const engine = new Engine(clock, journal);
  const store = (engine as unknown as { store: JobStore }).store;
  const bulk = 40_000;
  const runs = 2000;
  for (let n = 1; n <= bulk; n++) t.is(engine.add(newJob(n, { ttl: 10_000_000 })), null);
  // Last in, so in the top page of three: scheduled jobs, and runs, the last of them with a result waiter as well.
  for (let n = bulk + 1; n <= bulk + 500; n++) t.is(engine.schedule(newScheduled(n, 100_000 + n, { ttl: 10_000_000 })), null);
  const firstRun = bulk + 501;
  const lastRun = bulk + 500 + runs;
  const ran: string[] = [];
  const record = (outcome: RunOutcome): void => void ran.push(typeof outcome === 'string' ? outcome : `${outcome.id} ${outcome.result}`);
  for (let n = firstRun; n <= lastRun; n++) engine.run(newRun(n, { name: 'r', timeout: 50_000 }), record);
  const results: string[] = [];
  engine.result(id(lastRun), 60_000, (outcome) => results.push(typeof outcome === 'string' ? outcome : outcome.result));
  const workerJobs: string[] = [];
  for (let n = firstRun; n <= lastRun; n++) engine.lease(['r'], 0, (job) => workerJobs.push(job!.id));
  t.is(workerJobs.length, runs);
  t.is(store.pageCount, 3);
  // A hot restart holds job deadlines: the runs end, but their jobs stay until the deadlines are released.
  engine.holdJobDeadlines(true);
  for (let n = firstRun; n < lastRun; n++) t.is(engine.complete(id(n), 'done'), null);
  t.is(ran.length, runs - 1);
  t.is(engine.jobCount, bulk + 500 + runs);
  // Most of the bulk goes, leaving the store just above a fifth full: removing the held run jobs takes it below, and the rest of them move down.
  for (let n = 1; n <= 31_000; n++) t.is(engine.delete(id(n)), null);
  t.is(store.pageCount, 3);
  engine.holdJobDeadlines(false);
  t.is(store.pageCount, 2, 'the jobs of the top page moved down');
  t.is(engine.jobCount, bulk - 31_000 + 500 + 1, 'every held run end took its job, wherever it had moved');
  t.is(journal.take().filter((r) => r.startsWith('expire')).length, runs - 1);
  t.is(engine.complete(id(lastRun), 'last'), null);
  t.is(ran.at(-1), `${id(lastRun)} last`);
  t.deepEqual(results, ['last'], 'the result waiter followed its job');
  t.is(engine.inspectJob(id(lastRun)), null);
  // The scheduled jobs become ready at their times, after the plain ones, in order.
  clock.t = T0 + 100_000 + bulk + 500;
  engine.tick(clock.t);
  const leased: string[] = [];
  for (let i = 0; i < bulk - 31_000 + 500; i++) engine.lease(['q'], 0, (job) => leased.push(job!.id));
  t.deepEqual(
    leased,
    Array.from({ length: bulk - 31_000 + 500 }, (_, i) => id(31_001 + i)),
  );
});

test('serials start again at 1 after 2^32 - 1 jobs, never at 0, which marks a free slot: the job made then reads as any other', (t) => {
  const engine = new Engine(new FakeClock());
  const store = (engine as unknown as { store: JobStore }).store;
  (store as unknown as { lastSerial: number }).lastSerial = 0xffff_fffe;
  t.is(engine.add(newJob(1)), null);
  t.is(engine.add(newJob(2)), null);
  const [last, first] = [engine.inspectJob(id(1))!, engine.inspectJob(id(2))!];
  t.is(last.serial, 0xffff_ffff);
  t.is(first.serial, 1);
  t.true(first.live);
  t.is(first.id, id(2));
});
