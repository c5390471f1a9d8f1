import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, spawnServer } from '../helpers/process.js';
import {
  deployment,
  LineClient,
  runStatus,
  statusOf,
  stopped,
  supervise,
  waitFor,
  waitForLog,
  type Deployment,
  type Supervised,
} from './supervisor-harness.js';

// Real processes from dist/ (build first: npx tsc -p .): what the supervisor tells about
// its instances, and how it finds and replaces the ones that do not serve.

type Teardown = { teardown(fn: () => unknown): void };

function watched(t: Teardown, supervisor: Supervised): Supervised {
  t.teardown(() => {
    if (process.env['DEBUG_SUPERVISOR']) console.log(supervisor.output());
    supervisor.kill('SIGKILL');
  });
  return supervisor;
}

/** Something else listening on `port` until the test ends (or until closed). */
function occupy(t: Teardown, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const holder = net.createServer((socket) => socket.destroy());
    holder.once('error', reject);
    holder.listen(port, '127.0.0.1', () => resolve(holder));
    t.teardown(() => holder.close());
  });
}

async function stateOf(d: Deployment, index: number, wanted: string): Promise<NonNullable<Awaited<ReturnType<typeof statusOf>>>> {
  return waitFor(
    `instance ${index} ${wanted}`,
    async () => {
      const status = await statusOf(d);
      return status?.instances[index]?.state === wanted ? status : undefined;
    },
    30_000,
  );
}

test.serial('kill -9 of a child three times in a row: each time back with its jobs, at once the first time; the others keep their connections', async (t) => {
  const d = await deployment(3);
  t.teardown(() => d.remove());
  const supervisor = watched(t, supervise(d));
  await waitForLog(supervisor, 'supervisor ready');
  const clients = await Promise.all(d.ports.map((port) => LineClient.connect(port)));
  const kept = [await clients[0]!.add(), await clients[2]!.add()];
  const victimJobs: string[] = [];
  let pid = (await statusOf(d))!.instances[1]!.pid!;
  for (let kill = 1; kill <= 3; kill++) {
    const client = await LineClient.connect(d.ports[1]!);
    victimJobs.push(await client.add());
    client.close();
    process.kill(pid, 'SIGKILL');
    const back = await waitFor(
      `q1 back after kill ${kill}`,
      async () => {
        const status = await statusOf(d);
        const instance = status?.instances[1];
        return instance?.state === 'ready' && instance.pid !== pid ? instance : undefined;
      },
      30_000,
    );
    t.is(back.restarts, kill);
    pid = back.pid!;
    const again = await LineClient.connect(d.ports[1]!);
    for (const id of victimJobs) t.true(await again.hasJob(id), `job ${id} back after kill ${kill}`);
    again.close();
    t.true(await clients[0]!.hasJob(kept[0]!), `q0 kept its connection through kill ${kill}`);
    t.true(await clients[2]!.hasJob(kept[1]!), `q2 kept its connection through kill ${kill}`);
  }
  const restarts = supervisor.lines().filter((line) => line['instance'] === 'q1' && line['msg'] === 'server exited unexpectedly: restarting');
  t.deepEqual(
    restarts.map((line) => line['delayMs']),
    [0, 100, 200],
    'the first crash is restarted at once, the repeated ones back off',
  );
  t.is(supervisor.lines().filter((line) => line['msg'] === 'supervisor ready').length, 1);
  for (const client of clients) client.close();
  supervisor.kill('SIGTERM');
  t.is((await stopped(supervisor)).code, 0);
});

test.serial("the only instance's port is taken: reported as EADDRINUSE once, not retried, the supervisor exits 1", async (t) => {
  const d = await deployment(1);
  t.teardown(() => d.remove());
  await occupy(t, d.ports[0]!);
  const supervisor = watched(t, supervise(d));
  const exit = await stopped(supervisor, 30_000);
  t.is(exit.code, 1, supervisor.output());
  t.regex(supervisor.output(), /no instance can serve \(instance "q0": listen EADDRINUSE: address already in use 127\.0\.0\.1:\d+\)/);
  t.is(supervisor.lines().filter((line) => line['msg'] === 'starting server').length, 1, 'tried once');
  t.false(supervisor.lines().some((line) => line['msg'] === 'supervisor ready'));
  t.true(supervisor.lines().some((line) => /address not available/.test(String(line['msg'])) && line['code'] === 'EADDRINUSE'));
});

