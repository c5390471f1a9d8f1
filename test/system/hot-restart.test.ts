import test, { type ExecutionContext } from 'ava';
import { copyFile, cp, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect, ServerStoppingError } from '../../src/client/index.js';
import type { SupervisorStatus } from '../../supervisor/primary.js';
import { root } from '../helpers/process.js';
import {
  addLoad,
  deployment,
  fillQueue,
  LineClient,
  missingJobs,
  runStatus,
  stopped,
  supervise,
  waitFor,
  waitForLog,
  type Deployment,
  type Load,
  type Supervised,
} from './supervisor-harness.js';

// Real processes from dist/ (build first: npx tsc -p .): hot restarts of a supervisor
// whose instance holds a large log, under a steady add load (docs/operations.md, hot restart).

const FILL_JOBS = 200_000;

async function started(t: { teardown(fn: () => unknown): void }, d: Deployment, main?: string): Promise<Supervised> {
  const supervisor = supervise(d, [], {}, main);
  t.teardown(() => {
    if (process.env['DEBUG_SUPERVISOR']) console.log(supervisor.output());
    supervisor.kill('SIGKILL');
  });
  await waitForLog(supervisor, 'supervisor ready');
  return supervisor;
}

/** Adds `count` jobs to queue `fill` on a connection of its own. */
async function fill(port: number, count: number): Promise<void> {
  const client = await LineClient.connect(port);
  await fillQueue(client, count);
  client.close();
}

async function missingAt(port: number, ids: string[]): Promise<string[]> {
  const client = await LineClient.connect(port);
  try {
    return await missingJobs(client, ids);
  } finally {
    client.close();
  }
}

/** Asks the control socket itself: the configuration file may be broken on purpose. */
async function statusOf(d: Deployment): Promise<SupervisorStatus> {
  const run = await runStatus(['--json', '--control', d.socket], d.dir);
  if (run.code !== 0 && run.code !== 3) throw new Error(`status: ${run.stderr}`);
  return JSON.parse(run.stdout) as SupervisorStatus;
}

function messages(supervisor: Supervised): string[] {
  return supervisor.lines().map((line) => String(line['msg']));
}

/** A hot restart of one instance holding FILL_JOBS jobs, under an add load; `during` runs once the new server starts on standby. */
async function hotRestartUnderLoad(
  t: ExecutionContext,
  during: (old: { pid: number | null }) => void = () => undefined,
): Promise<{ d: Deployment; supervisor: Supervised; port: number; before: SupervisorStatus['instances'][number]; load: Load }> {
  t.timeout(600_000);
  const d = await deployment(1);
  t.teardown(() => d.remove());
  const supervisor = await started(t, d);
  const port = d.ports[0]!;
  await fill(port, FILL_JOBS);
  const before = (await statusOf(d)).instances[0]!;

  const load = addLoad(() => LineClient.connect(port));
  await waitFor('some load', () => load.acked.length >= 50 || undefined);
  supervisor.kill('SIGHUP');
  await waitForLog(supervisor, 'hot restart: new server starting on standby');
  during(before);
  await waitForLog(supervisor, 'hot restart done', 1, 120_000);
  await waitFor('the instance serving', async () => ((await statusOf(d)).instances[0]!.state === 'ready' ? true : undefined), 60_000);
  const at = load.acked.length;
  await waitFor('load after the restart', () => load.acked.length >= at + 50 || undefined, 60_000);
  await load.stop();
  return { d, supervisor, port, before, load };
}

/** Every add the load saw acknowledged and every fill job is there; the supervisor then stops cleanly. */
async function keptEverything(t: ExecutionContext, supervisor: Supervised, port: number, load: Load): Promise<void> {
  t.deepEqual(await missingAt(port, load.acked), [], `${load.acked.length} acknowledged`);
  const client = await LineClient.connect(port);
  t.is(await client.readyLen('fill'), FILL_JOBS);
  client.close();
  supervisor.kill('SIGTERM');
  t.is((await stopped(supervisor)).code, 0);
}

