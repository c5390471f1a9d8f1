import test from 'ava';
import { randomUUID } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { startTestServer, tempDir, Wire } from '../helpers/wire.js';

// Under a steady add → lease → complete churn the cleaner keeps the log's size level,
// and a replay of what it left gives the same state.

async function logBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.log')) continue;
    // the cleaner may delete a segment between the listing and its stat
    const size = await stat(path.join(dir, name)).then(
      (s) => s.size,
      () => 0,
    );
    total += size;
  }
  return total;
}

/** Reads `count` reply lines and checks each is +OK. */
async function expectOks(wire: Wire, count: number): Promise<void> {
  const bytes = (await wire.read('+OK\r\n'.length * count, 20_000)).toString('latin1');
  if (bytes !== '+OK\r\n'.repeat(count)) throw new Error(`unexpected replies: ${bytes.slice(0, 200)}`);
}

async function churn(wire: Wire, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const ids = Array.from({ length: 100 }, () => randomUUID());
    // TTL 1 s, short enough for the cleaner to drop the records soon after. Each complete
    // follows its add in the same write, so that it finds the job however loaded the
    // machine (two round trips of 100 commands took over a second).
    wire.send(ids.map((id) => `add ${id} churn 60000 1000 10\r\n0123456789\r\ncomplete ${id} 2\r\nok\r\n`).join(''));
    await expectOks(wire, 2 * ids.length);
  }
}

test('cleaning keeps the log level under churn and replay gives the same state', async (t) => {
  t.timeout(180_000);
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const server = await startTestServer({ cmdlogPath: dir.path, segmentSize: 16 * 1024, cleanIntervalMs: 100 });
  t.teardown(() => server.stop());
  const wire = await Wire.connect(server.port);
  wire.send('add 00000000-0000-4000-8000-00000000beef keep 1000 600000 4\r\nkept\r\n');
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');

  const sizes: number[] = [];
  const laps = 8;
  for (let lap = 0; lap < laps; lap++) {
    await churn(wire, 10);
    await new Promise((resolve) => setTimeout(resolve, 500));
    sizes.push(await logBytes(dir.path));
  }
  // Each lap writes 1000 adds and 1000 completes, about 130 KB.
  const written = laps * 130 * 1024;
  t.true(sizes.at(-1)! < written * 0.6, `the log levels off below what was written (${written} B): ${sizes.join(', ')}`);
  // Once every churned job's TTL (and the cleaner's rounding to whole seconds) has
  // passed, only the active segment and a few sealed ones remain.
  let settled = await logBytes(dir.path);
  for (const deadline = Date.now() + 60_000; settled > 64 * 1024 && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    settled = await logBytes(dir.path);
  }
  t.true(settled <= 64 * 1024, `log shrinks back once the churn stops: ${settled} B`);
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
  t.log(`log bytes after each lap: ${sizes.join(', ')}; settled: ${settled}`);
  after.close();
});
