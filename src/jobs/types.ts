import type { Job } from './job.js';
import type { RetryDelay } from './retry-delay.js';

/** Wall-clock source; tests inject a fake one. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * What the engine reports of every state change, in the order it applied them. The
 * command log implements it; the engine knows nothing of files. One method per record
 * type of docs/command-log.md 7.
 */
export interface Journal {
  add(job: Job): void;
  schedule(job: Job): void;
  /** `at` is the wall-clock ms the lease handed the job out (the record's TIME, docs/command-log.md 5). */
  startAttempt(id: string, at: number): void;
  complete(id: string, result: string): void;
  fail(id: string, result: string): void;
  delete(id: string): void;
  expire(id: string): void;
  timeoutAttempt(id: string): void;
  /** Extensions (docs/protocol-extensions.md): the lease now ends at `at` + `ttr`. */
  touch(id: string, ttr: number, at: number): void;
  /** A queue paused (true) or resumed (false). */
  pause(name: string, paused: boolean): void;
  /** The job's own retry delay, right after its add/schedule. */
  retryDelay(id: string, delay: RetryDelay): void;
  /** The retried job waits until `at` + `delayMs` (`at`: the moment of the retry). */
  retryAt(id: string, delayMs: number, at: number): void;
  /** A failed job started over (retry, retry-failed). */
  restartFailed(id: string): void;
}

/** Outcomes the engine can refuse a command with; the server maps them to wire errors. */
/** How a `run` ends. */
export type RunOutcome = Finished | 'timeout' | 'duplicate-job' | 'memory-full' | 'too-many-queues';

export type EngineError = 'not-found' | 'duplicate-job' | 'duplicate-result' | 'invalid-time' | 'not-leased' | 'not-failed' | 'memory-full' | 'too-many-queues';

/**
 * A background job as decoded from `add` or `schedule` (time fields 0 for add). A new
 * job's payload comes as bytes, copied into the engine's store; results, and payloads
 * read back (Job.payload, inspect), are latin1 strings, one char per byte (0–255).
 */
export interface NewJob {
  id: string;
  name: string;
  ttr: number;
  ttl: number;
  priority: number;
  maxAttempts: number;
  maxFails: number;
  /** The payload's bytes, read during the call only: the engine keeps a copy. */
  payload: Uint8Array;
  /** The job's own retry delay; null (or absent) uses the engine's default. */
  retry?: RetryDelay | null;
}

export interface NewScheduledJob extends NewJob {
  timeSec: number;
  timeNsec: number;
}

export interface NewRunJob {
  id: string;
  name: string;
  ttr: number;
  /** wait-timeout in ms */
  timeout: number;
  priority: number;
  /** The payload's bytes, read during the call only: the engine keeps a copy. */
  payload: Uint8Array;
}

/** A finished job's outcome as delivered to `result` and `run` waiters. */
export interface Finished {
  id: string;
  success: boolean;
  result: string;
}

/** A job as replayed from an add/schedule record: everything, including its times. */
export interface RestoredJob extends NewJob {
  createdSec: number;
  createdNsec: number;
  timeSec: number;
  timeNsec: number;
  /**
   * Replay knows that no job has this ID: the log holds no add for it since its last
   * delete or expire record. The engine may then put off placing the job by its ID.
   */
  idIsNew?: boolean;
  /** The ID's bytes as words (id-words.ts), when the record gave them: the job is then made without reading `id`. */
  id0?: number;
  id1?: number;
  id2?: number;
  id3?: number;
}

export type Cancel = () => void;

export interface QueueStats {
  name: string;
  readyLen: number;
  scheduledLen: number;
  paused: boolean;
}

export type RestoreError = 'already-leased' | 'already-processed' | 'max-attempts' | 'duplicate-result';

/**
 * What the protocol's commands do: the connection's dispatch. Every method is
 * synchronous; blocking commands take a callback that is called exactly once (possibly
 * before the method returns) unless cancelled.
 */