test.serial(`SIGHUP under an add load with ${FILL_JOBS} jobs in the log: no connection refused, every acknowledged job kept`, async (t) => {
  const { d, supervisor, port, before, load } = await hotRestartUnderLoad(t);

  const after = (await statusOf(d)).instances[0]!;
  t.is(after.state, 'ready');
  t.not(after.pid, before.pid, 'replaced');
  t.is(after.restarts, 0);
  t.is(load.refused, 0, 'no connection refused');
  const order = messages(supervisor).filter((msg) => msg.startsWith('hot restart'));
  t.deepEqual(order, [
    'hot restart: replacing servers one at a time',
    'hot restart: new server starting on standby',
    'hot restart: old server stopped, the new one takes over',
    'hot restart done',
  ]);
  // The new server replayed the log before the old one stopped, and only its tail after.
  // The processes write their lines to one pipe each on its own: their times tell the order.
  const newPid = after.pid!;
  const timeOf = (pid: number | null, msg: string): number => {
    const line = supervisor.lines().find((l) => l['pid'] === pid && l['msg'] === msg);
    if (line === undefined) throw new Error(`no line '${msg}' of ${pid}`);
    return line['time'] as number;
  };
  const steps = [
    timeOf(newPid, 'cmdlog: pre-read done'),
    timeOf(before.pid, 'stopping'),
    timeOf(newPid, 'cmdlog: replayed the tail after the pre-read'),
    timeOf(newPid, 'listening'),
  ];
  t.deepEqual(
    steps,
    [...steps].sort((a, b) => a - b),
    'pre-read done, old server stopping, tail replayed, listening',
  );
  const preRead = supervisor.lines().find((line) => line['pid'] === newPid && line['msg'] === 'cmdlog: pre-read done')!;
  const tail = supervisor.lines().find((line) => line['pid'] === newPid && line['msg'] === 'cmdlog: replayed the tail after the pre-read')!;
  t.true((preRead['records'] as number) >= FILL_JOBS, `pre-read ${String(preRead['records'])} records`);
  t.is(tail['preRead'], preRead['records']);
  t.false(messages(supervisor).includes('cmdlog: the log changed since the pre-read: replaying it whole'));
  await keptEverything(t, supervisor, port, load);
});

test.serial(
  `kill -9 of the old server once a hot restart has begun, under an add load with ${FILL_JOBS} jobs: every acknowledged job kept, the instance serves again`,
  async (t) => {
    // The new server is pre-reading the log while the old one serves the load: the old one dies mid-write.
    const { d, supervisor, port, before, load } = await hotRestartUnderLoad(t, (old) => process.kill(old.pid!, 'SIGKILL'));
    const after = (await statusOf(d)).instances[0]!;
    t.not(after.pid, before.pid, 'replaced');
    t.is(load.refused, 0, 'no connection refused: the supervisor held the listening socket');
    await keptEverything(t, supervisor, port, load);
  },
);

/**
 * What every failed hot restart must give: once `spoil` has run, a SIGHUP leaves the old
 * server serving, its connections kept, with `cause` as the instance's lastError; once
 * `mend` has run, the next SIGHUP replaces it with every job kept.
 */
async function rollsBack(
  t: ExecutionContext,
  d: Deployment,
  supervisor: Supervised,
  how: { spoil: () => Promise<void>; cause: RegExp; mend: () => Promise<void> },
): Promise<void> {
  const port = d.ports[0]!;
  const client = await LineClient.connect(port);
  const first = await client.add();
  const before = (await statusOf(d)).instances[0]!;

  await how.spoil();
  supervisor.kill('SIGHUP');
  await waitForLog(supervisor, 'hot restart done');
  t.true(messages(supervisor).includes('hot restart: the new server failed on standby: the old one keeps serving'));
  t.false(messages(supervisor).includes('hot restart: old server stopped, the new one takes over'));
  const kept = (await statusOf(d)).instances[0]!;
  t.is(kept.state, 'ready');
  t.is(kept.pid, before.pid, 'the old server still serves');
  t.regex(kept.lastError ?? '', how.cause);
  t.true(await client.hasJob(first), 'its connection still works');
  const second = await client.add();
  client.close();

  await how.mend();
  supervisor.kill('SIGHUP');
  await waitForLog(supervisor, 'hot restart done', 2);
  const replaced = (await statusOf(d)).instances[0]!;
  t.not(replaced.pid, before.pid);
  t.is(replaced.lastError, null);
  t.deepEqual(await missingAt(port, [first, second]), []);
}

test.serial(
  'a new server that fails to start (configuration broken since) leaves the old one serving, reported; fixed, the next SIGHUP replaces it',
  async (t) => {
    const d = await deployment(1);
    t.teardown(() => d.remove());
    const supervisor = await started(t, d);
    const good = await readFile(d.configFile, 'utf8');
    await rollsBack(t, d, supervisor, {
      spoil: () => writeFile(d.configFile, good.slice(0, -3)),
      cause: /^hot restart failed, the old server keeps serving: config file .*: not valid JSON/,
      mend: () => writeFile(d.configFile, good),
    });
    supervisor.kill('SIGTERM');
    t.is((await stopped(supervisor)).code, 0);
  },
);

