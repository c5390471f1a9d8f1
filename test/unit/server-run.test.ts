import test from 'ava';
import { pino } from 'pino';
import { ServerRun } from '../../src/server/run.js';
import { ServerStats } from '../../src/server/stats.js';
import type { WorkqServer } from '../../src/server/types.js';

// ServerRun with a start the test controls: what a stop does while the server is still starting.

const logger = pino({ level: 'silent' });

function fakeServer(events: string[]): WorkqServer {
  return {
    host: '127.0.0.1',
    port: 1,
    tlsPort: null,
    reloadTls: () => Promise.resolve(),
    pauseCleaning: () => Promise.resolve(),
    resumeCleaning: () => undefined,
    status: () => ({ host: '127.0.0.1', port: 1, tlsPort: null, jobs: 0, connections: 0, readOnly: false, startedAt: 0 }),
    stats: new ServerStats(),
    stop: () => {
      events.push('server stopped');
      return Promise.resolve();
    },
  };
}

function harness(start: () => Promise<WorkqServer>, graceMs: number): { run: ServerRun; events: string[]; done: Promise<number> } {
  const events: string[] = [];
  let finish: (status: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (finish = resolve));
  const run = new ServerRun(start, logger, graceMs, {
    onReady: () => events.push('ready'),
    onStartFailed: (error) => events.push(`failed ${error.code}`),
    onStopped: (status) => {
      events.push(`exit ${status}`);
      finish(status);
    },
  });
  return { run, events, done };
}

test('a stop during the start waits for it, then stops the server gracefully (never reports ready)', async (t) => {
  let started: (server: WorkqServer) => void = () => undefined;
  const { run, events, done } = harness(() => new Promise((resolve) => (started = resolve)), 60_000);
  run.start();
  run.stop('SIGTERM');
  started(fakeServer(events));
  t.is(await done, 0);
  t.deepEqual(events, ['server stopped', 'exit 0']);
});

test('a start that never ends: the stop gives up after the grace time and exits 1', async (t) => {
  const { run, events, done } = harness(() => new Promise<WorkqServer>(() => undefined), 20);
  run.start();
  run.stop('SIGTERM');
  t.is(await done, 1);
  t.deepEqual(events, ['exit 1']);
});

test('repeated stops during the start are one: a single graceful stop once it is up', async (t) => {
  let started: (server: WorkqServer) => void = () => undefined;
  const { run, events, done } = harness(() => new Promise((resolve) => (started = resolve)), 60_000);
  run.start();
  run.stop('request');
  run.stop('SIGTERM');
  started(fakeServer(events));
  t.is(await done, 0);
  t.deepEqual(events, ['server stopped', 'exit 0']);
});

test('a start that fails after a stop request exits 1 without a failure report', async (t) => {
  let fail: (error: Error) => void = () => undefined;
  const { run, events, done } = harness(() => new Promise((_, reject) => (fail = reject)), 60_000);
  run.start();
  run.stop('SIGINT');
  fail(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }));
  t.is(await done, 1);
  t.deepEqual(events, ['exit 1']);
});

test('once started, ready is reported and a stop is graceful; repeated stops are one', async (t) => {
  const { run, events, done } = harness(() => Promise.resolve(fakeServer([])), 60_000);
  run.start();
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(events, ['ready']);
  t.truthy(run.current);
  run.stop('request');
  run.stop('SIGTERM');
  t.is(await done, 0);
  t.deepEqual(events, ['ready', 'exit 0']);
});

test('a failed start is reported with its code', async (t) => {
  const { run, events } = harness(() => Promise.reject(Object.assign(new Error('x'), { code: 'EADDRINUSE' })), 60_000);
  run.start();
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(events, ['failed EADDRINUSE']);
});
