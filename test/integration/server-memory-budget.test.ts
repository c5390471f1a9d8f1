import test from 'ava';
import { JOB_OVERHEAD_BYTES } from '../../src/jobs/job-memory.js';
import { instanceRegistry } from '../../src/metrics/instance-metrics.js';
import { DEFAULT_LIMITS } from '../../src/server/limits.js';
import { addCommand, leaseReply, newId } from '../helpers/replies.js';
import { parseScrape, series } from '../helpers/prometheus.js';
import { startTestServer, tempDir, Wire } from '../helpers/wire.js';

// The memory budget over real TCP (docs/operations.md, Memory budget; docs/protocol.md
// 12.9): past it add, schedule and run get one exact error line, the queue still drains,
// and once drained adds work again. A log replays whole whatever the budget.

const FULL = '-SERVER-ERROR Memory budget exhausted\r\n';
const PAYLOAD = 'x'.repeat(100);
const PER_JOB = JOB_OVERHEAD_BYTES + PAYLOAD.length;

test('budget reached: add, schedule and run refused with the exact line; lease, complete, fail and delete drain it; then adds work again', async (t) => {
  const server = await startTestServer({ limits: { ...DEFAULT_LIMITS, maxJobMemoryBytes: 3 * PER_JOB } });
  t.teardown(() => server.stop());
  const registry = instanceRegistry(server.stats, { instance: 'b', maxQueues: 10 });
  const w = await Wire.connect(server.port);
  t.teardown(() => w.close());
  const ids = [newId(), newId(), newId()];
  for (const id of ids) {
    w.send(addCommand(id, 'q', PAYLOAD));
    t.is(await w.reply('+OK\r\n'), '+OK\r\n');
  }
  const refusedId = newId();
  w.send(addCommand(refusedId, 'q', PAYLOAD));
  t.is(await w.reply(FULL), FULL);
  w.send(`schedule ${refusedId} q 1000 60000 2099-01-01T00:00:00Z 1\r\nx\r\n`);
  t.is(await w.reply(FULL), FULL);
  w.send(`run ${refusedId} q 1000 1000 1\r\nx\r\n`);
  t.is(await w.reply(FULL), FULL);
  w.send(`inspect job ${refusedId}\r\n`);
  t.is(await w.reply('-NOT-FOUND\r\n'), '-NOT-FOUND\r\n', 'a refused job was never created');

  let samples = parseScrape(await registry.metrics());
  t.is(samples.get(series('workq_memory_refused_total', { instance: 'b' })), 3);
  t.is(samples.get(series('workq_job_memory_bytes', { instance: 'b' })), 3 * PER_JOB);
  t.is(samples.get(series('workq_job_memory_budget_bytes', { instance: 'b' })), 3 * PER_JOB);
  t.is(samples.get(series('workq_commands_total', { instance: 'b', command: 'add', outcome: 'refused' })), 1);

  w.send('lease q 0\r\n');
  t.is(await w.reply(leaseReply(ids[0]!, 'q', 1000, PAYLOAD)), leaseReply(ids[0]!, 'q', 1000, PAYLOAD).toString('latin1'));
  w.send(`complete ${ids[0]} 3\r\nres\r\n`);
  t.is(await w.reply('+OK\r\n'), '+OK\r\n', 'complete adds a result past the budget: allowed, it is how a queue drains');
  w.send('lease q 0\r\n');
  t.is(await w.reply(leaseReply(ids[1]!, 'q', 1000, PAYLOAD)), leaseReply(ids[1]!, 'q', 1000, PAYLOAD).toString('latin1'));
  w.send(`fail ${ids[1]} 1\r\nf\r\n`);
  t.is(await w.reply('+OK\r\n'), '+OK\r\n');
  w.send(addCommand(newId(), 'q', PAYLOAD));
  t.is(await w.reply(FULL), FULL, 'finished jobs still hold their bytes until deleted');
  for (const id of [ids[0], ids[1]]) {
    w.send(`delete ${id}\r\n`);
    t.is(await w.reply('+OK\r\n'), '+OK\r\n');
  }
  for (let i = 0; i < 2; i++) {
    w.send(addCommand(newId(), 'q', PAYLOAD));
    t.is(await w.reply('+OK\r\n'), '+OK\r\n', 'after draining adds work again');
  }
  samples = parseScrape(await registry.metrics());
  t.is(samples.get(series('workq_job_memory_bytes', { instance: 'b' })), 3 * PER_JOB);
  t.is(samples.get(series('workq_memory_refused_total', { instance: 'b' })), 4);
});

test('a log replays whole under a smaller budget: every job back, new adds refused until it drains', async (t) => {
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const first = await startTestServer({ cmdlogPath: dir.path, sync: 'always', limits: { ...DEFAULT_LIMITS, maxJobMemoryBytes: 0 } });
  const w = await Wire.connect(first.port);
  const ids = Array.from({ length: 5 }, () => newId());
  for (const id of ids) {
    w.send(addCommand(id, 'q', PAYLOAD));
    t.is(await w.reply('+OK\r\n'), '+OK\r\n');
  }
  w.close();
  await first.stop();

  const second = await startTestServer({ cmdlogPath: dir.path, sync: 'always', limits: { ...DEFAULT_LIMITS, maxJobMemoryBytes: 2 * PER_JOB } });
  t.teardown(() => second.stop());
  const v = await Wire.connect(second.port);
  t.teardown(() => v.close());
  t.is(second.stats.engine!.jobCount, 5, 'replay restored every job past the budget');
  t.true(second.stats.engine!.jobMemoryBytes > 2 * PER_JOB);
  v.send(addCommand(newId(), 'q', PAYLOAD));
  t.is(await v.reply(FULL), FULL);
  for (const id of ids.slice(0, 4)) {
    v.send(`delete ${id}\r\n`);
    t.is(await v.reply('+OK\r\n'), '+OK\r\n');
  }
  v.send(addCommand(newId(), 'q', PAYLOAD));
  t.is(await v.reply('+OK\r\n'), '+OK\r\n');
});
