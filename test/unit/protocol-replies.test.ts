import test from 'ava';
import { clientErrorLine, NOT_FOUND_LINE, OK_LINE, READ_ONLY_LINE, TIMEOUT_LINE } from '../../src/protocol/errors.js';
import { CLIENT_ERROR_TEXT } from '../../src/protocol/vocabulary.js';
import { ReplyWriter } from '../../src/protocol/replies.js';
import type { ClientError, JobInfo, PayloadSource } from '../../src/protocol/types.js';
import { bytes } from './protocol-helpers.js';

/** The session text of docs/protocol.md 11: `\r\n` literal, one line per CRLF. */
/** A payload given as text, as a reply copies it. */
function payloadOf(text: string): PayloadSource {
  return { payloadLength: text.length, writePayload: (buf, off) => off + buf.write(text, off, 'latin1') };
}

function wire(...lines: string[]): string {
  return lines.map((line) => line + '\r\n').join('');
}

function text(out: ReplyWriter): string {
  return out.take().toString('latin1');
}

const PING: JobInfo = {
  id: '8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e',
  name: 'ping',
  ttr: 5000,
  ttl: 60000,
  payload: 'ping',
  maxAttempts: 3,
  attempts: 0,
  maxFails: 0,
  fails: 0,
  priority: 10,
  state: 0,
  createdSec: Date.UTC(2026, 10, 29, 2, 23, 45) / 1000,
  timeSec: 0,
  timeNsec: 0,
  retryAt: 0,
};

const PING_BLOCK = (attempts: number, state: number) => [
  '8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e 12',
  'name ping',
  'ttr 5000',
  'ttl 60000',
  'payload-size 4',
  'payload ping',
  'max-attempts 3',
  `attempts ${attempts}`,
  'max-fails 0',
  'fails 0',
  'priority 10',
  `state ${state}`,
  'created 2026-11-29T02:23:45Z',
];

test("error lines: every client error, capitalised as the original (and the extensions' ones)", (t) => {
  const expected: Record<ClientError, string> = {
    'unknown-command': '-CLIENT-ERROR Unknown command\r\n',
    'invalid-command-args': '-CLIENT-ERROR Invalid command args\r\n',
    'invalid-command-flags': '-CLIENT-ERROR Invalid command flags\r\n',
    'invalid-payload-size': '-CLIENT-ERROR Invalid payload size\r\n',
    'invalid-result-size': '-CLIENT-ERROR Invalid result size\r\n',
    'invalid-id': '-CLIENT-ERROR Invalid ID\r\n',
    'invalid-name': '-CLIENT-ERROR Invalid Name\r\n',
    'invalid-ttr': '-CLIENT-ERROR Invalid TTR\r\n',
    'invalid-ttl': '-CLIENT-ERROR Invalid TTL\r\n',
    'invalid-time': '-CLIENT-ERROR Invalid Time\r\n',
    'invalid-priority': '-CLIENT-ERROR Invalid Priority\r\n',
    'invalid-max-attempts': '-CLIENT-ERROR Invalid Max Attempts\r\n',
    'invalid-max-fails': '-CLIENT-ERROR Invalid Max Fails\r\n',
    'invalid-wait-timeout': '-CLIENT-ERROR Invalid wait timeout\r\n',
    'invalid-cursor-offset': '-CLIENT-ERROR Invalid cursor offset\r\n',
    'invalid-limit': '-CLIENT-ERROR Invalid limit\r\n',
    'duplicate-job': '-CLIENT-ERROR Duplicate job\r\n',
    'duplicate-result': '-CLIENT-ERROR Duplicate result\r\n',
    'authentication-required': '-CLIENT-ERROR Authentication required\r\n',
    'invalid-secret': '-CLIENT-ERROR Invalid secret\r\n',
    'job-not-leased': '-CLIENT-ERROR Job not leased\r\n',
    'job-not-failed': '-CLIENT-ERROR Job not failed\r\n',
    'invalid-retry-delay': '-CLIENT-ERROR Invalid Retry Delay\r\n',
    'invalid-retry-max-delay': '-CLIENT-ERROR Invalid Retry Max Delay\r\n',
    'invalid-retry-jitter': '-CLIENT-ERROR Invalid Retry Jitter\r\n',
  };
  t.deepEqual(Object.keys(CLIENT_ERROR_TEXT).sort(), Object.keys(expected).sort());
  const out = new ReplyWriter();
  for (const [code, line] of Object.entries(expected) as [ClientError, string][]) {
    t.is(clientErrorLine(code).toString('latin1'), line);
    out.clientError(code);
    t.is(text(out), line);
  }
  t.is(OK_LINE.toString(), '+OK\r\n');
  t.is(NOT_FOUND_LINE.toString(), '-NOT-FOUND\r\n');
  t.is(TIMEOUT_LINE.toString(), '-TIMEOUT\r\n');
  t.is(READ_ONLY_LINE.toString(), '-SERVER-ERROR Read-only mode triggered by cmdlog circuit breaker\r\n');
});

