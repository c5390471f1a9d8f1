import test from 'ava';
import { startTestServer, Wire } from '../helpers/wire.js';
import {
  addCommand,
  inspectJob,
  inspectServer,
  leaseReply,
  newId,
  queueBlock,
  readJobBlocks,
  resultReply,
  sleep,
  sortedIds,
  wireTime,
} from '../helpers/replies.js';
import type { WorkqServer } from '../../src/server/types.js';

// Blocking commands over real TCP (docs/protocol.md 1, 5.4, 5.5, 7.3–7.9): what waits, who
// gets what, and when. Waits that a test's steps must fit in are seconds long, as a loaded
// machine can stall the event loop for over a second. "Not later than" is checked against
// the server's own clock with a marker lease, never as an upper bound on elapsed time. Section
// numbers and Qn in the test titles refer to docs/protocol.md (Qn: its section 9).

let server: WorkqServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(() => server.stop());

let queues = 0;
/** A queue name no other test uses. */
const queue = (label: string): string => `${label}-${process.pid}-${++queues}`;

async function connect(t: { teardown(fn: () => void): void }, port = server.port): Promise<Wire> {
  const wire = await Wire.connect(port);
  t.teardown(() => wire.close());
  return wire;
}

/**
 * A lease on a queue that never gets a job, waiting `ms`: its -TIMEOUT marks an instant of
 * the server's clock. The server fires deadlines in order, so a reply that must come before
 * that instant arrives while the marker is still silent, however loaded the machine.
 */
async function marker(t: { teardown(fn: () => void): void }, ms: number): Promise<Wire> {
  const wire = await connect(t);
  wire.send(`lease ${queue('marker')} ${ms}\r\n`);
  return wire;
}

/** A server whose clock stands still: a reply that comes at all from it did not wait for time to pass. */
async function frozenServer(t: { teardown(fn: () => Promise<void>): void }): Promise<WorkqServer> {
  const frozen = await startTestServer({ clock: { now: () => 1_800_000_000_000 } });
  t.teardown(() => frozen.stop());
  return frozen;
}

async function expectBytes(wire: Wire, expected: Buffer | string, timeoutMs = 20_000): Promise<boolean> {
  const want = typeof expected === 'string' ? Buffer.from(expected, 'latin1') : expected;
  const got = await wire.read(want.length, timeoutMs);
  if (!got.equals(want)) throw new Error(`expected ${JSON.stringify(want.toString('latin1'))}, got ${JSON.stringify(got.toString('latin1'))}`);
  return true;
}

test('a waiting lease holds back the later commands of its connection only', async (t) => {
  const q = queue('held');
  const other = queue('free');
  const a = await connect(t);
  const b = await connect(t);
  const id = newId();
  const started = Date.now();
  a.send(Buffer.concat([Buffer.from(`lease ${q} 4000\r\n`), addCommand(id, q, 'late')]));
  await sleep(200);
  b.send(`inspect queue ${q}\r\n`);
  t.true(await expectBytes(b, `+OK 1\r\n${queueBlock(q, 0, 0)}`), 'the add behind the lease has not run');
  const free = newId();
  b.send(Buffer.concat([addCommand(free, other, 'now'), Buffer.from(`lease ${other} 0\r\n`)]));
  t.true(await expectBytes(b, Buffer.concat([Buffer.from('+OK\r\n'), leaseReply(free, other, 1000, 'now')])));
  t.true(await a.silentFor(0), 'another connection is not held back: served while the lease still waits');

  t.true(await expectBytes(a, '-TIMEOUT\r\n+OK\r\n', 15_000), 'the lease times out, it does not get the add behind it');
  t.true(Date.now() - started >= 3990);
  b.send(`inspect queue ${q}\r\nlease ${q} 0\r\n`);
  t.true(await expectBytes(b, Buffer.concat([Buffer.from(`+OK 1\r\n${queueBlock(q, 1, 0)}`), leaseReply(id, q, 1000, 'late')])));
});

