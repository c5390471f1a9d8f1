import test from 'ava';
import { get, parseScrape, series } from '../helpers/prometheus.js';
import { deployment, LineClient, statusOf, stopped, supervise, waitFor, waitForLog, type Deployment, type Supervised } from './supervisor-harness.js';

// The supervisor's admin listener, from dist/ (build first): metrics of every child,
// health and readiness, status as `workq-server status --json` prints it.

async function started(t: { teardown(fn: () => unknown): void }, d: Deployment): Promise<{ supervisor: Supervised; base: string }> {
  const supervisor = supervise(d);
  t.teardown(() => {
    if (process.env['DEBUG_SUPERVISOR']) console.log(supervisor.output());
    supervisor.kill('SIGKILL');
  });
  await waitForLog(supervisor, 'supervisor ready');
  const line = supervisor.lines().find((entry) => entry['msg'] === 'admin listening' && entry['role'] === 'supervisor')!;
  return { supervisor, base: `http://127.0.0.1:${line['port'] as number}` };
}

test.serial("one scrape holds every instance, counted exactly, beside the supervisor's own metrics", async (t) => {
  const d = await deployment(2);
  t.teardown(() => d.remove());
  const { supervisor, base } = await started(t, d);
  const [c0, c1] = await Promise.all(d.ports.map((port) => LineClient.connect(port)));
  for (let i = 0; i < 3; i++) await c0!.add(undefined, 'emails');
  await c1!.add(undefined, 'sms');
  c1!.send('lease sms 0\r\n');
  t.is(await c1!.line(), '+OK 1');

  const samples = parseScrape((await get(`${base}/metrics`)).body);
  t.is(samples.get(series('workq_jobs', { instance: 'q0', queue: 'emails', state: 'ready' })), 3);
  t.is(samples.get(series('workq_jobs', { instance: 'q1', queue: 'sms', state: 'leased' })), 1);
  t.is(samples.get(series('workq_jobs', { instance: 'q1', queue: 'sms', state: 'ready' })), 0);
  t.is(samples.get(series('workq_commands_total', { instance: 'q0', command: 'add', outcome: 'ok' })), 3);
  t.is(samples.get(series('workq_commands_total', { instance: 'q1', command: 'lease', outcome: 'ok' })), 1);
  t.is(samples.get(series('workq_leases_total', { instance: 'q1' })), 1);
  t.is(samples.get(series('workq_instance_up', { instance: 'q0' })), 1);
  t.is(samples.get(series('workq_instance_restarts_total', { instance: 'q1' })), 0);
  t.is(samples.get(series('workq_instance_state', { instance: 'q1', state: 'ready' })), 1);
  t.is(samples.get(series('workq_cmdlog_sync_info', { instance: 'q0', policy: 'interval' })), 1);

  const viaHttp = JSON.parse((await get(`${base}/status`)).body) as NonNullable<Awaited<ReturnType<typeof statusOf>>>;
  const viaCli = (await statusOf(d))!;
  const shape = (status: typeof viaCli) => ({
    pid: status.pid,
    startedAt: status.startedAt,
    instances: status.instances.map((instance) => ({ ...instance, uptimeMs: null })),
  });
  t.deepEqual(shape(viaHttp), shape(viaCli));
  t.deepEqual(Object.keys(viaHttp.instances[0]!), Object.keys(viaCli.instances[0]!));
  c0!.close();
  c1!.close();
  supervisor.kill('SIGTERM');
  t.is((await stopped(supervisor)).code, 0);
});

test.serial('/readyz answers 503 with the reason while a child is down, and 200 once it is back', async (t) => {
  // No automatic restarts: the killed child stays down until a hot restart brings it back.
  const d = await deployment(2, { maxRestarts: 0 });
  t.teardown(() => d.remove());
  const { supervisor, base } = await started(t, d);
  t.is((await get(`${base}/healthz`)).status, 200);
  t.deepEqual(await get(`${base}/readyz`).then((r) => [r.status, r.body]), [200, 'ready\n']);

  const victim = (await statusOf(d))!.instances[1]!;
  process.kill(victim.pid!, 'SIGKILL');
  const down = await waitFor('503 from /readyz', async () => {
    const reply = await get(`${base}/readyz`);
    return reply.status === 503 ? reply : undefined;
  });
  t.regex(down.body, /^not ready\ninstance q1: failed \(exited with SIGKILL\)\n$/);
  t.is((await get(`${base}/healthz`)).status, 200, 'the supervisor itself still runs');
  const samples = parseScrape((await get(`${base}/metrics`)).body);
  t.is(samples.get(series('workq_instance_up', { instance: 'q1' })), 0);
  t.is(samples.get(series('workq_instance_up', { instance: 'q0' })), 1);
  t.is(samples.get(series('workq_jobs_added_total', { instance: 'q1' })), undefined, 'a child that is down has no series');

  supervisor.kill('SIGHUP');
  await waitForLog(supervisor, 'hot restart done');
  const back = await get(`${base}/readyz`);
  t.deepEqual([back.status, back.body], [200, 'ready\n']);
  supervisor.kill('SIGTERM');
  t.is((await stopped(supervisor)).code, 0);
});

test.serial('a child killed while status requests are in flight: the supervisor stays up and answers every one', async (t) => {
  t.timeout(300_000);
  const d = await deployment(1);
  t.teardown(() => d.remove());
  const { supervisor, base } = await started(t, d);
  type Status = NonNullable<Awaited<ReturnType<typeof statusOf>>>;
  const pidOf = async (): Promise<number | null> => {
    const status = JSON.parse((await get(`${base}/status`)).body) as Status;
    const instance = status.instances[0]!;
    return instance.state === 'ready' ? instance.pid : null;
  };
  // A status request asks each child over IPC; one sent to a child that has just died
  // fails (EPIPE) until the supervisor has read the end of that channel. To make the
  // requests meet the death: the supervisor is frozen (SIGSTOP), the child killed and the
  // requests sent, then the supervisor goes on and finds both at once.
  for (let round = 0; round < 5; round++) {
    const victim = await waitFor('the instance ready', pidOf);
    supervisor.kill('SIGSTOP');
    process.kill(victim!, 'SIGKILL');
    const requests = Array.from({ length: 8 }, () => get(`${base}/status`));
    await new Promise((resolve) => setTimeout(resolve, 200));
    supervisor.kill('SIGCONT');
    t.deepEqual(
      (await Promise.all(requests)).map((reply) => reply.status),
      Array.from({ length: 8 }, () => 200),
      `round ${round}`,
    );
    await waitFor('a new child', async () => {
      const pid = await pidOf();
      return pid !== null && pid !== victim ? pid : undefined;
    });
  }
  t.is((await get(`${base}/healthz`)).status, 200);
  supervisor.kill('SIGTERM');
  t.is((await stopped(supervisor)).code, 0);
});