test.serial(
  'a bad build (a module that throws as it loads) fails on standby: the old server keeps serving, reported; the build mended, the next SIGHUP replaces it',
  async (t) => {
    const d = await deployment(1);
    t.teardown(() => d.remove());
    // A build of its own, run from a copy, so that breaking it touches no other test.
    const build = path.join(d.dir, 'build');
    await cp(path.join(root, 'dist'), path.join(build, 'dist'), { recursive: true });
    await cp(path.join(root, 'config'), path.join(build, 'config'), { recursive: true });
    await copyFile(path.join(root, 'package.json'), path.join(build, 'package.json'));
    await symlink(path.join(root, 'node_modules'), path.join(build, 'node_modules'));
    const supervisor = await started(t, d, path.join(build, 'dist/supervisor/main.js'));
    // What a deploy gone wrong leaves: the old server runs the old code, a new process loads the broken one.
    const module = path.join(build, 'dist/src/server/server.js');
    const good = await readFile(module, 'utf8');
    await rollsBack(t, d, supervisor, {
      spoil: () => writeFile(module, `throw new Error('a bad build');\n${good}`),
      cause: /^hot restart failed, the old server keeps serving: exited with code 1 before taking over$/,
      mend: () => writeFile(module, good),
    });
    supervisor.kill('SIGTERM');
    t.is((await stopped(supervisor)).code, 0);
  },
);

test.serial(
  'a new server that fails its pre-read (a damaged sealed segment) leaves the old one serving, reported; repaired, the next SIGHUP replaces it',
  async (t) => {
    const d = await deployment(1);
    t.teardown(() => d.remove());
    const config = JSON.parse(await readFile(d.configFile, 'utf8')) as Record<string, unknown>;
    await writeFile(d.configFile, JSON.stringify({ ...config, cmdlog: { segmentSize: 4096 } }));
    const supervisor = await started(t, d);
    const port = d.ports[0]!;
    await fill(port, 5000);
    // A payload byte in the middle of the first segment: its CRC no longer matches. The old
    // server never reads a sealed segment again; a new one does, before it takes over.
    const segment = path.join(d.dataDirs[0]!, '000000001.log');
    const good = await readFile(segment);
    const bad = Buffer.from(good);
    bad[2000]! ^= 0x40;
    await rollsBack(t, d, supervisor, {
      spoil: () => writeFile(segment, bad),
      cause: /^hot restart failed, the old server keeps serving: .*000000001\.log.*crc mismatch/,
      mend: () => writeFile(segment, good),
    });
    const check = await LineClient.connect(port);
    t.is(await check.readyLen('fill'), 5000);
    check.close();
    supervisor.kill('SIGTERM');
    t.is((await stopped(supervisor)).code, 0);
  },
);

test.serial(
  'a lease waiting at the handover is answered "Server stopping"; the TypeScript client asks again and gets the job added after the restart; a run is told',
  async (t) => {
    const d = await deployment(1);
    t.teardown(() => d.remove());
    const supervisor = await started(t, d);
    const port = d.ports[0]!;
    const raw = await LineClient.connect(port);
    raw.send('lease w 600000\r\n');
    const client = connect(`127.0.0.1:${port}`);
    t.teardown(() => client.close());
    const leased = client.lease('w', 600_000);
    const running = client.run('r', 'payload', { timeoutMs: 600_000 }).then(
      (result) => result,
      (error: unknown) => error,
    );
    const ran = await waitFor('the run to be queued', async () => {
      const probe = await LineClient.connect(port);
      const length = await probe.readyLen('r');
      probe.close();
      return length === 1 || undefined;
    });
    t.true(ran);

    supervisor.kill('SIGHUP');
    t.is(await raw.line(60_000), '-SERVER-ERROR Server stopping');
    await waitForLog(supervisor, 'hot restart done');
    const adder = await LineClient.connect(port);
    const id = await adder.add(undefined, 'w');
    const job = await leased;
    t.is(job.id, id, 'the lease went on on the new server');
    // A run's job is not kept across restarts: the run is told, not asked again.
    const outcome = await running;
    t.true(outcome instanceof ServerStoppingError, String(outcome));
    t.is(await adder.readyLen('r'), 0);
    adder.close();
    raw.close();
    supervisor.kill('SIGTERM');
    t.is((await stopped(supervisor)).code, 0);
  },
);
