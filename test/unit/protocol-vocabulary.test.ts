import test from 'ava';
import { ReplyParser, type ReplyKind, type ReplyValue } from '../../src/client/reply-parser.js';
import { ClientError, NotFoundError, ServerError, ServerStoppingError, TimeoutError, type WorkqError } from '../../src/client/errors.js';
import type { JobInfo as ClientJobInfo, QueueInfo as ClientQueueInfo, ServerInfo } from '../../src/client/types.js';
import { JobState } from '../../src/jobs/job.js';
import { ReplyWriter } from '../../src/protocol/replies.js';
import type { JobInfo } from '../../src/protocol/types.js';
import { CLIENT_ERROR_TEXT, JOB_STATE_NAMES, MAX_NAME_LENGTH, NAME_BYTE, SERVER_ERROR_TEXT, isValidName } from '../../src/protocol/vocabulary.js';

test('the state names follow the engine numbering of docs/protocol.md 7.1', (t) => {
  t.deepEqual(
    Object.entries(JobState).map(([name, value]) => [value, name.toLowerCase()]),
    JOB_STATE_NAMES.map((name, value) => [value, name]),
  );
});

test('the name rule admits exactly A-Z a-z 0-9 _ . - and 1 to 255 bytes', (t) => {
  for (let c = 0; c < 256; c++) t.is(NAME_BYTE[c] === 1, /^[A-Za-z0-9_.-]$/.test(String.fromCharCode(c)), `byte ${c}`);
  t.true(isValidName('x'.repeat(MAX_NAME_LENGTH)));
  t.false(isValidName('x'.repeat(MAX_NAME_LENGTH + 1)));
  t.false(isValidName(''));
});

/** Feeds what the server's writer wrote to the client's parser, one reply kind per reply. */
function readBack(kinds: ReplyKind[], written: Buffer): Array<ReplyValue | WorkqError | string> {
  const waiting = [...kinds];
  const out: Array<ReplyValue | WorkqError | string> = [];
  const parser = new ReplyParser('127.0.0.1:1', {
    next: () => waiting[0],
    reply: (value) => {
      waiting.shift();
      out.push(value);
    },
    malformed: (reason) => out.push(`malformed: ${reason}`),
  });
  parser.feed(written);
  return out;
}

function job(state: number, retryAt: number): JobInfo {
  return {
    id: '8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e',
    name: 'q.1',
    ttr: 5000,
    ttl: 60000,
    payload: 'p',
    maxAttempts: 3,
    attempts: 1,
    maxFails: 2,
    fails: 1,
    priority: -4,
    state,
    createdSec: Date.UTC(2026, 10, 29) / 1000,
    timeSec: Date.UTC(2030, 0, 1) / 1000,
    timeNsec: 0,
    retryAt,
  };
}

test('the client reads every state, key and error the server writes', (t) => {
  const out = new ReplyWriter();
  const jobs = JOB_STATE_NAMES.map((_, state) => job(state, state === JobState.Pending ? Date.UTC(2026, 10, 29, 0, 0, 1, 250) : 0));
  out.jobs(jobs);
  out.queues([
    { name: 'q.1', readyLen: 2, scheduledLen: 3, paused: true },
    { name: 'q-2', readyLen: 0, scheduledLen: 0, paused: false },
  ]);
  out.server([
    ['active-clients', 7],
    ['evicted-jobs', 1],
    ['started', '2026-11-29T00:00:00Z'],
  ]);
  out.retried('q.1', 4);
  out.clientError('invalid-name');
  out.clientError('authentication-required');
  out.notFound();
  out.timeout();
  out.readOnly();
  out.stopping();
  const replies = readBack(['jobs', 'queues', 'server', 'retried', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'], out.take());
  t.is(replies.length, 10);
  const [readJobs, queues, server, retried, invalidName, authRequired, notFound, timeout, readOnly, stopping] = replies;
  t.deepEqual(
    (readJobs as ClientJobInfo[]).map((j) => [j.state, j.maxAttempts, j.attempts, j.maxFails, j.fails, j.priority, j.retryAt?.getTime() ?? null]),
    JOB_STATE_NAMES.map((name, state) => [name, 3, 1, 2, 1, -4, state === JobState.Pending ? Date.UTC(2026, 10, 29, 0, 0, 1, 250) : null]),
  );
  t.deepEqual(
    (queues as ClientQueueInfo[]).map((q) => [q.name, q.readyLen, q.scheduledLen, q.paused]),
    [
      ['q.1', 2, 3, true],
      ['q-2', 0, 0, false],
    ],
  );
  const info = server as ServerInfo;
  t.deepEqual([info.activeClients, info.evictedJobs, info.started.toISOString()], [7, 1, '2026-11-29T00:00:00.000Z']);
  t.deepEqual(retried, { name: 'q.1', retried: 4 });
  t.true(invalidName instanceof ClientError && invalidName.text === CLIENT_ERROR_TEXT['invalid-name']);
  t.true(authRequired instanceof ClientError && authRequired.text === CLIENT_ERROR_TEXT['authentication-required']);
  t.true(notFound instanceof NotFoundError);
  t.true(timeout instanceof TimeoutError);
  t.true(readOnly instanceof ServerError && !(readOnly instanceof ServerStoppingError) && readOnly.text === SERVER_ERROR_TEXT.readOnly);
  t.true(stopping instanceof ServerStoppingError);
});