test('lease … 0 returns a ready job every time (Q8), and -TIMEOUT at once without one', async (t) => {
  const q = queue('zero');
  const wire = await connect(t);
  const ids = Array.from({ length: 20 }, newId);
  wire.send(Buffer.concat(ids.flatMap((id) => [addCommand(id, q, id.slice(0, 4)), Buffer.from(`lease ${q} 0\r\n`)])));
  t.true(await expectBytes(wire, Buffer.concat(ids.flatMap((id) => [Buffer.from('+OK\r\n'), leaseReply(id, q, 1000, id.slice(0, 4))]))));
  const still = await connect(t, (await frozenServer(t)).port);
  still.send(`lease ${q} 0\r\n`);
  t.true(await expectBytes(still, '-TIMEOUT\r\n'), 'answered by a server whose clock stands still');
});

test('multi-name lease (Q9): higher priority wins across queues, whatever the name order', async (t) => {
  const [qa, qb] = [queue('pa'), queue('pb')];
  const wire = await connect(t);
  const [low, high] = [newId(), newId()];
  wire.send(Buffer.concat([addCommand(low, qa, 'low', '1000 60000', '-priority=1'), addCommand(high, qb, 'high', '1000 60000', '-priority=5')]));
  t.true(await expectBytes(wire, '+OK\r\n+OK\r\n'));
  wire.send(`lease ${qa} ${qb} 0\r\nlease ${qa} ${qb} 0\r\n`);
  t.true(await expectBytes(wire, Buffer.concat([leaseReply(high, qb, 1000, 'high'), leaseReply(low, qa, 1000, 'low')])));
});

test('multi-name lease (Q9): at equal priority the earlier created job wins', async (t) => {
  const [qa, qb] = [queue('ca'), queue('cb')];
  const wire = await connect(t);
  const [early, late] = [newId(), newId()];
  wire.send(addCommand(early, qb, 'early'));
  t.true(await expectBytes(wire, '+OK\r\n'));
  await sleep(30);
  wire.send(addCommand(late, qa, 'late'));
  t.true(await expectBytes(wire, '+OK\r\n'));
  wire.send(`lease ${qa} ${qb} 0\r\nlease ${qa} ${qb} 0\r\n`);
  t.true(await expectBytes(wire, Buffer.concat([leaseReply(early, qb, 1000, 'early'), leaseReply(late, qa, 1000, 'late')])));
});

test('multi-name lease (Q9): an added job goes before a scheduled one that became ready, even if newer', async (t) => {
  const [qa, qb] = [queue('sa'), queue('sb')];
  const wire = await connect(t);
  const [scheduled, added] = [newId(), newId()];
  wire.send(`schedule ${scheduled} ${qa} 1000 60000 ${wireTime(Date.now() - 2000)} 5\r\nsched\r\n`);
  t.true(await expectBytes(wire, '+OK\r\n'));
  await sleep(30);
  wire.send(addCommand(added, qb, 'added'));
  t.true(await expectBytes(wire, '+OK\r\n'));
  wire.send(`lease ${qa} ${qb} 0\r\nlease ${qa} ${qb} 0\r\n`);
  t.true(await expectBytes(wire, Buffer.concat([leaseReply(added, qb, 1000, 'added'), leaseReply(scheduled, qa, 1000, 'sched')])));
});

test('multi-name lease (Q9): within one millisecond the job added first still wins, whatever names and IDs say', async (t) => {
  // A stopped clock: every job is created in the same millisecond (created times stay
  // strictly increasing, so a full tie of keys 1-3 cannot be made over the wire).
  const wire = await connect(t, (await frozenServer(t)).port);
  const [small, large] = sortedIds(2) as [string, string];
  wire.send(Buffer.concat([addCommand(large, 'y', 'first'), addCommand(small, 'x', 'second')]));
  t.true(await expectBytes(wire, '+OK\r\n+OK\r\n'));
  wire.send('lease x y 0\r\nlease x y 0\r\n');
  t.true(await expectBytes(wire, Buffer.concat([leaseReply(large, 'y', 1000, 'first'), leaseReply(small, 'x', 1000, 'second')])));
});

