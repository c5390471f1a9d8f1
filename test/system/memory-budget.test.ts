import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exited, freePort, spawnServer, waitForPort } from '../helpers/process.js';
import { tempDir, Wire } from '../helpers/wire.js';
import { cliJs, deployment, stopped, supervise, waitForLog, type Supervised } from './supervisor-harness.js';

// Real processes from dist/ (build first: npx tsc -p .): the supervisor sizes each child's
// heap from its memory budget, and a log the server refuses to replay (too large for its
// heap, or damaged) leaves the instance down at once instead of restarting it in a loop.

const MIB = 1024 * 1024;

function watched(t: { teardown(fn: () => unknown): void }, supervisor: Supervised): Supervised {
  t.teardown(() => supervisor.kill('SIGKILL'));
  return supervisor;
}

test.serial('each supervised child gets a heap limit of twice its budget plus 256 MiB (its start line says so)', async (t) => {
  const d = await deployment(2);
  t.teardown(() => d.remove());
  await writeFile(
    d.configFile,
    JSON.stringify({
      limits: { maxJobMemoryBytes: 64 * MIB },
      instances: [
        { name: 'small', port: d.ports[0], cmdlog: { path: null } },
        { name: 'large', port: d.ports[1], cmdlog: { path: null }, limits: { maxJobMemoryBytes: 512 * MIB } },
      ],
      supervisor: { controlSocket: d.socket },
      admin: { port: 0 },
    }),
  );
  const supervisor = watched(t, supervise(d));
  await waitForLog(supervisor, 'supervisor ready');
  const heapOf = (name: string): number =>
    Number(supervisor.lines().find((line) => line['msg'] === 'starting' && line['instance'] === name)?.['heapLimitBytes']);
  // heap_size_limit is the old space asked for plus V8's young generation (tens of MiB).
  for (const [name, oldSpace] of [
    ['small', 384 * MIB],
    ['large', 1280 * MIB],
  ] as const) {
    const heap = heapOf(name);
    t.true(heap >= oldSpace && heap < oldSpace + 128 * MIB, `${name}: ${heap}`);
  }
  supervisor.kill('SIGTERM');
  t.is((await stopped(supervisor)).code, 0);
});

test.serial('a log the child refuses (damaged) is reported once and left down, never restarted in a loop', async (t) => {
  const d = await deployment(1);
  t.teardown(() => d.remove());
  const dataDir = d.dataDirs[0]!;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(path.join(dataDir, '000000001.log'), 'not a segment header', { mode: 0o600 });
  const supervisor = watched(t, supervise(d));
  const exit = await stopped(supervisor, 30_000);
  t.is(exit.code, 1, supervisor.output());
  t.is(supervisor.lines().filter((line) => line['msg'] === 'starting server').length, 1, 'started once');
  t.true(
    supervisor
      .lines()
      .some((line) => /refused its command log .*left down, not retried as a crash/.test(String(line['msg'])) && line['code'] === 'ECMDLOG_CORRUPT'),
    supervisor.output(),
  );
});

test.serial('a log too large for the heap: replay stops with ECMDLOG_HEAP_LIMIT and names the setting to raise, instead of aborting', async (t) => {
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const port = await freePort();
  const writer = spawnServer(['-listen', `127.0.0.1:${port}`, '-cmdlog-path', dir.path, '-cmdlog-sync', 'os'], { built: true });
  // Payloads over 4 KiB stay strings in the heap; smaller ones go to the payload slab, outside it.
  const payload = 'x'.repeat(5 * 1024);
  try {
    await waitForPort(port);
    const wire = await Wire.connect(port);
    // 24k jobs of 5 KiB: about 125 MiB of live heap, more than the 64 MiB heap below.
    for (let batch = 0; batch < 24; batch++) {
      let bytes = '';
      for (let i = 0; i < 1000; i++)
        bytes += `add 00000000-0000-4000-8000-${String(batch * 1000 + i).padStart(12, '0')} q 1000 3600000 ${payload.length}\r\n${payload}\r\n`;
      wire.send(bytes);
      await wire.reply('+OK\r\n'.repeat(1000));
    }
    wire.close();
  } finally {
    writer.kill('SIGTERM');
    await exited(writer);
  }
  const small = spawn(process.execPath, ['--max-old-space-size=64', cliJs, '-listen', `127.0.0.1:${await freePort()}`, '-cmdlog-path', dir.path], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => small.kill('SIGKILL'));
  let output = '';
  small.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  small.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => small.once('close', (c) => resolve(c)));
  t.is(code, 1, output);
  t.regex(output, /cmdlog replay stopped after \d+ records .* does not fit\. Raise limits\.maxJobMemoryBytes .*--max-old-space-size/, output);
});
