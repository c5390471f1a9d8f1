import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, worker, type LeasedJob } from '../../src/client/index.js';
import { eventually } from '../helpers/waits.js';
import { startTestServer } from '../helpers/wire.js';

async function setup(t: import('ava').ExecutionContext) {
  const server = await startTestServer();
  const client = connect(`127.0.0.1:${server.port}`);
  t.teardown(async () => {
    await client.close();
    await server.stop();
  });
  return client;
}

test('handles jobs up to the concurrency limit and reports results and errors', async (t) => {
  const client = await setup(t);
  let running = 0;
  let peak = 0;
  const errors: unknown[] = [];
  const w = worker(
    client,
    ['w'],
    async (job) => {
      running += 1;
      peak = Math.max(peak, running);
      await sleep(60);
      running -= 1;
      const text = job.payload.toString();
      if (text === 'bad') throw new Error('no good');
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- a JavaScript handler may throw a non-Error; its text must fail the job
      if (text === 'sync-bad') throw 'plain string';
      return text === 'empty' ? undefined : text.toUpperCase();
    },
    { concurrency: 3, leaseTimeoutMs: 200, onError: (e) => errors.push(e) },
  );
  t.teardown(() => w.close());
  const ids = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((p) => client.add('w', p)));
  const bad = await client.add('w', 'bad');
  const bad2 = await client.add('w', 'sync-bad');
  const empty = await client.add('w', 'empty');
  const results = await Promise.all(ids.map((id) => client.result(id, 5000)));
  t.deepEqual(
    results.map((r) => r.result.toString()),
    ['A', 'B', 'C', 'D', 'E', 'F', 'G'],
  );
  t.deepEqual(await client.result(bad, 5000), { id: bad, success: false, result: Buffer.from('no good') });
  t.deepEqual(await client.result(bad2, 5000), { id: bad2, success: false, result: Buffer.from('plain string') });
  t.deepEqual(await client.result(empty, 5000), { id: empty, success: true, result: Buffer.alloc(0) });
  t.is(peak, 3);
  t.deepEqual(errors, []);
});

test('results other than strings and Buffers: bytes as they are, other values as JSON text, a value JSON cannot encode fails the job', async (t) => {
  const client = await setup(t);
  const errors: unknown[] = [];
  const results: Record<string, unknown> = {
    object: { done: true, count: 2, tags: ['a'] },
    array: [1, 'two'],
    number: 42,
    boolean: false,
    bytes: new Uint8Array([0, 1, 255]),
    bigint: 10n,
    function: () => undefined,
    circular: (() => {
      const node: Record<string, unknown> = {};
      node['self'] = node;
      return node;
    })(),
  };
  // As from JavaScript, where nothing stops a handler from returning any value.
  const w = worker(client, 'results', (job) => results[job.payload.toString()] as string, { leaseTimeoutMs: 200, onError: (e) => errors.push(e) });
  t.teardown(() => w.close());
  const ids = new Map<string, string>();
  for (const kind of Object.keys(results)) ids.set(kind, await client.add('results', kind));
  const resultOf = async (kind: string) => {
    const { success, result } = await client.result(ids.get(kind)!, 5000);
    return { success, text: result.toString('latin1') };
  };
  t.deepEqual(await resultOf('object'), { success: true, text: '{"done":true,"count":2,"tags":["a"]}' });
  t.deepEqual(await resultOf('array'), { success: true, text: '[1,"two"]' });
  t.deepEqual(await resultOf('number'), { success: true, text: '42' });
  t.deepEqual(await resultOf('boolean'), { success: true, text: 'false' });
  t.deepEqual(await resultOf('bytes'), { success: true, text: '\x00\x01\xff' });
  const bigint = await resultOf('bigint');
  t.false(bigint.success);
  t.regex(bigint.text, /BigInt/);
  t.deepEqual(await resultOf('function'), {
    success: false,
    text: 'the handler returned a function, which is not a job result (a string, a Buffer or a JSON value)',
  });
  const circular = await resultOf('circular');
  t.false(circular.success);
  t.regex(circular.text, /circular/i);
  t.deepEqual(errors, []);
});

test('close stops leasing and waits for running jobs', async (t) => {
  const client = await setup(t);
  const started: string[] = [];
  const w = worker(
    client,
    'slow',
    async (job) => {
      started.push(job.id);
      // Long enough that the first is still running when the second starts on a loaded machine.
      await sleep(2000);
      return 'done';
    },
    { concurrency: 2, leaseTimeoutMs: 100 },
  );
  const first = await client.add('slow', '1');
  const second = await client.add('slow', '2');
  t.true(await eventually(() => started.length === 2));
  t.is(w.running, 2);
  await w.close();
  t.is(w.running, 0);
  t.true((await client.result(first)).success);
  t.true((await client.result(second)).success);
  const third = await client.add('slow', '3');
  await sleep(300);
  t.is(started.length, 2);
  t.is((await client.inspectJob(third)).state, 'new');
  t.is(w.close(), w.close());
});