test('a waiting multi-name lease gets a job added to any of its queues', async (t) => {
  const [qa, qb] = [queue('wa'), queue('wb')];
  const a = await connect(t);
  const b = await connect(t);
  a.send(`lease ${qa} ${qb} 20000\r\n`);
  t.true(await a.silentFor(200));
  const id = newId();
  b.send(addCommand(id, qb, 'b'));
  t.true(await expectBytes(b, '+OK\r\n'));
  t.true(await expectBytes(a, leaseReply(id, qb, 1000, 'b')));
});

test('several waiting leases are served longest-waiting first', async (t) => {
  const q = queue('fair');
  const waiters = [await connect(t), await connect(t), await connect(t)];
  for (const [i, wire] of waiters.entries()) {
    wire.send(`lease ${q} ${30_000 - i * 1000}\r\n`);
    await sleep(100);
  }
  const producer = await connect(t);
  const ids = sortedIds(3);
  producer.send(Buffer.concat(ids.map((id) => addCommand(id, q, id))));
  t.true(await expectBytes(producer, '+OK\r\n'.repeat(3)));
  for (const [i, wire] of waiters.entries()) t.true(await expectBytes(wire, leaseReply(ids[i]!, q, 1000, ids[i]!)));
});

test('every result waiter gets the result (Q11)', async (t) => {
  const q = queue('results');
  const id = newId();
  const owner = await connect(t);
  owner.send(Buffer.concat([addCommand(id, q, 'job'), Buffer.from(`result ${id} 0\r\n`)]));
  t.true(await expectBytes(owner, '+OK\r\n-TIMEOUT\r\n'));
  const waiters = [await connect(t), await connect(t), await connect(t)];
  for (const wire of waiters) wire.send(`result ${id} 20000\r\n`);
  await sleep(200);
  for (const wire of waiters) t.true(await wire.silentFor(0));
  owner.send(`lease ${q} 1000\r\ncomplete ${id} 4\r\ndone\r\n`);
  t.true(await expectBytes(owner, Buffer.concat([leaseReply(id, q, 1000, 'job'), Buffer.from('+OK\r\n')])));
  for (const wire of waiters) t.true(await expectBytes(wire, resultReply(id, 1, 'done')));
});

test('a run and the result waiters on its job all get its result (Q11); then the job is gone', async (t) => {
  const q = queue('runresults');
  const id = newId();
  const runner = await connect(t);
  runner.send(`run ${id} ${q} 5000 20000 3\r\nimg\r\n`);
  const watcher = await connect(t);
  let known = false;
  for (let i = 0; i < 50 && !known; i++) {
    known = (await inspectJob(watcher, id)).block !== null;
    if (!known) await sleep(20);
  }
  t.true(known);
  const waiters = [watcher, await connect(t)];
  for (const wire of waiters) wire.send(`result ${id} 20000\r\n`);
  await sleep(100);
  const worker = await connect(t);
  worker.send(`lease ${q} 1000\r\nfail ${id} 3\r\nbad\r\n`);
  t.true(await expectBytes(worker, Buffer.concat([leaseReply(id, q, 5000, 'img'), Buffer.from('+OK\r\n')])));
  for (const wire of [runner, ...waiters]) t.true(await expectBytes(wire, resultReply(id, 0, 'bad')));
  runner.send(`result ${id} 0\r\n`);
  t.true(await expectBytes(runner, '-NOT-FOUND\r\n'));
});

