import test from 'ava';
import { inspect } from 'node:util';
import { ReplyParser, type ReplyKind, type ReplyValue } from '../../src/client/reply-parser.js';
import { ClientError, NotFoundError, ServerError, TimeoutError, type WorkqError } from '../../src/client/errors.js';

const ID = '8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e';

function jobBlock(payload: string, scheduled = false): string {
  return (
    `${ID} ${scheduled ? 13 : 12}\r\nname ping\r\nttr 5000\r\nttl 60000\r\npayload-size ${Buffer.byteLength(payload)}\r\n` +
    `payload ${payload}\r\nmax-attempts 3\r\nattempts 0\r\nmax-fails 0\r\nfails 0\r\npriority -10\r\nstate 4\r\n` +
    `created 2026-11-29T02:23:45Z\r\n` +
    (scheduled ? 'time 2030-01-01T00:00:00Z\r\n' : '')
  );
}

/** One conversation: the kinds asked for in order and the bytes that answer them. */
const KINDS: ReplyKind[] = ['ok', 'ok', 'lease', 'result', 'jobs', 'jobs', 'queues', 'server', 'ok', 'ok', 'jobs', 'result'];
const BYTES = Buffer.concat([
  Buffer.from('+OK\r\n-CLIENT-ERROR Duplicate job\r\n'),
  Buffer.from(`+OK 1\r\n${ID} ping 5000 6\r\na\r\nb\r\n\r\n`),
  Buffer.from(`+OK 1\r\n${ID} 0 7\r\nbounced\r\n`),
  Buffer.from(`+OK 2\r\n${jobBlock('x\r\ny')}${jobBlock('payload ', true)}`),
  Buffer.from('+OK 0\r\n'),
  Buffer.from('+OK 2\r\nping 2\r\nready-len 1\r\nscheduled-len 0\r\nq2 2\r\nready-len 0\r\nscheduled-len 5\r\n'),
  Buffer.from('+OK 1\r\nserver 4\r\nactive-clients 1\r\nevicted-jobs 1\r\nstarted 2026-11-29T02:26:24Z\r\nfuture-key hello world\r\n'),
  Buffer.from('-TIMEOUT\r\n-NOT-FOUND\r\n-SERVER-ERROR Read-only mode triggered by cmdlog circuit breaker\r\n'),
  Buffer.from(`+OK 1\r\n${ID} 1 0\r\n\r\n`),
]);

function run(chunks: Buffer[]): Array<ReplyValue | WorkqError | string> {
  const kinds = [...KINDS];
  const out: Array<ReplyValue | WorkqError | string> = [];
  const parser = new ReplyParser('127.0.0.1:1', {
    next: () => kinds[0],
    reply: (value) => {
      kinds.shift();
      out.push(value);
    },
    malformed: (reason) => out.push(`malformed: ${reason}`),
  });
  for (const chunk of chunks) parser.feed(chunk);
  return out;
}

function check(t: import('ava').ExecutionContext, out: Array<ReplyValue | WorkqError | string>): void {
  t.is(out.length, KINDS.length);
  t.is(out[0], undefined);
  t.true(out[1] instanceof ClientError);
  t.is((out[1] as ClientError).text, 'Duplicate job');
  t.deepEqual(out[2], { id: ID, name: 'ping', ttrMs: 5000, payload: Buffer.from('a\r\nb\r\n'), server: '127.0.0.1:1' });
  t.deepEqual(out[3], { id: ID, success: false, result: Buffer.from('bounced') });
  const jobs = out[4] as unknown as Array<Record<string, unknown>>;
  t.is(jobs.length, 2);
  t.deepEqual(jobs[0], {
    id: ID,
    name: 'ping',
    ttrMs: 5000,
    ttlMs: 60000,
    payload: Buffer.from('x\r\ny'),
    maxAttempts: 3,
    attempts: 0,
    maxFails: 0,
    fails: 0,
    priority: -10,
    state: 'leased',
    created: new Date('2026-11-29T02:23:45Z'),
    time: null,
    retryAt: null,
    server: '127.0.0.1:1',
  });
  t.deepEqual(jobs[1]?.['payload'], Buffer.from('payload '));
  t.deepEqual(jobs[1]?.['time'], new Date('2030-01-01T00:00:00Z'));
  t.deepEqual(out[5], []);
  t.deepEqual(out[6], [
    { name: 'ping', readyLen: 1, scheduledLen: 0, paused: false },
    { name: 'q2', readyLen: 0, scheduledLen: 5, paused: false },
  ]);
  const server = out[7] as unknown as Record<string, unknown>;
  t.is(server['activeClients'], 1);
  t.is(server['evictedJobs'], 1);
  t.deepEqual(server['started'], new Date('2026-11-29T02:26:24Z'));
  t.is((server['keys'] as Record<string, string>)['future-key'], 'hello world');
  t.true(out[8] instanceof TimeoutError);
  t.true(out[9] instanceof NotFoundError);
  t.true(out[10] instanceof ServerError);
  t.deepEqual(out[11], { id: ID, success: true, result: Buffer.alloc(0) });
}

