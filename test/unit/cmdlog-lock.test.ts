import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { openCommandLog } from '../../src/cmdlog/command-log.js';
import { lockDirectory } from '../../src/cmdlog/dir-lock.js';
import { flockHolder } from '../../src/cmdlog/lock-holder.js';
import type { CommandLogOptions } from '../../src/cmdlog/types.js';
import { captureLogger, openRefused, RecordingEngine, tempDir } from '../helpers/cmdlog-fakes.js';
import { exited, spawnLockHolder } from '../helpers/process.js';

// Locking must not need any program besides node (util-linux `flock` is missing on small
// images): this process and the holders it starts see only node's own directory.
process.env['PATH'] = path.dirname(process.execPath);

/** The command names the system gives this process and the node processes it starts (the kernel keeps 15 bytes). */
const ownName = fs.readFileSync('/proc/self/comm', 'utf8').trim();
const nodeName = path.basename(process.execPath).slice(0, 15);

function options(dir: string, logger = captureLogger().logger): CommandLogOptions {
  return { dir, sync: 'os', syncIntervalMs: 1000, segmentSize: 1 << 20, cleanIntervalMs: 300000, logger };
}

const open = (dir: string, logger = captureLogger().logger) => openCommandLog(options(dir, logger), new RecordingEngine());

const tookOver = (lines: Array<Record<string, unknown>>) => lines.filter((line) => /took over the directory lock of a dead process/.test(String(line['msg'])));

test('a second open on the same directory is refused at once with ELOCKED, naming the holder; after close it opens', async (t) => {
  const dir = tempDir();
  const first = await open(dir);
  const err = await t.throwsAsync(openRefused(open(dir)));
  t.is((err as NodeJS.ErrnoException).code, 'ELOCKED');
  t.is((err as Error & { holderPid: number }).holderPid, process.pid);
  t.is(err.message, `cmdlog directory ${dir} is in use: process ${process.pid} (${ownName}) holds the lock on ${path.join(dir, 'append.lock')}`);
  t.true(fs.existsSync(`${dir}.lock`), "the refusal leaves the holder's lock alone");
  await first.close();
  const { logger, lines } = captureLogger();
  await (await open(dir, logger)).close();
  t.deepEqual(tookOver(lines), [], 'a lock released on close leaves nothing to take over');
});

test('a process holding flock on append.lock, as the original server does, makes us refuse with its pid; once it dies we open', async (t) => {
  const dir = tempDir();
  const holder = await spawnLockHolder('flock', path.join(dir, 'append.lock'));
  t.teardown(() => holder.kill('SIGKILL'));
  const err = await t.throwsAsync(openRefused(open(dir)));
  t.is((err as NodeJS.ErrnoException).code, 'ELOCKED');
  t.is<number | undefined, number | undefined>((err as Error & { holderPid: number }).holderPid, holder.pid);
  t.regex(err.message, new RegExp(`is in use: process ${holder.pid} \\(${nodeName}\\) holds the lock on .*append\\.lock$`));
  t.false(fs.existsSync(`${dir}.lock`), "refused before taking proper-lockfile's lock");
  holder.kill('SIGKILL');
  await exited(holder);
  await (await open(dir)).close();
});

test('after kill -9 of a holder its directory lock is taken over at once, and the log says so', async (t) => {
  const dir = tempDir();
  const holder = await spawnLockHolder('dir', dir);
  t.teardown(() => holder.kill('SIGKILL'));
  await t.throwsAsync(openRefused(open(dir)), { code: 'ELOCKED' });
  holder.kill('SIGKILL');
  await exited(holder);
  t.true(fs.existsSync(`${dir}.lock`), "kill -9 leaves proper-lockfile's lock behind");

  const { logger, lines } = captureLogger();
  const log = await open(dir, logger);
  const [line] = tookOver(lines);
  t.like(line, { level: 40, dir, lock: `${fs.realpathSync(dir)}.lock` });
  t.is(typeof line!['lastRefreshedMsAgo'], 'number');
  t.true(fs.existsSync(`${dir}.lock`), 'the lock is ours now');
  await t.throwsAsync(openRefused(open(dir)), { code: 'ELOCKED' });
  await log.close();
  t.false(fs.existsSync(`${dir}.lock`), 'and released on close');
});

