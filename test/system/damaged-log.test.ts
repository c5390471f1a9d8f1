import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { exited, freePort, spawnServer, waitForPort } from '../helpers/process.js';
import { tempDir, Wire } from '../helpers/wire.js';
import { flipBits } from '../helpers/bytes.js';

// The built server on logs damaged the ways an operator or a disk damages them: each
// start is refused at once with one line naming what is wrong (exit status 1), and
// nothing in the directory is changed; a torn tail alone is repaired, its bytes kept.

const JOBS = 8;
const id = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const seg = (num: number): string => `${String(num).padStart(9, '0')}.log`;

/** A log of JOBS one-record segments (`-cmdlog-seg-size 15`, as the original's own system test), written by the server and stopped cleanly. */
async function writeLog(dir: string): Promise<void> {
  const port = await freePort();
  const server = spawnServer(['-listen', `127.0.0.1:${port}`, '-cmdlog-path', dir, '-cmdlog-seg-size', '15'], { built: true });
  try {
    await waitForPort(port);
    const wire = await Wire.connect(port);
    for (let n = 1; n <= JOBS; n++) {
      wire.send(`add ${id(n)} q 1000 3600000 1\r\nx\r\n`);
      await wire.reply('+OK\r\n');
    }
    wire.close();
  } finally {
    server.kill('SIGTERM');
    await exited(server);
  }
}

const queueWith = (ready: number): string => `+OK 1\r\nq 2\r\nready-len ${ready}\r\nscheduled-len 0\r\n`;

/** Starts a server that must refuse the log: exit status 1; returns its one plain-text line (the rest is its JSON log). */
async function refused(dir: string): Promise<string> {
  const server = spawnServer(['-listen', `127.0.0.1:${await freePort()}`, '-cmdlog-path', dir], { built: true });
  const { code } = await exited(server);
  if (code !== 1) throw new Error(`exit status ${code}, output: ${server.output()}`);
  const lines = server
    .output()
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('workq-server: '));
  if (lines.length !== 1) throw new Error(`not one refusal line: ${server.output()}`);
  return lines[0]!;
}

/** Starts a server on the log and returns its `inspect queue q` reply. */
async function inspectQueue(dir: string, expected: string): Promise<string> {
  const port = await freePort();
  const server = spawnServer(['-listen', `127.0.0.1:${port}`, '-cmdlog-path', dir], { built: true });
  try {
    await waitForPort(port);
    const wire = await Wire.connect(port);
    wire.send('inspect queue q\r\n');
    const reply = await wire.reply(expected);
    wire.close();
    return reply;
  } finally {
    server.kill('SIGTERM');
    await exited(server);
  }
}

for (const [where, num] of [
  ['first', 1],
  ['middle', 4],
  ['last', JOBS],
] as const) {
  test(`a deleted ${where} segment: the start is refused naming it; with the manifest moved away the rest is served`, async (t) => {
    const dir = await tempDir();
    t.teardown(() => dir.remove());
    await writeLog(dir.path);
    t.is(fs.readdirSync(dir.path).filter((n) => n.endsWith('.log')).length, JOBS);
    fs.rmSync(path.join(dir.path, seg(num)));
    const output = await refused(dir.path);
    t.true(output.includes(`segment ${seg(num)} listed in cmdlog.manifest is missing`), output);
    fs.renameSync(path.join(dir.path, 'cmdlog.manifest'), path.join(dir.path, 'manifest.kept'));
    t.is(await inspectQueue(dir.path, queueWith(JOBS - 1)), queueWith(JOBS - 1));
  });
}

test('a flipped bit in a SIZE thousands of bytes before the end of the last segment: refused naming file and offset, nothing cut', async (t) => {
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const port = await freePort();
  const server = spawnServer(['-listen', `127.0.0.1:${port}`, '-cmdlog-path', dir.path], { built: true });
  await waitForPort(port);
  const wire = await Wire.connect(port);
  for (let n = 1; n <= 60; n++) {
    wire.send(`add ${id(n)} q 1000 3600000 100\r\n${'p'.repeat(100)}\r\n`);
    await wire.reply('+OK\r\n');
  }
  wire.close();
  server.kill('SIGTERM');
  await exited(server);
  const file = path.join(dir.path, seg(1));
  const buf = fs.readFileSync(file);
  const recordLength = (buf.length - 8) / 60;
  const offset = 8 + 20 * recordLength;
  flipBits(buf, offset + 15, 0x04);
  fs.writeFileSync(file, buf);
  t.true(buf.length - offset > 4000);
  const output = await refused(dir.path);
  t.true(output.includes(`${file} at byte offset ${offset}`), output);
  t.regex(output, /whole records follow/);
  t.deepEqual(fs.readFileSync(file), buf);
  t.false(fs.existsSync(`${file}.torn`));
});

test('a torn last record is cut, its bytes kept in .torn, and every whole record served', async (t) => {
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  await writeLog(dir.path);
  const file = path.join(dir.path, seg(JOBS));
  const whole = fs.readFileSync(file);
  const torn = Buffer.concat([whole.subarray(8, 40), Buffer.alloc(512)]);
  fs.appendFileSync(file, torn);
  t.is(await inspectQueue(dir.path, queueWith(JOBS)), queueWith(JOBS));
  t.deepEqual(fs.readFileSync(file), whole);
  t.deepEqual(fs.readFileSync(`${file}.torn`), torn);
});

for (const [kind, make] of [
  ['a FIFO', (p: string) => execFileSync('mkfifo', [p])],
  ['a directory', (p: string) => fs.mkdirSync(p)],
] as const) {
  test(`a segment that is ${kind} is refused at once, naming it`, async (t) => {
    const dir = await tempDir();
    t.teardown(() => dir.remove());
    await writeLog(dir.path);
    const file = path.join(dir.path, seg(JOBS + 1));
    make(file);
    const output = await refused(dir.path);
    t.true(output.includes(`${file} is ${kind}`), output);
  });
}
