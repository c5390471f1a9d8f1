import { Job } from './job.js';
import { JobState, JobStore } from './job-store.js';
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
import { DeadlineHeap, ExpiryHeap } from './job-heaps.js';
import type { StateList } from './state-list.js';
import { JobTable } from './job-table.js';
import { compareQueueKeys } from './order.js';
import { Queue } from './queue.js';
import { QueueOrder } from './queue-order.js';
import { JobWaiter, LeaseWaiter, NO_NODES, RunPhase, WaitHeap, WaitNode, WaiterList } from './waiters.js';
import type { JobDone, LeaseDone, Waiter } from './waiters.js';
import { atAttemptLimit, floorMs, readyAt } from './wall-time.js';
import { NO_RETRY_DELAY, retryDelayMs, type RetryDelay } from './retry-delay.js';
import { jobBytes, newJobBytes } from './job-memory.js';
import { IdKey, idWord } from './id-words.js';

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

/** Jobs the store moves down at most at each release of a job while it wants to shrink (compactStore). */
const MOVES_PER_RELEASE = 64;

/** What a `fail` did to a job that was not yet finished (docs/protocol.md 7.5). */
const FailOutcome = { Final: 0, RetriedInPlace: 1, RetriedToRequeue: 2 } as const;

function isFinalState(state: JobState): boolean {
  return state === JobState.Completed || state === JobState.Failed;
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

function finishedOf(store: JobStore, slot: number): Finished {
  return { id: store.idText(slot), success: store.stateOf(slot) === JobState.Completed, result: store.resultOf(slot) ?? '' };
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
  /** Every job's fields and payload (every queue's jobs share it): jobs are slots of it. */
  private readonly store = new JobStore();
  private readonly jobs = new JobTable(this.store);
  private readonly queues = new Map<string, Queue>();
  private readonly queueOrder = new QueueOrder(this.store);
  /** queueOrder as one array, for the metrics; built when asked after a change. */
  private queueArray: Queue[] | null = null;
  private readonly deadlines = new DeadlineHeap(this.store);
  private readonly expiries = new ExpiryHeap(this.store);
  private readonly waits = new WaitHeap();
  private readonly stamp = new CreatedStamp();
  /** The words of the ID of the add, schedule or run being applied: read once for the table's lookup and the new job. */
  private readonly key = new IdKey();
  private journal: Journal | null;
  private waitSeq = 0;
  private evicted = 0;
  private held = false;
  /** Jobs of runs that ended while job deadlines were held: removed (and journaled) on release, if still there. */
  private readonly heldRunEnds: Job[] = [];
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
  private overBudget(payload: Uint8Array): boolean {
    if (this.memoryBudget === 0 || this.heldBytes + newJobBytes(payload.length) <= this.memoryBudget) return false;
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
    this.queueArray ??= this.queueOrder.toArray().map((id) => this.store.queueAt(id));
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
    const slot = this.createJob(spec, queue, 0, 0, now);
    this.putJob(slot);
    this.expiries.push(slot);
    this.journalJob(slot, false);
    this.offer(queue, slot, now);
    return null;
  }

  schedule(spec: NewScheduledJob): EngineError | null {
    const now = this.clock.now();
    if (floorMs(spec.timeSec, spec.timeNsec) + spec.ttl <= now) return 'invalid-time';
    if (this.jobs.hasKey(this.key.read(spec.id))) return 'duplicate-job';
    if (this.overBudget(spec.payload)) return 'memory-full';
    const queue = this.queueWithRoom(spec.name);
    if (queue === null) return 'too-many-queues';
    const slot = this.createJob(spec, queue, spec.timeSec, spec.timeNsec, now);
    this.putJob(slot);
    this.expiries.push(slot);
    this.journalJob(slot, true);
    const at = readyAt(this.store, slot);
    if (at <= now) {
      this.offer(queue, slot, now);
    } else {
      queue.scheduled.push(slot);
      this.deadlines.push(slot, at);
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
    const store = this.store;
    const key = this.key;
    const slot = store.take(queue, key.w0, key.w1, key.w2, key.w3);
    store.fill(slot, spec.ttr, 0, spec.priority, 0, 0, store.payloads.store(spec.payload), this.stamp.sec, this.stamp.nsec, true);
    this.putJob(slot);
    this.addJobWaiter(slot, true, done, now + spec.timeout);
    this.offer(queue, slot, now);
  }

  result(id: string, timeout: number, done: (outcome: Finished | 'timeout' | 'not-found') => void): Cancel | null {
    const slot = this.slotOf(id);
    if (slot < 0) {
      done('not-found');
      return null;
    }
    if (this.isFinal(slot)) {
      done(finishedOf(this.store, slot));
      return null;
    }
    if (timeout === 0) {
      done('timeout');
      return null;
    }
    const w = this.addJobWaiter(slot, false, done, this.clock.now() + timeout);
    return () => this.cancelJobWaiter(w);
  }

  lease(names: readonly string[], timeout: number, done: (job: Job | null) => void): Cancel | null {
    const now = this.clock.now();
    const slot = this.takeReady(names, now);
    if (slot >= 0 || timeout === 0) {
      this.freeVacant(names);
      done(slot < 0 ? null : Job.at(this.store, slot));
      return null;
    }
    const w = this.addLeaseWaiter(names, done, now + timeout);
    return () => this.cancelLeaseWaiter(w);
  }

  readyPayloadLength(names: readonly string[]): number {
    const best = this.firstReady(names);
    return best < 0 ? 0 : this.store.payloadLength(best);
  }

  complete(id: string, result: string): EngineError | null {
    const slot = this.slotOf(id);
    if (slot < 0) return 'not-found';
    if (this.isFinal(slot)) return 'duplicate-result';
    this.applyComplete(slot, result);
    this.counters.completed++;
    this.store.queueOf(slot).completedTotal++;
    this.journal?.complete(id, result);
    this.settle(slot);
    return null;
  }

  fail(id: string, result: string): EngineError | null {
    const slot = this.slotOf(id);
    if (slot < 0) return 'not-found';
    if (this.isFinal(slot)) return 'duplicate-result';
    const outcome = this.applyFail(slot, result);
    this.countFail(slot, outcome);
    this.journal?.fail(id, result);
    if (outcome === FailOutcome.Final) this.settle(slot);
    else if (outcome === FailOutcome.RetriedToRequeue) this.retry(slot, this.clock.now());
    return null;
  }

  delete(id: string): EngineError | null {
    const slot = this.slotOf(id);
    if (slot < 0) return 'not-found';
    // Waiters stay with the job and time out at their own deadlines (docs/protocol.md Q2).
    this.removeJob(slot);
    this.journal?.delete(id);
    return null;
  }

  touch(id: string, ttr: number | null): EngineError | null {
    const slot = this.slotOf(id);
    if (slot < 0) return 'not-found';
    if (this.store.stateOf(slot) !== JobState.Leased) return 'not-leased';
    const now = this.clock.now();
    const span = ttr ?? this.store.ttrOf(slot);
    this.extendLease(slot, now + span);
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
    const slot = this.slotOf(id);
    if (slot < 0) return 'not-found';
    if (this.store.stateOf(slot) !== JobState.Failed || this.store.foregroundOf(slot)) return 'not-failed';
    this.journal?.restartFailed(id);
    this.restart(slot, this.clock.now());
    return null;
  }

  retryAllFailed(name: string): number | null {
    const queue = this.queues.get(name);
    if (queue === undefined) return null;
    const now = this.clock.now();
    const failed = queue.failed.ordered(0, queue.failed.size);
    for (const slot of failed) {
      this.journal?.restartFailed(this.store.idText(slot));
      this.restart(slot, now);
    }
    return failed.length;
  }

  // ---- inspect ---------------------------------------------------------------------

  inspectJob(id: string): Job | null {
    const slot = this.slotOf(id);
    return slot < 0 ? null : Job.at(this.store, slot);
  }

  inspectJobs(name: string, offset: number, limit: number): Job[] | null {
    const queue = this.queues.get(name);
    return queue === undefined ? null : this.views(queue.ready.ordered(offset, limit));
  }

  inspectScheduledJobs(name: string, offset: number, limit: number): Job[] | null {
    const queue = this.queues.get(name);
    return queue === undefined ? null : this.views(queue.scheduled.ordered(offset, limit));
  }

  inspectStateJobs(name: string, state: ListedState, offset: number, limit: number): Job[] | null {
    const queue = this.queues.get(name);
    return queue === undefined ? null : this.views(queue[state].ordered(offset, limit));
  }

  inspectQueue(name: string): QueueStats | null {
    const queue = this.queues.get(name);
    return queue === undefined ? null : statsOf(queue);
  }

  inspectQueues(offset: number, limit: number): QueueStats[] {
    return this.queueOrder.ordered(offset, limit).map((id) => statsOf(this.store.queueAt(id)));
  }

  private views(slots: number[]): Job[] {
    return slots.map((slot) => Job.at(this.store, slot));
  }

  // ---- deadlines -------------------------------------------------------------------

  /** The job's pending state deadline in ms: its TTR end while leased, its time while scheduled; else Infinity. */
  deadlineOf(job: Job): number {
    if (!job.live) return Infinity;
    const index = this.store.deadlineIndexOf(job.slot);
    return index < 0 ? Infinity : this.deadlines.timeAt(index);
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
        this.fireStateDeadline(this.deadlines.pop(), now);
      } else if (e <= w) {
        if (e > now) return;
        this.fireExpiry(this.expiries.pop());
      } else {
        if (w > now) return;
        this.fireWait(this.waits.pop() as Waiter);
      }
    }
  }

  holdJobDeadlines(hold: boolean): void {
    this.held = hold;
    if (hold || this.heldRunEnds.length === 0) return;
    // Each removal may move jobs (compactStore), which updates this very array.
    const ends = this.heldRunEnds;
    for (let i = 0; i < ends.length; i++) this.removeRunJob(ends[i]!);
    ends.length = 0;
  }

  // ---- replay (docs/command-log.md 10.2, 10.4): no journal, no deadline fires ----------------

  restore(spec: RestoredJob, now: number): 'expired' | 'replaced' | null {
    const scheduled = spec.timeSec !== 0 || spec.timeNsec !== 0;
    const base = scheduled ? floorMs(spec.timeSec, spec.timeNsec) : floorMs(spec.createdSec, spec.createdNsec);
    if (base + spec.ttl <= now) return 'expired';
    this.stamp.observe(spec.createdSec, spec.createdNsec);
    const queue = this.queueFor(spec.name);
    queue.used = true;
    const store = this.store;
    const slot = store.take(
      queue,
      spec.id0 ?? idWord(spec.id, 0),
      spec.id1 ?? idWord(spec.id, 1),
      spec.id2 ?? idWord(spec.id, 2),
      spec.id3 ?? idWord(spec.id, 3),
    );
    store.fill(
      slot,
      spec.ttr,
      spec.ttl,
      spec.priority,
      spec.maxAttempts,
      spec.maxFails,
      store.payloads.store(spec.payload),
      spec.createdSec,
      spec.createdNsec,
      false,
    );
    store.setTime(slot, spec.timeSec, spec.timeNsec);
    let old = -1;
    if (spec.idIsNew === true) this.jobs.insertNew(slot);
    else old = this.jobs.set(slot);
    this.heldBytes += jobBytes(store, slot);
    queue.jobCount++;
    if (old >= 0) {
      this.detachJob(old);
      this.leaveCount(store.queueOf(old));
    }
    this.expiries.push(slot);
    const at = readyAt(store, slot);
    if (scheduled && at > now) {
      queue.scheduled.push(slot);
      this.deadlines.push(slot, at);
    } else {
      queue.ready.push(slot);
    }
    if (old < 0) return null;
    // Last, once the new job is placed: a release may move jobs (compactStore), and a
    // slot held in a local must not be one of them.
    this.release(old);
    return 'replaced';
  }

  restoreStartAttempt(id: string, at: number): RestoreError | 'unknown' | null {
    const slot = this.jobs.get(id);
    if (slot < 0) return 'unknown';
    if (this.store.stateOf(slot) === JobState.Leased) return 'already-leased';
    if (this.isFinal(slot)) return 'already-processed';
    if (atAttemptLimit(this.store, slot)) return 'max-attempts';
    this.leaveQueue(slot);
    this.lease1(slot, at);
    return null;
  }

  restoreComplete(id: string, result: string): RestoreError | 'unknown' | null {
    const slot = this.jobs.get(id);
    if (slot < 0) return 'unknown';
    if (this.isFinal(slot)) return 'duplicate-result';
    this.applyComplete(slot, result);
    return null;
  }

  restoreFail(id: string, result: string): RestoreError | 'unknown' | null {
    const slot = this.jobs.get(id);
    if (slot < 0) return 'unknown';
    if (this.isFinal(slot)) return 'duplicate-result';
    if (this.applyFail(slot, result) === FailOutcome.RetriedToRequeue) this.store.queueOf(slot).ready.push(slot);
    return null;
  }

  restoreDelete(id: string): 'unknown' | null {
    const slot = this.jobs.get(id);
    if (slot < 0) return 'unknown';
    this.removeJob(slot);
    return null;
  }

  /** Not counted in evictedJobs: the counter starts at 0 after a restart (docs/protocol.md 8.1). */
  restoreExpire(id: string): 'unknown' | null {
    const slot = this.jobs.get(id);
    if (slot < 0) return 'unknown';
    this.removeJob(slot);
    return null;
  }

  /** A timeout-attempt for a job that is not leased (records of the original can be out of order) changes nothing. */
  restoreTimeoutAttempt(id: string): 'unknown' | null {
    const slot = this.jobs.get(id);
    if (slot < 0) return 'unknown';
    if (this.store.stateOf(slot) !== JobState.Leased) return null;
    this.deadlines.remove(this.store.deadlineIndexOf(slot));
    if (this.applyTimeout(slot)) this.store.queueOf(slot).ready.push(slot);
    return null;
  }

  restoreTouch(id: string, ttr: number, at: number): 'unknown' | null {
    const slot = this.jobs.get(id);
    if (slot < 0) return 'unknown';
    if (this.store.stateOf(slot) === JobState.Leased) this.extendLease(slot, at + ttr);
    return null;
  }

  /** A retry record at `at`: the failed job starts over as it did then (no lease waits during replay). */
  restoreRetry(id: string, at: number): 'unknown' | null {
    const slot = this.jobs.get(id);
    if (slot < 0) return 'unknown';
    if (this.store.stateOf(slot) === JobState.Failed && !this.store.foregroundOf(slot)) this.restart(slot, at);
    return null;
  }

  restorePause(name: string, paused: boolean): void {
    const queue = this.queueFor(name);
    queue.used = true;
    queue.paused = paused;
    if (queue.empty) this.emptied.add(queue);
  }

  restoreRetryDelay(id: string, delay: RetryDelay): 'unknown' | null {
    const slot = this.jobs.get(id);
    if (slot < 0) return 'unknown';
    this.store.setRetryDelay(slot, delay);
    return null;
  }

  restoreRetryAt(id: string, delayMs: number, at: number): 'unknown' | null {
    const slot = this.jobs.get(id);
    if (slot < 0) return 'unknown';
    const store = this.store;
    // Only a job that its fail or timeout-attempt record has just put back in its ready list waits.
    if (store.stateOf(slot) !== JobState.Pending || store.listIndexOf(slot) < 0 || store.deadlineIndexOf(slot) >= 0) return null;
    store.queueOf(slot).ready.remove(slot);
    this.waitForRetry(slot, at + delayMs);
    return null;
  }

  restoreDone(): void {
    this.jobs.placeNew();
  }

  // ---- state changes shared by commands, timers and replay ------------------------

  private isFinal(slot: number): boolean {
    return isFinalState(this.store.stateOf(slot));
  }

  /** Jobs take their name from their queue: one string per queue, not one per job. The ID's words are in `key`, read by the caller. */
  private createJob(spec: NewJob, queue: Queue, timeSec: number, timeNsec: number, now: number): number {
    this.counters.added++;
    queue.addedTotal++;
    queue.used = true;
    this.stamp.next(now);
    const store = this.store;
    const key = this.key;
    const slot = store.take(queue, key.w0, key.w1, key.w2, key.w3);
    store.fill(
      slot,
      spec.ttr,
      spec.ttl,
      spec.priority,
      spec.maxAttempts,
      spec.maxFails,
      store.payloads.store(spec.payload),
      this.stamp.sec,
      this.stamp.nsec,
      false,
    );
    store.setTime(slot, timeSec, timeNsec);
    if (spec.retry !== undefined && spec.retry !== null) store.setRetryDelay(slot, spec.retry);
    return slot;
  }

  /** The add or schedule record of a new job, and its retry delay's when it has one. */
  private journalJob(slot: number, scheduled: boolean): void {
    const journal = this.journal;
    if (journal === null) return;
    const job = Job.at(this.store, slot);
    if (scheduled) journal.schedule(job);
    else journal.add(job);
    const delay = this.store.retryDelayOf(slot);
    if (delay !== null) journal.retryDelay(job.id, delay);
  }

  private queueFor(name: string): Queue {
    let queue = this.queues.get(name);
    if (queue === undefined) {
      queue = new Queue(name, this.store);
      this.queues.set(name, queue);
      this.queueOrder.push(queue.id);
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

  /**
   * The slot of the job with this ID, or -1. A job whose ID the store made as text lately
   * (a lease reply's, which the worker's complete, fail or touch sends back) is found there
   * without the table's probe. That is the table's answer too: a remembered text always
   * names the job in its slot (the store drops or moves the entry as the job leaves the
   * slot), and between engine calls the table maps that job's ID to that slot, as jobs are
   * put in both and dropped from both together.
   */
  private slotOf(id: string): number {
    const recent = this.store.recentSlotOf(id);
    return recent >= 0 ? recent : this.jobs.get(id);
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

  /** The queue holds no job: its name, its place in the order and its number go. */
  private dropQueue(queue: Queue): void {
    this.queues.delete(queue.name);
    this.queueOrder.remove(queue.id);
    this.store.removeQueue(queue);
    this.queueArray = null;
    this.emptied.delete(queue);
  }

  private freeVacant(names: readonly string[]): void {
    for (let i = 0; i < names.length; i++) {
      const queue = this.queues.get(names[i]!);
      if (queue !== undefined) this.freeIfVacant(queue);
    }
  }

  /** A job has become leasable: the oldest waiting lease on its queue gets it, else (or while paused) it joins the ready list. */
  private offer(queue: Queue, slot: number, now: number): void {
    const node = queue.waitHead;
    if (node === null || queue.paused) {
      queue.ready.push(slot);
      return;
    }
    // A job failed at its attempt limit is consumed; the waiter keeps waiting.
    if (!this.startAttempt(slot, now)) return;
    const w = node.waiter;
    this.detachLeaseWaiter(w);
    w.done(Job.at(this.store, slot));
  }

  /** The first ready job in queue order among the named queues that are not paused; -1 when there is none. */
  private firstReady(names: readonly string[]): number {
    let best = -1;
    for (let i = 0; i < names.length; i++) {
      const queue = this.queues.get(names[i]!);
      const top = queue === undefined || queue.paused ? -1 : queue.ready.peek();
      if (top >= 0 && (best < 0 || compareQueueKeys(this.store, top, best) < 0)) best = top;
    }
    return best;
  }

  /** Steps 2 and 4 of docs/protocol.md 7.3 over the named queues; a missing queue has no job to give. */
  private takeReady(names: readonly string[], now: number): number {
    for (;;) {
      const best = this.firstReady(names);
      if (best < 0) return -1;
      this.store.queueOf(best).ready.pop();
      if (this.startAttempt(best, now)) return best;
    }
  }

  /**
   * A background job is retried after its lease (a retried fail, a TTR timeout): ready at
   * once, or after its retry delay (docs/protocol-extensions.md). Run jobs never wait.
   */
  private retry(slot: number, now: number): void {
    const store = this.store;
    const delay = store.foregroundOf(slot) ? 0 : retryDelayMs(store.retryDelayOf(slot) ?? this.defaultRetryDelay, store.attemptsOf(slot), this.random);
    if (delay === 0) {
      this.offer(store.queueOf(slot), slot, now);
      return;
    }
    this.waitForRetry(slot, now + delay);
    this.journal?.retryAt(store.idText(slot), delay, now);
  }

  /** The job waits in its scheduled list until `at`, when its deadline makes it ready. */
  private waitForRetry(slot: number, at: number): void {
    this.store.queueOf(slot).scheduled.push(slot);
    this.deadlines.push(slot, at);
    this.store.setRetryAt(slot, at);
  }

  /**
   * A failed job starts over (docs/protocol-extensions.md): NEW, its counters at 0, its
   * result gone, back in its ready list (or its scheduled list while its time is to come).
   */
  private restart(slot: number, now: number): void {
    const store = this.store;
    this.leaveQueue(slot);
    this.enterState(slot, JobState.New);
    store.setAttempts(slot, 0);
    if (store.failsOf(slot) !== 0) store.setFails(slot, 0);
    if (store.resultOf(slot) !== null) this.setResult(slot, null);
    const at = readyAt(store, slot);
    const queue = store.queueOf(slot);
    if (store.scheduledOf(slot) && at > now) {
      queue.scheduled.push(slot);
      this.deadlines.push(slot, at);
    } else {
      this.offer(queue, slot, now);
    }
  }

  /** A queue was resumed: its ready jobs go to the leases waiting on it, longest-waiting first. */
  private serveWaiters(queue: Queue, now: number): void {
    while (queue.waitHead !== null) {
      const slot = queue.ready.pop();
      if (slot < 0) return;
      if (!this.startAttempt(slot, now)) continue;
      const w = queue.waitHead.waiter;
      this.detachLeaseWaiter(w);
      w.done(Job.at(this.store, slot));
    }
  }

  /** The leased job's lease now ends at `end`; a run already waiting on that lease's end (docs/protocol.md 7.9) follows it. */
  private extendLease(slot: number, end: number): void {
    this.deadlines.remove(this.store.deadlineIndexOf(slot));
    this.deadlines.push(slot, end);
    const list = this.store.waitersOf(slot) as WaiterList | null;
    const run = list === null ? null : list.run;
    if (run !== null && run.phase === RunPhase.LeaseTtr && run.heapIndex >= 0) {
      this.waits.remove(run.heapIndex);
      run.deadline = end;
      this.waits.push(run);
    }
  }

  /** The job has left its list. Leases it, or fails it at its attempt limit (nothing journaled, waiters woken, docs/protocol.md Q12). */
  private startAttempt(slot: number, now: number): boolean {
    if (atAttemptLimit(this.store, slot)) {
      this.enterState(slot, JobState.Failed);
      this.counters.failed++;
      this.counters.exhaustedMaxAttempts++;
      this.settle(slot);
      return false;
    }
    this.lease1(slot, now);
    this.counters.leased++;
    this.journal?.startAttempt(this.store.idText(slot), now);
    return true;
  }

  private lease1(slot: number, at: number): void {
    this.store.setAttempts(slot, this.store.attemptsOf(slot) + 1);
    this.enterState(slot, JobState.Leased);
    this.deadlines.push(slot, at + this.store.ttrOf(slot));
  }

  /**
   * Sets the job's state and keeps it in the list of that state: a job leased, completed
   * or failed is listed there (in the order it got there), through the list position its
   * ready or scheduled list no longer uses, so the index costs a job nothing. Ready and
   * scheduled lists are the callers' business.
   */
  private enterState(slot: number, state: JobState): void {
    const store = this.store;
    const old = store.stateOf(slot);
    if (old === state) return;
    const leaves = hasStateList(old) && store.listIndexOf(slot) >= 0;
    const enters = hasStateList(state);
    const queue = leaves || enters ? store.queueOf(slot) : null;
    if (leaves) stateList(queue as Queue, old).remove(store.listIndexOf(slot));
    store.setState(slot, state);
    if (enters) stateList(queue as Queue, state).push(slot);
  }

  private applyComplete(slot: number, result: string): void {
    this.leaveQueue(slot);
    this.enterState(slot, JobState.Completed);
    this.setResult(slot, result);
  }

  /** docs/protocol.md 7.5: retried while fails < max-fails (never for run jobs), else final. */
  private applyFail(slot: number, result: string): number {
    const store = this.store;
    const fails = store.failsOf(slot) + 1;
    store.setFails(slot, fails);
    this.setResult(slot, result);
    if (store.foregroundOf(slot) || fails >= store.maxFailsOf(slot)) {
      this.leaveQueue(slot);
      this.enterState(slot, JobState.Failed);
      return FailOutcome.Final;
    }
    if (store.stateOf(slot) !== JobState.Leased) {
      // Already in its ready list, or in its scheduled list until its time comes.
      this.enterState(slot, JobState.Pending);
      return FailOutcome.RetriedInPlace;
    }
    this.deadlines.remove(store.deadlineIndexOf(slot));
    this.enterState(slot, JobState.Pending);
    return FailOutcome.RetriedToRequeue;
  }

  private countFail(slot: number, outcome: number): void {
    if (outcome !== FailOutcome.Final) {
      this.counters.retriesMaxFails++;
      return;
    }
    this.counters.failed++;
    if (!this.store.foregroundOf(slot)) this.counters.exhaustedMaxFails++;
  }

  /** A lease's TTR ended (its deadline already taken out). True when the job is to be requeued. */
  private applyTimeout(slot: number): boolean {
    const max = this.store.maxAttemptsOf(slot);
    if (max > 0 && this.store.attemptsOf(slot) >= max) {
      this.enterState(slot, JobState.Failed);
      return false;
    }
    this.enterState(slot, JobState.Pending);
    return true;
  }

  /** Takes the job out of its list (of its state, or ready or scheduled) and stops its TTR or schedule deadline. */
  private leaveQueue(slot: number): void {
    const store = this.store;
    const listIndex = store.listIndexOf(slot);
    const deadlineIndex = store.deadlineIndexOf(slot);
    if (listIndex >= 0) {
      const queue = store.queueOf(slot);
      const state = store.stateOf(slot);
      if (hasStateList(state)) stateList(queue, state).remove(listIndex);
      // Only a job in its scheduled list has a list position and a deadline at once.
      else (deadlineIndex >= 0 ? queue.scheduled : queue.ready).remove(slot);
    }
    if (deadlineIndex >= 0) this.deadlines.remove(deadlineIndex);
  }

  private removeJob(slot: number): void {
    this.detachJob(slot);
    this.dropJob(slot);
  }

  private putJob(slot: number): void {
    this.jobs.set(slot);
    this.heldBytes += jobBytes(this.store, slot);
    this.store.queueOf(slot).jobCount++;
  }

  private dropJob(slot: number): void {
    this.jobs.remove(slot);
    this.leaveCount(this.store.queueOf(slot));
    this.release(slot);
  }

  /**
   * The job has left the table: its bytes leave the budget, and its slot and payload go
   * back to the store for the next job. A Job view of it can outlive this (a result
   * waiter keeps one until its timeout, a caller may keep one it was given): the view
   * then knows it is no longer live.
   */
  private release(slot: number): void {
    this.heldBytes -= jobBytes(this.store, slot);
    this.store.free(slot);
    if (this.store.payloads.wantsCompaction) this.compactPayloads();
    if (this.store.wantsShrink) this.compactStore();
  }

  /**
   * Few jobs fill many pages of the store: the highest jobs move down, everything that
   * holds their slots follows, and the top pages go. A few at each release, so that no
   * one command pays for moving a million jobs.
   */
  private compactStore(): void {
    const store = this.store;
    for (let moves = 0; moves < MOVES_PER_RELEASE && store.wantsShrink; moves++) {
      const from = store.moveTopDown();
      if (from < 0) break;
      this.jobs.moved(store.movedTo);
      this.followMove(from, store.movedTo);
    }
    store.endMoves();
  }

  /** Tells each list, heap and waiter that holds the job in `from` that it is in `to` now. */
  private followMove(from: number, to: number): void {
    const store = this.store;
    const listIndex = store.listIndexOf(to);
    const deadlineIndex = store.deadlineIndexOf(to);
    const expiryIndex = store.expiryIndexOf(to);
    if (listIndex >= 0) {
      const queue = store.queueOf(to);
      const state = store.stateOf(to);
      if (hasStateList(state)) stateList(queue, state).replace(listIndex, to);
      else (deadlineIndex >= 0 ? queue.scheduled : queue.ready).replace(from, to);
    }
    if (deadlineIndex >= 0) this.deadlines.replace(deadlineIndex, to);
    if (expiryIndex >= 0) this.expiries.replace(expiryIndex, to);
    const list = store.waitersOf(to) as WaiterList | null;
    for (let w = list === null ? null : list.head; w !== null; w = w.next) w.job = Job.at(store, to);
    const serial = store.serialOf(to);
    const ends = this.heldRunEnds;
    for (let i = 0; i < ends.length; i++) if (ends[i]!.slot === from && ends[i]!.serial === serial) ends[i] = Job.at(store, to);
  }

  /** Moves the payloads of sparse slab chunks together (PayloadSlab): every job in the table follows its payload. */
  private compactPayloads(): void {
    const store = this.store;
    store.payloads.beginCompaction();
    for (const slot of this.jobs.values()) store.relocatePayload(slot);
    store.payloads.endCompaction();
  }

  /** One job fewer in the queue; emptied, it may make room for a new name later. */
  private leaveCount(queue: Queue): void {
    if (--queue.jobCount === 0 && queue.empty) this.emptied.add(queue);
  }

  private setResult(slot: number, result: string | null): void {
    const before = this.store.resultOf(slot);
    this.heldBytes += (result === null ? 0 : result.length) - (before === null ? 0 : before.length);
    this.store.setResult(slot, result);
  }

  /** Takes the job out of every list and heap, leaving the job table as it is. */
  private detachJob(slot: number): void {
    this.leaveQueue(slot);
    const expiryIndex = this.store.expiryIndexOf(slot);
    if (expiryIndex >= 0) this.expiries.remove(expiryIndex);
  }

  /** The job just became final: every result waiter and its run get the outcome (docs/protocol.md Q11, Q12). */
  private settle(slot: number): void {
    const store = this.store;
    const list = store.waitersOf(slot) as WaiterList | null;
    if (list === null) return;
    store.setWaiters(slot, null);
    for (let w = list.head; w !== null; w = w.next) {
      if (w.heapIndex >= 0) this.waits.remove(w.heapIndex);
    }
    const outcome = finishedOf(store, slot);
    if (list.run !== null) this.endRunJob(list.run.job);
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
    if (!job.live) return;
    this.journal?.expire(job.id);
    this.removeJob(job.slot);
  }

  // ---- timers ------------------------------------------------------------------------

  private fireStateDeadline(slot: number, now: number): void {
    const store = this.store;
    if (store.stateOf(slot) !== JobState.Leased) {
      const queue = store.queueOf(slot);
      queue.scheduled.remove(slot);
      store.setRetryAt(slot, 0);
      this.offer(queue, slot, now);
      return;
    }
    this.counters.ttrTimeouts++;
    const list = store.waitersOf(slot) as WaiterList | null;
    const run = list === null ? null : list.run;
    if (run !== null && run.phase === RunPhase.LeaseTtr) {
      this.enterState(slot, JobState.Pending);
      this.journal?.timeoutAttempt(store.idText(slot));
      this.timeoutRun(run);
      return;
    }
    const requeue = this.applyTimeout(slot);
    if (requeue) this.counters.retriesMaxAttempts++;
    else {
      this.counters.failed++;
      this.counters.exhaustedMaxAttempts++;
    }
    this.journal?.timeoutAttempt(store.idText(slot));
    if (requeue) this.retry(slot, now);
    else this.settle(slot);
  }

  private fireExpiry(slot: number): void {
    if (!this.isFinal(slot)) this.evicted++;
    this.journal?.expire(this.store.idText(slot));
    this.leaveQueue(slot);
    this.dropJob(slot);
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
    if (w.phase === RunPhase.WaitTimeout && job.live && job.state === JobState.Leased) {
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

  private addJobWaiter(slot: number, isRun: boolean, done: JobDone, deadline: number): JobWaiter {
    const store = this.store;
    let list = store.waitersOf(slot) as WaiterList | null;
    if (list === null) {
      list = new WaiterList();
      store.setWaiters(slot, list);
    }
    const w = new JobWaiter(Job.at(store, slot), list, isRun, done, deadline, ++this.waitSeq);
    list.append(w);
    this.waits.push(w);
    return w;
  }

  /** Takes the waiter out of its job's list; the job, if still there, keeps no empty list. */
  private unlinkJobWaiter(w: JobWaiter): void {
    const list = w.list;
    list.unlink(w);
    if (list.empty && w.job.live && this.store.waitersOf(w.job.slot) === list) this.store.setWaiters(w.job.slot, null);
  }

  private cancelJobWaiter(w: JobWaiter): void {
    if (w.heapIndex < 0) return;
    this.waits.remove(w.heapIndex);
    this.unlinkJobWaiter(w);
  }

  private addLeaseWaiter(names: readonly string[], done: LeaseDone, deadline: number): LeaseWaiter {
    const w = new LeaseWaiter(done, deadline, ++this.waitSeq);
    if (names.length === 1) {
      // The common lease: an array made with its one node is a third of the bytes of one grown by push.
      w.nodes = [this.enqueueWaiter(w, this.queueFor(names[0]!))];
    } else {
      // A name given twice waits once; a Set keeps that linear for a lease on many names.
      const seen = new Set<Queue>();
      const nodes: WaitNode[] = [];
      for (let i = 0; i < names.length; i++) {
        const queue = this.queueFor(names[i]!);
        if (seen.has(queue)) continue;
        seen.add(queue);
        nodes.push(this.enqueueWaiter(w, queue));
      }
      w.nodes = nodes;
    }
    this.waits.push(w);
    return w;
  }

  /** Puts the lease waiter at the end of the queue's waiter FIFO; returns its place there. */
  private enqueueWaiter(w: LeaseWaiter, queue: Queue): WaitNode {
    const node = new WaitNode(w, queue);
    queue.addWaiter(node);
    return node;
  }

  private detachLeaseWaiter(w: LeaseWaiter): void {
    for (const node of w.nodes) {
      node.queue.removeWaiter(node);
      this.freeIfVacant(node.queue);
    }
    w.nodes = NO_NODES;
    if (w.heapIndex >= 0) this.waits.remove(w.heapIndex);
  }

  private cancelLeaseWaiter(w: LeaseWaiter): void {
    if (w.heapIndex >= 0) this.detachLeaseWaiter(w);
  }
}

function statsOf(queue: Queue): QueueStats {
  return { name: queue.name, readyLen: queue.ready.size, scheduledLen: queue.scheduled.size, paused: queue.paused };
}