test('a fixed line taken alone is the shared line; with anything before or after it, the bytes written', (t) => {
  const out = new ReplyWriter(16);
  out.ok();
  t.is(out.take(), OK_LINE);
  out.ok();
  out.ok();
  t.is(text(out), '+OK\r\n+OK\r\n');
  out.serverError('x');
  out.ok();
  t.is(text(out), '-SERVER-ERROR x\r\n+OK\r\n');
  out.notFound();
  out.finished('8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e', true, 'r');
  t.is(text(out), '-NOT-FOUND\r\n+OK 1\r\n8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e 1 1\r\nr\r\n');
  // Written after a take that grew the buffer past the first one: still the shared line.
  out.timeout();
  t.is(out.take(), TIMEOUT_LINE);
  t.is(OK_LINE.toString(), '+OK\r\n');
});

test('simple replies', (t) => {
  const out = new ReplyWriter();
  out.ok();
  out.notFound();
  out.timeout();
  out.readOnly();
  out.serverError('Queue out of sync');
  t.is(text(out), '+OK\r\n-NOT-FOUND\r\n-TIMEOUT\r\n-SERVER-ERROR Read-only mode triggered by cmdlog circuit breaker\r\n-SERVER-ERROR Queue out of sync\r\n');
});

test('11.2 inspect job, jobs, queue, queues', (t) => {
  const out = new ReplyWriter();
  out.jobs([PING]);
  t.is(text(out), wire('+OK 1', ...PING_BLOCK(0, 0)));
  out.queues([{ name: 'ping', readyLen: 1, scheduledLen: 0, paused: false }]);
  t.is(text(out), wire('+OK 1', 'ping 2', 'ready-len 1', 'scheduled-len 0'));
  out.jobs([]);
  out.queues([]);
  t.is(text(out), wire('+OK 0', '+OK 0'));
  out.jobs([{ ...PING, state: 3, attempts: 1, retryAt: Date.UTC(2026, 10, 29, 2, 24, 0, 7) }]);
  const waiting = PING_BLOCK(1, 3);
  waiting[0] = '8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e 13';
  t.is(text(out), wire('+OK 1', ...waiting, 'retry-at 2026-11-29T02:24:00.007Z'));
  out.queues([
    { name: 'held', readyLen: 2, scheduledLen: 1, paused: true },
    { name: 'ping', readyLen: 1, scheduledLen: 0, paused: false },
  ]);
  t.is(text(out), wire('+OK 2', 'held 3', 'ready-len 2', 'scheduled-len 1', 'paused 1', 'ping 2', 'ready-len 1', 'scheduled-len 0'));
});

test('11.3 lease, inspect of the leased job, result', (t) => {
  const out = new ReplyWriter();
  out.leased(PING.id, 'ping', 5000, payloadOf('ping'));
  t.is(text(out), wire('+OK 1', '8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e ping 5000 4', 'ping'));
  out.jobs([{ ...PING, attempts: 1, state: 4 }]);
  t.is(text(out), wire('+OK 1', ...PING_BLOCK(1, 4)));
  out.finished(PING.id, true, 'pong');
  t.is(text(out), wire('+OK 1', '8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e 1 4', 'pong'));
});

test('11.4 and 11.8: failed results, empty ones too', (t) => {
  const out = new ReplyWriter();
  out.finished('1d2c3b4a-5e6f-4a1b-8c2d-3e4f5a6b7c8d', false, 'bounced');
  out.finished('7b9e2c4d-1a3f-4e5b-8c6d-0e1f2a3b4c5d', false, '');
  t.is(text(out), wire('+OK 1', '1d2c3b4a-5e6f-4a1b-8c2d-3e4f5a6b7c8d 0 7', 'bounced', '+OK 1', '7b9e2c4d-1a3f-4e5b-8c6d-0e1f2a3b4c5d 0 0', ''));
});

