import { Job, JobState } from './job.js';
import type {
  RunOutcome,
  Cancel,
  Clock,
  EngineApi,
  EngineError,
  Finished,
  Journal,
  NewJob,
  NewRunJob,
  NewScheduledJob,
  QueueStats,
  RestoreError,
  RestoredJob,
} from './types.js';
import { EngineCounters } from './counters.js';
import { CreatedStamp } from './created-stamp.js';
import { DeadlineHeap } from './deadline-heap.js';
import { ExpiryHeap } from './job-heaps.js';
import type { StateList } from './state-list.js';
import { JobTable } from './job-table.js';
import { compareQueueKeys } from './order.js';
import { Queue } from './queue.js';
import { QueueOrder } from './queue-order.js';
import { JobWaiter, LeaseWaiter, RunPhase, WaitHeap, WaitNode, WaiterList } from './waiters.js';
import type { JobDone, LeaseDone, Waiter } from './waiters.js';
import { atAttemptLimit, floorMs, readyAt } from './wall-time.js';
import { NO_RETRY_DELAY, retryDelayMs, type RetryDelay } from './retry-delay.js';
import { jobBytes, newJobBytes } from './job-memory.js';
import { JobStore } from './job-store.js';
import { IdKey } from './id-words.js';

/** What an engine is configured with beyond its clock. */
export interface EngineOptions {
  /** Retry delay of jobs without one of their own (docs/protocol-extensions.md); none by default. */
  retryDelay?: RetryDelay;
  /** [0, 1) for retry jitter; Math.random by default, fixed in tests. */
  random?: () => number;
  /** Bytes jobs may hold (jobBytes) before add, schedule and run are refused; 0: no budget. */
  memoryBudget?: number;
  /** Queues past which add, schedule, run and pause on a new name are refused (unless an empty queue makes room); none when absent. */
  maxQueues?: number;
}

/**
 * Deadlines one `tick` fires at most: many due at one instant (a million jobs scheduled
 * for the same second) are fired over several turns of the event loop, so the clients are
 * served between them (the Ticker calls again at once while one is due).
 */
const TICK_BUDGET = 4096;

/** What a `fail` did to a job that was not yet finished (docs/protocol.md 7.5). */
const FailOutcome = { Final: 0, RetriedInPlace: 1, RetriedToRequeue: 2 } as const;

function isFinal(job: Job): boolean {
  return job.state === JobState.Completed || job.state === JobState.Failed;
}

/** The states whose jobs a queue lists in a list of their own (Queue.leased, .completed, .failed). */
function hasStateList(state: JobState): boolean {
  return state === JobState.Leased || state === JobState.Completed || state === JobState.Failed;
}

/** The queue's list of jobs in `state` (one of hasStateList's). */
function stateList(queue: Queue, state: JobState): StateList {
  return state === JobState.Leased ? queue.leased : state === JobState.Completed ? queue.completed : queue.failed;
}

/** Which state list `inspect <state>-jobs` reads (docs/protocol-extensions.md). */
export type ListedState = 'leased' | 'completed' | 'failed';

function finishedOf(job: Job): Finished {
  return { id: job.id, success: job.state === JobState.Completed, result: job.result ?? '' };
}

/**
 * The job engine: every job, queue and waiter, and the state machine of docs/protocol.md 7.
 * Synchronous and free of I/O: time comes from the Clock (commands) or from `tick`
 * (deadlines); every state change is reported to the Journal in the order it is applied.
 *
 * Deadlines live in three indexed heaps: job state deadlines (TTR end or scheduled
 * time), TTL ends, and wait-timeouts. `tick` drains them together, earliest first; at
 * equal instants state deadlines go before TTL ends before wait-timeouts, so a TTR that
 * ends together with a `run`'s wait is seen by that run.
 */
export class Engine implements EngineApi {
  private readonly jobs = new JobTable();
  /** Every job's fields and payload (every queue's jobs share it). */
  private readonly store = new JobStore();
  private readonly queues = new Map<string, Queue>();
  private readonly queueOrder = new QueueOrder();
  /** queueOrder as one array, for the metrics; built when asked after a change. */
  private queueArray: Queue[] | null = null;
  private readonly deadlines = new DeadlineHeap();
  private readonly expiries = new ExpiryHeap();
  private readonly waits = new WaitHeap();
  private readonly stamp = new CreatedStamp();
  /** The words of the ID of the add, schedule or run being applied: read once for the table's lookup and the new job. */
  private readonly key = new IdKey();
  private journal: Journal | null;
  private waitSeq = 0;
  private evicted = 0;
  private held = false;
  /** Jobs of runs that ended while job deadlines were held: removed (and journaled) on release. */
  private heldRunEnds: Job[] = [];
  /** Read by the metrics; the engine only increments them. */
  readonly counters = new EngineCounters();

