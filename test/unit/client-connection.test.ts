import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClientError, ConnectionError, NotFoundError, TimeoutError, connect } from '../../src/client/index.js';
import { fakeServer } from '../helpers/client-fake-server.js';
import { pending } from '../helpers/waits.js';

const ID = '8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e';

test('pipelined calls go out in one write and are answered in order', async (t) => {
  const fake = await fakeServer((c) => (c.args[0] === 'delete' ? '-NOT-FOUND\r\n' : '+OK\r\n'));
  const client = connect(fake.address);
  t.teardown(() => client.close().then(() => fake.close()));
  await client.inspectServer().catch(() => undefined);
  const readsBefore = fake.reads();
  const calls = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? client.add('q', `p${i}`) : client.delete(ID)));
  const settled = await Promise.allSettled(calls);
  settled.forEach((s, i) => {
    if (i % 2 === 0) t.is(s.status, 'fulfilled');
    else t.true(s.status === 'rejected' && s.reason instanceof NotFoundError);
  });
  t.true(fake.reads() - readsBefore <= 5, `reads: ${fake.reads() - readsBefore}`);
  t.is(fake.commands.filter((c) => c.args[0] === 'add').length, 100);
  t.is(fake.commands.at(-2)?.block?.toString(), 'p198');
});

test('replies split into single bytes are reassembled', async (t) => {
  const reply = Buffer.from(`+OK 1\r\n${ID} ping 5000 6\r\na\r\nb\r\n\r\n`);
  const fake = await fakeServer(() => async (socket) => {
    for (const byte of reply) {
      socket.write(Buffer.from([byte]));
      await sleep(1);
    }
  });
  const client = connect(fake.address);
  t.teardown(() => client.close().then(() => fake.close()));
  const job = await client.lease(['ping'], 1000);
  t.is(job.id, ID);
  t.deepEqual(job.payload, Buffer.from('a\r\nb\r\n'));
  t.is(job.server, fake.address);
});

test('commands carry the right bytes', async (t) => {
  const fake = await fakeServer(() => '+OK\r\n');
  const client = connect(fake.address);
  t.teardown(() => client.close().then(() => fake.close()));
  await client.add('q', Buffer.from('x\r\ny'), { id: ID, ttrMs: 5, ttlMs: 6, priority: -3, maxAttempts: 2, maxFails: 4 });
  await client.schedule('q', 'z', new Date(Date.UTC(2030, 0, 1, 0, 0, 0, 250)), { id: ID });
  await client.complete(ID, 'done');
  await client.fail(ID);
  const lines = fake.commands.map((c) => c.line);
  t.deepEqual(lines, [
    `add ${ID} q 5 6 4 -priority=-3 -max-attempts=2 -max-fails=4`,
    `schedule ${ID} q 60000 86400000 2030-01-01T00:00:00.250Z 1`,
    `complete ${ID} 4`,
    `fail ${ID} 0`,
  ]);
  t.deepEqual(fake.commands[0]?.block, Buffer.from('x\r\ny'));
});

test('strings that would break the framing are refused before sending', async (t) => {
  const fake = await fakeServer(() => '+OK\r\n');
  const client = connect(fake.address);
  t.teardown(() => client.close().then(() => fake.close()));
  const name = await t.throwsAsync(client.add('q\r\ndelete x', 'p'));
  t.true(name instanceof ClientError);
  t.is((name as ClientError).text, 'Invalid Name');
  await t.throwsAsync(client.complete(`${ID} 3`, 'x'), { instanceOf: ClientError, message: 'Invalid ID' });
  await t.throwsAsync(client.schedule('q', 'x', '2030-01-01 00:00:00Z'), { instanceOf: ClientError, message: 'Invalid Time' });
  await t.throwsAsync(client.lease([], 10), { instanceOf: ClientError });
  t.is(fake.commands.length, 0);
});

test('a blocking lease does not hold up other calls', async (t) => {
  const fake = await fakeServer((c) => (c.args[0] === 'lease' ? (s) => setTimeout(() => s.write('-TIMEOUT\r\n'), 2000) : '+OK\r\n'));
  const client = connect(fake.address);
  t.teardown(() => client.close().then(() => fake.close()));
  const lease = pending(client.lease('q', 2000));
  await sleep(50);
  await client.add('q', 'x');
  t.false(lease.settled(), 'the add was answered while the lease still waited');
  await t.throwsAsync(lease, { instanceOf: TimeoutError });
});

test('calls in flight reject when the connection drops; the next call reconnects', async (t) => {
  let drop = true;
  const fake = await fakeServer((c) => {
    if (c.args[0] === 'delete' && drop) {
      drop = false;
      return (socket) => socket.destroy();
    }
    return '+OK\r\n';
  });
  const client = connect(fake.address);
  t.teardown(() => client.close().then(() => fake.close()));
  const error = await t.throwsAsync(client.delete(ID));
  t.true(error instanceof ConnectionError);
  t.is((error as ConnectionError).server, fake.address);
  await client.delete(ID);
  t.is(fake.connections(), 2);
});

test('a refused connection rejects, and later calls retry after a backoff', async (t) => {
  const probe = await fakeServer(() => null);
  const port = probe.port;
  await probe.close();
  const client = connect(`127.0.0.1:${port}`, { backoffMs: 100 });
  t.teardown(() => client.close());
  await t.throwsAsync(client.delete(ID), { instanceOf: ConnectionError });
  const fake = await fakeServer(() => '+OK\r\n', port);
  t.teardown(() => fake.close());
  await client.delete(ID);
  t.is(fake.commands.length, 1);
});

test('a malformed reply closes the connection with ConnectionError', async (t) => {
  const fake = await fakeServer(() => '+WHAT\r\n');
  const client = connect(fake.address);
  t.teardown(() => client.close().then(() => fake.close()));
  const error = await t.throwsAsync(client.delete(ID), { instanceOf: ConnectionError });
  t.regex(error?.message ?? '', /malformed reply/);
});

test('close lets pipelined calls finish, rejects blocking ones and later calls', async (t) => {
  const fake = await fakeServer((c) => (c.args[0] === 'lease' ? null : (s) => setTimeout(() => s.write('+OK\r\n'), 100)));
  const client = connect(fake.address);
  t.teardown(() => fake.close());
  const lease = pending(client.lease('q', 10_000));
  const add = pending(client.add('q', 'x'));
  await sleep(20);
  const closing = pending(client.close());
  t.is(client.close(), closing);
  t.truthy(await add);
  await t.throwsAsync(lease, { instanceOf: ConnectionError });
  await closing;
  await t.throwsAsync(client.add('q', 'y'), { instanceOf: ConnectionError });
});
