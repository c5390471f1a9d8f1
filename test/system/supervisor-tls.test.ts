import test from 'ava';
import { randomUUID } from 'node:crypto';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkqClient, worker, type JobResult } from '../../src/client/index.js';
import type { SupervisorStatus } from '../../supervisor/primary.js';
import { freePort } from '../helpers/process.js';
import { makeCertificate, type TestCertificate } from '../helpers/tls.js';
import { tempDir } from '../helpers/wire.js';
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
  type Supervised,
} from './supervisor-harness.js';

// Real processes from dist/ (build first: npx tsc -p .): the supervisor holds each
// instance's TLS port as it holds the plain one, and hands the raw sockets to the server,
// which runs the handshake (docs/operations.md, What the supervisor does). TLS clients are
// held, not refused, while an instance's server is replaced.

let certs: { path: string; remove(): Promise<void> };
let first: TestCertificate;
let second: TestCertificate;
test.before(async () => {
  certs = await tempDir('workq-sys-tls-');
  [first, second] = await Promise.all([makeCertificate(certs.path, 'first'), makeCertificate(certs.path, 'second')]);
});
test.after.always(() => certs.remove());

interface TlsInstance {
  /** The instance's plain TCP port, or null when TLS replaces it. */
  plain: number | null;
  tls: number;
}

/**
 * A deployment whose instances serve TLS with the certificate copied to `<dir>/live-<i>.crt`
 * (so that a test may renew it): `'only'` on the instance's port, `'beside'` on a port of
 * its own beside plain TCP.
 */
async function tlsDeployment(modes: Array<'only' | 'beside'>): Promise<Deployment & { instances: TlsInstance[] }> {
  const d = await deployment(modes.length);
  const instances: TlsInstance[] = [];
  const entries = [];
  for (const [i, mode] of modes.entries()) {
    const cert = path.join(d.dir, `live-${i}.crt`);
    const key = path.join(d.dir, `live-${i}.key`);
    await copyFile(first.certPath, cert);
    await copyFile(first.keyPath, key);
    const tlsPort = mode === 'only' ? null : await freePort();
    instances.push({ plain: mode === 'only' ? null : d.ports[i]!, tls: tlsPort ?? d.ports[i]! });
    entries.push({ name: `q${i}`, port: d.ports[i], cmdlog: { path: d.dataDirs[i] }, tls: { cert, key, port: tlsPort } });
  }
  await writeFile(d.configFile, JSON.stringify({ instances: entries, supervisor: { controlSocket: d.socket }, admin: { port: 0 } }));
  return Object.assign(d, { instances });
}

async function started(t: { teardown(fn: () => unknown): void }, d: Deployment): Promise<Supervised> {
  const supervisor = supervise(d);
  t.teardown(() => {
    if (process.env['DEBUG_SUPERVISOR']) console.log(supervisor.output());
    supervisor.kill('SIGKILL');
  });
  await waitForLog(supervisor, 'supervisor ready');
  return supervisor;
}

async function statusOf(d: Deployment): Promise<SupervisorStatus> {
  const run = await runStatus(['--json', '--control', d.socket], d.dir);
  if (run.code !== 0 && run.code !== 3) throw new Error(`status: ${run.stderr}`);
  return JSON.parse(run.stdout) as SupervisorStatus;
}

function messages(supervisor: Supervised): string[] {
  return supervisor.lines().map((line) => String(line['msg']));
}

/** Reads a one-job lease reply: its job line (`id name ttr size`), or the reply line when it is something else. */
async function leasedLine(client: LineClient): Promise<string> {
  const head = await client.line();
  if (head !== '+OK 1') return head;
  const job = await client.line();
  await client.line();
  return job;
}