  private readonly defaultRetryDelay: RetryDelay;
  private readonly random: () => number;
  private readonly memoryBudget: number;
  /** Sum of jobBytes over every job in the table, kept exact on each change of a job's payload or result. */
  private heldBytes = 0;
  private readonly maxQueues: number;
  /**
   * Used queues that were empty when last looked at, oldest first: the ones a new name may
   * take the place of at maxQueues. A queue that has been filled again stays until that
   * moment checks it, so keeping the set costs a Set.add when a queue empties, not a step per job.
   */
  private readonly emptied = new Set<Queue>();

  constructor(
    private readonly clock: Clock,
    journal: Journal | null = null,
    options: EngineOptions = {},
  ) {
    this.journal = journal;
    this.defaultRetryDelay = options.retryDelay ?? NO_RETRY_DELAY;
    this.random = options.random ?? Math.random;
    this.memoryBudget = options.memoryBudget ?? 0;
    this.maxQueues = options.maxQueues ?? Infinity;
  }

  /** Bytes held by jobs as the memory budget counts them (job-memory.ts). */
  get jobMemoryBytes(): number {
    return this.heldBytes;
  }

  /** 0 when there is none. */
  get jobMemoryBudget(): number {
    return this.memoryBudget;
  }

  /** Replay never asks: whatever the log holds was accepted and is restored whole. */
  private overBudget(payload: string): boolean {
    if (this.memoryBudget === 0 || this.heldBytes + newJobBytes(payload) <= this.memoryBudget) return false;
    this.counters.memoryRefused++;
    return true;
  }

  get evictedJobs(): number {
    return this.evicted;
  }

  get jobCount(): number {
    return this.jobs.size;
  }

  /** Leases, results and runs waiting. */
  get waiterCount(): number {
    return this.waits.size;
  }

  /** Every queue, sorted by name; the caller must not change it. */
  get queueList(): readonly Queue[] {
    this.queueArray ??= this.queueOrder.toArray();
    return this.queueArray;
  }

  setJournal(journal: Journal | null): void {
    this.journal = journal;
  }

  // ---- commands ------------------------------------------------------------------

  add(spec: NewJob): EngineError | null {
    const now = this.clock.now();
    if (now + spec.ttl <= now) return 'invalid-time';
    if (this.jobs.hasKey(this.key.read(spec.id))) return 'duplicate-job';
    if (this.overBudget(spec.payload)) return 'memory-full';
    const queue = this.queueWithRoom(spec.name);
    if (queue === null) return 'too-many-queues';
    const job = this.createJob(spec, queue, 0, 0, now);
    this.putJob(job);
    this.expiries.push(job);
    this.journal?.add(job);
    if (job.retryDelay !== null) this.journal?.retryDelay(job.id, job.retryDelay);
    this.offer(queue, job, now);
    return null;
  }

  schedule(spec: NewScheduledJob): EngineError | null {
    const now = this.clock.now();
    if (floorMs(spec.timeSec, spec.timeNsec) + spec.ttl <= now) return 'invalid-time';
    if (this.jobs.hasKey(this.key.read(spec.id))) return 'duplicate-job';
    if (this.overBudget(spec.payload)) return 'memory-full';
    const queue = this.queueWithRoom(spec.name);
    if (queue === null) return 'too-many-queues';
    const job = this.createJob(spec, queue, spec.timeSec, spec.timeNsec, now);
    this.putJob(job);
    this.expiries.push(job);
    this.journal?.schedule(job);
    if (job.retryDelay !== null) this.journal?.retryDelay(job.id, job.retryDelay);
    const at = readyAt(job);
    if (at <= now) {
      this.offer(queue, job, now);
    } else {
      queue.scheduled.push(job);
      this.deadlines.push(job, at);
    }
    return null;
  }

  run(spec: NewRunJob, done: (outcome: RunOutcome) => void): void {
    const now = this.clock.now();
    if (this.jobs.hasKey(this.key.read(spec.id))) {
      done('duplicate-job');
      return;
    }
    if (this.overBudget(spec.payload)) {
      done('memory-full');
      return;
    }
    const queue = this.queueWithRoom(spec.name);
    if (queue === null) {
      done('too-many-queues');
      return;
    }
    queue.used = true;
    if (spec.timeout === 0) {
      // Nothing could lease it in zero time; the record matches a run that ended at once.
      this.journal?.expire(spec.id);
      if (queue.empty) this.emptied.add(queue);
      done('timeout');
      return;
    }
    this.counters.added++;
    queue.addedTotal++;
    this.stamp.next(now);
    const job = Job.fromKey(this.key, queue, spec.ttr, 0, spec.priority, 0, 0, spec.payload, this.stamp.sec, this.stamp.nsec, 0, 0, true);
    this.putJob(job);
    this.addJobWaiter(job, true, done, now + spec.timeout);
    this.offer(queue, job, now);
  }

