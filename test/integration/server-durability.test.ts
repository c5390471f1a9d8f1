import test from 'ava';
import { startTestServer, tempDir, Wire } from '../helpers/wire.js';
import { addCommand, inspectJob, inspectServer, leaseReply, newId, queueBlock, resultReply, sleep, wireTime } from '../helpers/replies.js';
import { refused } from '../helpers/waits.js';
import type { Clock } from '../../src/jobs/types.js';
import type { WorkqServer } from '../../src/server/types.js';

// Durability over a graceful restart in-process (docs/protocol.md 8.1, docs/command-log.md 10.4, 13):
// one temp cmdlog directory, one server stopped, another started on it. Qn in the test
// titles: the decisions of docs/protocol.md section 9.

const shifted = (offsetMs: number): Clock => ({ now: () => Date.now() + offsetMs });

async function expectBytes(wire: Wire, expected: Buffer | string, timeoutMs = 20_000): Promise<boolean> {
  const want = typeof expected === 'string' ? Buffer.from(expected, 'latin1') : expected;
  const got = await wire.read(want.length, timeoutMs);
  if (!got.equals(want)) throw new Error(`expected ${JSON.stringify(want.toString('latin1'))}, got ${JSON.stringify(got.toString('latin1'))}`);
  return true;
}

async function logDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await tempDir('workq-durability-');
  t.teardown(() => dir.remove());
  return dir.path;
}

async function start(t: { teardown(fn: () => Promise<void>): void }, dir: string, clock?: Clock): Promise<{ server: WorkqServer; wire: Wire }> {
  const server = await startTestServer({ cmdlogPath: dir, ...(clock ? { clock } : {}) });
  t.teardown(() => server.stop());
  const wire = await Wire.connect(server.port);
  return { server, wire };
}

