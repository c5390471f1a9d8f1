import test from 'ava';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import {
  connectWhenUp,
  deployment,
  LineClient,
  statusOf,
  stopped,
  supervise,
  waitFor,
  waitForLog,
  type Deployment,
  type Supervised,
} from './supervisor-harness.js';

// Real processes from dist/ (build first: npx tsc -p .): a supervisor with its server
// children, clients over raw sockets speaking the Workq text protocol.

async function started(t: { teardown(fn: () => unknown): void }, d: Deployment, args: string[] = []): Promise<Supervised> {
  const supervisor = supervise(d, args);
  t.teardown(() => {
    if (process.env['DEBUG_SUPERVISOR']) console.log(supervisor.output());
    supervisor.kill('SIGKILL');
  });
  await waitForLog(supervisor, 'supervisor ready');
  return supervisor;
}

test.serial('three instances serve independently; status shows each', async (t) => {
  const d = await deployment(3);
  t.teardown(() => d.remove());
  const supervisor = await started(t, d);
  const clients = await Promise.all(d.ports.map((port) => LineClient.connect(port)));
  for (const [i, client] of clients.entries()) {
    for (let n = 0; n <= i; n++) await client.add();
  }
  t.deepEqual(await Promise.all(clients.map((client) => client.readyLen())), [1, 2, 3]);
  const status = await statusOf(d);
  t.truthy(status);
  t.deepEqual(
    status!.instances.map((instance) => [instance.name, instance.port, instance.state, instance.restarts, instance.jobs]),
    d.ports.map((port, i) => [`q${i}`, port, 'ready', 0, i + 1]),
  );
  t.true(status!.instances.every((instance) => typeof instance.pid === 'number' && instance.pid !== supervisor.pid));
  const lines = supervisor.lines();
  t.true(
    lines.some((line) => line['instance'] === 'q1' && line['msg'] === 'listening'),
    'child log lines carry the instance name',
  );
  for (const client of clients) client.close();
  supervisor.kill('SIGTERM');
  t.is((await stopped(supervisor)).code, 0);
});

test.serial('kill -9 of one child: back with its jobs, the others keep their connections', async (t) => {
  const d = await deployment(3);
  t.teardown(() => d.remove());
  const supervisor = await started(t, d);
  const clients = await Promise.all(d.ports.map((port) => LineClient.connect(port)));
  const ids = await Promise.all(clients.map((client) => client.add()));
  const before = (await statusOf(d))!;
  const victim = before.instances[1]!;
  process.kill(victim.pid!, 'SIGKILL');
  // Connect only to the new child: the dying one may still accept for a moment.
  const after = await waitFor('the restarted child', async () => {
    const status = await statusOf(d);
    const instance = status?.instances[1];
    return status !== null && instance?.state === 'ready' && instance.pid !== victim.pid ? status : undefined;
  });
  const back = await LineClient.connect(d.ports[1]!);
  t.true(await back.hasJob(ids[1]!), 'the job acknowledged before the kill is back');
  for (const i of [0, 2]) {
    t.true(await clients[i]!.hasJob(ids[i]!), `instance ${i} kept its connection`);
    t.is(await clients[i]!.readyLen(), 1);
  }
  t.is(after.instances[1]!.restarts, 1);
  t.deepEqual([after.instances[0]!.pid, after.instances[2]!.pid], [before.instances[0]!.pid, before.instances[2]!.pid]);
  back.close();
  for (const client of clients) client.close();
  supervisor.kill('SIGTERM');
  t.is((await stopped(supervisor)).code, 0);
});

test.serial('SIGTERM: exit 0, locks released, a restart sees every job', async (t) => {
  const d = await deployment(2);
  t.teardown(() => d.remove());
  const first = await started(t, d);
  const ids: string[][] = [[], []];
  for (const [i, port] of d.ports.entries()) {
    const client = await LineClient.connect(port);
    for (let n = 0; n < 20; n++) ids[i]!.push(await client.add());
    client.close();
  }
  first.kill('SIGTERM');
  t.deepEqual(await stopped(first), { code: 0, signal: null });
  t.false(existsSync(d.socket), 'control socket removed');
  for (const dir of d.dataDirs) t.false(existsSync(`${dir}.lock`), `no lock left on ${dir}: a restart has no stale lock to wait for`);

  const second = await started(t, d);
  for (const [i, port] of d.ports.entries()) {
    const client = await LineClient.connect(port);
    for (const id of ids[i]!) t.true(await client.hasJob(id));
    client.close();
  }
  second.kill('SIGINT');
  t.deepEqual(await stopped(second), { code: 0, signal: null });
});

