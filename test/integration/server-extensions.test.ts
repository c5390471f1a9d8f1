import test from 'ava';
import type { ExecutionContext } from 'ava';
import { addCommand, inspectJob, leaseReply, newId, queueBlock, readJobBlock, sleep } from '../helpers/replies.js';
import { startTestServer, tempDir, Wire } from '../helpers/wire.js';
import type { WorkqServer } from '../../src/server/types.js';

// touch, pause and resume (docs/protocol-extensions.md) over real TCP, byte for byte.
// Deadline tests run on a stopped clock that only the test moves: a lease cannot run
// out while the clock stands still, however slow the machine, and once the clock is
// past a deadline the server's next timer turn applies it.

const err = (text: string): string => `-CLIENT-ERROR ${text}\r\n`;
const T0 = 1_800_000_000_000;

class StoppedClock {
  t = T0;
  now(): number {
    return this.t;
  }
}

async function server(t: ExecutionContext, clock?: StoppedClock, cmdlogPath?: string): Promise<{ server: WorkqServer; wire: Wire }> {
  const s = await startTestServer({ ...(clock ? { clock } : {}), ...(cmdlogPath ? { cmdlogPath } : {}) });
  t.teardown(() => s.stop());
  const wire = await Wire.connect(s.port);
  t.teardown(() => wire.close());
  return { server: s, wire };
}

/** Sends `command` and checks that exactly `expected` comes back, and nothing after it. */
async function exchange(t: ExecutionContext, wire: Wire, command: string | Buffer, expected: string | Buffer): Promise<void> {
  wire.send(command);
  const want = typeof expected === 'string' ? expected : expected.toString('latin1');
  t.is(await wire.reply(want), want, `reply to ${String(command).split('\r\n')[0]}`);
}

/** Inspects the job until its state is `state` (the server applies a passed deadline at its next timer turn). */
async function stateBecomes(wire: Wire, id: string, state: string | null): Promise<string | null> {
  let seen: string | null = null;
  for (let i = 0; i < 200; i++) {
    const { block } = await inspectJob(wire, id);
    seen = block === null ? null : (block.keys.get('state') ?? '?');
    if (seen === state) return seen;
    await sleep(25);
  }
  return seen;
}

test('touch: syntax and every refusal, byte for byte', async (t) => {
  const { wire } = await server(t);
  const id = newId();
  const nonV4 = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
  await exchange(t, wire, 'touch\r\n', err('Invalid command args'));
  await exchange(t, wire, `touch ${id} 100 200\r\n`, err('Invalid command args'));
  await exchange(t, wire, `touch ${id} -ttr=100\r\n`, err('Invalid command args'));
  await exchange(t, wire, `touch ${id} 100 -x=1\r\n`, err('Invalid command args'));
  await exchange(t, wire, `touch ${id} -x=\r\n`, err('Invalid command flags'));
  await exchange(t, wire, 'touch garbage\r\n', err('Invalid ID'));
  await exchange(t, wire, `touch ${nonV4}\r\n`, err('Invalid ID'));
  await exchange(t, wire, 'touch garbage 0\r\n', err('Invalid ID'));
  await exchange(t, wire, `touch ${id} 0\r\n`, err('Invalid TTR'));
  await exchange(t, wire, `touch ${id} 86400001\r\n`, err('Invalid TTR'));
  await exchange(t, wire, `touch ${id} +5\r\n`, err('Invalid TTR'));
  await exchange(t, wire, `touch ${id} 4294967296\r\n`, err('Invalid TTR'));
  await exchange(t, wire, `touch ${id}\r\n`, '-NOT-FOUND\r\n');
  await exchange(t, wire, `touch ${id} 86400000\r\n`, '-NOT-FOUND\r\n');
  await exchange(t, wire, addCommand(id, 'tq', 'p'), '+OK\r\n');
  await exchange(t, wire, `touch ${id}\r\n`, err('Job not leased'));
  await exchange(t, wire, 'lease tq 0\r\n', leaseReply(id, 'tq', 1000, 'p'));
  await exchange(t, wire, `touch ${id}\r\n`, '+OK\r\n');
  await exchange(t, wire, `touch ${id.toUpperCase()} 5000\r\n`, '+OK\r\n');
  await exchange(t, wire, `complete ${id} 0\r\n\r\n`, '+OK\r\n');
  await exchange(t, wire, `touch ${id}\r\n`, err('Job not leased'));
  const failed = newId();
  await exchange(
    t,
    wire,
    Buffer.concat([addCommand(failed, 'tq', 'p'), Buffer.from(`fail ${failed} 0\r\n\r\ntouch ${failed}\r\n`)]),
    '+OK\r\n+OK\r\n' + err('Job not leased'),
  );
});

