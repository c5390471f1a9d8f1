import test from 'ava';
import { startAdmin } from '../../src/admin/http.js';
import { StandaloneAdmin, type StandaloneStatus } from '../../src/admin/standalone.js';
import { instanceRegistry } from '../../src/metrics/instance-metrics.js';
import { startServer } from '../../src/server/server.js';
import { DEFAULT_LIMITS } from '../../src/server/limits.js';
import { ServerStats } from '../../src/server/stats.js';
import type { ServerOptions } from '../../src/server/types.js';
import { packageVersion } from '../../src/config/package-root.js';
import { get, parseScrape, series } from '../helpers/prometheus.js';
import { addCommand, inspectServer, newId } from '../helpers/replies.js';
import { silent, tempDir, Wire } from '../helpers/wire.js';

// A real scrape over HTTP after known traffic: every count is exact, since the server is
// idle when it is taken.

async function serve(t: { teardown(fn: () => Promise<void> | void): void }, maxQueues = 100, safety: Pick<ServerOptions, 'auth' | 'limits'> = {}) {
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const stats = new ServerStats();
  const settings = { name: 'm1', host: '127.0.0.1', port: 0 };
  const source = new StandaloneAdmin(settings, instanceRegistry(stats, { instance: 'm1', maxQueues }));
  const admin = await startAdmin({ host: '127.0.0.1', port: 0, source, logger: silent });
  t.teardown(() => admin.close());
  const server = await startServer({
    ...settings,
    cmdlog: { path: dir.path, sync: 'always', syncIntervalMs: 1000, segmentSize: 64 * 1024 * 1024, cleanIntervalMs: 300_000 },
    logger: silent,
    stats,
    ...safety,
  });
  t.teardown(() => server.stop());
  source.serving(server);
  const wire = await Wire.connect(server.port);
  t.teardown(() => wire.close());
  return { base: `http://127.0.0.1:${admin.port}`, wire, server };
}

