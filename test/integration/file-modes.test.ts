import test from 'ava';
import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { addCommand, newId } from '../helpers/replies.js';
import { startTestServer, tempDir, Wire } from '../helpers/wire.js';
import { serveControl } from '../../supervisor/control.js';
import type { SupervisorStatus } from '../../supervisor/primary.js';

// The log holds every payload, so its files are its user's alone (docs/operations.md):
// the directory 0700, every file in it 0600, whatever the umask lets through.

async function modeOf(file: string): Promise<number> {
  return (await stat(file)).mode & 0o777;
}

async function fillAndStop(dir: string, extraDir = false): Promise<void> {
  const server = await startTestServer({ cmdlogPath: dir, sync: 'always', segmentSize: 4096 });
  const wire = await Wire.connect(server.port);
  // Enough records for several segments, so rotation's new segments are checked too.
  const adds = Array.from({ length: 60 }, () => addCommand(newId(), extraDir ? 'again' : 'modes', 'x'.repeat(200)));
  wire.send(Buffer.concat(adds));
  await wire.reply('+OK\r\n'.repeat(60), 20_000);
  wire.close();
  await server.stop();
}

test('a new log directory is 0700 and every file the log makes is 0600, under a permissive umask', async (t) => {
  const tmp = await tempDir();
  t.teardown(() => tmp.remove());
  const dir = path.join(tmp.path, 'deep', 'cmdlog');
  const old = process.umask(0);
  try {
    await fillAndStop(dir);
  } finally {
    process.umask(old);
  }
  t.is(await modeOf(dir), 0o700);
  t.is(await modeOf(path.join(tmp.path, 'deep')), 0o700, 'parents the log made too');
  const files = await readdir(dir);
  t.true(files.filter((f) => f.endsWith('.log')).length > 1, files.join(' '));
  for (const file of files) t.is(await modeOf(path.join(dir, file)), 0o600, file);
});

test('a log directory left 0755 by an older version is narrowed to 0700 at the start', async (t) => {
  const tmp = await tempDir();
  t.teardown(() => tmp.remove());
  const dir = path.join(tmp.path, 'cmdlog');
  await mkdir(dir);
  await chmod(dir, 0o755);
  await fillAndStop(dir, true);
  t.is(await modeOf(dir), 0o700);
});

test('the control socket is 0600 whatever the umask', async (t) => {
  const tmp = await tempDir();
  t.teardown(() => tmp.remove());
  const socket = path.join(tmp.path, 'control.sock');
  const old = process.umask(0);
  let served;
  try {
    served = await serveControl(socket, () => Promise.resolve({} as SupervisorStatus));
  } finally {
    process.umask(old);
  }
  if (!served.ok) return t.fail(served.error);
  t.teardown(() => served.value.close());
  t.is(await modeOf(socket), 0o600);
});