test('11.5 inspect scheduled-jobs: 13 keys with time', (t) => {
  const out = new ReplyWriter();
  out.jobs([
    {
      id: 'e3b0c442-98fc-4c14-9afb-f4c8996fb924',
      name: 'report',
      ttr: 1000,
      ttl: 60000,
      payload: 'mon',
      maxAttempts: 0,
      attempts: 0,
      maxFails: 0,
      fails: 0,
      priority: 2,
      state: 0,
      createdSec: Date.UTC(2026, 10, 29, 2, 23, 47) / 1000,
      timeSec: Date.UTC(2030, 0, 1) / 1000,
      timeNsec: 999999999,
      retryAt: 0,
    },
  ]);
  t.is(
    text(out),
    wire(
      '+OK 1',
      'e3b0c442-98fc-4c14-9afb-f4c8996fb924 13',
      'name report',
      'ttr 1000',
      'ttl 60000',
      'payload-size 3',
      'payload mon',
      'max-attempts 0',
      'attempts 0',
      'max-fails 0',
      'fails 0',
      'priority 2',
      'state 0',
      'created 2026-11-29T02:23:47Z',
      'time 2030-01-01T00:00:00Z',
    ),
  );
});

test('a job scheduled at the epoch with a fraction still shows its time', (t) => {
  const out = new ReplyWriter();
  out.jobs([{ ...PING, timeSec: 0, timeNsec: 1 }]);
  t.true(text(out).endsWith('time 1970-01-01T00:00:00Z\r\n'));
});

test('several job blocks, raw payloads, negative priority', (t) => {
  const out = new ReplyWriter();
  const raw = { ...PING, payload: '\r\n\x00\xff', priority: -2147483648 };
  out.jobs([PING, raw]);
  const reply = out.take();
  const second = Buffer.concat([
    bytes(wire(...PING_BLOCK(0, 0).slice(0, 5))),
    bytes('payload '),
    Buffer.from([0x0d, 0x0a, 0x00, 0xff]),
    bytes('\r\n'),
    bytes(wire('max-attempts 3', 'attempts 0', 'max-fails 0', 'fails 0', 'priority -2147483648', 'state 0', 'created 2026-11-29T02:23:45Z')),
  ]);
  t.deepEqual(reply, Buffer.concat([bytes(wire('+OK 2', ...PING_BLOCK(0, 0))), second]));
});

test('11.9 inspect server: the true key count', (t) => {
  const out = new ReplyWriter();
  out.server([
    ['active-clients', 1],
    ['evicted-jobs', 1],
    ['started', '2026-11-29T02:26:24Z'],
  ]);
  t.is(text(out), wire('+OK 1', 'server 3', 'active-clients 1', 'evicted-jobs 1', 'started 2026-11-29T02:26:24Z'));
});

test('numbers print exactly at their extremes', (t) => {
  const out = new ReplyWriter();
  out.leased(PING.id, 'q', 0, payloadOf(''));
  out.server([
    ['a', 9007199254740991],
    ['b', -1],
    ['c', 10],
    ['d', 99],
    ['e', 100],
  ]);
  t.is(text(out), wire('+OK 1', `${PING.id} q 0 0`, '', '+OK 1', 'server 5', 'a 9007199254740991', 'b -1', 'c 10', 'd 99', 'e 100'));
});

test('long names and payloads, and replies written after a take never touch taken bytes', (t) => {
  const out = new ReplyWriter(64);
  const name = 'n'.repeat(255);
  out.leased(PING.id, name, 1, payloadOf('a'.repeat(1 << 20)));
  t.is(out.length, 7 + 36 + 1 + 255 + 1 + 1 + 1 + 7 + 2 + (1 << 20) + 2);
  const first = out.take();
  const copy = Buffer.from(first);
  t.is(out.length, 0);
  for (let i = 0; i < 10000; i++) out.ok();
  out.serverError('x'.repeat(100));
  const second = out.take();
  t.deepEqual(first, copy);
  t.is(second.length, 10000 * 5 + 14 + 100 + 2);
  t.true(first.toString('latin1').startsWith(`+OK 1\r\n${PING.id} ${name} 1 1048576\r\naaaa`));
});

test('replies of one read accumulate until taken', (t) => {
  const out = new ReplyWriter();
  out.ok();
  out.clientError('invalid-id');
  out.timeout();
  t.is(out.length, 5 + 26 + 10);
  t.is(text(out), '+OK\r\n-CLIENT-ERROR Invalid ID\r\n-TIMEOUT\r\n');
  t.is(out.take().length, 0);
});

test('a long run of replies between takes grows the buffer without losing any', (t) => {
  const out = new ReplyWriter(16);
  const payload = 'b'.repeat(1000);
  for (let i = 0; i < 5000; i++) out.finished('8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e', i % 2 === 0, payload);
  const all = out.take();
  const one = '+OK 1\r\n8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e 1 1000\r\n'.length + 1002;
  t.is(all.length, 5000 * one);
  t.is(all.subarray(one, one + 50).toString(), '+OK 1\r\n8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e 0 1000');
  out.ok();
  t.is(out.take().toString(), '+OK\r\n');
});