test('7.9: a run whose job was leased and is completed after the wait-timeout, before the TTR, gets the result', async (t) => {
  const q = queue('runlate');
  const id = newId();
  const runner = await connect(t);
  const worker = await connect(t);
  const started = Date.now();
  runner.send(`run ${id} ${q} 10000 1500 3\r\nimg\r\n`);
  worker.send(`lease ${q} 5000\r\n`);
  t.true(await expectBytes(worker, leaseReply(id, q, 10000, 'img')));
  await sleep(Math.max(0, started + 2500 - Date.now()));
  t.true(await runner.silentFor(0), 'no -TIMEOUT at the wait-timeout while the job is leased');
  worker.send(`complete ${id} 4\r\nlate\r\n`);
  t.true(await expectBytes(worker, '+OK\r\n'));
  t.true(await expectBytes(runner, resultReply(id, 1, 'late')));
  runner.send(`inspect job ${id}\r\n`);
  t.true(await expectBytes(runner, '-NOT-FOUND\r\n'));
});

test('7.9: a run whose job was leased and never completed gets -TIMEOUT at the TTR deadline', async (t) => {
  const q = queue('runttr');
  const id = newId();
  const runner = await connect(t);
  const worker = await connect(t);
  const started = Date.now();
  runner.send(`run ${id} ${q} 4000 1500 3\r\nimg\r\n`);
  worker.send(`lease ${q} 5000\r\n`);
  t.true(await expectBytes(worker, leaseReply(id, q, 4000, 'img')));
  const afterTtr = await marker(t, 4000 + 5000);
  await sleep(Math.max(0, started + 2500 - Date.now()));
  t.true(await runner.silentFor(0), 'still waiting after the wait-timeout');
  t.true(await expectBytes(runner, '-TIMEOUT\r\n', 20_000));
  t.true(Date.now() - started >= 3990, `-TIMEOUT after ${Date.now() - started} ms`);
  t.true(await afterTtr.silentFor(0), 'the -TIMEOUT came at the TTR deadline, before a wait 5 s longer ended');
  worker.send(`complete ${id} 2\r\nno\r\ninspect job ${id}\r\n`);
  t.true(await expectBytes(worker, '-NOT-FOUND\r\n-NOT-FOUND\r\n'));
});

test('7.9: a lease of a run job that runs out before the wait-timeout requeues it; the run keeps waiting', async (t) => {
  const q = queue('runrequeue');
  const id = newId();
  const runner = await connect(t);
  const worker = await connect(t);
  runner.send(`run ${id} ${q} 200 20000 3\r\nimg\r\n`);
  worker.send(`lease ${q} 2000\r\n`);
  t.true(await expectBytes(worker, leaseReply(id, q, 200, 'img')));
  await sleep(450);
  worker.send(`lease ${q} 2000\r\n`);
  t.true(await expectBytes(worker, leaseReply(id, q, 200, 'img')));
  worker.send(`inspect job ${id}\r\ncomplete ${id} 2\r\nok\r\n`);
  const [block] = await readJobBlocks(worker);
  t.is(block?.keys.get('attempts'), '2');
  t.is(block?.keys.get('ttl'), '0');
  t.true(await expectBytes(worker, '+OK\r\n'));
  t.true(await expectBytes(runner, resultReply(id, 1, 'ok')));
});

test('7.9: a run with wait-timeout 0 times out at once and frees its ID', async (t) => {
  const q = queue('runzero');
  const id = newId();
  const wire = await connect(t, (await frozenServer(t)).port);
  wire.send(`run ${id} ${q} 1000 0 1\r\nx\r\n`);
  t.true(await expectBytes(wire, '-TIMEOUT\r\n'), 'answered by a server whose clock stands still');
  wire.send(addCommand(id, q, 'again'));
  t.true(await expectBytes(wire, '+OK\r\n'));
});