test('touch: the lease runs until ttr after the touch; TTR and max-attempts then apply as before', async (t) => {
  const clock = new StoppedClock();
  const { wire } = await server(t, clock);
  const id = newId();
  await exchange(t, wire, addCommand(id, 'tt', 'p', '100 600000', '-max-attempts=1'), '+OK\r\n');
  await exchange(t, wire, 'lease tt 0\r\n', leaseReply(id, 'tt', 100, 'p'));
  clock.t = T0 + 50;
  await exchange(t, wire, `touch ${id} 1000\r\n`, '+OK\r\n');
  clock.t = T0 + 1049;
  // Past the job's own TTR (T0 + 100), before the touched end (T0 + 1050): still leased.
  await sleep(250);
  t.is(await stateBecomes(wire, id, '4'), '4');
  await exchange(t, wire, 'lease tt 0\r\n', '-TIMEOUT\r\n');
  // touch without a TTR: the job's own 100 ms from now (T0 + 1149).
  await exchange(t, wire, `touch ${id}\r\n`, '+OK\r\n');
  clock.t = T0 + 1148;
  await sleep(250);
  t.is(await stateBecomes(wire, id, '4'), '4');
  clock.t = T0 + 1149;
  // At the end of the extended lease max-attempts 1 fails the job: a touch is no attempt.
  t.is(await stateBecomes(wire, id, '2'), '2');
  await exchange(t, wire, `touch ${id}\r\n`, err('Job not leased'));
});

test('touch: a lease that ran out is PENDING and cannot be touched back; TTL still ends a touched job', async (t) => {
  const clock = new StoppedClock();
  const { wire } = await server(t, clock);
  const id = newId();
  await exchange(t, wire, addCommand(id, 'tl', 'p', '100 2000'), '+OK\r\n');
  await exchange(t, wire, 'lease tl 0\r\n', leaseReply(id, 'tl', 100, 'p'));
  clock.t = T0 + 100;
  t.is(await stateBecomes(wire, id, '3'), '3');
  await exchange(t, wire, `touch ${id} 60000\r\n`, err('Job not leased'));
  await exchange(t, wire, 'lease tl 0\r\n', leaseReply(id, 'tl', 100, 'p'));
  await exchange(t, wire, `touch ${id} 60000\r\n`, '+OK\r\n');
  clock.t = T0 + 2000;
  t.is(await stateBecomes(wire, id, null), null);
  await exchange(t, wire, `touch ${id}\r\n`, '-NOT-FOUND\r\n');
});

test("touch: a run waiting on its lease's end waits for the touched end", async (t) => {
  const clock = new StoppedClock();
  const { server: s, wire: w } = await server(t, clock);
  const runner = await Wire.connect(s.port);
  t.teardown(() => runner.close());
  const id = newId();
  runner.send(`run ${id} tr 100 10 1\r\nx\r\n`);
  await exchange(t, w, 'lease tr 1000\r\n', leaseReply(id, 'tr', 100, 'x'));
  // The run's wait-timeout (T0 + 10) passes while the job is leased: it now waits for the lease's end.
  clock.t = T0 + 20;
  await sleep(100);
  await exchange(t, w, `touch ${id} 500\r\n`, '+OK\r\n');
  clock.t = T0 + 200;
  t.true(await runner.silentFor(250), "the run still waits past the job's own TTR");
  await exchange(t, w, `complete ${id} 4\r\ndone\r\n`, '+OK\r\n');
  t.is(await runner.reply(`+OK 1\r\n${id} 1 4\r\ndone\r\n`), `+OK 1\r\n${id} 1 4\r\ndone\r\n`);
});

