import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { ConnectionError, TimeoutError, connect } from '../../src/client/index.js';
import { startServer } from '../../src/server/server.js';
import { pending } from '../helpers/waits.js';
import { startTestServer } from '../helpers/wire.js';

test('many concurrent calls on one client, pipelined and matched in order', async (t) => {
  const server = await startTestServer();
  const client = connect(`127.0.0.1:${server.port}`);
  t.teardown(async () => {
    await client.close();
    await server.stop();
  });
  const ids = await Promise.all(Array.from({ length: 500 }, (_, i) => client.add('pipe', `payload-${i}`)));
  const infos = await Promise.all(ids.map((id) => client.inspectJob(id)));
  t.deepEqual(
    infos.map((info) => info.id),
    ids,
  );
  infos.forEach((info, i) => t.is(info.payload.toString(), `payload-${i}`));
  t.is((await client.inspectQueue('pipe')).readyLen, 500);
});

test('a blocking lease does not delay an add on the same client', async (t) => {
  const server = await startTestServer();
  const client = connect(`127.0.0.1:${server.port}`);
  t.teardown(async () => {
    await client.close();
    await server.stop();
  });
  const lease = pending(client.lease('idle', 60_000));
  await client.add('other', 'x');
  await client.inspectQueue('other');
  t.false(lease.settled(), 'the add and the inspect were answered while the lease still waited');
  await client.add('idle', 'y');
  t.is((await lease).payload.toString(), 'y');
});

test('reconnects after the server is stopped and started again on the same port', async (t) => {
  const options = (port: number) => ({
    host: '127.0.0.1',
    port,
    cmdlog: { path: null, sync: 'interval' as const, syncIntervalMs: 1000, segmentSize: 67108864, cleanIntervalMs: 300000 },
    logger: pino({ level: 'silent' }),
  });
  const first = await startServer(options(0));
  const port = first.port;
  const client = connect(`127.0.0.1:${port}`, { backoffMs: 20, maxBackoffMs: 200 });
  t.teardown(() => client.close());
  await client.add('r', 'before');
  const blocked = client.lease('nothing-here', 1000).catch((error: unknown) => error);
  await sleep(50);
  await first.stop();
  // Depending on how the server drains, the waiting lease is cut off or runs out first.
  const outcome = await blocked;
  t.true(outcome instanceof ConnectionError || outcome instanceof TimeoutError);
  await t.throwsAsync(client.add('r', 'while down'), { instanceOf: ConnectionError });

  const second = await startServer(options(port));
  t.teardown(() => second.stop());
  // A bound for a failing test only: reconnecting takes seconds on a loaded machine.
  const deadline = Date.now() + 20_000;
  let id: string | null = null;
  while (id === null && Date.now() < deadline) {
    id = await client.add('r', 'after').catch(() => null);
    if (id === null) await sleep(50);
  }
  t.truthy(id);
  t.is((await client.inspectJob(id as string)).payload.toString(), 'after');
  t.is((await client.lease('r', 1000)).id, id as string);
});
