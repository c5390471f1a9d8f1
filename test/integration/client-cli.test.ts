import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { connect, worker } from '../../src/client/index.js';
import { writeFile } from 'node:fs/promises';
import { startTestServer, tempDir } from '../helpers/wire.js';
import { makeCertificate } from '../helpers/tls.js';
import { freePort, root } from '../helpers/process.js';

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function workq(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', path.join(root, 'src/cli/workq.ts'), ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

test('a job added by the CLI is leased by the worker and its result read by the client and the CLI', async (t) => {
  // Each CLI call starts node with tsx: seconds each on a loaded machine.
  t.timeout(180_000);
  const server = await startTestServer();
  const address = `127.0.0.1:${server.port}`;
  const client = connect(address);
  const w = worker(client, 'cli', (job) => `done:${job.payload.toString()}`, { leaseTimeoutMs: 200 });
  t.teardown(async () => {
    await w.close();
    await client.close();
    await server.stop();
  });

  const added = await workq(['--server', address, 'add', 'cli', 'from the shell', '--ttr', '5000', '--priority', '3']);
  t.is(added.code, 0, added.stderr);
  const id = added.stdout.trim();
  t.deepEqual(await client.result(id, 30_000), { id, success: true, result: Buffer.from('done:from the shell') });

  const read = await workq(['--json', 'result', id], { WORKQ_SERVERS: address });
  t.is(read.code, 0, read.stderr);
  t.deepEqual(JSON.parse(read.stdout), { id, success: true, result: 'done:from the shell' });

  const piped = await workq(['-s', address, '--json', 'add', 'cli', '-'], {}, 'from stdin');
  const pipedId = (JSON.parse(piped.stdout) as { id: string }).id;
  t.is((await client.result(pipedId, 30_000)).result.toString(), 'done:from stdin');
});

test('exit codes and human output', async (t) => {
  t.timeout(180_000);
  const server = await startTestServer();
  const address = `127.0.0.1:${server.port}`;
  t.teardown(() => server.stop());
  const env = { WORKQ_SERVERS: address };

  const timeout = await workq(['lease', 'nobody', '--timeout', '50'], env);
  t.is(timeout.code, 2);
  t.regex(timeout.stderr, /timeout/);
  const notFound = await workq(['inspect', 'job', '8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e'], env);
  t.is(notFound.code, 3);
  const invalid = await workq(['add', 'bad$name', 'x'], env);
  t.is(invalid.code, 4);
  t.regex(invalid.stderr, /Invalid Name/);
  const usage = await workq(['add'], env);
  t.is(usage.code, 1);
  const refused = await workq(['--server', `127.0.0.1:${await freePort()}`, 'inspect', 'server']);
  t.is(refused.code, 5);

  const id = '0f8e7d6c-5b4a-4938-a7b6-c5d4e3f2a1b0';
  t.is((await workq(['add', 'human', 'img', '--id', id], env)).stdout, `${id}\n`);
  const queues = await workq(['inspect', 'queues'], env);
  t.regex(queues.stdout, /^human ready 1 scheduled 0$/m);
  const job = await workq(['inspect', 'job', id], env);
  t.regex(job.stdout, /^state new$/m);
  const leased = await workq(['lease', 'human'], env);
  t.is(leased.stdout, `${id} human ttr 60000 from ${address}\nimg\n`);
  t.is((await workq(['fail', id, 'broken'], env)).stdout, 'OK\n');
  const result = await workq(['result', id], env);
  t.is(result.stdout, `${id} failed\nbroken\n`);
  t.is((await workq(['delete', id], env)).code, 0);
  t.is((await workq(['delete', id], env)).code, 3);
});

test('TLS and the secret: --tls-ca with WORKQ_SECRET or --secret-file; a missing secret or CA is refused', async (t) => {
  const dir = await tempDir('workq-cli-tls-');
  const cert = await makeCertificate(dir.path, 'cli');
  const secret = 'cli-secret-0123456789';
  const server = await startTestServer({
    tls: { cert: cert.certPath, key: cert.keyPath, port: null },
    auth: { secrets: [secret], allowUnauthenticated: false },
  });
  t.teardown(async () => {
    await server.stop();
    await dir.remove();
  });
  const address = `127.0.0.1:${server.port}`;
  const added = await workq(['-s', address, '--tls-ca', cert.certPath, 'add', 'cli-tls', 'secure payload'], { WORKQ_SECRET: secret });
  t.is(added.code, 0, added.stderr);
  const secretFile = `${dir.path}/secret`;
  await writeFile(secretFile, `${secret}\n`, { mode: 0o600 });
  const leased = await workq(['-s', address, '--tls-ca', cert.certPath, '--secret-file', secretFile, '--json', 'lease', 'cli-tls', '--timeout', '1000']);
  t.is(leased.code, 0, leased.stderr);
  t.is((JSON.parse(leased.stdout) as { id: string; payload: string }).id, added.stdout.trim());

  const anonymous = await workq(['-s', address, '--tls-ca', cert.certPath, 'inspect', 'server'], { WORKQ_SECRET: '' });
  t.is(anonymous.code, 4);
  t.regex(anonymous.stderr, /Authentication required/);
  const untrusted = await workq(['-s', address, '--tls', 'inspect', 'server'], { WORKQ_SECRET: secret });
  t.is(untrusted.code, 5);
  t.regex(untrusted.stderr, /self.signed/i);
  const wrong = await workq(['-s', address, '--tls-ca', cert.certPath, 'inspect', 'server'], { WORKQ_SECRET: 'not-the-secret-0123' });
  t.is(wrong.code, 5);
  t.regex(wrong.stderr, /authentication refused: Invalid secret/);
});

test('touch, pause and resume from the shell', async (t) => {
  const server = await startTestServer();
  const address = `127.0.0.1:${server.port}`;
  t.teardown(() => server.stop());
  const env = { WORKQ_SERVERS: address };
  const id = (await workq(['add', 'ops', 'x'], env)).stdout.trim();
  const notLeased = await workq(['touch', id], env);
  t.is(notLeased.code, 4);
  t.regex(notLeased.stderr, /Job not leased/);
  t.is((await workq(['lease', 'ops'], env)).code, 0);
  t.deepEqual(await workq(['touch', id, '--ttr', '30000'], env), { code: 0, stdout: 'OK\n', stderr: '' });
  t.is((await workq(['--json', 'pause', 'ops'], env)).stdout, '{"ok":true}\n');
  t.regex((await workq(['inspect', 'queue', 'ops'], env)).stdout, /^ops ready 0 scheduled 0 paused$/m);
  t.deepEqual(JSON.parse((await workq(['--json', 'inspect', 'queue', 'ops'], env)).stdout), [{ name: 'ops', readyLen: 0, scheduledLen: 0, paused: true }]);
  t.is((await workq(['resume', 'ops', '--on', address], env)).code, 0);
  t.regex((await workq(['inspect', 'queue', 'ops'], env)).stdout, /^ops ready 0 scheduled 0$/m);
});

test('jobs by state, retry and retry-failed from the shell', async (t) => {
  const server = await startTestServer();
  const address = `127.0.0.1:${server.port}`;
  t.teardown(() => server.stop());
  const env = { WORKQ_SERVERS: address };
  const id = (await workq(['add', 'bin', 'x'], env)).stdout.trim();
  await workq(['lease', 'bin'], env);
  t.regex((await workq(['inspect', 'leased-jobs', 'bin'], env)).stdout, new RegExp(`^id ${id}$`, 'm'));
  await workq(['fail', id, 'no'], env);
  t.regex((await workq(['inspect', 'failed-jobs', 'bin'], env)).stdout, /^state failed$/m);
  t.is((await workq(['inspect', 'completed-jobs', 'bin'], env)).stdout, '(no jobs)\n');
  t.deepEqual(await workq(['retry-failed', 'bin'], env), { code: 0, stdout: 'retried 1\n', stderr: '' });
  const again = await workq(['retry', id], env);
  t.is(again.code, 4);
  t.regex(again.stderr, /Job not failed/);
  t.is((await workq(['--json', 'retry-failed', 'bin'], env)).stdout, '{"retried":0}\n');
});