test('pause and resume: syntax and refusals, byte for byte', async (t) => {
  const { wire } = await server(t);
  for (const verb of ['pause', 'resume']) {
    await exchange(t, wire, `${verb}\r\n`, err('Invalid command args'));
    await exchange(t, wire, `${verb} a b\r\n`, err('Invalid command args'));
    await exchange(t, wire, `${verb} a -x=1\r\n`, err('Invalid command args'));
    await exchange(t, wire, `${verb} bad$\r\n`, err('Invalid Name'));
    await exchange(t, wire, `${verb} ${'n'.repeat(256)}\r\n`, err('Invalid Name'));
  }
  await exchange(t, wire, 'PAUSE q\r\n', err('Unknown command'));
  await exchange(t, wire, 'inspect queue fresh\r\n', '-NOT-FOUND\r\n');
  await exchange(t, wire, 'resume fresh\r\n', '+OK\r\n');
  await exchange(t, wire, 'inspect queue fresh\r\n', '+OK 1\r\n' + queueBlock('fresh', 0, 0));
  await exchange(t, wire, 'pause fresh\r\npause fresh\r\n', '+OK\r\n+OK\r\n');
  await exchange(t, wire, 'inspect queue fresh\r\n', '+OK 1\r\nfresh 3\r\nready-len 0\r\nscheduled-len 0\r\npaused 1\r\n');
  await exchange(t, wire, 'pause before-any-job\r\n', '+OK\r\n');
  await exchange(
    t,
    wire,
    'inspect queues 0 10\r\n',
    '+OK 2\r\nbefore-any-job 3\r\nready-len 0\r\nscheduled-len 0\r\npaused 1\r\nfresh 3\r\nready-len 0\r\nscheduled-len 0\r\npaused 1\r\n',
  );
  await exchange(t, wire, 'resume fresh\r\nresume fresh\r\ninspect queue fresh\r\n', '+OK\r\n+OK\r\n+OK 1\r\n' + queueBlock('fresh', 0, 0));
});

test('pause: leases skip the queue, adds go in, waiting leases take from the others; resume hands the jobs out', async (t) => {
  const { server: s, wire } = await server(t);
  const [a1, a2, b1] = [newId(), newId(), newId()];
  await exchange(t, wire, 'pause pa\r\n', '+OK\r\n');
  await exchange(t, wire, Buffer.concat([addCommand(a1, 'pa', 'one', '1000 60000', '-priority=5'), addCommand(a2, 'pa', 'two')]), '+OK\r\n+OK\r\n');
  await exchange(t, wire, 'lease pa 0\r\n', '-TIMEOUT\r\n');
  await exchange(t, wire, 'inspect queue pa\r\n', '+OK 1\r\npa 3\r\nready-len 2\r\nscheduled-len 0\r\npaused 1\r\n');
  // A lease waiting on a paused and a running queue gets the running queue's job.
  const waiter = await Wire.connect(s.port);
  t.teardown(() => waiter.close());
  waiter.send('lease pa pb 5000\r\n');
  t.true(await waiter.silentFor(100));
  await exchange(t, wire, addCommand(b1, 'pb', 'b'), '+OK\r\n');
  t.is(await waiter.reply(leaseReply(b1, 'pb', 1000, 'b')), leaseReply(b1, 'pb', 1000, 'b').toString('latin1'));
  // Two leases wait on the paused queue; resume hands its jobs out in queue order, longest-waiting lease first.
  const first = await Wire.connect(s.port);
  const second = await Wire.connect(s.port);
  t.teardown(() => first.close());
  t.teardown(() => second.close());
  first.send('lease pa 5000\r\n');
  t.true(await first.silentFor(100));
  second.send('lease pa 5000\r\n');
  t.true(await second.silentFor(100));
  await exchange(t, wire, 'resume pa\r\n', '+OK\r\n');
  t.is(await first.reply(leaseReply(a1, 'pa', 1000, 'one')), leaseReply(a1, 'pa', 1000, 'one').toString('latin1'));
  t.is(await second.reply(leaseReply(a2, 'pa', 1000, 'two')), leaseReply(a2, 'pa', 1000, 'two').toString('latin1'));
  await exchange(t, wire, 'inspect queue pa\r\n', '+OK 1\r\n' + queueBlock('pa', 0, 0));
});