test.serial('SIGHUP under a client load: children replaced one by one, no acknowledged job lost', async (t) => {
  const d = await deployment(3);
  t.teardown(() => d.remove());
  const supervisor = await started(t, d);
  const before = (await statusOf(d))!;
  const acked: string[][] = d.ports.map(() => []);
  let running = true;
  const load = d.ports.map(async (port, i) => {
    while (running) {
      const client = await connectWhenUp(port, 15_000);
      try {
        while (running) acked[i]!.push(await client.add());
      } catch {
        // the instance is being replaced: reconnect once it is back
      } finally {
        client.close();
      }
    }
  });
  await waitFor('some load', () => acked.every((list) => list.length >= 20) || undefined);
  supervisor.kill('SIGHUP');
  await waitForLog(supervisor, 'hot restart done', 1, 25_000);
  const counts = acked.map((list) => list.length);
  await waitFor('load after the restart', () => acked.every((list, i) => list.length >= counts[i]! + 20) || undefined);
  running = false;
  await Promise.all(load);

  const after = (await statusOf(d))!;
  for (const [i, instance] of after.instances.entries()) {
    t.is(instance.state, 'ready');
    t.not(instance.pid, before.instances[i]!.pid, `${instance.name} was replaced`);
    t.is(instance.restarts, 0, 'a hot restart is not a crash');
  }
  for (const [i, port] of d.ports.entries()) {
    const client = await LineClient.connect(port);
    const missing: string[] = [];
    for (const id of acked[i]!) if (!(await client.hasJob(id))) missing.push(id);
    t.deepEqual(missing, [], `instance q${i}: ${acked[i]!.length} acknowledged`);
    client.close();
  }
  supervisor.kill('SIGTERM');
  t.is((await stopped(supervisor)).code, 0);
});

test.serial('a second supervisor on the same configuration refuses to start', async (t) => {
  const d = await deployment(2);
  t.teardown(() => d.remove());
  const first = await started(t, d);
  const second = supervise(d);
  t.teardown(() => second.kill('SIGKILL'));
  t.is((await stopped(second)).code, 1);
  t.regex(second.output(), /another supervisor answers on the control socket/);

  // Same directories behind a different control socket: the children's directory locks refuse.
  const copy = { ...d, configFile: `${d.configFile}.copy.json` };
  await writeFile(
    copy.configFile,
    JSON.stringify({
      instances: d.ports.map((port, i) => ({ name: `q${i}`, port: port, cmdlog: { path: d.dataDirs[i] } })),
      supervisor: { controlSocket: `${d.socket}.2` },
    }),
  );
  const third = supervise(copy);
  t.teardown(() => third.kill('SIGKILL'));
  const third_exit = await stopped(third, 25_000);
  t.is(third_exit.code, 1, third.output());
  // Plain lines, and the msg of JSON lines (an err's message and stack repeat the message by design).
  const texts = third
    .output()
    .split('\n')
    .map((line) => (line.startsWith('{') ? String((JSON.parse(line) as { msg: unknown }).msg) : line));
  const refusals = texts.filter((text) => text.includes('is in use'));
  t.true(refusals.length > 0, third.output());
  t.true(
    refusals.every((line) => line.split('is in use').length === 2 && !/refusing to start/.test(line)),
    `each refusal said once:\n${refusals.join('\n')}`,
  );
  t.true(
    refusals.some((line) => /^instance "q\d": cmdlog directory .* is in use: process \d+ \(.*\) holds the lock on .*append\.lock$/.test(line)),
    "the supervisor's last word names the instance, the cause and the holder",
  );
  t.true(third.lines().filter((line) => line['msg'] === 'starting server').length <= 2 + 2, 'no restart loop');

  const client = await LineClient.connect(d.ports[0]!);
  t.true(await client.hasJob(await client.add()), 'the first supervisor still serves');
  client.close();
  first.kill('SIGTERM');
  t.is((await stopped(first)).code, 0);
});

test.serial('a child that keeps crashing is left down and reported; the others keep serving', async (t) => {
  const d = await deployment(2, { maxRestarts: 2, restartWindowMs: 60_000 });
  t.teardown(() => d.remove());
  const supervisor = await started(t, d);
  for (let crash = 0; crash < 3; crash++) {
    const status = await waitFor('instance q0 up', async () => {
      const s = await statusOf(d);
      return s?.instances[0]?.state === 'ready' ? s : undefined;
    });
    process.kill(status.instances[0]!.pid!, 'SIGKILL');
    await waitFor('q0 gone', async () => (await statusOf(d))?.instances[0]?.pid !== status.instances[0]!.pid || undefined);
  }
  const down = await waitFor('q0 failed', async () => {
    const s = await statusOf(d);
    return s?.instances[0]?.state === 'failed' ? s : undefined;
  });
  t.is(down.instances[0]!.pid, null);
  t.is(down.instances[0]!.restarts, 2);
  t.is(down.instances[1]!.state, 'ready');
  await waitFor(
    'the report',
    () => supervisor.lines().some((line) => line['instance'] === 'q0' && line['level'] === 50 && /left down/.test(String(line['msg']))) || undefined,
  );
  const client = await LineClient.connect(d.ports[1]!);
  t.true(await client.hasJob(await client.add(randomUUID())));
  client.close();

  supervisor.kill('SIGHUP');
  await waitForLog(supervisor, 'hot restart done');
  t.is((await statusOf(d))!.instances[0]!.state, 'ready', 'a hot restart gives a failed instance a fresh start');
  supervisor.kill('SIGTERM');
  t.is((await stopped(supervisor)).code, 0);
});
