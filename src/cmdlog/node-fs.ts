import fs from 'node:fs';
import type { LogFileSystem } from './types.js';

/** The real file layer: node:fs, sync calls where they are cheap, the thread pool for the rest. */
export const nodeFileSystem: LogFileSystem = {
  mkdir: async (path) => {
    await fs.promises.mkdir(path, { recursive: true });
  },
  accessWritable: (path) => fs.promises.access(path, fs.constants.W_OK),
  readdir: (path) => fs.promises.readdir(path),
  readFile: (path) => fs.promises.readFile(path),
  openSync: (path, flags) => fs.openSync(path, flags, 0o666),
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
