import test from 'ava';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeCertificate } from '../helpers/tls.js';
import { exited, freePort, printed, root, spawnServer, waitForPort } from '../helpers/process.js';
import { tempDir, Wire } from '../helpers/wire.js';

// The standalone `workq-server` as a start script uses it: the original's flags, a
// first log line that states the sync policy's loss window, a clean stop on SIGINT with
// the log flushed, and the original's exit codes for bad flags.

function firstLine(output: string): Record<string, unknown> {
  return JSON.parse(output.split('\n')[0]!) as Record<string, unknown>;
}

test('the start is logged with its loss window; SIGINT stops it cleanly with every job kept', async (t) => {
  // Each start from the sources takes seconds on a loaded machine.
  t.timeout(120_000);
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const port = await freePort();
  const args = ['--listen', `127.0.0.1:${port}`, '-cmdlog-path', dir.path, '-cmdlog-sync=always'];
  const first = spawnServer(args);
  t.teardown(() => first.kill('SIGKILL'));
  await waitForPort(port);
  const start = firstLine(await printed(first, /\n/));
  t.like(start, { listen: `127.0.0.1:${port}`, cmdlog: dir.path, sync: 'always', powerCutMayLose: 'nothing acknowledged' });

  const wire = await Wire.connect(port);
  wire.send('add 00000000-0000-4000-8000-000000000042 cli 1000 60000 2\r\nhi\r\n');
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');
  first.kill('SIGINT');
  t.is((await exited(first)).code, 0);
  t.regex(first.output(), /"reason":"SIGINT"/);

  const second = spawnServer(['-listen', `127.0.0.1:${port}`, '-cmdlog-path', dir.path]);
  t.teardown(() => second.kill('SIGKILL'));
  await waitForPort(port);
  t.like(firstLine(await printed(second, /\n/)), { sync: 'interval', powerCutMayLose: 'up to 1000 ms of acknowledged commands' });
  const again = await Wire.connect(port);
  again.send('inspect queue cli\r\n');
  const queue = '+OK 1\r\ncli 2\r\nready-len 1\r\nscheduled-len 0\r\n';
  t.is(await again.reply(queue), queue);
  again.close();
  second.kill('SIGTERM');
  t.is((await exited(second)).code, 0);
});

test('a server whose stdout lost its reader (the process that started it died) serves, and stops on SIGTERM without its last log lines', async (t) => {
  t.timeout(120_000);
  const port = await freePort();
  const server = spawnServer(['-listen', `127.0.0.1:${port}`]);
  t.teardown(() => server.kill('SIGKILL'));
  await waitForPort(port);
  await printed(server, /"listening"/);
  server.stdout!.destroy();
  server.stderr!.destroy();
  const wire = await Wire.connect(port);
  wire.send('add 00000000-0000-4000-8000-000000000043 cli 1000 60000 2\r\nhi\r\n');
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');
  wire.close();
  await wire.waitClosed();
  // With no connection to wind down it stops at once, its "stopping" and "stopped" lines
  // still to be written to a closed pipe: before, that write was retried at exit for ever.
  server.kill('SIGTERM');
  t.is((await exited(server)).code, 0);
});

test('a stdout that refuses every write (not a broken pipe: EBADF) turns logging off; the server serves and stops on SIGTERM', async (t) => {
  t.timeout(120_000);
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const file = path.join(dir.path, 'read-only');
  await writeFile(file, '');
  const stdout = openSync(file, 'r');
  t.teardown(() => closeSync(stdout));
  const port = await freePort();
  const server = spawn(process.execPath, ['--import=tsx', path.join(root, 'src/cli/workq-server.ts'), '-listen', `127.0.0.1:${port}`], {
    cwd: root,
    stdio: ['ignore', stdout, 'ignore'],
  });
  t.teardown(() => server.kill('SIGKILL'));
  const exit = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  await waitForPort(port);
  const wire = await Wire.connect(port);
  wire.send('add 00000000-0000-4000-8000-000000000044 cli 1000 60000 2\r\nhi\r\n');
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');
  wire.close();
  server.kill('SIGTERM');
  t.is(await exit, 0);
});

test('an unknown flag exits 2 with the usage; a bad value exits 1 with one line', async (t) => {
  t.timeout(120_000);
  const unknown = spawnServer(['-no-such-flag']);
  t.is((await exited(unknown)).code, 2);
  t.regex(unknown.output(), /no-such-flag/);
  t.regex(unknown.output(), /Usage: workq-server/);

  const badSync = spawnServer(['-cmdlog-sync', 'sometimes']);
  t.is((await exited(badSync)).code, 1);
  t.is(badSync.output(), 'Invalid cmdlog-sync policy: sometimes (expected interval, os or always)\n');

  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const noClean = spawnServer(['-cmdlog-path', dir.path, '-cmdlog-clean-int', '0']);
  t.is((await exited(noClean)).code, 1);
  t.regex(noClean.output(), /^[^\n]*cleanIntervalMs \(-cmdlog-clean-int\) must be greater than 0\n$/);
});

test('TLS and a secret from a configuration file; SIGHUP reloads the certificate; -listen beyond loopback without a secret exits 1 saying why', async (t) => {
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const [first, second] = await Promise.all([makeCertificate(dir.path, 'first'), makeCertificate(dir.path, 'second')]);
  const cert = path.join(dir.path, 'live.crt');
  const key = path.join(dir.path, 'live.key');
  await copyFile(first.certPath, cert);
  await copyFile(first.keyPath, key);
  const secret = 'system-test-secret-0123';
  const config = path.join(dir.path, 'config.json');
  await writeFile(config, JSON.stringify({ tls: { cert, key, port: null }, auth: { secrets: [secret] } }));
  const port = await freePort();
  const server = spawnServer(['--config', config, '-listen', `127.0.0.1:${port}`]);
  t.teardown(() => server.kill('SIGKILL'));
  await waitForPort(port);
  t.false(server.output().includes(secret), 'the secret is never logged');

  const session = async (ca: Buffer): Promise<string> => {
    const wire = await Wire.connectTls(port, { ca });
    wire.send(`inspect queues 0 1\r\nauth ${secret}\r\ninspect queues 0 1\r\n`);
    const reply = await wire.reply('-CLIENT-ERROR Authentication required\r\n+OK\r\n+OK 0\r\n');
    wire.close();
    return reply;
  };
  t.is(await session(first.cert), '-CLIENT-ERROR Authentication required\r\n+OK\r\n+OK 0\r\n');

  await copyFile(second.certPath, cert);
  await copyFile(second.keyPath, key);
  server.kill('SIGHUP');
  for (let i = 0; i < 500 && !server.output().includes('TLS certificate and key reloaded'); i++) await new Promise((r) => setTimeout(r, 10));
  t.regex(server.output(), /TLS certificate and key reloaded/);
  t.is(await session(second.cert), '-CLIENT-ERROR Authentication required\r\n+OK\r\n+OK 0\r\n');
  await t.throwsAsync(Wire.connectTls(port, { ca: first.cert }));
  server.kill('SIGTERM');
  t.is((await exited(server)).code, 0);

  const exposed = spawnServer(['-listen', `:${await freePort()}`]);
  t.is((await exited(exposed)).code, 1);
  t.regex(exposed.output(), /refusing to listen on 0\.0\.0\.0 without a secret: anyone who can reach it could add, lease, complete or delete any job/);
});