test('a scrape after known traffic counts exactly what happened', async (t) => {
  const { base, wire } = await serve(t);
  const [a1, a2, a3, b1] = [newId(), newId(), newId(), newId()];
  wire.send(
    Buffer.concat([
      addCommand(a1, 'emails', 'x'),
      addCommand(a2, 'emails', 'y', '1000 60000', '-max-fails=2'),
      addCommand(a3, 'emails', 'z'),
      addCommand(b1, 'sms', 's'),
    ]),
  );
  t.is(await wire.reply('+OK\r\n'.repeat(4)), '+OK\r\n'.repeat(4));
  wire.send(addCommand(a1, 'emails', 'again'));
  t.is(await wire.reply('-CLIENT-ERROR Duplicate job\r\n'), '-CLIENT-ERROR Duplicate job\r\n');
  wire.send(`lease emails 0\r\ncomplete ${a1} 1\r\nr\r\n`);
  const leased1 = `+OK 1\r\n${a1} emails 1000 1\r\nx\r\n+OK\r\n`;
  t.is(await wire.reply(leased1), leased1);
  wire.send(`lease emails 0\r\nfail ${a2} 1\r\nf\r\n`);
  const leased2 = `+OK 1\r\n${a2} emails 1000 1\r\ny\r\n+OK\r\n`;
  t.is(await wire.reply(leased2), leased2);
  wire.send(`complete ${newId()} 1\r\nr\r\nlease nothere 0\r\nhello\r\n`);
  const tail = '-NOT-FOUND\r\n-TIMEOUT\r\n-CLIENT-ERROR Unknown command\r\n';
  t.is(await wire.reply(tail), tail);

  const keys = await inspectServer(wire);
  t.deepEqual([...keys.keys()], ['active-clients', 'evicted-jobs', 'started', 'jobs', 'read-only', 'uptime', 'version']);
  t.regex(keys.get('uptime')!, /^[0-9]+$/);
  t.is(keys.get('version'), packageVersion());
  t.regex(packageVersion(), /^[0-9]+\.[0-9]+\.[0-9]+/);

  const scrape = await get(`${base}/metrics`);
  t.is(scrape.status, 200);
  t.regex(scrape.type, /^text\/plain/);
  const samples = parseScrape(scrape.body);
  const at = (name: string, labels: Record<string, string> = {}): number | undefined => samples.get(series(name, { instance: 'm1', ...labels }));
  const commands: Array<[string, string, number]> = [
    ['add', 'ok', 4],
    ['add', 'client_error', 1],
    ['lease', 'ok', 2],
    ['lease', 'timeout', 1],
    ['complete', 'ok', 1],
    ['complete', 'not_found', 1],
    ['fail', 'ok', 1],
    ['inspect', 'ok', 1],
    ['none', 'client_error', 1],
  ];
  for (const [command, outcome, count] of commands) t.is(at('workq_commands_total', { command, outcome }), count, `${command} ${outcome}`);
  t.is([...samples.keys()].filter((key) => key.startsWith('workq_commands_total{')).length, commands.length);

  const jobs = { emails: { ready: 2, scheduled: 0, leased: 0, completed: 1, failed: 0 }, sms: { ready: 1, scheduled: 0, leased: 0, completed: 0, failed: 0 } };
  for (const [queue, states] of Object.entries(jobs)) {
    for (const [state, count] of Object.entries(states)) t.is(at('workq_jobs', { queue, state }), count, `${queue} ${state}`);
  }
  t.is(at('workq_jobs', { queue: '*other*', state: 'ready' }), undefined, 'no other bucket while every queue fits');
  t.is(at('workq_jobs', { queue: 'nothere', state: 'ready' }), undefined, 'a lease alone leaves no queue behind (docs/protocol.md Q17)');
  t.is(at('workq_queues'), 2);
  t.is(at('workq_queue_jobs_added_total', { queue: 'emails' }), 3);
  t.is(at('workq_queue_jobs_added_total', { queue: 'sms' }), 1);
  t.is(at('workq_queue_jobs_completed_total', { queue: 'emails' }), 1);
  t.true(at('workq_queue_oldest_ready_age_seconds', { queue: 'emails' })! >= 0);
  t.is(at('workq_jobs_added_total'), 4);
  t.is(at('workq_leases_total'), 2);
  t.is(at('workq_jobs_completed_total'), 1);
  t.is(at('workq_jobs_failed_total'), 0);
  t.is(at('workq_job_retries_total', { limit: 'max-fails' }), 1);
  t.is(at('workq_job_retries_total', { limit: 'max-attempts' }), 0);
  t.is(at('workq_ttr_timeouts_total'), 0);
  t.is(at('workq_ttl_evictions_total'), 0);
  t.is(at('workq_lease_wait_seconds_count'), 2);
  t.is(at('workq_lease_wait_seconds_bucket', { le: '0.001' }), 2);
  t.is(at('workq_connections'), 1);
  t.is(at('workq_connections_accepted_total'), 1);
  t.is(at('workq_waiting_clients'), 0);
  t.is(at('workq_cmdlog_segments'), 1);
  t.true(at('workq_cmdlog_written_bytes_total')! > 0);
  t.true(at('workq_cmdlog_fsync_seconds_count')! >= 1);
  t.is(at('workq_read_only'), 0);
  t.is(at('workq_cmdlog_sync_info', { policy: 'always' }), 1);
  t.is(at('workq_starting'), 0);
  t.is(at('workq_replay_records'), 0);
  t.true(at('workq_process_resident_memory_bytes')! > 0);
  t.not(at('workq_event_loop_lag_seconds', { quantile: '0.99' }), undefined);
});

test('refusals of authentication and of the client limit are counted', async (t) => {
  const secret = 'metrics-secret-7f3a9c1e';
  const { base, wire, server } = await serve(t, 100, {
    auth: { secrets: [secret], allowUnauthenticated: false },
    limits: { ...DEFAULT_LIMITS, maxClients: 2, backlog: 511, maxJobMemoryBytes: 0 },
  });
  wire.send(`inspect queues 0 1\r\nauth not-the-secret-0123\r\nauth ${secret}\r\n`);
  const replies = '-CLIENT-ERROR Authentication required\r\n-CLIENT-ERROR Invalid secret\r\n+OK\r\n';
  t.is(await wire.reply(replies), replies);
  const second = await Wire.connect(server.port);
  t.teardown(() => second.close());
  const refused = await Wire.connect(server.port);
  t.teardown(() => refused.close());
  t.is(await refused.reply('-SERVER-ERROR Too many clients\r\n'), '-SERVER-ERROR Too many clients\r\n');

  const samples = parseScrape((await get(`${base}/metrics`)).body);
  const at = (name: string, labels: Record<string, string> = {}): number | undefined => samples.get(series(name, { instance: 'm1', ...labels }));
  t.is(at('workq_auth_failures_total', { reason: 'required' }), 1);
  t.is(at('workq_auth_failures_total', { reason: 'invalid_secret' }), 1);
  t.is(at('workq_commands_total', { command: 'inspect', outcome: 'client_error' }), 1);
  t.is(at('workq_commands_total', { command: 'auth', outcome: 'client_error' }), 1);
  t.is(at('workq_commands_total', { command: 'auth', outcome: 'ok' }), 1);
  t.is(at('workq_connections_refused_total'), 1);
  t.is(at('workq_connections_accepted_total'), 2);
  t.is(at('workq_idle_timeouts_total'), 0);
});