test('pause: TTR timeouts and max-fails retries go back to the paused queue and wait there', async (t) => {
  const clock = new StoppedClock();
  const { wire } = await server(t, clock);
  const [timedOut, retried] = [newId(), newId()];
  await exchange(
    t,
    wire,
    Buffer.concat([addCommand(timedOut, 'pr', 'x', '100 600000'), addCommand(retried, 'pr', 'y', '1000 600000', '-max-fails=2')]),
    '+OK\r\n+OK\r\n',
  );
  await exchange(
    t,
    wire,
    'lease pr 0\r\nlease pr 0\r\npause pr\r\n',
    leaseReply(timedOut, 'pr', 100, 'x').toString('latin1') + leaseReply(retried, 'pr', 1000, 'y').toString('latin1') + '+OK\r\n',
  );
  await exchange(t, wire, `fail ${retried} 0\r\n\r\n`, '+OK\r\n');
  clock.t = T0 + 100;
  t.is(await stateBecomes(wire, timedOut, '3'), '3');
  await exchange(t, wire, 'lease pr 0\r\ninspect queue pr\r\n', '-TIMEOUT\r\n+OK 1\r\npr 3\r\nready-len 2\r\nscheduled-len 0\r\npaused 1\r\n');
  await exchange(t, wire, 'resume pr\r\nlease pr 0\r\n', '+OK\r\n' + leaseReply(timedOut, 'pr', 100, 'x').toString('latin1'));
});

test('touch and pause survive a restart (graceful stop)', async (t) => {
  const dir = await tempDir('workq-ext-');
  t.teardown(() => dir.remove());
  const clock = new StoppedClock();
  const id = newId();
  {
    const s = await startTestServer({ cmdlogPath: dir.path, clock });
    const wire = await Wire.connect(s.port);
    await exchange(
      t,
      wire,
      Buffer.concat([addCommand(id, 'rs', 'p', '100 600000'), Buffer.from('lease rs 0\r\n')]),
      '+OK\r\n' + leaseReply(id, 'rs', 100, 'p').toString('latin1'),
    );
    await exchange(t, wire, `touch ${id} 5000\r\npause rs\r\npause other\r\nresume other\r\n`, '+OK\r\n+OK\r\n+OK\r\n+OK\r\n');
    wire.close();
    await s.stop();
  }
  clock.t = T0 + 4999;
  const { wire } = await server(t, clock, dir.path);
  await exchange(
    t,
    wire,
    'inspect queue rs\r\ninspect queue other\r\n',
    '+OK 1\r\nrs 3\r\nready-len 0\r\nscheduled-len 0\r\npaused 1\r\n+OK 1\r\n' + queueBlock('other', 0, 0),
  );
  await sleep(250);
  t.is(await stateBecomes(wire, id, '4'), '4');
  clock.t = T0 + 5000;
  t.is(await stateBecomes(wire, id, '3'), '3');
  await exchange(t, wire, 'lease rs 0\r\nresume rs\r\nlease rs 0\r\n', '-TIMEOUT\r\n+OK\r\n' + leaseReply(id, 'rs', 100, 'p').toString('latin1'));
});

test('retry flags on add and schedule: syntax, ranges and the flag count, byte for byte', async (t) => {
  const { wire } = await server(t);
  const add = (flags: string): Buffer => addCommand(newId(), 'rf', 'x', '1000 60000', flags);
  await exchange(t, wire, add('-retry-delay=0'), '+OK\r\n');
  await exchange(t, wire, add('-retry-delay=86400000 -retry-max-delay=86400000 -retry-jitter=100'), '+OK\r\n');
  await exchange(t, wire, add('-priority=1 -max-attempts=2 -max-fails=3 -retry-delay=5 -retry-max-delay=50 -retry-jitter=10'), '+OK\r\n');
  await exchange(t, wire, add('-priority=1 -max-attempts=2 -max-fails=3 -retry-delay=5 -x=1'), err('Invalid command args'));
  await exchange(t, wire, add('-a=1 -b=2 -c=3 -d=4'), err('Invalid command args'));
  await exchange(t, wire, add('-retry-delay=86400001'), err('Invalid Retry Delay'));
  await exchange(t, wire, add('-retry-delay=-1'), err('Invalid Retry Delay'));
  await exchange(t, wire, add('-retry-max-delay=x'), err('Invalid Retry Max Delay'));
  await exchange(t, wire, add('-retry-jitter=101'), err('Invalid Retry Jitter'));
  await exchange(t, wire, add('-max-fails=256 -retry-jitter=101'), err('Invalid Max Fails'));
  await exchange(t, wire, add('-priority=x -retry-delay=x'), err('Invalid Priority'));
  await exchange(t, wire, `schedule ${newId()} rf 1000 60000 2030-01-01T00:00:00Z 1 -retry-delay=x\r\nx\r\n`, err('Invalid Retry Delay'));
  await exchange(t, wire, `schedule ${newId()} rf 1000 60000 2030-01-01T00:00:00Z 1 -retry-delay=10 -retry-jitter=5\r\nx\r\n`, '+OK\r\n');
  // run reads no retry flags: one unknown flag is ignored as ever, a second one is one too many.
  await exchange(t, wire, `run ${newId()} rf 1000 0 1 -retry-delay=10\r\nx\r\n`, '-TIMEOUT\r\n');
  await exchange(t, wire, `run ${newId()} rf 1000 0 1 -priority=1 -retry-delay=10\r\nx\r\n`, err('Invalid command args'));
});