test('whole input', (t) => {
  check(t, run([BYTES]));
});

test('split at every offset', (t) => {
  for (let i = 1; i < BYTES.length; i++) {
    const out = run([BYTES.subarray(0, i), BYTES.subarray(i)]);
    if (out.length !== KINDS.length || out.some((v) => typeof v === 'string')) t.fail(`split at ${i}: ${inspect(out.at(-1))}`);
  }
  check(t, run([BYTES.subarray(0, 100), BYTES.subarray(100)]));
});

test('one byte at a time', (t) => {
  const chunks: Buffer[] = [];
  for (let i = 0; i < BYTES.length; i++) chunks.push(BYTES.subarray(i, i + 1));
  check(t, run(chunks));
});

test('a large block arriving in pieces', (t) => {
  const payload = Buffer.alloc(300_000, 0x0d);
  const bytes = Buffer.concat([Buffer.from(`+OK 1\r\n${ID} q 10 ${payload.length}\r\n`), payload, Buffer.from('\r\n')]);
  const out: unknown[] = [];
  const parser = new ReplyParser('s', { next: () => 'lease', reply: (v) => out.push(v), malformed: (r) => out.push(r) });
  for (let i = 0; i < bytes.length; i += 65536) parser.feed(bytes.subarray(i, i + 65536));
  t.is(out.length, 1);
  t.deepEqual((out[0] as { payload: Buffer }).payload, payload);
});

for (const [title, kind, bytes] of [
  ['bare LF', 'ok', '+OK\n'],
  ['unsolicited reply', undefined, '+OK\r\n'],
  ['unknown error word', 'ok', '-NOPE\r\n'],
  ['records for a simple command', 'ok', '+OK 1\r\n'],
  ['no records for a lease', 'lease', '+OK\r\n'],
  ['block without terminator', 'result', `+OK 1\r\n${ID} 1 2\r\nokXY`],
  ['bad state', 'jobs', `+OK 1\r\n${jobBlock('x').replace('state 4', 'state 9')}`],
  ['negative size', 'result', `+OK 1\r\n${ID} 1 -2\r\n`],
] as const) {
  test(`malformed: ${title}`, (t) => {
    const out: unknown[] = [];
    const parser = new ReplyParser('s', {
      next: () => kind,
      reply: (v) => out.push(v),
      malformed: (reason) => out.push(`malformed: ${reason}`),
    });
    parser.feed(Buffer.from(bytes));
    parser.feed(Buffer.from('+OK\r\n'));
    t.is(out.length, 1);
    t.regex(String(out[0]), /^malformed: /);
  });
}

test('a line that never ends is malformed', (t) => {
  const out: unknown[] = [];
  const parser = new ReplyParser('s', { next: () => 'ok', reply: (v) => out.push(v), malformed: (r) => out.push(r) });
  parser.feed(Buffer.alloc(70_000, 0x41));
  t.deepEqual(out, ['line too long']);
});
