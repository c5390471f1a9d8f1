import test from 'ava';
import { connect, serverFor, worker, type WorkqClient } from '../../src/client/index.js';
import type { WorkqServer } from '../../src/server/types.js';
import { pending } from '../helpers/waits.js';
import { startTestServer } from '../helpers/wire.js';

async function cluster(t: import('ava').ExecutionContext): Promise<{ client: WorkqClient; servers: WorkqServer[]; addresses: string[] }> {
  const servers = await Promise.all([startTestServer(), startTestServer(), startTestServer()]);
  const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
  const client = connect(addresses);
  t.teardown(async () => {
    await client.close();
    await Promise.all(servers.map((s) => s.stop()));
  });
  return { client, servers, addresses };
}

test('jobs spread over three servers by ID, each where the hash says', async (t) => {
  const { client, addresses } = await cluster(t);
  const ids = await Promise.all(Array.from({ length: 90 }, (_, i) => client.add('spread', `${i}`)));
  const perServer = await Promise.all(addresses.map((server) => client.inspectQueue('spread', { server })));
  for (const queue of perServer) t.true(queue.readyLen >= 10, `ready ${queue.readyLen}`);
  t.is(
    perServer.reduce((sum, queue) => sum + queue.readyLen, 0),
    90,
  );
  t.deepEqual(await client.inspectQueue('spread'), { name: 'spread', readyLen: 90, scheduledLen: 0, paused: false });
  for (const id of ids.slice(0, 10)) {
    const info = await client.inspectJob(id);
    t.is(info.server, serverFor(addresses, id));
  }
  // Another client with the list in another order finds every job.
  const reversed = connect([...addresses].reverse());
  t.teardown(() => reversed.close());
  for (const id of ids.slice(0, 10)) t.is((await reversed.inspectJob(id)).id, id);
  const listed = await client.inspectJobs('spread');
  t.is(listed.length, 90);
  t.deepEqual(
    (await client.inspectQueues()).filter((q) => q.name === 'spread'),
    [{ name: 'spread', readyLen: 90, scheduledLen: 0, paused: false }],
  );
  t.is((await client.inspectServers()).length, 3);
});

test('lease takes from every server; run and result work across them', async (t) => {
  const { client } = await cluster(t);
  const ids = new Set(await Promise.all(Array.from({ length: 12 }, (_, i) => client.add('all', `${i}`))));
  const leased = new Set<string>();
  for (let i = 0; i < 12; i++) {
    const job = await client.lease('all', 500);
    leased.add(job.id);
    await client.complete(job.id, 'ok', { server: job.server });
  }
  t.deepEqual([...leased].sort(), [...ids].sort());
  for (const id of ids) t.true((await client.result(id)).success);

  const running = pending(client.run('all', 'fg', { timeoutMs: 5000 }));
  const job = await client.lease('all', 2000);
  await client.complete(job.id, 'done');
  t.is((await running).result.toString(), 'done');
});

test('a worker on three servers handles the jobs of all of them', async (t) => {
  const { client } = await cluster(t);
  const w = worker(client, 'many', (job) => `r${job.payload.toString()}`, { concurrency: 3, leaseTimeoutMs: 200 });
  t.teardown(() => w.close());
  const ids = await Promise.all(Array.from({ length: 30 }, (_, i) => client.add('many', `${i}`)));
  const results = await Promise.all(ids.map((id) => client.result(id, 5000)));
  t.deepEqual(
    results.map((r) => r.result.toString()),
    ids.map((_, i) => `r${i}`),
  );
});
