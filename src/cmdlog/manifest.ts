import path from 'node:path';
import type { Logger } from 'pino';
import { syncDirectory, writeWholeAndSync } from './durable-io.js';
import { CmdlogMissingSegmentsError, CmdlogRefusalCode, CmdlogRefusalError, errorCode } from './errors.js';
import { segmentName } from './segment-files.js';
import type { LogFileSystem } from './types.js';

/**
 * The segment manifest: which segments the log consists of, so that a segment deleted
 * or moved away (first, middle or last) stops the start instead of silently losing its
 * records, or silently bringing back jobs whose deletes or completions it held.
 *
 * - Written atomically (temporary file, fsync, rename, directory fsync) whenever the set
 *   of segments changes: after a segment is created (once the directory fsync made it
 *   durable, so the manifest never names a segment a power cut can take back), before
 *   the cleaner deletes emptied segments, and at start-up when it differs from the
 *   directory. It may lag behind a segment just created, never run ahead of one.
 * - At start-up every listed segment must be there, else the start is refused, naming
 *   what is missing. Segments above the highest listed one are adopted: a crash right
 *   after a rotation, or the original Workq server appending (and rotating) after us,
 *   leaves them. Unlisted segments below it are replayed with a warning: a cleaning pass
 *   interrupted between writing the manifest and deleting leaves them.
 * - A directory without a manifest (written by the original server, or before manifests)
 *   is replayed as it is and gets one.
 * - Its name does not match the segment pattern, so the original server ignores it
 *   (docs/command-log.md 3) and still replays a log written here. The original does not keep it:
 *   segments its cleaner deletes look missing here (docs/operations.md says what to do).
 */
export const MANIFEST_NAME = 'cmdlog.manifest';
export const MANIFEST_TEMP_SUFFIX = '.new';
const FORMAT = 'workq-cmdlog-manifest';
const VERSION = 1;
/** More segments than any directory holds: a manifest naming more is damaged (and would not fit in memory). */
const MAX_SEGMENTS = 10_000_000;

interface ManifestFile {
  format: string;
  version: number;
  /** Ascending segment numbers as runs: "1-5,7,9-12"; empty for none. */
  segments: string;
}