  result(id: string, timeout: number, done: (outcome: Finished | 'timeout' | 'not-found') => void): Cancel | null {
    const job = this.jobs.get(id);
    if (job === undefined) {
      done('not-found');
      return null;
    }
    if (isFinal(job)) {
      done(finishedOf(job));
      return null;
    }
    if (timeout === 0) {
      done('timeout');
      return null;
    }
    const w = this.addJobWaiter(job, false, done, this.clock.now() + timeout);
    return () => this.cancelJobWaiter(w);
  }

  lease(names: readonly string[], timeout: number, done: (job: Job | null) => void): Cancel | null {
    const now = this.clock.now();
    const job = this.takeReady(names, now);
    if (job !== null || timeout === 0) {
      this.freeVacant(names);
      done(job);
      return null;
    }
    const w = this.addLeaseWaiter(names, done, now + timeout);
    return () => this.cancelLeaseWaiter(w);
  }

  readyPayloadLength(names: readonly string[]): number {
    let best: Job | undefined;
    for (let i = 0; i < names.length; i++) {
      const queue = this.queues.get(names[i]!);
      const top = queue === undefined || queue.paused ? undefined : queue.ready.peek();
      if (top !== undefined && (best === undefined || compareQueueKeys(top, best) < 0)) best = top;
    }
    return best === undefined ? 0 : best.payloadLength;
  }

  complete(id: string, result: string): EngineError | null {
    const job = this.jobs.get(id);
    if (job === undefined) return 'not-found';
    if (isFinal(job)) return 'duplicate-result';
    this.applyComplete(job, result);
    this.counters.completed++;
    this.queueOf(job).completedTotal++;
    this.journal?.complete(id, result);
    this.settle(job);
    return null;
  }

  fail(id: string, result: string): EngineError | null {
    const job = this.jobs.get(id);
    if (job === undefined) return 'not-found';
    if (isFinal(job)) return 'duplicate-result';
    const outcome = this.applyFail(job, result);
    this.countFail(job, outcome);
    this.journal?.fail(id, result);
    if (outcome === FailOutcome.Final) this.settle(job);
    else if (outcome === FailOutcome.RetriedToRequeue) this.retry(job, this.clock.now());
    return null;
  }

  delete(id: string): EngineError | null {
    const job = this.jobs.get(id);
    if (job === undefined) return 'not-found';
    // Waiters stay with the job object and time out at their own deadlines (docs/protocol.md Q2).
    this.removeJob(job);
    this.journal?.delete(id);
    return null;
  }

  touch(id: string, ttr: number | null): EngineError | null {
    const job = this.jobs.get(id);
    if (job === undefined) return 'not-found';
    if (job.state !== JobState.Leased) return 'not-leased';
    const now = this.clock.now();
    const span = ttr ?? job.ttr;
    this.extendLease(job, now + span);
    this.journal?.touch(id, span, now);
    return null;
  }

  pause(name: string, paused: boolean): 'too-many-queues' | null {
    const queue = this.queueWithRoom(name);
    if (queue === null) return 'too-many-queues';
    queue.used = true;
    if (queue.paused !== paused) {
      queue.paused = paused;
      this.journal?.pause(name, paused);
      if (!paused) this.serveWaiters(queue, this.clock.now());
    }
    // Also a resume that created the queue: empty from the start, it may make room later.
    if (queue.empty) this.emptied.add(queue);
    return null;
  }

  retryFailed(id: string): EngineError | null {
    const job = this.jobs.get(id);
    if (job === undefined) return 'not-found';
    if (job.state !== JobState.Failed || job.foreground) return 'not-failed';
    this.journal?.restartFailed(id);
    this.restart(job, this.clock.now());
    return null;
  }

  retryAllFailed(name: string): number | null {
    const queue = this.queues.get(name);
    if (queue === undefined) return null;
    const now = this.clock.now();
    const failed = queue.failed.ordered(0, queue.failed.size);
    for (const job of failed) {
      this.journal?.restartFailed(job.id);
      this.restart(job, now);
    }
    return failed.length;
  }

  // ---- inspect ---------------------------------------------------------------------

  inspectJob(id: string): Job | null {
    return this.jobs.get(id) ?? null;
  }

  inspectJobs(name: string, offset: number, limit: number): Job[] | null {
    const queue = this.queues.get(name);
    return queue === undefined ? null : queue.ready.ordered(offset, limit);
  }

  inspectScheduledJobs(name: string, offset: number, limit: number): Job[] | null {
    const queue = this.queues.get(name);
    return queue === undefined ? null : queue.scheduled.ordered(offset, limit);
  }

  inspectStateJobs(name: string, state: ListedState, offset: number, limit: number): Job[] | null {
    const queue = this.queues.get(name);
    return queue === undefined ? null : queue[state].ordered(offset, limit);
  }

