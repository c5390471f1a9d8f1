import type { Stats } from 'node:fs';
import type { Logger } from 'pino';
import type { Journal } from '../jobs/types.js';
import type { LogStats } from './log-stats.js';

/** When records are fsynced (docs/command-log.md 9.2). */
export type SyncPolicy = 'interval' | 'os' | 'always';

/**
 * The file operations the command log performs, narrow enough for a test to wrap one
 * and make it fail (ENOSPC, EIO, a short write). Synchronous calls are the cheap ones on the append path;
 * bulk reads and writes and every fsync are asynchronous so they never block the loop.
 */
export interface LogFileSystem {
  /** Creates the directory and its parents, private to the user (0700, and narrowed to that when it exists); no error when it exists. */
  mkdir(path: string): Promise<void>;
  /** Rejects when the directory is not writable by this process. */
  accessWritable(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<Buffer>;
  /** For the small files of a log where a round trip through the thread pool would cost more than the read. */
  readFileSync(path: string): Buffer;
  /** The file's bytes from `position` to its end (the tail of a segment a pre-read read most of). */
  readFileFromSync(path: string, position: number): Buffer;
  /** Follows symbolic links. */
  statSync(path: string): Stats;
  /** A file it creates is private to the user (0600). */
  openSync(path: string, flags: string): number;
  writeSync(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  ftruncateSync(fd: number, length: number): void;
  fsync(fd: number): Promise<void>;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
}

export interface CommandLogOptions {
  dir: string;
  sync: SyncPolicy;
  syncIntervalMs: number;
  segmentSize: number;
  cleanIntervalMs: number;
  /** Injectable file layer for fault tests; node:fs by default. */
  fs?: LogFileSystem;
  logger: Logger;
  /** Wall clock in ms; Date.now by default. */
  now?: () => number;
  /**
   * Replay reads and checks the segments in a worker thread when they hold at least
   * `fromBytes` (96 MiB by default; only with the real file layer), in runs of about
   * `runBytes` (1 MiB). Tests set both low.
   */
  replayWorker?: { fromBytes?: number; runBytes?: number };
  /** Counters for the metrics; the log updates them in place. */
  stats?: LogStats;
}

export interface CommandLog extends Journal {
  /** Sequence number of the last record appended (0 = none yet). */
  readonly lastSeq: number;
  /**
   * Calls `cb` once record `seq` is written (and fsynced under 'always'); at once when
   * it already is.
   */
  whenDurable(seq: number, cb: () => void): void;
  readonly readOnly: boolean;
  /** Segment files: the closed ones and the active one. */
  readonly segmentCount: number;
  onReadOnlyChange: ((readOnly: boolean) => void) | null;
  /** Runs one cleaning pass now (after the one in progress, if any). */
  cleanNow(): Promise<void>;
  /**
   * No cleaning pass rewrites or deletes a segment until resumeCleaning: resolves once
   * the pass in progress, if any, ended (the pre-read of a hot restart, docs/command-log.md 10.5).
   */
  pauseCleaning(): Promise<void>;
  resumeCleaning(): void;
  /**
   * Idempotent (same promise): final flush and fsync, timers stopped, locks released.
   * In read-only mode one last attempt, then logs how many records could not be written.
   */
  close(): Promise<void>;
}