test("Q2: deleting a waiting run's job: -TIMEOUT at its wait-timeout, a new job under the ID untouched", async (t) => {
  const q = queue('rundelete');
  const id = newId();
  const runner = await connect(t);
  const other = await connect(t);
  const started = Date.now();
  runner.send(`run ${id} ${q} 1000 2500 3\r\nold\r\n`);
  await sleep(150);
  other.send(Buffer.concat([Buffer.from(`delete ${id}\r\n`), addCommand(id, q, 'new')]));
  t.true(await expectBytes(other, '+OK\r\n+OK\r\n'));
  t.true(await expectBytes(runner, '-TIMEOUT\r\n', 20_000));
  t.true(Date.now() - started >= 2490, `-TIMEOUT after ${Date.now() - started} ms`);
  await sleep(100);
  const { block } = await inspectJob(other, id);
  t.is(block?.keys.get('payload'), 'new');
  t.is(block?.keys.get('state'), '0');
  other.send(`lease ${q} 0\r\n`);
  t.true(await expectBytes(other, leaseReply(id, q, 1000, 'new')));
  t.true((await inspectServer(other)).has('active-clients'), 'the server keeps running');
});

test('Q2: deleting a leased run job before its wait-timeout: -TIMEOUT at the wait-timeout, not the TTR', async (t) => {
  const q = queue('rundeleteleased');
  const id = newId();
  const runner = await connect(t);
  const worker = await connect(t);
  const started = Date.now();
  runner.send(`run ${id} ${q} 60000 2500 3\r\nold\r\n`);
  worker.send(`lease ${q} 5000\r\n`);
  t.true(await expectBytes(worker, leaseReply(id, q, 60000, 'old')));
  const beforeTtr = await marker(t, 30_000);
  worker.send(`delete ${id}\r\n`);
  t.true(await expectBytes(worker, '+OK\r\n'));
  t.true(await expectBytes(runner, '-TIMEOUT\r\n', 30_000));
  t.true(Date.now() - started >= 2490, `-TIMEOUT after ${Date.now() - started} ms`);
  t.true(await beforeTtr.silentFor(0), 'the -TIMEOUT came well before the TTR deadline');
  worker.send(`complete ${id} 1\r\nx\r\n`);
  t.true(await expectBytes(worker, '-NOT-FOUND\r\n'));
});

test("Q2: deleting a run job during the TTR wait: -TIMEOUT at the TTR deadline, the ID's new job untouched", async (t) => {
  const q = queue('rundeletettr');
  const id = newId();
  const runner = await connect(t);
  const worker = await connect(t);
  const started = Date.now();
  runner.send(`run ${id} ${q} 5000 1500 3\r\nold\r\n`);
  worker.send(`lease ${q} 5000\r\n`);
  t.true(await expectBytes(worker, leaseReply(id, q, 5000, 'old')));
  await sleep(Math.max(0, started + 2500 - Date.now()));
  t.true(await runner.silentFor(0));
  worker.send(Buffer.concat([Buffer.from(`delete ${id}\r\n`), addCommand(id, q, 'new', '1000 60000', '-priority=9')]));
  t.true(await expectBytes(worker, '+OK\r\n+OK\r\n'));
  t.true(await expectBytes(runner, '-TIMEOUT\r\n', 20_000));
  t.true(Date.now() - started >= 4990, `-TIMEOUT after ${Date.now() - started} ms`);
  await sleep(100);
  const { block } = await inspectJob(worker, id);
  t.is(block?.keys.get('payload'), 'new');
  t.is(block?.keys.get('priority'), '9');
  t.is(block?.keys.get('state'), '0');
});