  inspectQueue(name: string): QueueStats | null {
    const queue = this.queues.get(name);
    return queue === undefined ? null : statsOf(queue);
  }

  inspectQueues(offset: number, limit: number): QueueStats[] {
    return this.queueOrder.ordered(offset, limit).map(statsOf);
  }

  // ---- deadlines -------------------------------------------------------------------

  /** The job's pending state deadline in ms: its TTR end while leased, its time while scheduled; else Infinity. */
  deadlineOf(job: Job): number {
    return job.deadlineIndex < 0 ? Infinity : this.deadlines.deadlineAt(job.deadlineIndex);
  }

  nextDeadline(): number {
    const w = this.waits.nextAt();
    if (this.held) return w;
    return Math.min(w, this.deadlines.nextAt(), this.expiries.nextAt());
  }

  tick(now: number): void {
    for (let budget = TICK_BUDGET; budget > 0; budget--) {
      const d = this.held ? Infinity : this.deadlines.nextAt();
      const e = this.held ? Infinity : this.expiries.nextAt();
      const w = this.waits.nextAt();
      if (d <= e && d <= w) {
        if (d > now) return;
        this.fireStateDeadline(this.deadlines.pop() as Job, now);
      } else if (e <= w) {
        if (e > now) return;
        this.fireExpiry(this.expiries.pop() as Job);
      } else {
        if (w > now) return;
        this.fireWait(this.waits.pop() as Waiter);
      }
    }
  }

  holdJobDeadlines(hold: boolean): void {
    this.held = hold;
    if (hold || this.heldRunEnds.length === 0) return;
    const ends = this.heldRunEnds;
    this.heldRunEnds = [];
    for (const job of ends) this.removeRunJob(job);
  }

  // ---- replay (docs/command-log.md 10.2, 10.4): no journal, no deadline fires ----------------

  restore(spec: RestoredJob, now: number): 'expired' | 'replaced' | null {
    const scheduled = spec.timeSec !== 0 || spec.timeNsec !== 0;
    const base = scheduled ? floorMs(spec.timeSec, spec.timeNsec) : floorMs(spec.createdSec, spec.createdNsec);
    if (base + spec.ttl <= now) return 'expired';
    this.stamp.observe(spec.createdSec, spec.createdNsec);
    const queue = this.queueFor(spec.name);
    queue.used = true;
    const job = Job.restore(spec, queue);
    const old = this.jobs.set(job);
    this.heldBytes += jobBytes(job);
    queue.jobCount++;
    if (old !== undefined) {
      this.detachJob(old);
      this.leaveCount(old.queue);
      this.release(old);
    }
    this.expiries.push(job);
    const at = readyAt(job);
    if (scheduled && at > now) {
      queue.scheduled.push(job);
      this.deadlines.push(job, at);
    } else {
      queue.ready.push(job);
    }
    return old === undefined ? null : 'replaced';
  }

  restoreStartAttempt(id: string, at: number): RestoreError | 'unknown' | null {
    const job = this.jobs.get(id);
    if (job === undefined) return 'unknown';
    if (job.state === JobState.Leased) return 'already-leased';
    if (isFinal(job)) return 'already-processed';
    if (atAttemptLimit(job)) return 'max-attempts';
    this.leaveQueue(job);
    this.lease1(job, at);
    return null;
  }

  restoreComplete(id: string, result: string): RestoreError | 'unknown' | null {
    const job = this.jobs.get(id);
    if (job === undefined) return 'unknown';
    if (isFinal(job)) return 'duplicate-result';
    this.applyComplete(job, result);
    return null;
  }

  restoreFail(id: string, result: string): RestoreError | 'unknown' | null {
    const job = this.jobs.get(id);
    if (job === undefined) return 'unknown';
    if (isFinal(job)) return 'duplicate-result';
    if (this.applyFail(job, result) === FailOutcome.RetriedToRequeue) this.queueOf(job).ready.push(job);
    return null;
  }

  restoreDelete(id: string): 'unknown' | null {
    const job = this.jobs.get(id);
    if (job === undefined) return 'unknown';
    this.removeJob(job);
    return null;
  }

  /** Not counted in evictedJobs: the counter starts at 0 after a restart (docs/protocol.md 8.1). */
  restoreExpire(id: string): 'unknown' | null {
    const job = this.jobs.get(id);
    if (job === undefined) return 'unknown';
    this.removeJob(job);
    return null;
  }

  /** A timeout-attempt for a job that is not leased (records of the original can be out of order) changes nothing. */
  restoreTimeoutAttempt(id: string): 'unknown' | null {
    const job = this.jobs.get(id);
    if (job === undefined) return 'unknown';
    if (job.state !== JobState.Leased) return null;
    this.deadlines.remove(job.deadlineIndex);
    if (this.applyTimeout(job)) this.queueOf(job).ready.push(job);
    return null;
  }

