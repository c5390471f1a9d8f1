import path from 'node:path';
import type { SealedSegment } from './drop-book.js';
import type { ManifestWriter } from './manifest.js';
import { HEADER, HEADER_LENGTH } from './record.js';
import { NEW_SUFFIX, segmentName } from './segment-files.js';
import type { LogFileSystem } from './types.js';

/** The segment appended to, open. */
export interface ActiveSegment {
  num: number;
  fd: number;
  /** Bytes in the file, all of them whole records. */
  size: number;
  /** Size at the last successful fsync: what an fsync failure rolls back to. */
  syncedSize: number;
  dropAt: number[];
}

export interface SegmentWriterOptions {
  fs: LogFileSystem;
  dir: string;
  /** A created segment reaches the disk only with a directory fsync (false under 'os': the OS decides). */
  syncDirectory: boolean;
  /** Told of every segment created. */
  manifest: ManifestWriter;
}

/**
 * The segment files appended to: opens the replayed highest one (or creates the first)
 * on the first write, creates each next one whole and seals the full one into `sealed`,
 * the list the cleaner works on.
 */
export class SegmentWriter {
  active: ActiveSegment | null = null;
  /** A segment was created since the last directory fsync. */
  dirDirty = false;
  private resume: { num: number; size: number; dropAt: number[] } | null;
  private nextNum: number;
  /** The segment appended to (or to be), open or not; null before the first is created. */
  private appendTo: number | null;

  constructor(
    private readonly opts: SegmentWriterOptions,
    resume: { num: number; size: number; dropAt: number[] } | null,
    /** Shared with the cleaner: a segment is pushed here when appending moves past it. */
    private readonly sealed: SealedSegment[],
  ) {
    this.resume = resume;
    this.nextNum = resume !== null ? resume.num : 1;
    this.appendTo = resume?.num ?? null;
  }

  /** The log's segments, ascending: the sealed ones and the one appended to (or to be resumed). */
  segmentNumbers(): number[] {
    const nums = this.sealed.map((seg) => seg.num);
    if (this.appendTo !== null) nums.push(this.appendTo);
    return nums.sort((a, b) => a - b);
  }

  get segmentCount(): number {
    return this.sealed.length + (this.appendTo !== null ? 1 : 0);
  }

  /** Opens the segment to append to on the first append: the replayed highest one, or a new one. */
  openActive(): ActiveSegment {
    const resume = this.resume;
    let seg: ActiveSegment;
    if (resume !== null) {
      const fd = this.opts.fs.openSync(this.segmentPath(resume.num), 'r+');
      seg = { num: resume.num, fd, size: resume.size, syncedSize: resume.size, dropAt: resume.dropAt };
      this.resume = null;
    } else {
      seg = { num: this.nextNum, fd: this.createSegment(this.nextNum), size: HEADER_LENGTH, syncedSize: HEADER_LENGTH, dropAt: [] };
    }
    this.nextNum = seg.num + 1;
    this.active = seg;
    this.appendTo = seg.num;
    return seg;
  }

  /** Seals the full active segment `old` and starts the next one. */
  rotate(old: ActiveSegment): ActiveSegment {
    const fd = this.createSegment(old.num + 1);
    this.opts.fs.closeSync(old.fd);
    this.sealed.push({ num: old.num, size: old.size, dropAt: Float64Array.from(old.dropAt) });
    const seg = { num: old.num + 1, fd, size: HEADER_LENGTH, syncedSize: HEADER_LENGTH, dropAt: [] };
    this.active = seg;
    this.appendTo = seg.num;
    this.nextNum = seg.num + 1;
    return seg;
  }

  /** Appends `buf[from, from+length)` to `seg`, which is the active segment. */
  write(seg: ActiveSegment, buf: Buffer, from: number, length: number): void {
    const n = this.opts.fs.writeSync(seg.fd, buf, from, length, seg.size);
    if (n !== length) throw Object.assign(new Error(`short write: ${n} of ${length} bytes`), { code: 'ESHORTWRITE' });
    seg.size += length;
  }

  /** Cuts the active segment back to its last whole record (what a failed write may have left after it). */
  truncateActive(): void {
    const seg = this.active;
    if (seg !== null) this.opts.fs.ftruncateSync(seg.fd, seg.size);
  }

  closeActive(): void {
    const seg = this.active;
    if (seg === null) return;
    this.opts.fs.closeSync(seg.fd);
    this.active = null;
  }

  private segmentPath(num: number): string {
    return path.join(this.opts.dir, segmentName(num));
  }

  /**
   * Creates segment `num` with its header under a temporary name and renames it into
   * place, so no 0–7 byte segment is ever visible (docs/command-log.md 15.6).
   */
  private createSegment(num: number): number {
    const { fs } = this.opts;
    const file = this.segmentPath(num);
    const tmp = file + NEW_SUFFIX;
    try {
      fs.unlinkSync(tmp);
    } catch {
      // Usually absent; a leftover that cannot be removed makes the open below fail.
    }
    const fd = fs.openSync(tmp, 'wx');
    try {
      const n = fs.writeSync(fd, HEADER, 0, HEADER_LENGTH, 0);
      if (n !== HEADER_LENGTH) throw Object.assign(new Error(`short write: ${n} of ${HEADER_LENGTH} bytes`), { code: 'ESHORTWRITE' });
      fs.renameSync(tmp, file);
    } catch (err) {
      fs.closeSync(fd);
      try {
        fs.unlinkSync(tmp);
      } catch {
        // Nothing more to clean up; the leftover is removed at the next start.
      }
      throw err;
    }
    if (this.opts.syncDirectory) this.dirDirty = true;
    this.opts.manifest.update();
    return fd;
  }
}