test('7.5: -max-fails=3 retries the first two fails, the third is final; result waiters wait for it', async (t) => {
  const q = queue('maxfails');
  const id = newId();
  const worker = await connect(t);
  const waiter = await connect(t);
  worker.send(addCommand(id, q, 'job', '5000 60000', '-max-fails=3'));
  t.true(await expectBytes(worker, '+OK\r\n'));
  waiter.send(`result ${id} 30000\r\n`);
  for (let attempt = 1; attempt <= 3; attempt++) {
    worker.send(`lease ${q} 1000\r\nfail ${id} 2\r\ne${attempt}\r\n`);
    t.true(await expectBytes(worker, Buffer.concat([leaseReply(id, q, 5000, 'job'), Buffer.from('+OK\r\n')])));
    const { block } = await inspectJob(worker, id);
    t.is(block?.keys.get('fails'), String(attempt));
    t.is(block?.keys.get('attempts'), String(attempt));
    t.is(block?.keys.get('state'), attempt < 3 ? '3' : '2');
    if (attempt < 3) {
      worker.send(`result ${id} 0\r\n`);
      t.true(await expectBytes(worker, '-TIMEOUT\r\n'));
      t.true(await waiter.silentFor(0), 'a retried fail wakes no result waiter');
    }
  }
  t.true(await expectBytes(waiter, resultReply(id, 0, 'e3')));
  worker.send(`lease ${q} 0\r\n`);
  t.true(await expectBytes(worker, '-TIMEOUT\r\n'));
});

test('7.5 with max-attempts: a retried job at its attempt limit fails at the next lease, waking waiters with the last failure (Q12)', async (t) => {
  const q = queue('maxattempts');
  const id = newId();
  const worker = await connect(t);
  const waiter = await connect(t);
  worker.send(addCommand(id, q, 'job', '5000 60000', '-max-attempts=2 -max-fails=5'));
  t.true(await expectBytes(worker, '+OK\r\n'));
  for (const result of ['r1', 'r2']) {
    worker.send(`lease ${q} 1000\r\nfail ${id} 2\r\n${result}\r\n`);
    t.true(await expectBytes(worker, Buffer.concat([leaseReply(id, q, 5000, 'job'), Buffer.from('+OK\r\n')])));
  }
  waiter.send(`result ${id} 20000\r\n`);
  await sleep(100);
  worker.send(`lease ${q} 300\r\n`);
  t.true(await expectBytes(worker, '-TIMEOUT\r\n'));
  t.true(await expectBytes(waiter, resultReply(id, 0, 'r2')));
  const { block } = await inspectJob(worker, id);
  t.deepEqual([block?.keys.get('state'), block?.keys.get('attempts'), block?.keys.get('fails')], ['2', '2', '2']);
});

test('7.5: max-fails 0 and 1 both make the first fail final', async (t) => {
  const q = queue('maxfailsone');
  const wire = await connect(t);
  for (const flags of ['', '-max-fails=0', '-max-fails=1']) {
    const id = newId();
    wire.send(Buffer.concat([addCommand(id, q, 'j', '1000 60000', flags), Buffer.from(`fail ${id} 1\r\nf\r\nresult ${id} 0\r\n`)]));
    t.true(await expectBytes(wire, Buffer.concat([Buffer.from('+OK\r\n+OK\r\n'), resultReply(id, 0, 'f')])));
  }
});

test('Q16: a job is leased at most 255 times; the 256th lease fails it and wakes its waiter with <id> 0 0', async (t) => {
  const q = queue('cap');
  const id = newId();
  const worker = await connect(t);
  const waiter = await connect(t);
  worker.send(addCommand(id, q, 'c', '1 60000'));
  t.true(await expectBytes(worker, '+OK\r\n'));
  waiter.send(`result ${id} 20000\r\n`);
  worker.send(`lease ${q} 2000\r\n`.repeat(255) + `lease ${q} 300\r\n`);
  const leased = leaseReply(id, q, 1, 'c');
  for (let i = 0; i < 255; i++) t.true(await expectBytes(worker, leased), `lease ${i + 1}`);
  t.true(await expectBytes(worker, '-TIMEOUT\r\n'));
  t.true(await expectBytes(waiter, resultReply(id, 0, '')));
  const { block } = await inspectJob(worker, id);
  t.deepEqual([block?.keys.get('state'), block?.keys.get('attempts')], ['2', '255']);
  worker.send(`result ${id} 0\r\n`);
  t.true(await expectBytes(worker, resultReply(id, 0, '')));
});