test('retry delay over TCP: the failed job waits, inspect shows retry-at, and it becomes ready at that time', async (t) => {
  const clock = new StoppedClock();
  const { wire } = await server(t, clock);
  const id = newId();
  await exchange(t, wire, addCommand(id, 'rd', 'x', '1000 600000', '-max-fails=5 -retry-delay=250 -retry-max-delay=1000'), '+OK\r\n');
  await exchange(t, wire, 'lease rd 0\r\n', leaseReply(id, 'rd', 1000, 'x'));
  clock.t = T0 + 10;
  await exchange(t, wire, `fail ${id} 4\r\ndown\r\nlease rd 0\r\n`, '+OK\r\n-TIMEOUT\r\n');
  const { raw, block } = await inspectJob(wire, id);
  t.is(block?.keys.get('state'), '3');
  t.is(block?.keys.get('retry-at'), '2027-01-15T08:00:00.260Z');
  t.regex(raw.toString('latin1'), new RegExp(`^\\+OK 1\\r\\n${id} 13\\r\\n`));
  t.regex(raw.toString('latin1'), /\r\ncreated 2027-01-15T08:00:00Z\r\nretry-at 2027-01-15T08:00:00\.260Z\r\n$/);
  await exchange(t, wire, 'inspect queue rd\r\n', '+OK 1\r\n' + queueBlock('rd', 0, 1));
  clock.t = T0 + 259;
  await sleep(300);
  await exchange(t, wire, 'lease rd 0\r\n', '-TIMEOUT\r\n');
  clock.t = T0 + 260;
  t.is(await stateBecomes(wire, id, '3'), '3');
  for (let i = 0; i < 200; i++) {
    const { block: now } = await inspectJob(wire, id);
    if (now?.keys.get('retry-at') === undefined) break;
    await sleep(25);
  }
  await exchange(t, wire, 'inspect queue rd\r\nlease rd 0\r\n', '+OK 1\r\n' + queueBlock('rd', 1, 0) + leaseReply(id, 'rd', 1000, 'x').toString('latin1'));
  // Second retry: 500 ms after this fail.
  await exchange(t, wire, `fail ${id} 0\r\n\r\n`, '+OK\r\n');
  t.is((await inspectJob(wire, id)).block?.keys.get('retry-at'), '2027-01-15T08:00:00.760Z');
});

test('jobs by state: leased, completed and failed lists, paged like inspect jobs, byte for byte', async (t) => {
  const { wire } = await server(t);
  const ids = [newId(), newId(), newId(), newId()].sort();
  const [a, b, c, d] = ids as [string, string, string, string];
  for (const what of ['leased-jobs', 'completed-jobs', 'failed-jobs']) {
    await exchange(t, wire, `inspect ${what} nope 0 10\r\n`, '-NOT-FOUND\r\n');
    await exchange(t, wire, `inspect ${what} bad$ 0 10\r\n`, err('Invalid Name'));
    await exchange(t, wire, `inspect ${what} q x 10\r\n`, err('Invalid cursor offset'));
    await exchange(t, wire, `inspect ${what} q 0 101\r\n`, err('Invalid limit'));
    await exchange(t, wire, `inspect ${what} q 0\r\n`, err('Invalid command args'));
    await exchange(t, wire, `inspect ${what} q 0 1 -x=1\r\n`, err('Invalid command args'));
  }
  await exchange(
    t,
    wire,
    Buffer.concat([addCommand(a, 'st', 'a', '1000 60000', '-priority=3'), addCommand(b, 'st', 'b'), addCommand(c, 'st', 'c'), addCommand(d, 'st', 'd')]),
    '+OK\r\n'.repeat(4),
  );
  await exchange(t, wire, 'inspect leased-jobs st 0 10\r\n', '+OK 0\r\n');
  wire.send('lease st 0\r\nlease st 0\r\nlease st 0\r\n');
  for (const id of [a, b, c]) await wire.reply(leaseReply(id, 'st', 1000, id === a ? 'a' : id === b ? 'b' : 'c'));
  await exchange(t, wire, `complete ${b} 2\r\nok\r\nfail ${c} 3\r\nbad\r\nfail ${d} 0\r\n\r\n`, '+OK\r\n+OK\r\n+OK\r\n');
  const listed = async (what: string, offset: number, limit: number): Promise<string[]> => {
    wire.send(`inspect ${what} st ${offset} ${limit}\r\n`);
    const head = (await wire.read(7)).toString('latin1');
    const count = Number(head.slice(4, 5));
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const block = await readJobBlock(wire);
      out.push(`${block.id} ${block.keys.get('state')}`);
    }
    return out;
  };
  t.deepEqual(await listed('leased-jobs', 0, 10), [`${a} 4`]);
  t.deepEqual(await listed('completed-jobs', 0, 10), [`${b} 1`]);
  t.deepEqual(await listed('failed-jobs', 0, 10), [`${c} 2`, `${d} 2`]);
  t.deepEqual(await listed('failed-jobs', 1, 1), [`${d} 2`]);
  t.deepEqual(await listed('failed-jobs', 2, 1), []);
  await exchange(t, wire, 'inspect queue st\r\n', '+OK 1\r\n' + queueBlock('st', 0, 0));
});