export interface CommandTarget {
  add(job: NewJob): EngineError | null;
  schedule(job: NewScheduledJob): EngineError | null;
  /** `done` gets the result, 'timeout', or synchronously 'duplicate-job', 'memory-full' (the memory budget is spent) or 'too-many-queues'. */
  run(job: NewRunJob, done: (outcome: RunOutcome) => void): void;
  /** Returns a cancel function while waiting, null once `done` has been called. */
  result(id: string, timeout: number, done: (outcome: Finished | 'timeout' | 'not-found') => void): Cancel | null;
  /** `done(null)` on timeout; a Job given to `done` (or by an inspect) is a view to read there and then (job.ts). Names must be valid; a lease that waits creates missing queues (never refused by maxQueues: they live only while it waits), freed again when they never held a job (docs/protocol.md Q17). */
  lease(names: readonly string[], timeout: number, done: (job: Job | null) => void): Cancel | null;
  /**
   * Payload bytes of the job a lease on `names` would take now, 0 if it would wait; for
   * reserving room for the reply first. A job at its attempt limit is passed over by the
   * lease itself, so the job it takes can then differ.
   */
  readyPayloadLength(names: readonly string[]): number;
  complete(id: string, result: string): EngineError | null;
  fail(id: string, result: string): EngineError | null;
  delete(id: string): EngineError | null;
  /** Restarts the running lease's TTR clock: it ends `ttr` (the job's TTR when null) from now. */
  touch(id: string, ttr: number | null): EngineError | null;
  /** Pauses or resumes a queue, creating it if needed (or refused past maxQueues); resuming hands its ready jobs to waiting leases. */
  pause(name: string, paused: boolean): 'too-many-queues' | null;
  /** A FAILED job starts over: NEW, counters 0, result dropped, ready again. */
  retryFailed(id: string): EngineError | null;
  /** Every failed job of the queue starts over; how many, or null when there is no such queue. */
  retryAllFailed(name: string): number | null;

  inspectJob(id: string): Job | null;
  /** Ready list window in queue order; null when the queue does not exist. */
  inspectJobs(name: string, offset: number, limit: number): Job[] | null;
  inspectScheduledJobs(name: string, offset: number, limit: number): Job[] | null;
  /** The queue's leased, completed or failed jobs, window in queue order; null when the queue does not exist. */
  inspectStateJobs(name: string, state: 'leased' | 'completed' | 'failed', offset: number, limit: number): Job[] | null;
  inspectQueue(name: string): QueueStats | null;
  /** Queues sorted by name in byte order, then the window. */
  inspectQueues(offset: number, limit: number): QueueStats[];
  readonly evictedJobs: number;
  /** Jobs currently held, in any state. */
  readonly jobCount: number;
}

/**
 * Deadlines only fire from `tick`, which the server drives with one timer armed at
 * `nextDeadline()`.
 */
export interface DeadlineDriven {
  /** Fires deadlines due at `now`, earliest first, up to a budget (nextDeadline() stays <= now while more are due); job deadlines are skipped while held. */
  tick(now: number): void;
  /** Earliest pending deadline in ms, Infinity when none. */
  nextDeadline(): number;
}

/** Replay (docs/command-log.md 10): applies a record without journaling or firing deadlines. */
export interface ReplayTarget {
  restore(job: RestoredJob, now: number): 'expired' | 'replaced' | null;
  restoreStartAttempt(id: string, at: number): RestoreError | 'unknown' | null;
  restoreComplete(id: string, result: string): RestoreError | 'unknown' | null;
  restoreFail(id: string, result: string): RestoreError | 'unknown' | null;
  restoreDelete(id: string): 'unknown' | null;
  restoreExpire(id: string): 'unknown' | null;
  restoreTimeoutAttempt(id: string): 'unknown' | null;
  /** A touch record: the lease, if the job is leased, ends at `at` + `ttr`. */
  restoreTouch(id: string, ttr: number, at: number): 'unknown' | null;
  restorePause(name: string, paused: boolean): void;
  restoreRetryDelay(id: string, delay: RetryDelay): 'unknown' | null;
  restoreRetry(id: string, at: number): 'unknown' | null;
  /** A retry-at record: the job, if it was just put back in its ready list, waits until `at` + `delayMs`. */
  restoreRetryAt(id: string, delayMs: number, at: number): 'unknown' | null;
  /** Replay is over: what restoring put off is done now (see RestoredJob.idIsNew). */
  restoreDone(): void;
}

/**
 * The whole engine, as the server that owns it sees it. Each other consumer takes the
 * narrow part it uses (CommandTarget, DeadlineDriven, ReplayTarget), so a test fake
 * implements that part and no more.
 */
export interface EngineApi extends CommandTarget, DeadlineDriven, ReplayTarget {
  /** While held (read-only mode, docs/command-log.md 14) TTR, TTL and schedule deadlines wait; wait-timeouts still fire. */
  holdJobDeadlines(hold: boolean): void;
  setJournal(journal: Journal | null): void;
}
