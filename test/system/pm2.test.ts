import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, root } from '../helpers/process.js';
import type { SupervisorStatus } from '../../supervisor/primary.js';
import { addLoad, cliJs, LineClient, longestGap, missingJobs, waitFor, type Load } from './supervisor-harness.js';

// A real PM2 from node_modules with a private PM2_HOME runs ecosystem.config.js (the
// built supervisor in dist/); the instances come from the environment PM2 passes on.

const pm2Bin = path.join(root, 'node_modules/.bin/pm2');

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: root, env, encoding: 'utf8', timeout: timeoutMs }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr }),
    );
  });
}

test('PM2 starts the supervisor, SIGHUP replaces the servers, stop is graceful', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'workq-pm2-'));
  const ports = [await freePort(), await freePort()];
  const dataDirs = ports.map((port) => path.join(dir, 'data', String(port)));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PM2_HOME: path.join(dir, 'pm2'),
    WORKQ_INSTANCES: JSON.stringify(ports.map((port, i) => ({ name: `p${i}`, port, cmdlog: { path: dataDirs[i] } }))),
    WORKQ_CONTROL_SOCKET: path.join(dir, 'control.sock'),
  };
  t.teardown(async () => {
    await run(pm2Bin, ['kill'], env, 30_000);
    await rm(dir, { recursive: true, force: true });
  });
  const status = async (): Promise<SupervisorStatus | undefined> => {
    const result = await run(process.execPath, [cliJs, 'status', '--json'], env, 10_000);
    return result.code === 0 ? (JSON.parse(result.stdout) as SupervisorStatus) : undefined;
  };

  const start = await run(pm2Bin, ['start', 'ecosystem.config.js'], env);
  t.is(start.code, 0, start.stdout + start.stderr);
  const first = await waitFor(
    'both servers ready',
    async () => {
      const s = await status();
      return s?.instances.every((instance) => instance.state === 'ready') ? s : undefined;
    },
    30_000,
  );
  const ids: string[] = [];
  for (const port of ports) {
    const client = await LineClient.connect(port);
    ids.push(await client.add());
    client.close();
  }

  const signal = await run(pm2Bin, ['sendSignal', 'SIGHUP', 'workq'], env);
  t.is(signal.code, 0, signal.stdout + signal.stderr);
  const second = await waitFor(
    'both servers replaced',
    async () => {
      const s = await status();
      return s?.instances.every((instance, i) => instance.state === 'ready' && instance.pid !== first.instances[i]!.pid) ? s : undefined;
    },
    30_000,
  );
  t.is(second.pid, first.pid, 'the supervisor itself kept running');
  for (const [i, port] of ports.entries()) {
    const client = await LineClient.connect(port);
    t.true(await client.hasJob(ids[i]!), `instance p${i} kept its job`);
    client.close();
  }

  const stop = await run(pm2Bin, ['stop', 'workq'], env);
  t.is(stop.code, 0, stop.stdout + stop.stderr);
  await waitFor(
    'the supervisor gone',
    () => {
      try {
        process.kill(first.pid, 0);
        return undefined;
      } catch {
        return true;
      }
    },
    20_000,
  );
  for (const dataDir of dataDirs) t.false(existsSync(`${dataDir}.lock`), `lock on ${dataDir} released`);
  const listing = await run(pm2Bin, ['jlist'], env);
  const apps = JSON.parse(listing.stdout) as Array<{ name: string; pm2_env: { status: string; restart_time: number } }>;
  t.deepEqual(
    apps.map((app) => [app.name, app.pm2_env.status, app.pm2_env.restart_time]),
    [['workq', 'stopped', 0]],
  );
});

test("the only instance's port is taken: PM2 never shows the app online, status says no instance serves", async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'workq-pm2-'));
  const port = await freePort();
  const holder = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', () => resolve()));
  const home = path.join(dir, 'pm2');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PM2_HOME: home,
    WORKQ_INSTANCES: JSON.stringify([{ name: 'only', port, cmdlog: { path: path.join(dir, 'data') } }]),
    WORKQ_CONTROL_SOCKET: path.join(dir, 'control.sock'),
  };
  t.teardown(async () => {
    await run(pm2Bin, ['kill'], env, 30_000);
    holder.close();
    await rm(dir, { recursive: true, force: true });
  });
  const start = await run(pm2Bin, ['start', 'ecosystem.config.js'], env);
  t.is(start.code, 0, start.stdout + start.stderr);

  const seen = new Set<string>();
  const app = await waitFor(
    'PM2 restarting the supervisor that exits',
    async () => {
      const listing = await run(pm2Bin, ['jlist'], env);
      const apps = JSON.parse(listing.stdout) as Array<{ pm2_env: { status: string; restart_time: number } }>;
      const found = apps[0]?.pm2_env;
      if (found !== undefined) seen.add(found.status);
      return found !== undefined && (found.restart_time >= 2 || found.status === 'errored') ? found : undefined;
    },
    60_000,
  );
  t.log(`PM2 states seen: ${[...seen].join(', ')}; restarts ${app.restart_time}`);
  t.false(seen.has('online'), `PM2 states seen: ${[...seen].join(', ')}`);
  t.true(app.restart_time >= 1);
  const status = await run(process.execPath, [cliJs, 'status'], env, 10_000);
  t.not(status.code, 0, status.stdout + status.stderr);
  const logs = path.join(home, 'logs');
  const errors = readdirSync(logs)
    .map((file) => readFileSync(path.join(logs, file), 'utf8'))
    .join('\n');
  t.regex(errors, new RegExp(`no instance can serve \\(instance "only": listen EADDRINUSE: address already in use 127\\.0\\.0\\.1:${port}\\)`));
});