test.serial('one of two ports taken: degraded (status exits 3) until the slow retry finds it free; then ready (status exits 0)', async (t) => {
  const d = await deployment(2, { failedRetryMs: 1500 });
  t.teardown(() => d.remove());
  const holder = await occupy(t, d.ports[1]!);
  const supervisor = watched(t, supervise(d));
  await waitForLog(supervisor, 'supervisor degraded: some instances do not serve');
  const degraded = await runStatus(['--config', d.configFile], d.dir);
  t.is(degraded.code, 3, degraded.stdout + degraded.stderr);
  t.regex(degraded.stdout, /degraded \(control socket /);
  // The slow retry may be under way ('starting'); it fails the same way while the port is taken.
  t.regex(degraded.stdout, /q1 .* (failed|starting) .*EADDRINUSE/);
  const json = (await statusOf(d))!;
  t.is(json.state, 'degraded');
  t.deepEqual(
    json.instances.map((instance) => [instance.state === 'starting' ? 'failed' : instance.state, instance.lastErrorCode]),
    [
      ['ready', null],
      ['failed', 'EADDRINUSE'],
    ],
  );
  const leftDown = (): number =>
    supervisor
      .lines()
      .filter((line) => line['instance'] === 'q1' && line['msg'] === 'address not available (port already in use?): left down, not retried as a crash').length;
  await waitFor('a slow retry that fails again while the port is taken', () => leftDown() >= 2 || undefined, 30_000);
  t.false(
    supervisor.lines().some((line) => line['msg'] === 'supervisor ready'),
    'not ready while an instance does not serve',
  );

  await new Promise<void>((resolve) => holder.close(() => resolve()));
  await waitForLog(supervisor, 'supervisor ready', 1, 30_000);
  const ready = await runStatus(['--config', d.configFile], d.dir);
  t.is(ready.code, 0, ready.stdout + ready.stderr);
  const back = (await statusOf(d))!;
  t.is(back.state, 'ready');
  t.is(back.instances[1]!.restarts, 0, 'a port in use is not a crash');
  const order = supervisor
    .lines()
    .map((line) => line['msg'])
    .filter((msg) => ['supervisor degraded: some instances do not serve', 'server left down is back after a retry', 'supervisor ready'].includes(String(msg)));
  t.deepEqual(order, ['supervisor degraded: some instances do not serve', 'server left down is back after a retry', 'supervisor ready']);
  supervisor.kill('SIGTERM');
  t.is((await stopped(supervisor)).code, 0);
});

test.serial('a SIGSTOPped child is shown unresponsive, then killed and replaced; its jobs come back', async (t) => {
  const d = await deployment(2, { pingIntervalMs: 200, unresponsiveAfterMs: 1000, replaceUnresponsiveAfterMs: 3000 });
  t.teardown(() => d.remove());
  const supervisor = watched(t, supervise(d));
  await waitForLog(supervisor, 'supervisor ready');
  const client = await LineClient.connect(d.ports[0]!);
  const id = await client.add();
  client.close();
  const hung = (await statusOf(d))!.instances[0]!.pid!;
  process.kill(hung, 'SIGSTOP');
  t.teardown(() => {
    try {
      process.kill(hung, 'SIGKILL');
    } catch {
      // already gone: replaced as it should be
    }
  });
  const unresponsive = await stateOf(d, 0, 'unresponsive');
  t.is(unresponsive.state, 'degraded');
  t.is(unresponsive.instances[0]!.pid, hung);
  const replaced = await waitFor(
    'q0 replaced',
    async () => {
      const status = await statusOf(d);
      const instance = status?.instances[0];
      return instance?.state === 'ready' && instance.pid !== hung ? instance : undefined;
    },
    40_000,
  );
  t.is(replaced.restarts, 1);
  const again = await LineClient.connect(d.ports[0]!);
  t.true(await again.hasJob(id));
  again.close();
  const order = supervisor
    .lines()
    .filter((line) => line['role'] === 'supervisor' && line['instance'] === 'q0')
    .map((line) => line['msg'])
    .filter((msg) => /unresponsive|restarting|server ready/.test(String(msg)));
  t.deepEqual(order, [
    'server ready',
    'server does not answer pings: unresponsive',
    'server unresponsive too long: killing it to replace it',
    'server exited unexpectedly: restarting',
    'server ready',
  ]);
  supervisor.kill('SIGTERM');
  t.is((await stopped(supervisor)).code, 0);
});

test.serial('status finds the supervisor from any directory without its configuration, and says where it looked', async (t) => {
  const d = await deployment(1);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'workq-tmpdir-'));
  const elsewhere = await mkdtemp(path.join(os.tmpdir(), 'workq-elsewhere-'));
  t.teardown(async () => {
    await d.remove();
    await rm(tmp, { recursive: true, force: true });
    await rm(elsewhere, { recursive: true, force: true });
  });
  // The default socket, in a private TMPDIR so that no other supervisor on this host meets it.
  await writeFile(d.configFile, JSON.stringify({ instances: [{ name: 'q0', port: d.ports[0], cmdlog: { path: 'data/q0' } }] }));
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
  delete env['WORKQ_CONTROL_SOCKET'];
  const defaultSocket = path.join(tmp, `workq-${process.getuid?.() ?? 0}`, 'control.sock');
  const supervisor = watched(t, supervise(d, [], { TMPDIR: tmp, WORKQ_CONTROL_SOCKET: '' }));
  await waitForLog(supervisor, 'supervisor ready');

  const found = await runStatus(['--json'], elsewhere, env);
  t.is(found.code, 0, found.stderr);
  const status = JSON.parse(found.stdout) as { pid: number; control: string; instances: Array<{ name: string; settings: Record<string, unknown> }> };
  t.is<number | undefined, number | undefined>(status.pid, supervisor.pid);
  t.is(status.control, defaultSocket);
  t.is(status.instances[0]!.settings['cmdlog'], path.join(d.dir, 'data/q0'), "relative to the supervisor's directory, not the status caller's");

  const other = await runStatus(['--config', d.configFile], elsewhere, { ...env, WORKQ_CONTROL_SOCKET: path.join(tmp, 'none.sock') });
  t.is(other.code, 1);
  t.is(
    other.stderr.trim(),
    `workq-server status: no supervisor answers on the control socket ${path.join(tmp, 'none.sock')} (supervisor.controlSocket; name another with --control or WORKQ_CONTROL_SOCKET)`,
  );
  const flag = await runStatus(['--control', defaultSocket], elsewhere, { ...env, TMPDIR: elsewhere });
  t.is(flag.code, 0, flag.stderr);
  t.regex(flag.stdout, /ready \(control socket /);

  const second = watched(t, spawnSupervisorIn(d, elsewhere, env));
  t.is((await stopped(second)).code, 1);
  t.regex(second.output(), new RegExp(`another supervisor answers on the control socket ${defaultSocket}: stop it, or give this one a socket of its own`));
  const ownSocket = path.join(tmp, 'second.sock');
  const third = watched(t, spawnSupervisorIn(d, elsewhere, env, ['--control', ownSocket]));
  await waitForLog(third, 'supervisor ready');
  const both = await Promise.all([runStatus(['--json'], elsewhere, env), runStatus(['--json', '--control', ownSocket], elsewhere, env)]);
  t.deepEqual(
    both.map((run) => (JSON.parse(run.stdout) as { pid: number }).pid),
    [supervisor.pid, third.pid],
    'two supervisors of one user, each on its own socket',
  );
  third.kill('SIGTERM');
  t.is((await stopped(third)).code, 0);
  supervisor.kill('SIGTERM');
  t.is((await stopped(supervisor)).code, 0);
  const gone = await runStatus([], elsewhere, env);
  t.is(gone.code, 1);
  t.regex(gone.stderr, new RegExp(`no supervisor answers on the control socket ${defaultSocket} \\(the default;`));
});