test('without lease extension the signal aborts when the TTR runs out, and the job is not failed by the worker', async (t) => {
  const client = await setup(t);
  let aborted: unknown = null;
  let leases = 0;
  const w = worker(
    client,
    'ttr',
    (job, { signal }) =>
      new Promise((_, reject) => {
        leases += 1;
        signal.addEventListener('abort', () => {
          aborted = signal.reason;
          reject(new Error(`gave up on ${job.id}`));
        });
      }),
    { leaseTimeoutMs: 100, extendLease: false },
  );
  const id = await client.add('ttr', 'x', { ttrMs: 200 });
  t.true(await eventually(() => aborted !== null));
  t.is((aborted as DOMException).name, 'TimeoutError');
  await sleep(100);
  const info = await client.inspectJob(id);
  t.is(info.fails, 0);
  t.not(info.state, 'failed');
  await w.close();
  t.true(leases >= 1);
});

test('a failing complete does not stop the worker', async (t) => {
  const client = await setup(t);
  const errors: Array<[unknown, LeasedJob | null]> = [];
  const seen: string[] = [];
  const w = worker(
    client,
    'gone',
    async (job) => {
      seen.push(job.payload.toString());
      await client.delete(job.id);
      return 'late';
    },
    { leaseTimeoutMs: 100, onError: (e, job) => errors.push([e, job]) },
  );
  t.teardown(() => w.close());
  await client.add('gone', 'one');
  await client.add('gone', 'two');
  t.true(await eventually(() => errors.length >= 2));
  t.deepEqual(seen, ['one', 'two']);
  t.is(errors.length, 2);
  t.is((errors[0]?.[0] as Error).name, 'NotFoundError');
});

test('a handler running three times its TTR completes the job exactly once: the worker extends the lease', async (t) => {
  const client = await setup(t);
  const calls: string[] = [];
  const errors: unknown[] = [];
  let abortedOnce = false;
  const handler = async (job: LeasedJob, { signal }: { signal: AbortSignal }) => {
    calls.push(job.id);
    await sleep(3000);
    abortedOnce ||= signal.aborted;
    return 'done once';
  };
  // Two workers on the queue: a lease that ran out would hand the job to the other one.
  const workers = [0, 1].map(() => worker(client, 'long', handler, { leaseTimeoutMs: 100, onError: (e) => errors.push(e) }));
  t.teardown(() => Promise.all(workers.map((w) => w.close())).then(() => undefined));
  const id = await client.add('long', 'x', { ttrMs: 1000, maxAttempts: 1 });
  const outcome = await client.result(id, 10_000);
  t.deepEqual(outcome, { id, success: true, result: Buffer.from('done once') });
  await Promise.all(workers.map((w) => w.close()));
  t.deepEqual(calls, [id]);
  t.false(abortedOnce);
  t.deepEqual(errors, []);
  const info = await client.inspectJob(id);
  t.is(info.attempts, 1);
  t.is(info.state, 'completed');
});

test('a refused extension aborts the signal at once and is reported', async (t) => {
  const client = await setup(t);
  const errors: Array<[unknown, LeasedJob | null]> = [];
  let reason: unknown = null;
  let leased: LeasedJob | null = null;
  const w = worker(
    client,
    'lost',
    (job, { signal }) =>
      new Promise<string>((resolve) => {
        leased = job;
        signal.addEventListener('abort', () => {
          reason = signal.reason;
          resolve('too late');
        });
      }),
    { leaseTimeoutMs: 100, onError: (e, job) => errors.push([e, job]) },
  );
  t.teardown(() => w.close());
  const id = await client.add('lost', 'x', { ttrMs: 2000 });
  const deadline = Date.now() + 5000;
  while (leased === null && Date.now() < deadline) await sleep(10);
  // The lease ends on the server: the extension at half the TTR is refused.
  await client.delete(id);
  const aborts = Date.now() + 10_000;
  while (reason === null && Date.now() < aborts) await sleep(20);
  t.is((reason as DOMException | null)?.name, 'TimeoutError');
  t.is((reason as DOMException | null)?.message, 'job lease lost: not found');
  await w.close();
  t.is((errors[0]?.[0] as Error).name, 'NotFoundError');
  t.is(errors[0]?.[1]?.id, id);
});