/** An add and a lease of it on one connection: true when both are answered as they should. */
async function roundTrip(client: LineClient, queue = `rt-${randomUUID()}`): Promise<boolean> {
  const id = await client.add(undefined, queue);
  client.send(`lease ${queue} 0\r\n`);
  return (await leasedLine(client)).startsWith(`${id} ${queue} `);
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

test.serial('the supervisor holds a TLS-only port and a TLS port beside plain TCP: each serves over TLS, raw and with the TypeScript client', async (t) => {
  const d = await tlsDeployment(['only', 'beside']);
  t.teardown(() => d.remove());
  const supervisor = await started(t, d);
  const [only, beside] = d.instances as [TlsInstance, TlsInstance];

  for (const port of [only.tls, beside.tls]) {
    const secure = await LineClient.connectTls(port, first.cert);
    t.true(await roundTrip(secure), `TLS round trip on ${port}`);
    // Half-close after the commands: the replies still come, then the server closes.
    const id = await secure.add(undefined, 'half');
    secure.send('lease half 0\r\n');
    secure.socket.end();
    t.true((await leasedLine(secure)).startsWith(`${id} half `));
    await waitFor('the server to close the half-closed connection', () => secure.closed || undefined);
  }
  const plain = await LineClient.connect(beside.plain!);
  t.true(await roundTrip(plain), 'plain TCP beside TLS');
  plain.close();
  const refusedPlain = await LineClient.connect(only.tls);
  refusedPlain.send('inspect queues 0 10\r\n');
  await t.throwsAsync(refusedPlain.line(), { message: 'connection closed' }, 'a plain client on the TLS-only port gets no service');

  for (const port of [only.tls, beside.tls]) {
    const client = new WorkqClient({ servers: [`127.0.0.1:${port}`], tls: { ca: first.cert } });
    t.teardown(() => client.close());
    const id = await client.add('tls-client', 'hello');
    const job = await client.lease('tls-client', 1000);
    t.is(job.id, id);
    await client.complete(job.id, 'done');
    t.deepEqual(await client.result(id, 1000), { id, success: true, result: Buffer.from('done') });
  }
  t.deepEqual(
    (await statusOf(d)).instances.map((instance) => [instance.state, instance.port]),
    [
      ['ready', only.tls],
      ['ready', beside.plain],
    ],
  );
  supervisor.kill('SIGTERM');
  t.is((await stopped(supervisor)).code, 0);
});

test.serial(
  'hot restart of a TLS-only instance under a TLS add load: no connection refused, a client connecting once the old server stopped is served by the new one, the renewed certificate is used; a lease and a result wait across it, the worker finishes its job and goes on',
  async (t) => {
    t.timeout(300_000);
    const d = await tlsDeployment(['only']);
    t.teardown(() => d.remove());
    const supervisor = await started(t, d);
    const port = d.instances[0]!.tls;
    const both = Buffer.concat([first.cert, second.cert]);
    const filler = await LineClient.connectTls(port, first.cert);
    // A log that takes the new server a moment to replay: the window in which no server serves.
    await fillQueue(filler, 50_000);
    const runId = await filler.add(undefined, 'r');
    filler.close();
    const oldPid = (await statusOf(d)).instances[0]!.pid!;

    const client = new WorkqClient({ servers: [`127.0.0.1:${port}`], tls: { ca: both } });
    t.teardown(() => client.close());
    const leased = client.lease('w', 600_000);
    const result = client.result(runId, 600_000);
    const workerClient = new WorkqClient({ servers: [`127.0.0.1:${port}`], tls: { ca: both } });
    t.teardown(() => workerClient.close());
    const handled: string[] = [];
    const workerErrors: unknown[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Two slots: one runs a job held across the restart, the other leases meanwhile.
    const helper = worker(
      workerClient,
      'wk',
      async (job) => {
        handled.push(job.id);
        if (job.payload.toString() === 'hold') await gate;
        return 'handled';
      },
      { concurrency: 2, leaseTimeoutMs: 5000, onError: (error) => workerErrors.push(error) },
    );
    t.teardown(() => {
      release();
      return helper.close();
    });
    const heldJob = await client.add('wk', 'hold');
    await waitFor('the worker to start the held job', () => handled.includes(heldJob) || undefined);
    const load = addLoad(() => LineClient.connectTls(port, both), 3);
    await waitFor('some load', () => load.acked.length >= 50 || undefined);

    await copyFile(second.certPath, path.join(d.dir, 'live-0.crt'));
    await copyFile(second.keyPath, path.join(d.dir, 'live-0.key'));
    supervisor.kill('SIGHUP');
    // Logged once the old server has stopped and released its log (its process exits once
    // the new one serves): no server of the instance serves until the new one is ready.
    await waitForLog(supervisor, 'hot restart: old server stopped, the new one takes over', 1, 120_000);
    const during = await LineClient.connectTls(port, second.cert);
    t.true(await roundTrip(during), 'the connection made once the old server had stopped is served by the new one');
    await waitFor('the old server to exit', () => gone(oldPid) || undefined);
    during.close();
    await waitForLog(supervisor, 'hot restart done', 1, 120_000);
    release();
    const at = load.acked.length;
    await waitFor('load after the restart', () => load.acked.length >= at + 50 || undefined, 60_000);
    await load.stop();

    // The old server closed the load's connections when it stopped, after the supervisor
    // stopped handing it new ones: their clients connected again while it handed over.
    t.true(load.dropped > 0, 'the old server closed the connections of the load');
    t.is(load.refused, 0, 'no TLS connection refused');
    t.deepEqual(load.failed, [], 'no TLS connection failed');
    const after = (await statusOf(d)).instances[0]!;
    t.is(after.state, 'ready');
    t.not(after.pid, oldPid);
    const check = await LineClient.connectTls(port, second.cert);
    t.deepEqual(await missingJobs(check, load.acked), [], `${load.acked.length} acknowledged over TLS`);
    await t.throwsAsync(LineClient.connectTls(port, first.cert), undefined, 'the old certificate is no longer presented');

    // What waited across the restart: the lease and the result were asked again of the new server.
    const id = await check.add(undefined, 'w');
    t.is((await leased).id, id);
    check.send('lease r 0\r\n');
    t.true((await leasedLine(check)).startsWith(`${runId} r `));
    check.send(`complete ${runId} 4\r\nkept\r\n`);
    t.is(await check.line(), '+OK');
    const outcome: JobResult = await result;
    t.deepEqual(outcome, { id: runId, success: true, result: Buffer.from('kept') });
    // The worker finished the job it held across the restart on the new server (leases are
    // kept in the log), and took the job added after it.
    t.deepEqual(await client.result(heldJob, 60_000), { id: heldJob, success: true, result: Buffer.from('handled') });
    const workId = await check.add(undefined, 'wk');
    await waitFor('the worker to handle the job added after the restart', () => handled.includes(workId) || undefined);
    t.deepEqual(workerErrors, [], 'the worker saw no error');
    check.close();
    await helper.close();
    supervisor.kill('SIGTERM');
    t.is((await stopped(supervisor)).code, 0);
  },
);

test.serial('kill -9 of a server with plain TCP and TLS: TLS clients are held, not refused, and served by its replacement', async (t) => {
  t.timeout(300_000);
  const d = await tlsDeployment(['beside']);
  t.teardown(() => d.remove());
  const supervisor = await started(t, d);
  const { plain, tls } = d.instances[0]!;
  const oldPid = (await statusOf(d)).instances[0]!.pid!;
  const load = addLoad(() => LineClient.connectTls(tls, first.cert), 3);
  await waitFor('some load', () => load.acked.length >= 50 || undefined);

  process.kill(oldPid, 'SIGKILL');
  await waitFor('the server gone', () => gone(oldPid) || undefined);
  const during = await LineClient.connectTls(tls, first.cert);
  t.true(await roundTrip(during), 'a TLS connection made once the server was gone is served by its replacement');
  during.close();
  await waitForLog(supervisor, 'server ready', 2);
  const at = load.acked.length;
  await waitFor('load after the restart', () => load.acked.length >= at + 50 || undefined, 60_000);
  await load.stop();

  t.true(load.dropped > 0, 'the kill cut the connections of the load');
  t.is(load.refused, 0, 'no TLS connection refused');
  t.deepEqual(load.failed, [], 'no TLS connection failed');
  const after = (await statusOf(d)).instances[0]!;
  t.is(after.restarts, 1);
  t.not(after.pid, oldPid);
  const check = await LineClient.connect(plain!);
  t.deepEqual(await missingJobs(check, load.acked), [], `${load.acked.length} acknowledged over TLS`);
  check.close();
  supervisor.kill('SIGTERM');
  t.is((await stopped(supervisor)).code, 0);
});

test.serial('a TLS port configured since the start is refused on standby: the old server keeps serving, a supervisor restart is asked for', async (t) => {
  const d = await tlsDeployment(['beside']);
  t.teardown(() => d.remove());
  const supervisor = await started(t, d);
  const { tls } = d.instances[0]!;
  const before = (await statusOf(d)).instances[0]!;
  const config = JSON.parse(await readFile(d.configFile, 'utf8')) as { instances: Array<{ tls: { port: number | null } }> };
  config.instances[0]!.tls.port = null;
  await writeFile(d.configFile, JSON.stringify(config));

  supervisor.kill('SIGHUP');
  await waitForLog(supervisor, 'hot restart done');
  t.true(messages(supervisor).includes('hot restart: the new server failed on standby: the old one keeps serving'));
  const kept = (await statusOf(d)).instances[0]!;
  t.is(kept.pid, before.pid);
  t.regex(
    kept.lastError ?? '',
    /is configured to listen on tls 127\.0\.0\.1:\d+, but the supervisor holds plain 127\.0\.0\.1:\d+, tls 127\.0\.0\.1:\d+: restart the supervisor/,
  );
  const secure = await LineClient.connectTls(tls, first.cert);
  t.true(await roundTrip(secure));
  secure.close();
  supervisor.kill('SIGTERM');
  t.is((await stopped(supervisor)).code, 0);
});