test('a restart brings back every job byte for byte; deadlines that passed while down take effect', async (t) => {
  const dir = await logDir(t);
  const first = await start(t, dir, shifted(0));
  const a = first.wire;
  const id = {
    ready: newId(),
    leasedLong: newId(),
    leasedShort: newId(),
    completed: newId(),
    failed: newId(),
    retried: newId(),
    scheduled: newId(),
    scheduledPast: newId(),
    ttlShort: newId(),
  };
  const binary = Buffer.from(Array.from({ length: 256 }, (_, b) => b));
  a.send(
    Buffer.concat([
      addCommand(id.ready, 'd-ready', binary, '1000 3600000', '-priority=3 -max-attempts=5 -max-fails=2'),
      addCommand(id.leasedLong, 'd-long', 'long', '3600000 3600000'),
      addCommand(id.leasedShort, 'd-short', 'short', '60000 3600000', '-priority=-4'),
      addCommand(id.completed, 'd-done', 'c', '1000 3600000'),
      addCommand(id.failed, 'd-failed', 'f', '1000 3600000'),
      addCommand(id.retried, 'd-retried', 'r', '5000 3600000', '-max-fails=3'),
      Buffer.from(`schedule ${id.scheduled} d-sched 1000 3600000 2030-01-01T00:00:00.123456789Z 5 -priority=2\r\nlater\r\n`),
      Buffer.from(`schedule ${id.scheduledPast} d-past 1000 3600000 ${wireTime(Date.now() - 2000)} 3\r\nnow\r\n`),
      addCommand(id.ttlShort, 'd-ttl', 't', '1000 300000'),
    ]),
  );
  t.true(await expectBytes(a, '+OK\r\n'.repeat(9)));
  a.send(`lease d-long 0\r\nlease d-short 0\r\nlease d-done 0\r\ncomplete ${id.completed} 4\r\ndone\r\nfail ${id.failed} 3\r\nerr\r\n`);
  a.send(`lease d-retried 0\r\nfail ${id.retried} 5\r\nfirst\r\nlease d-leaseonly 0\r\n`);
  t.true(
    await expectBytes(
      a,
      Buffer.concat([
        leaseReply(id.leasedLong, 'd-long', 3600000, 'long'),
        leaseReply(id.leasedShort, 'd-short', 60000, 'short'),
        leaseReply(id.completed, 'd-done', 1000, 'c'),
        Buffer.from('+OK\r\n+OK\r\n'),
        leaseReply(id.retried, 'd-retried', 5000, 'r'),
        Buffer.from('+OK\r\n-TIMEOUT\r\n'),
      ]),
    ),
  );
  const before = new Map<string, Buffer>();
  for (const [, job] of Object.entries(id)) before.set(job, (await inspectJob(a, job)).raw);
  t.is((await inspectJob(a, id.retried)).block?.keys.get('state'), '3');
  t.is((await inspectJob(a, id.scheduled)).block?.keys.get('time'), '2030-01-01T00:00:00Z');
  await first.server.stop();
  t.true(await a.waitClosed(), 'a graceful stop closes the connections');

  // Ten minutes later: the 5-minute TTL and the 1-minute TTR ran out while the server was down.
  const second = await start(t, dir, shifted(600_000));
  const b = second.wire;
  for (const job of [id.ready, id.leasedLong, id.completed, id.failed, id.retried, id.scheduled, id.scheduledPast]) {
    const now = (await inspectJob(b, job)).raw;
    t.is(now.toString('latin1'), before.get(job)!.toString('latin1'), `job ${job}`);
  }
  const short = (await inspectJob(b, id.leasedShort)).raw.toString('latin1');
  t.is(short, before.get(id.leasedShort)!.toString('latin1').replace('state 4\r\n', 'state 3\r\n'));
  t.is((await inspectJob(b, id.ttlShort)).raw.toString(), '-NOT-FOUND\r\n');
  t.is((await inspectServer(b)).get('evicted-jobs'), '0', 'a job expired before the replay is no eviction');

  b.send(`result ${id.completed} 0\r\nresult ${id.failed} 0\r\nresult ${id.retried} 0\r\n`);
  t.true(await expectBytes(b, Buffer.concat([resultReply(id.completed, 1, 'done'), resultReply(id.failed, 0, 'err'), Buffer.from('-TIMEOUT\r\n')])));
  b.send('inspect queue d-short\r\ninspect queue d-long\r\ninspect queue d-sched\r\ninspect queue d-ttl\r\ninspect queue d-leaseonly\r\n');
  const queues = `+OK 1\r\n${queueBlock('d-short', 1, 0)}+OK 1\r\n${queueBlock('d-long', 0, 0)}+OK 1\r\n${queueBlock('d-sched', 0, 1)}-NOT-FOUND\r\n-NOT-FOUND\r\n`;
  t.true(await expectBytes(b, queues), 'queues named only by a lease or by expired jobs are gone');
  b.send(`lease d-long 0\r\ncomplete ${id.leasedLong} 2\r\nok\r\nlease d-short 0\r\nlease d-retried 0\r\n`);
  t.true(
    await expectBytes(
      b,
      Buffer.concat([
        Buffer.from('-TIMEOUT\r\n+OK\r\n'),
        leaseReply(id.leasedShort, 'd-short', 60000, 'short'),
        leaseReply(id.retried, 'd-retried', 5000, 'r'),
      ]),
    ),
    'the lease still held stays held; the one that ran out is ready again',
  );
  const retried = (await inspectJob(b, id.retried)).block!;
  t.deepEqual([retried.keys.get('attempts'), retried.keys.get('fails'), retried.keys.get('state')], ['2', '1', '4']);
  b.close();
});

