import test from 'ava';
import { randomUUID } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { startTestServer, tempDir, Wire } from '../helpers/wire.js';

// Under a steady add → lease → complete churn the cleaner keeps the log's size level,
// and a replay of what it left gives the same state.

async function logBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) if (name.endsWith('.log')) total += (await stat(path.join(dir, name))).size;
  return total;
}

async function churn(wire: Wire, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const ids = Array.from({ length: 100 }, () => randomUUID());
    wire.send(ids.map((id) => `add ${id} churn 60000 300 10\r\n0123456789\r\n`).join(''));
    await wire.read('+OK\r\n'.length * ids.length);
    for (const id of ids) {
      wire.send(`complete ${id} 2\r\nok\r\n`);
    }
    await wire.read('+OK\r\n'.length * ids.length);
  }
}

test('cleaning keeps the log level under churn and replay gives the same state', async (t) => {
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const server = await startTestServer({ cmdlogPath: dir.path, segmentSize: 16 * 1024, cleanIntervalMs: 100 });
  const wire = await Wire.connect(server.port);
  wire.send('add 00000000-0000-4000-8000-00000000beef keep 1000 600000 4\r\nkept\r\n');
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');

  const sizes: number[] = [];
  for (let lap = 0; lap < 6; lap++) {
    await churn(wire, 10);
    await new Promise((resolve) => setTimeout(resolve, 500));
    sizes.push(await logBytes(dir.path));
  }
  const written = 6 * 10 * 100 * 2;
  t.true(sizes.at(-1)! < 200 * 1024, `log stays small: ${sizes.join(', ')} bytes after ${written} records`);
  t.true(sizes.at(-1)! <= Math.max(...sizes.slice(0, 3)) * 1.5, `log levels off: ${sizes.join(', ')}`);

  wire.send('inspect queues 0 10\r\n');
  const before = await wire.reply('+OK 2\r\nchurn 2\r\nready-len 0\r\nscheduled-len 0\r\nkeep 2\r\nready-len 1\r\nscheduled-len 0\r\n');
  wire.close();
  await server.stop();

  const again = await startTestServer({ cmdlogPath: dir.path });
  t.teardown(() => again.stop());
  const after = await Wire.connect(again.port);
  after.send('inspect queue keep\r\n');
  const keep = '+OK 1\r\nkeep 2\r\nready-len 1\r\nscheduled-len 0\r\n';
  t.is(await after.reply(keep), keep);
  t.regex(before, /keep 2\r\nready-len 1/);
  t.log(`log bytes after each lap: ${sizes.join(', ')}`);
  after.close();
});