/** "1-5,7,9-12" for [1,2,3,4,5,7,9,10,11,12] (ascending). */
export function formatRanges(nums: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < nums.length;) {
    let j = i;
    while (j + 1 < nums.length && nums[j + 1] === nums[j]! + 1) j++;
    parts.push(i === j ? String(nums[i]) : `${nums[i]}-${nums[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Segment file names for a message: "000000003.log, 000000005.log … 000000007.log". */
export function describeSegments(nums: readonly number[]): string {
  return formatRanges(nums)
    .split(',')
    .map((run) =>
      run
        .split('-')
        .map((n) => segmentName(Number(n)))
        .join(' … '),
    )
    .join(', ');
}

/** The segment numbers of a manifest's text; null when it is not one this version can read. */
export function parseManifest(text: string): number[] | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const m = parsed as Partial<ManifestFile> | null;
  if (m === null || typeof m !== 'object' || m.format !== FORMAT || m.version !== VERSION || typeof m.segments !== 'string') return null;
  const nums: number[] = [];
  if (m.segments === '') return nums;
  for (const run of m.segments.split(',')) {
    const match = /^(\d{1,9})(?:-(\d{1,9}))?$/.exec(run);
    if (match === null) return null;
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to < from || (nums.length > 0 && from <= nums.at(-1)!) || nums.length + (to - from) >= MAX_SEGMENTS) return null;
    for (let n = from; n <= to; n++) nums.push(n);
  }
  return nums;
}

export function formatManifest(nums: readonly number[]): string {
  const m: ManifestFile = { format: FORMAT, version: VERSION, segments: formatRanges(nums) };
  return `${JSON.stringify(m)}\n`;
}

/** The listed segments, or null when there is no manifest; refuses one it cannot read. */
export async function readManifest(fs: LogFileSystem, dir: string): Promise<number[] | null> {
  const file = path.join(dir, MANIFEST_NAME);
  let text: string;
  try {
    text = (await fs.readFile(file)).toString('utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return null;
    throw new CmdlogRefusalError(CmdlogRefusalCode.Manifest, file, `cmdlog segment manifest ${file} cannot be read: ${(err as Error).message}`);
  }
  const nums = parseManifest(text);
  if (nums === null) {
    throw new CmdlogRefusalError(
      CmdlogRefusalCode.Manifest,
      file,
      `cmdlog segment manifest ${file} is damaged or of an unknown version; refusing to start (to rebuild it from the segments present, move it away)`,
    );
  }
  return nums;
}

/** How the segments in the directory compare with the manifest's list (both ascending). */
export interface ManifestCheck {
  /** Listed, not present: the log lost them. */
  missing: number[];
  /** Present above the highest listed: appended after the manifest was written. */
  above: number[];
  /** Present, not listed, below the highest listed. */
  unlisted: number[];
}

export function compareWithManifest(listed: readonly number[], present: readonly number[]): ManifestCheck {
  const highest = listed.length > 0 ? listed.at(-1)! : -1;
  const presentSet = new Set(present);
  const listedSet = new Set(listed);
  return {
    missing: listed.filter((n) => !presentSet.has(n)),
    above: present.filter((n) => n > highest),
    unlisted: present.filter((n) => n < highest && !listedSet.has(n)),
  };
}

/**
 * Checks the segments present against the manifest before anything is replayed: refuses
 * when listed segments are missing, says which segments it adopts. Returns the listed
 * segments (null without a manifest).
 */
export async function checkManifest(fs: LogFileSystem, dir: string, present: readonly number[], logger: Logger): Promise<number[] | null> {
  const listed = await readManifest(fs, dir);
  if (listed === null) {
    if (present.length > 0)
      logger.info(
        { dir, segments: present.length },
        `cmdlog: no segment manifest (a log of the original server, or of an older version); replaying the segments present and writing ${MANIFEST_NAME}`,
      );
    return null;
  }
  const { missing, above, unlisted } = compareWithManifest(listed, present);
  if (missing.length > 0) {
    const manifest = path.join(dir, MANIFEST_NAME);
    throw new CmdlogMissingSegmentsError(
      path.join(dir, segmentName(missing[0]!)),
      missing,
      `cmdlog directory ${dir}: ${missing.length === 1 ? 'segment' : `${missing.length} segments`} ${describeSegments(missing)} listed in ${MANIFEST_NAME} ` +
        `${missing.length === 1 ? 'is' : 'are'} missing, and replaying without ${missing.length === 1 ? 'it' : 'them'} would lose jobs or bring back deleted and finished ones; refusing to start. ` +
        `Restore ${missing.length === 1 ? 'it' : 'them'} from a backup; or, to accept the loss (or if the original Workq server ran on this directory since and its cleaner removed ${missing.length === 1 ? 'it' : 'them'}), move ${manifest} away: it is rebuilt from the segments present`,
    );
  }
  if (above.length > 0)
    logger.info(
      { dir, segments: describeSegments(above) },
      'cmdlog: segments above those the manifest lists (created after its last update) are part of the log',
    );
  if (unlisted.length > 0)
    logger.warn(
      { dir, segments: describeSegments(unlisted) },
      'cmdlog: segments the manifest does not list (left by an interrupted cleaning pass, or put back by hand) are replayed',
    );
  return listed;
}

/** Writes `nums` as the manifest: temporary file, fsync, rename, directory fsync. */
export async function writeManifest(fs: LogFileSystem, dir: string, nums: readonly number[]): Promise<void> {
  const file = path.join(dir, MANIFEST_NAME);
  const tmp = file + MANIFEST_TEMP_SUFFIX;
  const data = Buffer.from(formatManifest(nums));
  const fd = fs.openSync(tmp, 'w');
  try {
    await writeWholeAndSync(fs, fd, data, data.length, tmp);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  await syncDirectory(fs, dir);
}

/**
 * Keeps the manifest up to date while the log runs. Requests made while a write is
 * waiting to start share it; a write reads the segment list when it starts, so it
 * covers every change requested before.
 */
export class ManifestWriter {
  private current: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(
    private readonly fs: LogFileSystem,
    private readonly dir: string,
    private readonly logger: Logger,
    private readonly segments: () => number[],
  ) {}

  /**
   * Writes the manifest after the directory fsync that makes new segments durable
   * (a manifest must not name a segment a power cut can still take back).
   */
  write(): Promise<void> {
    if (this.queued !== null) return this.queued;
    const before = this.current ?? Promise.resolve();
    const next: Promise<void> = before
      .catch(() => undefined)
      .then(async () => {
        this.queued = null;
        this.current = next;
        await syncDirectory(this.fs, this.dir);
        await writeManifest(this.fs, this.dir, this.segments());
      })
      .finally(() => {
        if (this.current === next) this.current = null;
      });
    this.queued = next;
    return next;
  }

  /** Like write, for callers that do not wait: a failure is logged (the manifest then lags until the next write). */
  update(): void {
    this.write().catch((err: unknown) => {
      this.logger.error({ err, file: path.join(this.dir, MANIFEST_NAME) }, 'cmdlog: writing the segment manifest failed');
    });
  }

  /** Resolves once no write is running or waiting. */
  async idle(): Promise<void> {
    while (this.queued !== null || this.current !== null) await (this.queued ?? this.current)!.catch(() => undefined);
  }
}