test('retry and retry-failed: a failed job starts over, counters reset, result dropped; every refusal byte for byte', async (t) => {
  const { wire } = await server(t);
  const [one, two, three, alive] = [newId(), newId(), newId(), newId()];
  await exchange(t, wire, 'retry\r\n', err('Invalid command args'));
  await exchange(t, wire, `retry ${one} x\r\n`, err('Invalid command args'));
  await exchange(t, wire, `retry ${one} -x=1\r\n`, err('Invalid command args'));
  await exchange(t, wire, 'retry garbage\r\n', err('Invalid ID'));
  await exchange(t, wire, 'retry 6ba7b810-9dad-11d1-80b4-00c04fd430c8\r\n', err('Invalid ID'));
  await exchange(t, wire, `retry ${one}\r\n`, '-NOT-FOUND\r\n');
  await exchange(t, wire, 'retry-failed bad$\r\n', err('Invalid Name'));
  await exchange(t, wire, 'retry-failed a b\r\n', err('Invalid command args'));
  await exchange(t, wire, 'retry-failed nope\r\n', '-NOT-FOUND\r\n');
  await exchange(
    t,
    wire,
    Buffer.concat([
      addCommand(one, 'rt', '1', '1000 60000', '-max-attempts=2'),
      addCommand(two, 'rt', '2'),
      addCommand(three, 'rt', '3'),
      addCommand(alive, 'rt', 'x'),
    ]),
    '+OK\r\n'.repeat(4),
  );
  await exchange(t, wire, `retry ${alive}\r\n`, err('Job not failed'));
  await exchange(t, wire, 'lease rt 0\r\n', leaseReply(one, 'rt', 1000, '1'));
  await exchange(t, wire, `fail ${one} 5\r\nfirst\r\nfail ${two} 0\r\n\r\ncomplete ${three} 0\r\n\r\n`, '+OK\r\n+OK\r\n+OK\r\n');
  await exchange(t, wire, `retry ${three}\r\n`, err('Job not failed'));
  await exchange(t, wire, `retry ${one}\r\n`, '+OK\r\n');
  const { block } = await inspectJob(wire, one);
  t.like(Object.fromEntries(block!.keys), { state: '0', attempts: '0', fails: '0', 'max-attempts': '2' });
  await exchange(t, wire, `result ${one} 0\r\n`, '-TIMEOUT\r\n');
  await exchange(t, wire, `retry ${one}\r\n`, err('Job not failed'));
  await exchange(t, wire, `fail ${one} 0\r\n\r\n`, '+OK\r\n');
  await exchange(t, wire, 'retry-failed rt\r\n', '+OK 1\r\nrt 1\r\nretried 2\r\n');
  await exchange(t, wire, 'retry-failed rt\r\n', '+OK 1\r\nrt 1\r\nretried 0\r\n');
  await exchange(t, wire, 'inspect queue rt\r\n', '+OK 1\r\n' + queueBlock('rt', 3, 0));
  await exchange(t, wire, 'inspect failed-jobs rt 0 10\r\n', '+OK 0\r\n');
});
