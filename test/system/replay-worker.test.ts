import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { exited, freePort, printed, spawnServer, waitForPort } from '../helpers/process.js';
import { jobPayload, record, RecordType, restoredJob, segment } from '../helpers/cmdlog-records.js';
import { tempDir, Wire } from '../helpers/wire.js';
import { flipBits } from '../helpers/bytes.js';

// A log of 96 MiB or more is read and checked by a worker thread during replay. The
// unit tests run that worker from the TypeScript sources; here the built server (what
// `npm start` runs) replays such a log, as a user's server would.

const JOBS = 52_000;
const PAYLOAD = 2000;
const NOW_SEC = Math.floor(Date.now() / 1000);

/** Two segments of about 50 MiB each, holding JOBS adds to queue q with 2000-byte payloads, all records of one length. */
function writeLog(dir: string): { ids: string[]; recordLength: number } {
  const ids = Array.from({ length: JOBS }, () => randomUUID());
  const payload = Buffer.alloc(PAYLOAD, 'w');
  const records = ids.map((id, i) =>
    record(NOW_SEC, i, jobPayload(RecordType.Add, restoredJob({ id, name: 'q', payload, createdSec: NOW_SEC, createdNsec: i, ttl: 3_600_000 }))),
  );
  writeFileSync(path.join(dir, '000000001.log'), segment(...records.slice(0, JOBS / 2)));
  writeFileSync(path.join(dir, '000000002.log'), segment(...records.slice(JOBS / 2)));
  return { ids, recordLength: records[0]!.length };
}

test('the built server replays a 100 MiB log through its replay worker and serves every job', async (t) => {
  // Writing and replaying 100 MiB takes tens of seconds on a loaded machine.
  t.timeout(180_000);
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const { ids } = writeLog(dir.path);
  const port = await freePort();
  const server = spawnServer(['-listen', `127.0.0.1:${port}`, '-cmdlog-path', dir.path], { built: true });
  t.teardown(() => server.kill('SIGKILL'));
  await waitForPort(port, 150_000);
  const wire = await Wire.connect(port);
  wire.send('inspect queue q\r\n');
  const expected = `+OK 1\r\nq 2\r\nready-len ${JOBS}\r\nscheduled-len 0\r\n`;
  t.is(await wire.reply(expected), expected);
  wire.send(`lease q 1000\r\n`);
  t.regex(await wire.reply(`+OK 1\r\n${ids[0]} ${PAYLOAD}\r\n${'w'.repeat(PAYLOAD)}\r\n`), new RegExp(ids[0]!), 'FIFO: the first logged job comes first');
  wire.close();
  const done = new RegExp(`"records":${JOBS},"segments":2,.*"worker":true`);
  t.regex(await printed(server, done), done);
  server.kill('SIGTERM');
  t.is((await exited(server)).code, 0);
});

test('the built server refuses a 100 MiB log with a bad record in its first segment, naming file and offset', async (t) => {
  t.timeout(180_000);
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const { recordLength } = writeLog(dir.path);
  const file = path.join(dir.path, '000000001.log');
  const bytes = readFileSync(file);
  flipBits(bytes, 5_000_000, 0xff);
  const offset = 8 + Math.floor((5_000_000 - 8) / recordLength) * recordLength;
  writeFileSync(file, bytes);
  const server = spawnServer(['-listen', `127.0.0.1:${await freePort()}`, '-cmdlog-path', dir.path], { built: true });
  t.teardown(() => server.kill('SIGKILL'));
  const { code } = await exited(server);
  t.not(code, 0);
  t.true(server.output().includes(`${file} at byte offset ${offset}: crc mismatch`), server.output());
});