  restoreTouch(id: string, ttr: number, at: number): 'unknown' | null {
    const job = this.jobs.get(id);
    if (job === undefined) return 'unknown';
    if (job.state === JobState.Leased) this.extendLease(job, at + ttr);
    return null;
  }

  /** A retry record at `at`: the failed job starts over as it did then (no lease waits during replay). */
  restoreRetry(id: string, at: number): 'unknown' | null {
    const job = this.jobs.get(id);
    if (job === undefined) return 'unknown';
    if (job.state === JobState.Failed && !job.foreground) this.restart(job, at);
    return null;
  }

  restorePause(name: string, paused: boolean): void {
    const queue = this.queueFor(name);
    queue.used = true;
    queue.paused = paused;
    if (queue.empty) this.emptied.add(queue);
  }

  restoreRetryDelay(id: string, delay: RetryDelay): 'unknown' | null {
    const job = this.jobs.get(id);
    if (job === undefined) return 'unknown';
    job.retryDelay = delay;
    return null;
  }

  restoreRetryAt(id: string, delayMs: number, at: number): 'unknown' | null {
    const job = this.jobs.get(id);
    if (job === undefined) return 'unknown';
    // Only a job that its fail or timeout-attempt record has just put back in its ready list waits.
    if (job.state !== JobState.Pending || job.listIndex < 0 || job.deadlineIndex >= 0) return null;
    this.queueOf(job).ready.remove(job);
    this.waitForRetry(job, at + delayMs);
    return null;
  }

  // ---- state changes shared by commands, timers and replay ------------------------

  /** Jobs take their name from their queue: one string per queue, not one per job. The ID's words are in `key`, read by the caller. */
  private createJob(spec: NewJob, queue: Queue, timeSec: number, timeNsec: number, now: number): Job {
    this.counters.added++;
    queue.addedTotal++;
    queue.used = true;
    this.stamp.next(now);
    const job = Job.fromKey(
      this.key,
      queue,
      spec.ttr,
      spec.ttl,
      spec.priority,
      spec.maxAttempts,
      spec.maxFails,
      spec.payload,
      this.stamp.sec,
      this.stamp.nsec,
      timeSec,
      timeNsec,
      false,
    );
    if (spec.retry !== undefined && spec.retry !== null) job.retryDelay = spec.retry;
    return job;
  }

  private queueFor(name: string): Queue {
    let queue = this.queues.get(name);
    if (queue === undefined) {
      queue = new Queue(name, this.store);
      this.queues.set(name, queue);
      this.queueOrder.push(queue);
      this.queueArray = null;
    }
    return queue;
  }

  /**
   * The queue of a command that puts something in it (add, schedule, run, pause). A new
   * name past maxQueues takes the place of an empty queue, or gets null: refused. Replay
   * never asks, so a log always comes back whole.
   */
  private queueWithRoom(name: string): Queue | null {
    const queue = this.queues.get(name);
    if (queue !== undefined) return queue;
    if (this.queues.size >= this.maxQueues && !this.reclaimEmpty()) {
      this.counters.queuesRefused++;
      return null;
    }
    return this.queueFor(name);
  }

  /** Frees an empty queue, those that emptied earliest first, if any still is empty. */
  private reclaimEmpty(): boolean {
    for (const queue of this.emptied) {
      this.emptied.delete(queue);
      if (queue.empty && this.queues.get(queue.name) === queue) {
        this.dropQueue(queue);
        this.counters.queuesReclaimed++;
        return true;
      }
    }
    return false;
  }

  /** A queue that only leases named lives only while a lease waits on it (docs/protocol.md Q17). */
  private freeIfVacant(queue: Queue): void {
    if (queue.waitHead !== null || this.queues.get(queue.name) !== queue) return;
    if (!queue.used) this.dropQueue(queue);
    else if (queue.empty) this.emptied.add(queue);
  }

  private dropQueue(queue: Queue): void {
    this.queues.delete(queue.name);
    this.queueOrder.remove(queue);
    this.queueArray = null;
    this.emptied.delete(queue);
  }

  private freeVacant(names: readonly string[]): void {
    for (let i = 0; i < names.length; i++) {
      const queue = this.queues.get(names[i]!);
      if (queue !== undefined) this.freeIfVacant(queue);
    }
  }

  /** The queue of a job in the table: a queue is freed only once it holds no job, so the job's queue is the one of its name. */
  private queueOf(job: Job): Queue {
    return job.queue;
  }