test('a scheduled job becomes ready at its time and a waiting lease gets it', async (t) => {
  const q = queue('sched');
  const id = newId();
  const wire = await connect(t);
  const worker = await connect(t);
  const at = Date.now() + 3000;
  const afterTime = await marker(t, 3000 + 5000);
  wire.send(`schedule ${id} ${q} 1000 60000 ${wireTime(at)} 4\r\nsoon\r\ninspect jobs ${q} 0 10\r\ninspect queue ${q}\r\n`);
  t.true(await expectBytes(wire, `+OK\r\n+OK 0\r\n+OK 1\r\n${queueBlock(q, 0, 1)}`));
  worker.send(`lease ${q} 20000\r\n`);
  t.true(await expectBytes(worker, leaseReply(id, q, 1000, 'soon'), 20_000));
  const now = Date.now();
  t.true(now >= at - 1, `leased ${at - now} ms before its time`);
  t.true(await afterTime.silentFor(0), 'leased at its time, before a wait 5 s longer ended');
  const { block } = await inspectJob(wire, id);
  t.is(block?.keys.get('time'), wireTime(at).slice(0, 19) + 'Z');
  t.is(block?.keys.get('state'), '4');
});

test('a lease still waiting when its client goes away takes no job; a half-closed client gets -TIMEOUT', async (t) => {
  // A worker killed while its lease waits only sends FIN. Handing it the next job would
  // leave that job leased for a whole TTR, so the lease ends as if its wait ran out.
  const q = queue('gone');
  const leaver = await Wire.connect(server.port);
  leaver.send(`lease ${q} 5000\r\n`);
  await sleep(150);
  leaver.socket.end();
  t.is(await leaver.reply('-TIMEOUT\r\n'), '-TIMEOUT\r\n');
  t.true(await leaver.waitClosed());
  const wire = await connect(t);
  const id = newId();
  wire.send(Buffer.concat([addCommand(id, q, 'kept', '400 60000'), Buffer.from(`lease ${q} 0\r\n`)]));
  t.true(await expectBytes(wire, Buffer.concat([Buffer.from('+OK\r\n'), leaseReply(id, q, 400, 'kept')])));
});

test('a TTR requeue and a retried fail each wake a waiting lease', async (t) => {
  const q = queue('wake');
  const id = newId();
  const holder = await connect(t);
  const waiter = await connect(t);
  holder.send(Buffer.concat([addCommand(id, q, 'w', '300 60000', '-max-fails=2'), Buffer.from(`lease ${q} 0\r\n`)]));
  t.true(await expectBytes(holder, Buffer.concat([Buffer.from('+OK\r\n'), leaseReply(id, q, 300, 'w')])));
  waiter.send(`lease ${q} 20000\r\n`);
  t.true(await expectBytes(waiter, leaseReply(id, q, 300, 'w'), 20_000), 'the TTR requeue woke the waiting lease');
  holder.send(`lease ${q} 20000\r\n`);
  await sleep(100);
  waiter.send(`fail ${id} 1\r\nx\r\n`);
  t.true(await expectBytes(waiter, '+OK\r\n'));
  t.true(await expectBytes(holder, leaseReply(id, q, 300, 'w')), 'the retry woke the waiting lease');
  const { block } = await inspectJob(holder, id);
  t.deepEqual([block?.keys.get('attempts'), block?.keys.get('fails')], ['3', '1']);
});

