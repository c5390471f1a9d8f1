import test from 'ava';
import { exited, freePort, spawnServer, waitForPort } from '../helpers/process.js';
import { get, parseScrape, series } from '../helpers/prometheus.js';
import { Wire } from '../helpers/wire.js';

// The standalone `workq-server` with -admin-listen: off unless given, then the same
// endpoints as the supervisor's for its one instance.

test('-admin-listen serves metrics, readiness and status of the one server; without it nothing listens', async (t) => {
  const [port, adminPort] = [await freePort(), await freePort()];
  const server = spawnServer(['-listen', `127.0.0.1:${port}`, '-admin-listen', `127.0.0.1:${adminPort}`], { built: true });
  t.teardown(() => server.kill('SIGKILL'));
  await waitForPort(port);
  const wire = await Wire.connect(port);
  t.teardown(() => wire.close());
  wire.send('add 00000000-0000-4000-8000-000000000007 solo 1000 60000 2\r\nhi\r\n');
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');

  const base = `http://127.0.0.1:${adminPort}`;
  t.deepEqual(await get(`${base}/readyz`).then((r) => [r.status, r.body]), [200, 'ready\n']);
  const samples = parseScrape((await get(`${base}/metrics`)).body);
  t.is(samples.get(series('workq_jobs', { instance: String(port), queue: 'solo', state: 'ready' })), 1);
  t.is(samples.get(series('workq_cmdlog_sync_info', { instance: String(port), policy: 'none' })), 1);
  const status = JSON.parse((await get(`${base}/status`)).body) as { instances: Array<{ name: string; state: string; jobs: number }> };
  t.like(status.instances[0], { name: String(port), state: 'ready', jobs: 1 });
  server.kill('SIGTERM');
  t.is((await exited(server)).code, 0);

  const plain = spawnServer(['-listen', `127.0.0.1:${port}`], { built: true });
  t.teardown(() => plain.kill('SIGKILL'));
  await waitForPort(port);
  await t.throwsAsync(fetch(`${base}/healthz`), undefined, 'no admin listener unless asked for');
  plain.kill('SIGTERM');
  t.is((await exited(plain)).code, 0);
});

test('a bad -admin-listen exits 2 with the usage', async (t) => {
  const server = spawnServer(['-admin-listen', 'nowhere'], { built: true });
  t.teardown(() => server.kill('SIGKILL'));
  t.is((await exited(server)).code, 2);
  t.regex(server.output(), /invalid -admin-listen "nowhere": expected HOST:PORT/);
  t.regex(server.output(), /-admin-listen HOST:PORT/);
});