  /** A job has become leasable: the oldest waiting lease on its queue gets it, else (or while paused) it joins the ready list. */
  private offer(queue: Queue, job: Job, now: number): void {
    const node = queue.waitHead;
    if (node === null || queue.paused) {
      queue.ready.push(job);
      return;
    }
    // A job failed at its attempt limit is consumed; the waiter keeps waiting.
    if (!this.startAttempt(job, now)) return;
    const w = node.waiter;
    this.detachLeaseWaiter(w);
    w.done(job);
  }

  /** Steps 2 and 4 of docs/protocol.md 7.3 over the named queues; a missing queue has no job to give. */
  private takeReady(names: readonly string[], now: number): Job | null {
    for (;;) {
      let best: Job | undefined;
      let bestQueue: Queue | undefined;
      for (let i = 0; i < names.length; i++) {
        const queue = this.queues.get(names[i]!);
        const top = queue === undefined || queue.paused ? undefined : queue.ready.peek();
        if (top !== undefined && (best === undefined || compareQueueKeys(top, best) < 0)) {
          best = top;
          bestQueue = queue;
        }
      }
      if (best === undefined) return null;
      (bestQueue as Queue).ready.pop();
      if (this.startAttempt(best, now)) return best;
    }
  }

  /**
   * A background job is retried after its lease (a retried fail, a TTR timeout): ready at
   * once, or after its retry delay (docs/protocol-extensions.md). Run jobs never wait.
   */
  private retry(job: Job, now: number): void {
    const delay = job.foreground ? 0 : retryDelayMs(job.retryDelay ?? this.defaultRetryDelay, job.attempts, this.random);
    if (delay === 0) {
      this.offer(this.queueOf(job), job, now);
      return;
    }
    this.waitForRetry(job, now + delay);
    this.journal?.retryAt(job.id, delay, now);
  }

  /** The job waits in its scheduled list until `at`, when its deadline makes it ready. */
  private waitForRetry(job: Job, at: number): void {
    this.queueOf(job).scheduled.push(job);
    this.deadlines.push(job, at);
    job.retryAt = at;
  }

  /**
   * A failed job starts over (docs/protocol-extensions.md): NEW, its counters at 0, its
   * result gone, back in its ready list (or its scheduled list while its time is to come).
   */
  private restart(job: Job, now: number): void {
    this.leaveQueue(job);
    this.enterState(job, JobState.New);
    job.attempts = 0;
    if (job.fails !== 0) job.fails = 0;
    if (job.result !== null) this.setResult(job, null);
    const at = readyAt(job);
    if (job.scheduled && at > now) {
      this.queueOf(job).scheduled.push(job);
      this.deadlines.push(job, at);
    } else {
      this.offer(this.queueOf(job), job, now);
    }
  }

  /** A queue was resumed: its ready jobs go to the leases waiting on it, longest-waiting first. */
  private serveWaiters(queue: Queue, now: number): void {
    while (queue.waitHead !== null) {
      const job = queue.ready.pop();
      if (job === undefined) return;
      if (!this.startAttempt(job, now)) continue;
      const w = queue.waitHead.waiter;
      this.detachLeaseWaiter(w);
      w.done(job);
    }
  }

  /** The leased job's lease now ends at `end`; a run already waiting on that lease's end (docs/protocol.md 7.9) follows it. */
  private extendLease(job: Job, end: number): void {
    this.deadlines.remove(job.deadlineIndex);
    this.deadlines.push(job, end);
    const list = job.waiters as WaiterList | null;
    const run = list === null ? null : list.run;
    if (run !== null && run.phase === RunPhase.LeaseTtr && run.heapIndex >= 0) {
      this.waits.remove(run.heapIndex);
      run.deadline = end;
      this.waits.push(run);
    }
  }

  /** The job has left its list. Leases it, or fails it at its attempt limit (nothing journaled, waiters woken, docs/protocol.md Q12). */
  private startAttempt(job: Job, now: number): boolean {
    if (atAttemptLimit(job)) {
      this.enterState(job, JobState.Failed);
      this.counters.failed++;
      this.counters.exhaustedMaxAttempts++;
      this.settle(job);
      return false;
    }
    this.lease1(job, now);
    this.counters.leased++;
    this.journal?.startAttempt(job.id, now);
    return true;
  }

  private lease1(job: Job, at: number): void {
    job.attempts++;
    this.enterState(job, JobState.Leased);
    this.deadlines.push(job, at + job.ttr);
  }

  /**
   * Sets the job's state and keeps it in the list of that state: a job leased, completed
   * or failed is listed there (in the order it got there), through the list position its
   * ready or scheduled list no longer uses, so the index costs a job nothing. Ready and
   * scheduled lists are the callers' business.
   */
  private enterState(job: Job, state: JobState): void {
    const old = job.state;
    if (old === state) return;
    const leaves = hasStateList(old) && job.listIndex >= 0;
    const enters = hasStateList(state);
    const queue = leaves || enters ? this.queueOf(job) : null;
    if (leaves) stateList(queue as Queue, old).remove(job.listIndex);
    job.state = state;
    if (enters) stateList(queue as Queue, state).push(job);
  }

