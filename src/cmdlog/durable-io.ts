import type { LogFileSystem } from './types.js';

/** Writes all of `buf` at offset 0 of `fd` and fsyncs it; `file` names it in errors. */
export async function writeWholeAndSync(fs: LogFileSystem, fd: number, buf: Uint8Array, length: number, file: string): Promise<void> {
  for (let off = 0; off < length;) {
    const n = await fs.write(fd, buf, off, length - off, off);
    if (n <= 0) throw new Error(`${file}: write made no progress`);
    off += n;
  }
  await fs.fsync(fd);
}

/** Makes the directory's entries (files created, renamed or removed in it) durable. */
export async function syncDirectory(fs: LogFileSystem, dir: string): Promise<void> {
  const fd = fs.openSync(dir, 'r');
  try {
    await fs.fsync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
