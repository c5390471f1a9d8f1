import test from 'ava';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClientError, NotFoundError, TimeoutError, WorkqClient, connect } from '../../src/client/index.js';
import { pending } from '../helpers/waits.js';
import { startTestServer } from '../helpers/wire.js';

async function setup(t: import('ava').ExecutionContext): Promise<WorkqClient> {
  const server = await startTestServer();
  const client = connect(`127.0.0.1:${server.port}`);
  t.teardown(async () => {
    await client.close();
    await server.stop();
  });
  return client;
}

const q = () => `q-${randomUUID().slice(0, 8)}`;

test('add, inspect, lease, complete, result, delete', async (t) => {
  const client = await setup(t);
  const name = q();
  const before = Date.now();
  const id = await client.add(name, 'ping\r\n', { ttrMs: 5000, ttlMs: 60000, priority: 10, maxAttempts: 3, maxFails: 2 });
  t.regex(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const info = await client.inspectJob(id);
  t.like(info, { id, name, ttrMs: 5000, ttlMs: 60000, maxAttempts: 3, attempts: 0, maxFails: 2, fails: 0, priority: 10, state: 'new', time: null });
  t.deepEqual(info.payload, Buffer.from('ping\r\n'));
  const created = info.created.getTime();
  // inspect gives whole seconds
  t.true(
    Math.floor(before / 1000) * 1000 <= created && created <= Date.now(),
    `created ${info.created.toISOString()}, added after ${new Date(before).toISOString()}`,
  );
  t.deepEqual(await client.inspectJobs(name), [info]);
  t.deepEqual(await client.inspectQueue(name), { name, readyLen: 1, scheduledLen: 0, paused: false });
  t.true((await client.inspectQueues()).some((queue) => queue.name === name));

  const job = await client.lease([name], 1000);
  t.like(job, { id, name, ttrMs: 5000 });
  t.deepEqual(job.payload, Buffer.from('ping\r\n'));
  t.is((await client.inspectJob(id)).state, 'leased');
  await t.throwsAsync(client.lease(name, 50), { instanceOf: TimeoutError });

  await client.complete(id, Buffer.from([0, 13, 10, 255]));
  await t.throwsAsync(client.complete(id, 'again'), { instanceOf: ClientError, message: 'Duplicate result' });
  t.deepEqual(await client.result(id), { id, success: true, result: Buffer.from([0, 13, 10, 255]) });
  await client.delete(id);
  await t.throwsAsync(client.delete(id), { instanceOf: NotFoundError });
  await t.throwsAsync(client.result(id, 100), { instanceOf: NotFoundError });
  await t.throwsAsync(client.inspectJob(id), { instanceOf: NotFoundError });
});

test('duplicate add and the server side checks', async (t) => {
  const client = await setup(t);
  const id = randomUUID();
  await client.add('dup', 'x', { id });
  const duplicate = await t.throwsAsync(client.add('dup', 'x', { id }), { instanceOf: ClientError });
  t.is(duplicate.text, 'Duplicate job');
  await t.throwsAsync(client.add('q', 'x', { ttrMs: 0 }), { instanceOf: ClientError, message: 'Invalid TTR' });
  await t.throwsAsync(client.add('q', 'x', { ttlMs: 2592000001 }), { instanceOf: ClientError, message: 'Invalid TTL' });
  await t.throwsAsync(client.add('q', 'x', { id: '6ba7b810-9dad-11d1-80b4-00c04fd430c4' }), { instanceOf: ClientError, message: 'Invalid ID' });
  await t.throwsAsync(client.add('q', 'x', { maxAttempts: 256 }), { instanceOf: ClientError, message: 'Invalid Max Attempts' });
  await t.throwsAsync(client.add('q', Buffer.alloc(1048577)), { instanceOf: ClientError, message: 'Invalid payload size' });
  await t.throwsAsync(client.inspectQueue('nope-never'), { instanceOf: NotFoundError });
  await t.throwsAsync(client.inspectJobs('nope-never'), { instanceOf: NotFoundError });
  await t.throwsAsync(client.inspectQueues({ limit: 101 }), { instanceOf: ClientError, message: 'Invalid limit' });
  await t.throwsAsync(client.lease('q', 86400001), { instanceOf: ClientError, message: 'Invalid wait timeout' });
  // The connection is still in step after all those errors.
  t.truthy(await client.add('q', 'still fine'));
});

test('a maximum-size payload round-trips', async (t) => {
  const client = await setup(t);
  const payload = Buffer.alloc(1048576, 0x0a);
  const id = await client.add('big', payload);
  const job = await client.lease('big', 1000);
  t.is(job.id, id);
  // Buffer.equals: ava's deepEqual formats megabytes slowly.
  t.true(job.payload.equals(payload));
  t.true((await client.inspectJob(id)).payload.equals(payload));
});

test('schedule with a Date and with the wire string', async (t) => {
  const client = await setup(t);
  const name = q();
  const later = await client.schedule(name, 'mon', '2030-01-01T00:00:00Z', { priority: 2 });
  // Far enough ahead to be still scheduled at the inspect below on a loaded machine.
  const soon = await client.schedule(name, 'now', new Date(Date.now() + 3000));
  const scheduled = await client.inspectScheduledJobs(name);
  t.deepEqual(
    scheduled.map((job) => job.id),
    [later, soon],
  );
  t.deepEqual(scheduled[0]?.time, new Date('2030-01-01T00:00:00Z'));
  await t.throwsAsync(client.schedule(name, 'x', '2030-02-30T00:00:00Z'), { instanceOf: ClientError, message: 'Invalid Time' });
  const job = await client.lease(name, 10_000);
  t.is(job.id, soon);
  t.deepEqual(await client.inspectQueue(name), { name, readyLen: 0, scheduledLen: 1, paused: false });
});

test('run waits for a worker; fail reaches run and result', async (t) => {
  const client = await setup(t);
  const name = q();
  const running = pending(client.run(name, 'img', { ttrMs: 5000, timeoutMs: 5000 }));
  const job = await client.lease(name, 2000);
  t.deepEqual(job.payload, Buffer.from('img'));
  await client.complete(job.id, 'small');
  t.deepEqual(await running, { id: job.id, success: true, result: Buffer.from('small') });
  await t.throwsAsync(client.run(name, 'x', { timeoutMs: 100 }), { instanceOf: TimeoutError });

  const id = await client.add('email', 'hello');
  const waiting = pending(client.result(id, 5000));
  await sleep(50);
  await client.fail(id, 'bounced');
  t.deepEqual(await waiting, { id, success: false, result: Buffer.from('bounced') });
  await t.throwsAsync(client.fail(randomUUID(), 'x'), { instanceOf: NotFoundError });
});

test('inspect server', async (t) => {
  const client = await setup(t);
  const info = await client.inspectServer();
  t.true(info.activeClients >= 1);
  t.is(info.evictedJobs, 0);
  t.true(info.started.getTime() <= Date.now());
  t.is(info.keys['active-clients'], String(info.activeClients));
  t.deepEqual(await client.inspectServers(), [{ ...info, activeClients: (await client.inspectServer()).activeClients }]);
});

test('touch, pause and resume (protocol extensions)', async (t) => {
  const client = await setup(t);
  const name = q();
  const id = await client.add(name, 'x', { ttrMs: 1000 });
  const notLeased = await t.throwsAsync(client.touch(id), { instanceOf: ClientError });
  t.is(notLeased?.text, 'Job not leased');
  await t.throwsAsync(client.touch(randomUUID()), { instanceOf: NotFoundError });
  await t.throwsAsync(client.touch('not an id'), { instanceOf: ClientError, message: 'Invalid ID' });
  await t.throwsAsync(client.touch(id, { ttrMs: 0 }), { instanceOf: ClientError, message: 'Invalid TTR' });
  const job = await client.lease(name, 0);
  await client.touch(job.id, { server: job.server, ttrMs: 60_000 });
  await client.touch(job.id);
  await client.complete(job.id, 'ok');

  await client.pause(name);
  t.deepEqual(await client.inspectQueue(name), { name, readyLen: 0, scheduledLen: 0, paused: true });
  await client.add(name, 'held');
  await t.throwsAsync(client.lease(name, 50), { instanceOf: TimeoutError });
  const waiting = client.lease(name, 5000);
  await sleep(50);
  await client.resume(name);
  t.is((await waiting).payload.toString(), 'held');
  t.deepEqual(await client.inspectQueue(name), { name, readyLen: 0, scheduledLen: 0, paused: false });
  await t.throwsAsync(client.pause('bad name'), { instanceOf: ClientError, message: 'Invalid Name' });
});

test('jobs by state, retry and retryFailed (protocol extensions)', async (t) => {
  const client = await setup(t);
  const name = q();
  const a = await client.add(name, 'a', { maxAttempts: 3 });
  const b = await client.add(name, 'b', { maxAttempts: 3 });
  const c = await client.add(name, 'c', { maxAttempts: 3 });
  const first = await client.lease(name, 0);
  await client.fail(first.id, 'broken');
  const second = await client.lease(name, 0);
  await client.complete(second.id, 'fine');
  await client.lease(name, 0);
  const ids = (jobs: { id: string }[]) => jobs.map((j) => j.id);
  t.deepEqual(ids(await client.inspectJobsByState(name, 'failed')), [a]);
  t.deepEqual(ids(await client.inspectJobsByState(name, 'completed')), [b]);
  t.deepEqual(ids(await client.inspectJobsByState(name, 'leased')), [c]);
  t.deepEqual(ids(await client.inspectJobsByState(name, 'ready')), []);
  await t.throwsAsync(client.inspectJobsByState('no-such-queue', 'failed'), { instanceOf: NotFoundError });
  await t.throwsAsync(client.retry(b), { instanceOf: ClientError, message: 'Job not failed' });
  await client.retry(a);
  t.like(await client.inspectJob(a), { state: 'new', attempts: 0, fails: 0 });
  await client.fail((await client.lease(name, 0)).id, 'again');
  await client.fail(c, 'too');
  t.is(await client.retryFailed(name), 2);
  t.is(await client.retryFailed(name), 0);
  t.deepEqual(ids(await client.inspectJobsByState(name, 'ready')).sort(), [a, c].sort());
  await t.throwsAsync(client.retryFailed('no-such-queue'), { instanceOf: NotFoundError });
});