test('without a kernel lock the directory is refused (fail closed), leaving no lock behind', async (t) => {
  const dir = tempDir();
  const { logger } = captureLogger();
  const noBinding = await t.throwsAsync(lockDirectory(dir, logger, () => Promise.reject(new Error('no prebuilt binary for this platform'))));
  t.is((noBinding as NodeJS.ErrnoException).code, 'ENOKERNELLOCK');
  t.regex(
    noBinding.message,
    /cannot be locked: the flock binding \(koffi\) does not load on this platform: no prebuilt binary for this platform; without the kernel lock on .*append\.lock a live server on this directory cannot be told from a dead one/,
  );

  for (const errno of ['ENOLCK', 'EOPNOTSUPP', 'ENOSYS']) {
    const err = await t.throwsAsync(lockDirectory(dir, logger, () => Promise.resolve(() => ({ errno }))));
    t.is((err as NodeJS.ErrnoException).code, 'ENOKERNELLOCK');
    t.true(err.message.includes(`flock failed with ${errno}`), err.message);
  }
  t.false(fs.existsSync(`${dir}.lock`));
  await (await lockDirectory(dir, logger)).release();
});

test('an append.lock that is a FIFO or a directory is refused with a clear message, without hanging', async (t) => {
  const fifoDir = tempDir();
  execFileSync('/usr/bin/mkfifo', [path.join(fifoDir, 'append.lock')]);
  await t.throwsAsync(openRefused(open(fifoDir)), { message: `cmdlog directory ${fifoDir}: ${path.join(fifoDir, 'append.lock')} is not a regular file` });
  const dirDir = tempDir();
  fs.mkdirSync(path.join(dirDir, 'append.lock'));
  await t.throwsAsync(openRefused(open(dirDir)), { message: `cmdlog directory ${dirDir}: ${path.join(dirDir, 'append.lock')} is not a regular file` });
});

test('the holder of a flock is read from /proc/locks by device and inode; waiters and hidden pids are not taken for it', (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'append.lock');
  fs.writeFileSync(file, '');
  const fd = fs.openSync(file, 'r');
  t.teardown(() => fs.closeSync(fd));
  const { dev, ino } = fs.fstatSync(fd);
  const id = `${(dev >> 8).toString(16).padStart(2, '0')}:${(dev & 0xff).toString(16).padStart(2, '0')}:${ino}`;
  const table = (lines: string[]) => {
    const locks = path.join(dir, `locks-${lines.length}-${Math.random()}`);
    fs.writeFileSync(locks, lines.join('\n') + '\n');
    return locks;
  };
  t.deepEqual(
    flockHolder(
      fd,
      table([
        `1: POSIX  ADVISORY  WRITE 11 ${id} 0 EOF`,
        `2: FLOCK  ADVISORY  WRITE ${process.pid} ${id} 0 EOF`,
        `2: -> FLOCK  ADVISORY  WRITE 12 ${id} 0 EOF`,
      ]),
    ),
    { pid: process.pid, command: ownName },
  );
  t.is(flockHolder(fd, table([`1: FLOCK  ADVISORY  WRITE 13 ${id}0 0 EOF`])), null, 'another inode');
  t.is(flockHolder(fd, table([`1: -> FLOCK  ADVISORY  WRITE 14 ${id} 0 EOF`])), null, 'only a waiter');
  t.is(flockHolder(fd, table([`1: FLOCK  ADVISORY  WRITE 0 ${id} 0 EOF`])), null, 'a holder in another pid namespace');
  t.is(flockHolder(fd, path.join(dir, 'no-such-file')), null, 'no /proc');
});

test('a directory that cannot be created is refused with a clear message', async (t) => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'file'), '');
  const err = await t.throwsAsync(openRefused(open(path.join(dir, 'file', 'log'))));
  t.regex(err.message, /cannot be created or is not writable/);
});

test('invalid options are refused before touching the directory', async (t) => {
  const dir = path.join(tempDir(), 'never');
  for (const [extra, text] of [
    [{ sync: 'sometimes' }, /Invalid cmdlog-sync policy: sometimes/],
    [{ sync: 'interval', syncIntervalMs: 0 }, /Invalid sync interval/],
    [{ segmentSize: 0 }, /segment size/],
    [{ cleanIntervalMs: 0 }, /clean interval/],
  ] as const) {
    await t.throwsAsync(openRefused(openCommandLog({ ...options(dir), ...(extra as object) }, new RecordingEngine())), { message: text });
  }
  t.false(fs.existsSync(dir));
});