test('TTR timeouts, retries at max-attempts and exhausted jobs are counted', async (t) => {
  const { base, wire } = await serve(t);
  const id = newId();
  wire.send(addCommand(id, 'slow', 'p', '10 60000', '-max-attempts=2'));
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');
  for (let attempt = 1; attempt <= 2; attempt++) {
    wire.send('lease slow 5000\r\n');
    const leased = `+OK 1\r\n${id} slow 10 1\r\np\r\n`;
    t.is(await wire.reply(leased), leased);
  }
  // Both TTRs of 10 ms have ended once the job has failed for good.
  let samples = parseScrape((await get(`${base}/metrics`)).body);
  for (let i = 0; i < 200 && samples.get(series('workq_jobs_failed_total', { instance: 'm1' })) !== 1; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    samples = parseScrape((await get(`${base}/metrics`)).body);
  }
  const at = (name: string, labels: Record<string, string> = {}): number | undefined => samples.get(series(name, { instance: 'm1', ...labels }));
  t.is(at('workq_ttr_timeouts_total'), 2);
  t.is(at('workq_job_retries_total', { limit: 'max-attempts' }), 1);
  t.is(at('workq_jobs_exhausted_total', { limit: 'max-attempts' }), 1);
  t.is(at('workq_jobs_failed_total'), 1);
  t.is(at('workq_jobs', { queue: 'slow', state: 'failed' }), 1);
  t.is(at('workq_leases_total'), 2);
});