test('a restart in real time: a TTL and a TTR that run out while the server is stopped', async (t) => {
  const dir = await logDir(t);
  const first = await start(t, dir);
  const [expiring, leased] = [newId(), newId()];
  const began = Date.now();
  first.wire.send(
    Buffer.concat([addCommand(expiring, 'rt', 'e', '1000 600'), addCommand(leased, 'rt-lease', 'l', '600 60000'), Buffer.from('lease rt-lease 0\r\n')]),
  );
  t.true(await expectBytes(first.wire, Buffer.concat([Buffer.from('+OK\r\n+OK\r\n'), leaseReply(leased, 'rt-lease', 600, 'l')])));
  first.wire.close();
  await first.server.stop();
  await sleep(Math.max(0, began + 1000 - Date.now()));

  const second = await start(t, dir);
  const b = second.wire;
  t.is((await inspectJob(b, expiring)).raw.toString(), '-NOT-FOUND\r\n');
  const block = (await inspectJob(b, leased)).block!;
  t.deepEqual([block.keys.get('state'), block.keys.get('attempts')], ['3', '1']);
  b.send('lease rt-lease 0\r\n');
  t.true(await expectBytes(b, leaseReply(leased, 'rt-lease', 600, 'l')));
  b.close();
});

test('Q2 across a restart: the end of a run whose job was deleted leaves the new job under its ID', async (t) => {
  const dir = await logDir(t);
  const first = await start(t, dir);
  const runner = first.wire;
  const worker = await Wire.connect(first.server.port);
  const id = newId();
  runner.send(`run ${id} q2 800 200 3\r\nold\r\n`);
  worker.send('lease q2 2000\r\n');
  t.true(await expectBytes(worker, leaseReply(id, 'q2', 800, 'old')));
  await sleep(350);
  worker.send(Buffer.concat([Buffer.from(`delete ${id}\r\n`), addCommand(id, 'q2', 'new', '1000 3600000')]));
  t.true(await expectBytes(worker, '+OK\r\n+OK\r\n'));
  t.true(await expectBytes(runner, '-TIMEOUT\r\n'));
  const before = (await inspectJob(worker, id)).raw;
  t.true(before.includes('payload new\r\n'));
  runner.close();
  worker.close();
  await first.server.stop();

  const second = await start(t, dir);
  t.is((await inspectJob(second.wire, id)).raw.toString('latin1'), before.toString('latin1'));
  second.wire.close();
});

test('two servers on one cmdlog directory: the second start is refused, naming the directory', async (t) => {
  const dir = await logDir(t);
  const first = await start(t, dir);
  const error = await t.throwsAsync(refused(startTestServer({ cmdlogPath: dir }), (server) => server.stop()));
  t.true(error?.message.includes(dir), error?.message);
  first.wire.send(addCommand(newId(), 'still', 'x'));
  t.true(await expectBytes(first.wire, '+OK\r\n'), 'the first server is unharmed');
  first.wire.close();
  await first.server.stop();
  const third = await start(t, dir);
  third.wire.send('inspect queue still\r\n');
  t.true(await expectBytes(third.wire, `+OK 1\r\n${queueBlock('still', 1, 0)}`), 'the lock is released by a graceful stop');
  third.wire.close();
});

test('a graceful stop closes idle and waiting connections promptly and keeps what was acknowledged', async (t) => {
  const dir = await logDir(t);
  const first = await start(t, dir);
  const waiting = await Wire.connect(first.server.port);
  const id = newId();
  first.wire.send(addCommand(id, 'stopping', 'kept'));
  t.true(await expectBytes(first.wire, '+OK\r\n'));
  const leaseWaitMs = 30_000;
  waiting.send(`lease nothing ${leaseWaitMs}\r\n`);
  await sleep(100);
  const began = Date.now();
  await first.server.stop();
  t.true(Date.now() - began < leaseWaitMs, `stop took ${Date.now() - began} ms: it waited for the lease's wait-timeout`);
  t.true(await first.wire.waitClosed());
  t.true(await waiting.waitClosed());
  await t.throwsAsync(refused(Wire.connect(first.server.port), (wire) => wire.close()));

  const second = await start(t, dir);
  second.wire.send('lease stopping 0\r\n');
  t.true(await expectBytes(second.wire, leaseReply(id, 'stopping', 1000, 'kept')));
  second.wire.close();
});
