import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { exited, freePort, spawnLockHolder, spawnServer, waitForPort } from '../helpers/process.js';
import { tempDir, Wire } from '../helpers/wire.js';
import { connectWhenUp, deployment, LineClient, statusOf, stopped, supervise, waitFor, waitForLog } from './supervisor-harness.js';

// Real server processes (standalone and supervised, from dist/) on one command-log
// directory, with no program but node on PATH (util-linux `flock` is missing on small
// images): the kernel lock on append.lock decides.

process.env['PATH'] = path.dirname(process.execPath);

/** The command name the system gives the node processes started here (the kernel keeps 15 bytes). */
const nodeName = path.basename(process.execPath).slice(0, 15);

/** The JSON log lines a server printed. */
function logLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Resolves once the server has logged that it listens (its output may arrive after its port answers). */
async function listening(server: { output(): string }): Promise<void> {
  while (!logLines(server.output()).some((line) => line['msg'] === 'listening')) await new Promise((resolve) => setTimeout(resolve, 20));
}

const tookOver = (output: string) => logLines(output).filter((line) => /took over the directory lock of a dead process/.test(String(line['msg'])));

test("a held directory is refused at once naming the holder's pid; after kill -9 a new server takes the lock over and serves the jobs", async (t) => {
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const [port1, port2] = [await freePort(), await freePort()];
  const first = spawnServer(['-listen', `127.0.0.1:${port1}`, '-cmdlog-path', dir.path], { built: true });
  t.teardown(() => first.kill('SIGKILL'));
  await waitForPort(port1);
  const wire = await Wire.connect(port1);
  wire.send('add 00000000-0000-4000-8000-000000000001 held 1000 60000 1\r\nx\r\n');
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');

  const second = spawnServer(['-listen', `127.0.0.1:${port2}`, '-cmdlog-path', dir.path], { built: true });
  t.teardown(() => second.kill('SIGKILL'));
  t.is((await exited(second)).code, 1);
  const refusal = `workq-server: cmdlog directory ${dir.path} is in use: process ${first.pid} (${nodeName}) holds the lock on ${path.join(dir.path, 'append.lock')}`;
  t.deepEqual(
    second
      .output()
      .split('\n')
      .filter((line) => !line.startsWith('{') && line !== ''),
    [refusal],
    'one line, naming the holder',
  );
  t.like(
    logLines(second.output()).find((line) => line['msg'] === 'start failed'),
    { err: { code: 'ELOCKED', holderPid: first.pid } },
  );
  wire.send('inspect queue held\r\n');
  const queue = '+OK 1\r\nheld 2\r\nready-len 1\r\nscheduled-len 0\r\n';
  t.is(await wire.reply(queue), queue, 'the holder keeps serving');
  wire.close();

  first.kill('SIGKILL');
  await exited(first);
  t.true(fs.existsSync(`${dir.path}.lock`), "kill -9 left proper-lockfile's lock behind");
  const third = spawnServer(['-listen', `127.0.0.1:${port2}`, '-cmdlog-path', dir.path], { built: true });
  t.teardown(() => third.kill('SIGKILL'));
  await waitForPort(port2);
  await listening(third);
  const [line] = tookOver(third.output());
  t.like(line, { dir: dir.path, lock: `${fs.realpathSync(dir.path)}.lock` });
  const after = await Wire.connect(port2);
  after.send('inspect queue held\r\n');
  t.is(await after.reply(queue), queue, 'and serves the jobs of the killed one');
  after.close();
  third.kill('SIGTERM');
  t.is((await exited(third)).code, 0);
  t.false(fs.existsSync(`${dir.path}.lock`), 'a stopped server leaves no lock behind');
});

test('a process holding flock on append.lock, as the original server does, keeps a server out', async (t) => {
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const holder = await spawnLockHolder('flock', path.join(dir.path, 'append.lock'));
  t.teardown(() => holder.kill('SIGKILL'));
  const port = await freePort();
  const refused = spawnServer(['-listen', `127.0.0.1:${port}`, '-cmdlog-path', dir.path], { built: true });
  t.teardown(() => refused.kill('SIGKILL'));
  t.is((await exited(refused)).code, 1);
  t.true(refused.output().includes(`is in use: process ${holder.pid} (${nodeName}) holds the lock on ${path.join(dir.path, 'append.lock')}`), refused.output());

  holder.kill('SIGKILL');
  await exited(holder);
  const server = spawnServer(['-listen', `127.0.0.1:${port}`, '-cmdlog-path', dir.path], { built: true });
  t.teardown(() => server.kill('SIGKILL'));
  await waitForPort(port);
  await listening(server);
  t.deepEqual(tookOver(server.output()), [], 'nothing of ours was left to take over');
  server.kill('SIGTERM');
  t.is((await exited(server)).code, 0);
});

test('a supervised child killed with kill -9 is replaced by one that takes its lock over and serves its jobs', async (t) => {
  const d = await deployment(1);
  t.teardown(() => d.remove());
  const supervisor = supervise(d);
  t.teardown(() => supervisor.kill('SIGKILL'));
  await waitForLog(supervisor, 'supervisor ready');
  const client = await LineClient.connect(d.ports[0]!);
  const id = await client.add();
  client.close();
  const killed = (await statusOf(d))!.instances[0]!.pid!;
  process.kill(killed, 'SIGKILL');

  const line = await waitFor("the new child's take-over line", () =>
    supervisor.lines().find((l) => /took over the directory lock of a dead process/.test(String(l['msg']))),
  );
  t.like(line, { instance: 'q0', dir: d.dataDirs[0], level: 40 });
  t.true(typeof line['pid'] === 'number' && line['pid'] !== killed, 'logged by the new child');
  const after = await connectWhenUp(d.ports[0]!, 20_000);
  t.true(await after.hasJob(id), 'the job of the killed child is back');
  after.close();
  supervisor.kill('SIGTERM');
  t.is((await stopped(supervisor)).code, 0);
  t.false(fs.existsSync(`${d.dataDirs[0]}.lock`), 'a stopped supervisor leaves no lock behind');
});