test('admin endpoints of a standalone server: health, readiness, status, the page, and what is refused', async (t) => {
  const { base, server } = await serve(t);
  t.is((await get(`${base}/healthz`)).status, 200);
  const ready = await get(`${base}/readyz`);
  t.is(ready.status, 200);
  t.is(ready.body, 'ready\n');
  const status = JSON.parse((await get(`${base}/status`)).body) as StandaloneStatus;
  t.is(status.pid, process.pid);
  t.is(status.instances.length, 1);
  t.like(status.instances[0], { name: 'm1', state: 'ready', port: server.port, restarts: 0, jobs: 0, lastError: null });
  const page = await get(`${base}/`);
  t.is(page.status, 200);
  t.regex(page.type, /^text\/html/);
  t.notRegex(page.body, /<script[^>]+src=|<link[^>]+href=|<img|fetch\('https?:/, 'nothing loaded from elsewhere');
  const json = JSON.parse((await get(`${base}/api/metrics`)).body) as Array<{ name: string }>;
  t.true(json.some((metric) => metric.name === 'workq_jobs'));
  t.is((await get(`${base}/nope`)).status, 404);
  const post = await fetch(`${base}/metrics`, { method: 'POST' });
  t.is(post.status, 405);
  t.is(post.headers.get('allow'), 'GET, HEAD');
});

test('a restart on a log reports what it replayed: bytes, records, duration', async (t) => {
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const cmdlog = { path: dir.path, sync: 'interval' as const, syncIntervalMs: 1000, segmentSize: 64 * 1024 * 1024, cleanIntervalMs: 300_000 };
  const first = await startServer({ host: '127.0.0.1', port: 0, cmdlog, logger: silent });
  const wire = await Wire.connect(first.port);
  wire.send(Buffer.concat(Array.from({ length: 5 }, () => addCommand(newId(), 'replayed', 'p'))));
  t.is(await wire.reply('+OK\r\n'.repeat(5)), '+OK\r\n'.repeat(5));
  wire.close();
  await first.stop();

  const stats = new ServerStats();
  const registry = instanceRegistry(stats, { instance: 'r', maxQueues: 10 });
  const before = parseScrape(await registry.metrics());
  t.is(before.get(series('workq_starting', { instance: 'r' })), 1, 'starting until it listens');
  t.is(before.get(series('workq_jobs', { instance: 'r', queue: 'replayed', state: 'ready' })), undefined);
  const second = await startServer({ host: '127.0.0.1', port: 0, cmdlog, logger: silent, stats });
  t.teardown(() => second.stop());
  const { replay } = stats.log;
  t.true(replay.bytesTotal > 0);
  t.is(replay.bytesDone, replay.bytesTotal);
  t.is(replay.records, 5);
  t.true(replay.endedAt >= replay.startedAt && replay.startedAt > 0);
  const after = parseScrape(await registry.metrics());
  t.is(after.get(series('workq_replay_records', { instance: 'r' })), 5);
  t.is(after.get(series('workq_replay_done_bytes', { instance: 'r' })), replay.bytesTotal);
  t.is(after.get(series('workq_starting', { instance: 'r' })), 0);
  t.is(after.get(series('workq_jobs', { instance: 'r', queue: 'replayed', state: 'ready' })), 5);
  t.is(after.get(series('workq_jobs_added_total', { instance: 'r' })), 0, 'replayed jobs are not counted as added');
});

test('the extension commands are counted by command and outcome: pause, resume, retry, retry-failed and the state lists', async (t) => {
  const { base, wire } = await serve(t);
  const [a, b] = [newId(), newId()];
  wire.send(Buffer.concat([addCommand(a, 'ext', 'x', '1000 60000', '-max-fails=1'), addCommand(b, 'ext', 'y', '1000 60000', '-max-fails=1')]));
  t.is(await wire.reply('+OK\r\n+OK\r\n'), '+OK\r\n+OK\r\n');
  wire.send(`lease ext 0\r\nfail ${a} 1\r\nf\r\nlease ext 0\r\nfail ${b} 1\r\nf\r\n`);
  const failed = `+OK 1\r\n${a} ext 1000 1\r\nx\r\n+OK\r\n+OK 1\r\n${b} ext 1000 1\r\ny\r\n+OK\r\n`;
  t.is(await wire.reply(failed), failed);
  wire.send(`pause ext\r\nresume ext\r\nresume ext\r\nretry ${a}\r\nretry ${a}\r\nretry ${newId()}\r\nretry-failed ext\r\nretry-failed nothere\r\n`);
  const replies = '+OK\r\n+OK\r\n+OK\r\n+OK\r\n-CLIENT-ERROR Job not failed\r\n-NOT-FOUND\r\n+OK 1\r\next 1\r\nretried 1\r\n-NOT-FOUND\r\n';
  t.is(await wire.reply(replies), replies);
  wire.send('inspect leased-jobs ext 0 10\r\ninspect completed-jobs nothere 0 10\r\n');
  t.is(await wire.reply('+OK 0\r\n-NOT-FOUND\r\n'), '+OK 0\r\n-NOT-FOUND\r\n');

  const samples = parseScrape((await get(`${base}/metrics`)).body);
  const at = (command: string, outcome: string): number | undefined => samples.get(series('workq_commands_total', { instance: 'm1', command, outcome }));
  t.is(at('pause', 'ok'), 1);
  t.is(at('resume', 'ok'), 2);
  t.is(at('retry', 'ok'), 1);
  t.is(at('retry', 'client_error'), 1);
  t.is(at('retry', 'not_found'), 1);
  t.is(at('retry-failed', 'ok'), 1);
  t.is(at('retry-failed', 'not_found'), 1);
  t.is(at('inspect', 'ok'), 1);
  t.is(at('inspect', 'not_found'), 1);
});

test('the limits of queues, replies and authentication time are exported', async (t) => {
  const secret = 'metrics-secret-7f3a9c1e';
  const { base, wire, server } = await serve(t, 100, {
    auth: { secrets: [secret], allowUnauthenticated: false },
    limits: { ...DEFAULT_LIMITS, maxQueues: 1, maxReplyBufferBytes: 12345, authTimeoutMs: 100 },
  });
  const late = await Wire.connect(server.port);
  t.teardown(() => late.close());
  wire.send(`auth ${secret}\r\n`);
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');
  wire.send(Buffer.concat([addCommand(newId(), 'first', 'x'), addCommand(newId(), 'second', 'x')]));
  t.is(await wire.reply('+OK\r\n-SERVER-ERROR Too many queues\r\n'), '+OK\r\n-SERVER-ERROR Too many queues\r\n');
  t.is(await late.reply('-SERVER-ERROR Authentication timeout\r\n'), '-SERVER-ERROR Authentication timeout\r\n');
  t.true(await late.waitClosed());

  const samples = parseScrape((await get(`${base}/metrics`)).body);
  const at = (name: string, labels: Record<string, string> = {}): number | undefined => samples.get(series(name, { instance: 'm1', ...labels }));
  t.is(at('workq_queues_refused_total'), 1);
  t.is(at('workq_queues_reclaimed_total'), 0);
  t.is(at('workq_commands_total', { command: 'add', outcome: 'refused' }), 1);
  t.is(at('workq_auth_timeouts_total'), 1);
  t.is(at('workq_reply_bytes_limit'), 12345);
  t.is(at('workq_reply_bytes_held'), 0, 'nothing held once every reply was taken');
  t.is(at('workq_reply_waits_total'), 0);
});