  private applyComplete(job: Job, result: string): void {
    this.leaveQueue(job);
    this.enterState(job, JobState.Completed);
    this.setResult(job, result);
  }

  /** docs/protocol.md 7.5: retried while fails < max-fails (never for run jobs), else final. */
  private applyFail(job: Job, result: string): number {
    job.fails++;
    this.setResult(job, result);
    if (job.foreground || job.fails >= job.maxFails) {
      this.leaveQueue(job);
      this.enterState(job, JobState.Failed);
      return FailOutcome.Final;
    }
    if (job.state !== JobState.Leased) {
      // Already in its ready list, or in its scheduled list until its time comes.
      this.enterState(job, JobState.Pending);
      return FailOutcome.RetriedInPlace;
    }
    this.deadlines.remove(job.deadlineIndex);
    this.enterState(job, JobState.Pending);
    return FailOutcome.RetriedToRequeue;
  }

  private countFail(job: Job, outcome: number): void {
    if (outcome !== FailOutcome.Final) {
      this.counters.retriesMaxFails++;
      return;
    }
    this.counters.failed++;
    if (!job.foreground) this.counters.exhaustedMaxFails++;
  }

  /** A lease's TTR ended (its deadline already taken out). True when the job is to be requeued. */
  private applyTimeout(job: Job): boolean {
    if (job.maxAttempts > 0 && job.attempts >= job.maxAttempts) {
      this.enterState(job, JobState.Failed);
      return false;
    }
    this.enterState(job, JobState.Pending);
    return true;
  }

  /** Takes the job out of its list (of its state, or ready or scheduled) and stops its TTR or schedule deadline. */
  private leaveQueue(job: Job): void {
    if (job.listIndex >= 0) {
      const queue = this.queueOf(job);
      const state = job.state;
      if (hasStateList(state)) stateList(queue, state).remove(job.listIndex);
      // Only a job in its scheduled list has a list position and a deadline at once.
      else (job.deadlineIndex >= 0 ? queue.scheduled : queue.ready).remove(job);
    }
    if (job.deadlineIndex >= 0) this.deadlines.remove(job.deadlineIndex);
  }

  private removeJob(job: Job): void {
    this.detachJob(job);
    this.dropJob(job);
  }

  private putJob(job: Job): void {
    this.jobs.set(job);
    this.heldBytes += jobBytes(job);
    this.queueOf(job).jobCount++;
  }

  private dropJob(job: Job): void {
    this.jobs.remove(job);
    this.leaveCount(this.queueOf(job));
    this.release(job);
  }

  /**
   * The job has left the table: its bytes leave the budget, and its slot and payload go
   * back to the store for the next job. A Job object can outlive this (a result waiter
   * keeps it until its timeout, a caller may keep one it was given): the store's slot
   * is no longer its own, so it is compared by identity from now on, never read.
   */
  private release(job: Job): void {
    this.heldBytes -= jobBytes(job);
    job.release();
    if (this.store.payloads.wantsCompaction) this.compactPayloads();
    if (this.store.wantsShrink) this.store.shrink(this.jobs.values());
  }

  /** Moves the payloads of sparse slab chunks together (PayloadSlab): every job in the table follows its payload. */
  private compactPayloads(): void {
    const payloads = this.store.payloads;
    payloads.beginCompaction();
    for (const job of this.jobs.values()) job.relocatePayload();
    payloads.endCompaction();
  }

  /** One job fewer in the queue; emptied, it may make room for a new name later. */
  private leaveCount(queue: Queue): void {
    if (--queue.jobCount === 0 && queue.empty) this.emptied.add(queue);
  }

  private setResult(job: Job, result: string | null): void {
    const before = job.result;
    this.heldBytes += (result === null ? 0 : result.length) - (before === null ? 0 : before.length);
    job.result = result;
  }

  /** Takes the job out of every list and heap, leaving the job table as it is. */
  private detachJob(job: Job): void {
    this.leaveQueue(job);
    if (job.expiryIndex >= 0) this.expiries.remove(job.expiryIndex);
  }

  /** The job just became final: every result waiter and its run get the outcome (docs/protocol.md Q11, Q12). */
  private settle(job: Job): void {
    const list = job.waiters as WaiterList | null;
    if (list === null) return;
    job.waiters = null;
    for (let w = list.head; w !== null; w = w.next) {
      if (w.heapIndex >= 0) this.waits.remove(w.heapIndex);
    }
    const outcome = finishedOf(job);
    if (list.run !== null) this.endRunJob(job);
    let w = list.head;
    while (w !== null) {
      const next = w.next;
      w.prev = null;
      w.next = null;
      w.done(outcome);
      w = next;
    }
  }

