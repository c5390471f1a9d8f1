import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { ReplayTarget, RestoredJob, RestoreError } from '../../src/jobs/types.js';
import type { RetryDelay } from '../../src/jobs/retry-delay.js';
import { Job } from '../../src/jobs/job.js';
import { nodeFileSystem } from '../../src/cmdlog/node-fs.js';
import { refused } from './waits.js';
import type { LogFileSystem } from '../../src/cmdlog/types.js';
import { Queue } from '../../src/jobs/queue.js';

/** A pino logger whose lines are kept for assertions. */
export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const madeDirs: string[] = [];
process.once('exit', () => {
  for (const dir of madeDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory, removed with everything in it when the test process exits. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmdlog-test-'));
  madeDirs.push(dir);
  return dir;
}

export function copyDir(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) {
    fs.copyFileSync(path.join(from, name), path.join(to, name));
    fs.chmodSync(path.join(to, name), 0o644);
  }
}

/**
 * Closes the log when the test ends, also after a failed assertion, whose test would
 * otherwise leave the log's timers keeping the test process from exiting. Closing a
 * closed log again does nothing.
 */
export function closedAfter<T extends { close(): Promise<void> }>(t: { teardown(fn: () => Promise<void>): void }, log: T): T {
  t.teardown(() => log.close());
  return log;
}

/** An open of a command log that the test expects to fail (see `refused`). */
export function openRefused(opening: Promise<{ close(): Promise<void> }>): Promise<never> {
  return refused(opening, (log) => log.close());
}

export type Call = [string, ...unknown[]];

/**
 * Records every restore* call and keeps just enough state (live IDs and their state)
 * to answer like the engine: unknown IDs, duplicate results, double leases.
 */
export class RecordingEngine implements ReplayTarget {
  readonly calls: Call[] = [];
  readonly jobs = new Map<string, { job: RestoredJob; state: 'new' | 'leased' | 'done' }>();
  /** Replays that ended (restoreDone). */
  restoresDone = 0;

  restore(job: RestoredJob, now: number): 'expired' | 'replaced' | null {
    this.calls.push(['restore', job.id, job.name]);
    const scheduled = job.timeSec !== 0 || job.timeNsec !== 0;
    const base = scheduled ? job.timeSec * 1000 + Math.floor(job.timeNsec / 1e6) : job.createdSec * 1000 + Math.floor(job.createdNsec / 1e6);
    if (base + job.ttl <= now) return 'expired';
    const had = this.jobs.has(job.id);
    if (had && job.idIsNew === true) throw new Error(`replay said no job has ID ${job.id}, and one has`);
    this.jobs.set(job.id, { job, state: 'new' });
    return had ? 'replaced' : null;
  }

  restoreStartAttempt(id: string, at: number): RestoreError | 'unknown' | null {
    this.calls.push(['start', id, at]);
    const j = this.jobs.get(id);
    if (j === undefined) return 'unknown';
    if (j.state === 'leased') return 'already-leased';
    if (j.state === 'done') return 'already-processed';
    j.state = 'leased';
    return null;
  }

  restoreComplete(id: string, result: string): RestoreError | 'unknown' | null {
    this.calls.push(['complete', id, result]);
    return this.finish(id);
  }

  restoreFail(id: string, result: string): RestoreError | 'unknown' | null {
    this.calls.push(['fail', id, result]);
    return this.finish(id);
  }

  private finish(id: string): RestoreError | 'unknown' | null {
    const j = this.jobs.get(id);
    if (j === undefined) return 'unknown';
    if (j.state === 'done') return 'duplicate-result';
    j.state = 'done';
    return null;
  }

  restoreDelete(id: string): 'unknown' | null {
    this.calls.push(['delete', id]);
    return this.jobs.delete(id) ? null : 'unknown';
  }

  restoreExpire(id: string): 'unknown' | null {
    this.calls.push(['expire', id]);
    return this.jobs.delete(id) ? null : 'unknown';
  }

  restoreTimeoutAttempt(id: string): 'unknown' | null {
    this.calls.push(['timeout', id]);
    const j = this.jobs.get(id);
    if (j === undefined) return 'unknown';
    if (j.state === 'leased') j.state = 'new';
    return null;
  }

  restoreTouch(id: string, ttr: number, at: number): 'unknown' | null {
    this.calls.push(['touch', id, ttr, at]);
    return this.jobs.has(id) ? null : 'unknown';
  }

  restorePause(name: string, paused: boolean): void {
    this.calls.push([paused ? 'pause' : 'resume', name]);
  }

  restoreRetryDelay(id: string, delay: RetryDelay): 'unknown' | null {
    this.calls.push(['retry-delay', id, delay]);
    return this.jobs.has(id) ? null : 'unknown';
  }

  restoreRetry(id: string, at: number): 'unknown' | null {
    this.calls.push(['retry', id, at]);
    const j = this.jobs.get(id);
    if (j === undefined) return 'unknown';
    if (j.state === 'done') j.state = 'new';
    return null;
  }

  restoreRetryAt(id: string, delayMs: number, at: number): 'unknown' | null {
    this.calls.push(['retry-at', id, delayMs, at]);
    return this.jobs.has(id) ? null : 'unknown';
  }

  restoreDone(): void {
    this.restoresDone++;
  }
}

/**
 * node:fs with counters and switchable faults: `failWrites` makes writeSync throw (after
 * writing `partialBytes` bytes, to leave a torn record), `failFsync` makes fsync reject,
 * `failReads` makes reading one file fail.
 */
export class FaultyFs implements LogFileSystem {
  writes = 0;
  fsyncs = 0;
  failWrites: string | null = null;
  partialBytes = 0;
  failFsync: string | null = null;
  /** Each fsync takes at least this long, as on a slow disk. */
  fsyncDelayMs = 0;
  /** The path of every fsync, in order. */
  readonly fsyncedPaths: string[] = [];
  private readonly real = nodeFileSystem;
  private readonly paths = new Map<number, string>();

  /** How many fsyncs went to files (or directories) named `name`. */
  fsyncsOf(name: string): number {
    return this.fsyncedPaths.filter((p) => path.basename(p) === name).length;
  }

  mkdir(p: string): Promise<void> {
    return this.real.mkdir(p);
  }
  accessWritable(p: string): Promise<void> {
    return this.real.accessWritable(p);
  }
  readdir(p: string): Promise<string[]> {
    return this.real.readdir(p);
  }
  /** Reads of this file fail with this code. */
  failReads: { path: string; code: string } | null = null;
  readFile(p: string): Promise<Buffer> {
    return this.failReads?.path === p ? Promise.reject(this.readError()) : this.real.readFile(p);
  }
  readFileSync(p: string): Buffer {
    if (this.failReads?.path === p) throw this.readError();
    return this.real.readFileSync(p);
  }
  readFileFromSync(p: string, position: number): Buffer {
    if (this.failReads?.path === p) throw this.readError();
    return this.real.readFileFromSync(p, position);
  }
  private readError(): Error {
    return Object.assign(new Error(`${this.failReads!.code}: injected, read`), { code: this.failReads!.code });
  }
  statSync(p: string): fs.Stats {
    return this.real.statSync(p);
  }
  openSync(p: string, flags: string): number {
    const fd = this.real.openSync(p, flags);
    this.paths.set(fd, p);
    return fd;
  }
  writeSync(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    this.writes++;
    if (this.failWrites !== null) {
      if (this.partialBytes > 0) this.real.writeSync(fd, buf, offset, Math.min(this.partialBytes, length), position);
      throw Object.assign(new Error(`${this.failWrites}: injected`), { code: this.failWrites });
    }
    return this.real.writeSync(fd, buf, offset, length, position);
  }
  write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.real.write(fd, buf, offset, length, position);
  }
  ftruncateSync(fd: number, length: number): void {
    this.real.ftruncateSync(fd, length);
  }
  async fsync(fd: number): Promise<void> {
    this.fsyncs++;
    this.fsyncedPaths.push(this.paths.get(fd) ?? '?');
    if (this.failFsync !== null) throw Object.assign(new Error(`${this.failFsync}: injected`), { code: this.failFsync });
    if (this.fsyncDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.fsyncDelayMs));
    return this.real.fsync(fd);
  }
  closeSync(fd: number): void {
    this.real.closeSync(fd);
  }
  renameSync(a: string, b: string): void {
    this.real.renameSync(a, b);
    for (const [fd, p] of this.paths) if (p === a) this.paths.set(fd, b);
  }
  unlinkSync(p: string): void {
    this.real.unlinkSync(p);
  }
}

let idCounter = 0;
/** A fresh v4 job ID. */
export function newId(): string {
  idCounter++;
  const hex = idCounter.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}

/** A background Job as the engine would hand it to the journal. */
export function makeJob(
  fields: Partial<{
    id: string;
    name: string;
    ttr: number;
    ttl: number;
    priority: number;
    maxAttempts: number;
    maxFails: number;
    payload: string;
    createdMs: number;
    timeMs: number;
  }> = {},
): Job {
  const createdMs = fields.createdMs ?? Date.now();
  const timeMs = fields.timeMs ?? 0;
  return Job.create(
    fields.id ?? newId(),
    new Queue(fields.name ?? 'q'),
    fields.ttr ?? 1000,
    fields.ttl ?? 60_000,
    fields.priority ?? 0,
    fields.maxAttempts ?? 0,
    fields.maxFails ?? 0,
    fields.payload ?? 'payload',
    Math.floor(createdMs / 1000),
    (createdMs % 1000) * 1e6,
    Math.floor(timeMs / 1000),
    (timeMs % 1000) * 1e6,
    false,
  );
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every regular segment file of a directory, ascending. */
export function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => /^\d{9}\.log$/.test(n))
    .sort();
}
