import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServerError, TimeoutError, WorkqClient, worker } from '../../src/client/index.js';
import { fakeServer, type FakeCommand } from '../helpers/client-fake-server.js';
import { eventually } from '../helpers/waits.js';

const A = '8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e';
const B = '1d2c3b4a-5e6f-4a1b-8c2d-3e4f5a6b7c8d';

function leaseReply(id: string, payload: string): string {
  return `+OK 1\r\n${id} q 5000 ${payload.length}\r\n${payload}\r\n`;
}

/**
 * Answers polls (`lease … 0`) with -TIMEOUT and a waiting lease with `job` after `delayMs`;
 * `replied()` says whether that reply has been written.
 */
function oneJob(id: string, delayMs: number) {
  let replied = false;
  const answer = (c: FakeCommand) => {
    if (c.args[0] !== 'lease') return '+OK\r\n';
    if (c.args.at(-1) === '0') return '-TIMEOUT\r\n';
    return (socket: import('node:net').Socket) => setTimeout(() => socket.write(leaseReply(id, id.slice(0, 4)), () => (replied = true)), delayMs);
  };
  return Object.assign(answer, { replied: () => replied });
}

test('a multi-server lease keeps a job that arrives after the winner for the next lease', async (t) => {
  const late = oneJob(B, 60);
  const first = await fakeServer(oneJob(A, 10));
  const second = await fakeServer(late);
  const client = new WorkqClient({ servers: [first.address, second.address] });
  t.teardown(async () => {
    await client.close();
    await first.close();
    await second.close();
  });
  const won = await client.lease(['q'], 1000);
  t.is(won.id, A);
  t.is(won.server, first.address);
  t.true(await eventually(late.replied), 'the second server answered after the first');
  // A few turns of the event loop for the client to read that reply (same process, loopback).
  await sleep(100);
  const sent = first.commands.length + second.commands.length;
  const kept = await client.lease(['other', 'q'], 1000);
  t.is(kept.id, B);
  t.is(kept.server, second.address);
  t.is(first.commands.length + second.commands.length, sent);
  // A poll goes to each server, then a waiting lease with what is left of the wait.
  const lines = first.commands.map((c) => c.line);
  t.is(lines.length, 2);
  t.is(lines[0], 'lease q 0');
  t.regex(lines[1] ?? '', /^lease q \d+$/);
});

test('a multi-server lease times out when every server has nothing', async (t) => {
  const quiet = () => (c: FakeCommand) =>
    c.args.at(-1) === '0' ? '-TIMEOUT\r\n' : (s: import('node:net').Socket) => setTimeout(() => s.write('-TIMEOUT\r\n'), 50);
  const first = await fakeServer(quiet());
  const second = await fakeServer(quiet());
  const client = new WorkqClient({ servers: [first.address, second.address] });
  t.teardown(async () => {
    await client.close();
    await first.close();
    await second.close();
  });
  await t.throwsAsync(client.lease('q', 100), { instanceOf: TimeoutError });
  await t.throwsAsync(client.lease('q', 0), { instanceOf: TimeoutError });
});

test('the worker survives lease errors, reports them and goes on', async (t) => {
  let leases = 0;
  const completed: string[] = [];
  const fake = await fakeServer((c) => {
    if (c.args[0] === 'complete') {
      completed.push(`${c.args[1]} ${c.block?.toString()}`);
      return '+OK\r\n';
    }
    leases += 1;
    if (leases <= 2) return '-SERVER-ERROR Read-only mode triggered by cmdlog circuit breaker\r\n';
    if (leases === 3) return leaseReply(A, 'ab');
    return (s) => setTimeout(() => s.write('-TIMEOUT\r\n'), 30);
  });
  const client = new WorkqClient({ servers: [fake.address] });
  const errors: unknown[] = [];
  const w = worker(client, 'q', (job) => Buffer.from(`done ${job.payload.toString()}`), {
    leaseTimeoutMs: 30,
    onError: (error) => errors.push(error),
  });
  t.teardown(async () => {
    await w.close();
    await client.close();
    await fake.close();
  });
  t.true(await eventually(() => completed.length > 0));
  t.deepEqual(completed, [`${A} done ab`]);
  t.is(errors.length, 2);
  t.true(errors[0] instanceof ServerError);
});

test('a worker whose client is closed stops by itself', async (t) => {
  const fake = await fakeServer(() => (s) => setTimeout(() => s.write('-TIMEOUT\r\n'), 20));
  const client = new WorkqClient({ servers: [fake.address] });
  t.teardown(() => fake.close());
  const errors: unknown[] = [];
  const w = worker(client, 'q', () => undefined, { leaseTimeoutMs: 20, onError: (e) => errors.push(e) });
  await sleep(50);
  await client.close();
  await w.close();
  t.deepEqual(errors, []);
});
