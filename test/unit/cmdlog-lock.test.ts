import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { openCommandLog } from '../../src/cmdlog/command-log.js';
import type { CommandLogOptions } from '../../src/cmdlog/types.js';
import { asEngine, captureLogger, openRefused, RecordingEngine, sleep, tempDir } from '../helpers/cmdlog-fakes.js';

function options(dir: string): CommandLogOptions {
  return { dir, sync: 'os', syncIntervalMs: 1000, segmentSize: 1 << 20, cleanIntervalMs: 300000, logger: captureLogger().logger };
}

test('a second open on the same directory is refused, naming it; after close it opens', async (t) => {
  const dir = tempDir();
  const first = await openCommandLog(options(dir), asEngine(new RecordingEngine()));
  const err = await t.throwsAsync(openRefused(openCommandLog(options(dir), asEngine(new RecordingEngine()))));
  t.true(err!.message.includes(dir));
  t.regex(err!.message, /in use by another running process/);
  await first.close();
  await (await openCommandLog(options(dir), asEngine(new RecordingEngine()))).close();
});

test('a lock left by a killed process is taken over within a few seconds', async (t) => {
  const dir = tempDir();
  // What a process killed just now leaves: a fresh lock directory nobody refreshes.
  fs.mkdirSync(`${dir}.lock`);
  const started = Date.now();
  const log = await openCommandLog(options(dir), asEngine(new RecordingEngine()));
  const took = Date.now() - started;
  t.true(took >= 2000 && took < 8000, `${took} ms`);
  await log.close();
});

test('the kernel flock on append.lock (as the original takes it) makes us refuse', async (t) => {
  const dir = tempDir();
  const holder = spawn('flock', ['--exclusive', path.join(dir, 'append.lock'), 'sleep', '30'], { stdio: 'ignore', detached: true });
  await sleep(300);
  try {
    const err = await t.throwsAsync(openRefused(openCommandLog(options(dir), asEngine(new RecordingEngine()))));
    t.regex(err!.message, /append\.lock is locked by another process/);
  } finally {
    // flock and its sleep child both hold the lock: end the whole group we started.
    process.kill(-holder.pid!, 'SIGKILL');
  }
  await sleep(200);
  await (await openCommandLog(options(dir), asEngine(new RecordingEngine()))).close();
});

test('a directory that cannot be created is refused with a clear message', async (t) => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'file'), '');
  const err = await t.throwsAsync(openRefused(openCommandLog(options(path.join(dir, 'file', 'log')), asEngine(new RecordingEngine()))));
  t.regex(err!.message, /cannot be created or is not writable/);
});

test('invalid options are refused before touching the directory', async (t) => {
  const dir = path.join(tempDir(), 'never');
  for (const [extra, text] of [
    [{ sync: 'sometimes' }, /Invalid cmdlog-sync policy: sometimes/],
    [{ sync: 'interval', syncIntervalMs: 0 }, /Invalid sync interval/],
    [{ segmentSize: 0 }, /segment size/],
    [{ cleanIntervalMs: 0 }, /clean interval/],
  ] as const) {
    await t.throwsAsync(openRefused(openCommandLog({ ...options(dir), ...(extra as object) } as CommandLogOptions, asEngine(new RecordingEngine()))), { message: text });
  }
  t.false(fs.existsSync(dir));
});