/** A second supervisor of another configuration (its own port), started from another directory. */
function spawnSupervisorIn(d: Deployment, cwd: string, env: NodeJS.ProcessEnv, args: string[] = []): Supervised {
  const copy: Deployment = { ...d, dir: cwd };
  return supervise(copy, args, { ...env, WORKQ_INSTANCES: JSON.stringify([{ name: 'other', port: 0 }]) });
}

test.serial('every supervised server logs its sync policy and power-cut window; status --json shows its settings', async (t) => {
  const d = await deployment(2);
  t.teardown(() => d.remove());
  await writeFile(
    d.configFile,
    JSON.stringify({
      instances: [
        { name: 'q0', port: d.ports[0], cmdlog: { path: d.dataDirs[0], sync: 'always' } },
        { name: 'q1', port: d.ports[1], cmdlog: { path: d.dataDirs[1], sync: 'interval', syncIntervalMs: 250 } },
      ],
      supervisor: { controlSocket: d.socket },
    }),
  );
  const supervisor = watched(t, supervise(d));
  await waitForLog(supervisor, 'supervisor ready');
  const starts = supervisor.lines().filter((line) => line['msg'] === 'starting' && typeof line['instance'] === 'string');
  t.deepEqual(starts.map((line) => [line['instance'], line['sync'], line['syncIntervalMs'], line['powerCutMayLose']]).sort(), [
    ['q0', 'always', undefined, 'nothing acknowledged'],
    ['q1', 'interval', 250, 'up to 250 ms of acknowledged commands'],
  ]);
  const status = (await statusOf(d))!;
  t.like(status.instances[0]!.settings, { listen: `127.0.0.1:${d.ports[0]}`, cmdlog: d.dataDirs[0], sync: 'always', powerCutMayLose: 'nothing acknowledged' });
  t.like(status.instances[1]!.settings, { sync: 'interval', syncIntervalMs: 250, segmentSize: 64 * 1024 * 1024, cleanIntervalMs: 300_000 });
  supervisor.kill('SIGTERM');
  t.is((await stopped(supervisor)).code, 0);
});

