import fs from 'node:fs';
import { dirname } from 'node:path';
import { errorCode } from './errors.js';
import type { LogFileSystem } from './types.js';

/** Payloads are private: the log's files are its user's alone (umask can only narrow these). */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** The real file layer: node:fs, sync calls where they are cheap, the thread pool for the rest. */
export const nodeFileSystem: LogFileSystem = {
  mkdir: makePrivateDirectory,
  accessWritable: (path) => fs.promises.access(path, fs.constants.W_OK),
  readdir: (path) => fs.promises.readdir(path),
  readFile: readWhole,
  readFileSync: (path) => fs.readFileSync(path),
  readFileFromSync,
  statSync: (path) => fs.statSync(path),
  openSync: (path, flags) => fs.openSync(path, flags, FILE_MODE),
  writeSync: (fd, buf, offset, length, position) => fs.writeSync(fd, buf, offset, length, position),
  write: (fd, buf, offset, length, position) =>
    new Promise((resolve, reject) => {
      fs.write(fd, buf, offset, length, position, (err, written) => (err ? reject(err) : resolve(written)));
    }),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  fsync: (fd) =>
    new Promise((resolve, reject) => {
      fs.fsync(fd, (err) => (err ? reject(err) : resolve()));
    }),
  closeSync: (fd) => fs.closeSync(fd),
  renameSync: (from, to) => fs.renameSync(from, to),
  unlinkSync: (path) => fs.unlinkSync(path),
};

/**
 * mkdir -p, every directory made 0700; a log directory that exists with any access for
 * group or others (made by an older version, 0755) is narrowed to 0700, which also hides
 * the 0644 segments that version wrote.
 */
async function makePrivateDirectory(path: string): Promise<void> {
  await makeDirectory(path);
  const { mode } = await fs.promises.stat(path);
  if ((mode & 0o077) !== 0) await fs.promises.chmod(path, DIR_MODE);
}

/**
 * mkdir -p. Node's own recursive mkdir never settles (a thread-pool thread spins at 100 %
 * CPU) when mkdir says ENOENT although the parent exists, as under /proc: here a second
 * ENOENT after the parent was made is final.
 */
async function makeDirectory(path: string): Promise<void> {
  try {
    await fs.promises.mkdir(path, DIR_MODE);
    return;
  } catch (err) {
    if (errorCode(err) === 'EEXIST' && (await fs.promises.stat(path)).isDirectory()) return;
    if (errorCode(err) !== 'ENOENT' || dirname(path) === path) throw err;
  }
  await makeDirectory(dirname(path));
  await fs.promises.mkdir(path, DIR_MODE).catch(async (err: unknown) => {
    if (errorCode(err) !== 'EEXIST' || !(await fs.promises.stat(path)).isDirectory()) throw err;
  });
}

function readFileFromSync(path: string, position: number): Buffer {
  const fd = fs.openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.max(0, fs.fstatSync(fd).size - position));
    let length = 0;
    while (length < buf.length) {
      const n = fs.readSync(fd, buf, length, buf.length - length, position + length);
      if (n === 0) break;
      length += n;
    }
    return buf.subarray(0, length);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The whole file in one read request where fs.promises.readFile issues one per 512 KiB,
 * each waiting for a turn of the event loop: replay reads the next segment while it
 * decodes this one and yields only every few tens of milliseconds, so chunk by chunk
 * that read would still be running when it is needed.
 */
async function readWhole(path: string): Promise<Buffer> {
  const handle = await fs.promises.open(path, 'r');
  try {
    const { size } = await handle.stat();
    const buf = Buffer.allocUnsafe(size);
    let length = 0;
    while (length < size) {
      const { bytesRead } = await handle.read(buf, length, size - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return length === size ? buf : buf.subarray(0, length);
  } finally {
    await handle.close();
  }
}