  /** A run ended: its job goes (docs/protocol.md 7.9 step 5), unless it was deleted meanwhile (docs/protocol.md Q2). */
  private endRunJob(job: Job): void {
    if (this.held) this.heldRunEnds.push(job);
    else this.removeRunJob(job);
  }

  private removeRunJob(job: Job): void {
    if (!this.jobs.holds(job)) return;
    this.journal?.expire(job.id);
    this.removeJob(job);
  }

  // ---- timers ------------------------------------------------------------------------

  private fireStateDeadline(job: Job, now: number): void {
    if (job.state !== JobState.Leased) {
      this.queueOf(job).scheduled.remove(job);
      job.retryAt = 0;
      this.offer(this.queueOf(job), job, now);
      return;
    }
    this.counters.ttrTimeouts++;
    const list = job.waiters as WaiterList | null;
    const run = list === null ? null : list.run;
    if (run !== null && run.phase === RunPhase.LeaseTtr) {
      this.enterState(job, JobState.Pending);
      this.journal?.timeoutAttempt(job.id);
      this.timeoutRun(run);
      return;
    }
    const requeue = this.applyTimeout(job);
    if (requeue) this.counters.retriesMaxAttempts++;
    else {
      this.counters.failed++;
      this.counters.exhaustedMaxAttempts++;
    }
    this.journal?.timeoutAttempt(job.id);
    if (requeue) this.retry(job, now);
    else this.settle(job);
  }

  private fireExpiry(job: Job): void {
    if (!isFinal(job)) this.evicted++;
    this.journal?.expire(job.id);
    this.leaveQueue(job);
    this.dropJob(job);
  }

  private fireWait(w: Waiter): void {
    if (w instanceof LeaseWaiter) {
      this.detachLeaseWaiter(w);
      w.done(null);
      return;
    }
    if (!w.isRun) {
      this.unlinkJobWaiter(w);
      w.done('timeout');
      return;
    }
    const job = w.job;
    if (w.phase === RunPhase.WaitTimeout && this.jobs.holds(job) && job.state === JobState.Leased) {
      // docs/protocol.md 7.9 step 4: a leased job gets until the end of that lease's TTR.
      w.phase = RunPhase.LeaseTtr;
      w.deadline = this.deadlineOf(job);
      this.waits.push(w);
      return;
    }
    this.timeoutRun(w);
  }

  private timeoutRun(w: JobWaiter): void {
    if (w.heapIndex >= 0) this.waits.remove(w.heapIndex);
    this.unlinkJobWaiter(w);
    this.endRunJob(w.job);
    w.done('timeout');
  }

  // ---- waiters ---------------------------------------------------------------------

  private addJobWaiter(job: Job, isRun: boolean, done: JobDone, deadline: number): JobWaiter {
    let list = job.waiters as WaiterList | null;
    if (list === null) {
      list = new WaiterList();
      job.waiters = list;
    }
    const w = new JobWaiter(job, isRun, done, deadline, ++this.waitSeq);
    list.append(w);
    this.waits.push(w);
    return w;
  }

  private unlinkJobWaiter(w: JobWaiter): void {
    const list = w.job.waiters as WaiterList | null;
    if (list === null) return;
    list.unlink(w);
    if (list.empty) w.job.waiters = null;
  }

  private cancelJobWaiter(w: JobWaiter): void {
    if (w.heapIndex < 0) return;
    this.waits.remove(w.heapIndex);
    this.unlinkJobWaiter(w);
  }

  private addLeaseWaiter(names: readonly string[], done: LeaseDone, deadline: number): LeaseWaiter {
    const w = new LeaseWaiter(done, deadline, ++this.waitSeq);
    // A name given twice waits once; a Set keeps that linear for a lease on many names.
    const seen = names.length > 1 ? new Set<Queue>() : null;
    for (let i = 0; i < names.length; i++) {
      const queue = this.queueFor(names[i]!);
      if (seen !== null) {
        if (seen.has(queue)) continue;
        seen.add(queue);
      }
      const node = new WaitNode(w, queue);
      w.nodes.push(node);
      queue.addWaiter(node);
    }
    this.waits.push(w);
    return w;
  }

  private detachLeaseWaiter(w: LeaseWaiter): void {
    for (const node of w.nodes) {
      node.queue.removeWaiter(node);
      this.freeIfVacant(node.queue);
    }
    w.nodes.length = 0;
    if (w.heapIndex >= 0) this.waits.remove(w.heapIndex);
  }

  private cancelLeaseWaiter(w: LeaseWaiter): void {
    if (w.heapIndex >= 0) this.detachLeaseWaiter(w);
  }
}

function statsOf(queue: Queue): QueueStats {
  return { name: queue.name, readyLen: queue.ready.size, scheduledLen: queue.scheduled.size, paused: queue.paused };
}