test('pm2 reload is a cold restart of the fork-mode supervisor (a new supervisor, nothing acknowledged lost); pm2 sendSignal SIGHUP under the same load is the hot one: no refusal', async (t) => {
  t.timeout(180_000);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'workq-pm2-'));
  const port = await freePort();
  const home = path.join(dir, 'pm2');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PM2_HOME: home,
    WORKQ_INSTANCES: JSON.stringify([{ name: 'r0', port, cmdlog: { path: path.join(dir, 'data') } }]),
    WORKQ_CONTROL_SOCKET: path.join(dir, 'control.sock'),
  };
  t.teardown(async () => {
    await run(pm2Bin, ['kill'], env, 30_000);
    await rm(dir, { recursive: true, force: true });
  });
  const status = async (): Promise<SupervisorStatus | undefined> => {
    const result = await run(process.execPath, [cliJs, 'status', '--json'], env, 10_000);
    return result.code === 0 ? (JSON.parse(result.stdout) as SupervisorStatus) : undefined;
  };
  const start = await run(pm2Bin, ['start', 'ecosystem.config.js'], env);
  t.is(start.code, 0, start.stdout + start.stderr);
  const first = await waitFor('the server ready', status, 30_000);

  /** Runs `restart` under an add load; the load's figures once `done` says the restart is over and the load went on. */
  const underLoad = async (restart: () => Promise<void>, done: () => Promise<unknown>): Promise<Load> => {
    const load = addLoad(() => LineClient.connect(port));
    await waitFor('some load', () => load.acked.length >= 50 || undefined);
    await restart();
    await waitFor('the restart done', done, 60_000);
    const at = load.acked.length;
    await waitFor('load after the restart', () => load.acked.length >= at + 50 || undefined, 60_000);
    await load.stop();
    return load;
  };

  const reloaded = await underLoad(
    async () => {
      const reload = await run(pm2Bin, ['reload', 'workq'], env);
      t.is(reload.code, 0, reload.stdout + reload.stderr);
    },
    async () => {
      const s = await status();
      return s !== undefined && s.pid !== first.pid && s.state === 'ready' ? s : undefined;
    },
  );
  const second = (await status())!;
  t.not(second.pid, first.pid, 'PM2 replaced the supervisor itself: a cold restart');
  const checker = await LineClient.connect(port);
  t.deepEqual(await missingJobs(checker, reloaded.acked), [], `${reloaded.acked.length} acknowledged across pm2 reload`);
  checker.close();
  const pm2Log = readFileSync(path.join(home, 'pm2.log'), 'utf8');
  t.regex(pm2Log, /Stopping app:workq/, "PM2's reload of a fork-mode app is its restart: stop, then start");

  const outLog = (): string =>
    readdirSync(path.join(home, 'logs'))
      .filter((file) => file.startsWith('workq-out'))
      .map((file) => readFileSync(path.join(home, 'logs', file), 'utf8'))
      .join('');
  const hot = await underLoad(
    async () => {
      const signal = await run(pm2Bin, ['sendSignal', 'SIGHUP', 'workq'], env);
      t.is(signal.code, 0, signal.stdout + signal.stderr);
    },
    () => Promise.resolve(outLog().includes('"msg":"hot restart done"') || undefined),
  );
  const third = (await status())!;
  t.is(third.pid, second.pid, 'the supervisor kept running');
  t.not(third.instances[0]!.pid, second.instances[0]!.pid, 'its server was replaced');
  t.is(hot.refused, 0, 'no connection refused during pm2 sendSignal SIGHUP');
  const check = await LineClient.connect(port);
  t.deepEqual(await missingJobs(check, hot.acked), [], `${hot.acked.length} acknowledged across the SIGHUP`);
  check.close();
  t.log(`pm2 reload: ${reloaded.refused} connections refused, longest gap between acknowledged adds ${longestGap(reloaded)} ms`);
  t.log(`pm2 sendSignal SIGHUP: ${hot.refused} refused, longest gap ${longestGap(hot)} ms`);
});