test.serial('a command-log path under /proc is refused with a message, by the supervisor and the standalone server', async (t) => {
  const d = await deployment(1);
  t.teardown(() => d.remove());
  await writeFile(
    d.configFile,
    JSON.stringify({ instances: [{ name: 'q0', port: d.ports[0], cmdlog: { path: '/proc/workq/q0' } }], supervisor: { controlSocket: d.socket } }),
  );
  const supervisor = watched(t, supervise(d));
  t.is((await stopped(supervisor)).code, 1);
  t.is(
    supervisor.output().trim(),
    'invalid configuration: instances[0] ("q0") cmdlog.path: /proc/workq/q0 is on the kernel\'s proc file system, which cannot hold files',
  );

  const standalone = spawnServer(['-listen', `127.0.0.1:${await freePort()}`, '-cmdlog-path', '/proc/self/workq'], { built: true });
  t.teardown(() => standalone.kill('SIGKILL'));
  t.is((await stopped(standalone)).code, 1);
  t.regex(standalone.output(), /cmdlog\.path: \/proc\/self\/workq is on the kernel's proc file system, which cannot hold files/);
});

test.serial('a standalone server still starting stops gracefully on SIGTERM', async (t) => {
  const d = await deployment(1);
  t.teardown(() => d.remove());
  const server = spawnServer(['-listen', `127.0.0.1:${d.ports[0]}`, '-cmdlog-path', d.dataDirs[0]!], { built: true });
  t.teardown(() => server.kill('SIGKILL'));
  await waitFor('its first line', () => server.output().includes('"msg":"starting"') || undefined);
  server.kill('SIGTERM');
  t.deepEqual(await stopped(server), { code: 0, signal: null }, server.output());
  const messages = server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
  t.true(messages.indexOf('stopping') > messages.indexOf('starting'));
  t.is(messages.at(-1), 'stopped', 'the log was closed and unlocked');
});

test.serial('a configured control socket in a missing directory is refused with a message', async (t) => {
  const d = await deployment(1);
  t.teardown(() => d.remove());
  const socket = path.join(d.dir, 'missing', 'control.sock');
  const supervisor = watched(t, supervise(d, [], { WORKQ_CONTROL_SOCKET: socket }));
  t.is((await stopped(supervisor)).code, 1);
  t.is(supervisor.output().trim(), `invalid configuration: control socket ${socket}: ${path.dirname(socket)} does not exist`);
});