test('a result waiter of a deleted job never sees a new job that reuses the ID', async (t) => {
  const q = queue('reuse');
  const id = newId();
  const waiter = await connect(t);
  const other = await connect(t);
  other.send(addCommand(id, q, 'old'));
  t.true(await expectBytes(other, '+OK\r\n'));
  waiter.send(`result ${id} 2500\r\n`);
  const afterWait = await marker(t, 2500 + 5000);
  await sleep(150);
  other.send(Buffer.concat([Buffer.from(`delete ${id}\r\n`), addCommand(id, q, 'new'), Buffer.from(`complete ${id} 3\r\nnew\r\n`)]));
  t.true(await expectBytes(other, '+OK\r\n+OK\r\n+OK\r\n'));
  t.true(await expectBytes(waiter, '-TIMEOUT\r\n', 20_000));
  t.true(await afterWait.silentFor(0), 'the -TIMEOUT came at the wait-timeout, before a wait 5 s longer ended');
  waiter.send(`result ${id} 0\r\n`);
  t.true(await expectBytes(waiter, resultReply(id, 1, 'new')), 'a result asked afterwards reads the new job');
});

test('a result waiter of a job whose TTL runs out gets -TIMEOUT', async (t) => {
  const q = queue('expire');
  const id = newId();
  const wire = await connect(t);
  wire.send(Buffer.concat([addCommand(id, q, 'e', '1000 300'), Buffer.from(`result ${id} 1500\r\ninspect job ${id}\r\n`)]));
  t.true(await expectBytes(wire, '+OK\r\n-TIMEOUT\r\n-NOT-FOUND\r\n'));
});

test('7.5: a retried fail of a scheduled job keeps it scheduled until its time', async (t) => {
  const q = queue('schedretry');
  const id = newId();
  const wire = await connect(t);
  const at = Date.now() + 3000;
  wire.send(`schedule ${id} ${q} 1000 60000 ${wireTime(at)} 1 -max-fails=2\r\ns\r\nfail ${id} 2\r\nf1\r\ninspect queue ${q}\r\nlease ${q} 0\r\n`);
  t.true(await expectBytes(wire, `+OK\r\n+OK\r\n+OK 1\r\n${queueBlock(q, 0, 1)}-TIMEOUT\r\n`));
  t.is((await inspectJob(wire, id)).block?.keys.get('state'), '3');
  wire.send(`lease ${q} 20000\r\n`);
  t.true(await expectBytes(wire, leaseReply(id, q, 1000, 's'), 20_000));
  t.true(Date.now() >= at - 1, `leased ${at - Date.now()} ms early`);
});

test('complete and a final fail of a scheduled job before its time take it out of the scheduled list', async (t) => {
  const q = queue('schedfinish');
  const [done, failed] = [newId(), newId()];
  const wire = await connect(t);
  wire.send(`schedule ${done} ${q} 1000 60000 2030-01-01T00:00:00Z 1\r\na\r\nschedule ${failed} ${q} 1000 60000 2030-01-01T00:00:00Z 1\r\nb\r\n`);
  wire.send(`complete ${done} 2\r\nok\r\nfail ${failed} 2\r\nko\r\ninspect queue ${q}\r\nresult ${done} 0\r\nresult ${failed} 0\r\n`);
  const want = Buffer.concat([
    Buffer.from(`+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK 1\r\n${queueBlock(q, 0, 0)}`),
    resultReply(done, 1, 'ok'),
    resultReply(failed, 0, 'ko'),
  ]);
  t.true(await expectBytes(wire, want));
});

test('run with the ID of a known job replies Duplicate job at once', async (t) => {
  const q = queue('rundup');
  const id = newId();
  const wire = await connect(t, (await frozenServer(t)).port);
  wire.send(Buffer.concat([addCommand(id, q, 'x'), Buffer.from(`run ${id} ${q} 1000 5000 1\r\ny\r\ninspect queue ${q}\r\n`)]));
  t.true(await expectBytes(wire, `+OK\r\n-CLIENT-ERROR Duplicate job\r\n+OK 1\r\n${queueBlock(q, 1, 0)}`), 'answered by a server whose clock stands still');
});
