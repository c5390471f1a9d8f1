import type { Job } from './job.js';
import type { Finished } from './types.js';
import type { Queue } from './queue.js';
import { IndexedHeap } from './indexed-heap.js';

export type LeaseDone = (job: Job | null) => void;
export type JobDone = (outcome: Finished | 'timeout') => void;

/** A `lease` waiting for a job in any of its queues; linked into each queue's waiter FIFO. */
export class LeaseWaiter {
  heapIndex = -1;
  readonly nodes: WaitNode[] = [];
  constructor(
    readonly done: LeaseDone,
    readonly deadline: number,
    readonly seq: number,
  ) {}
}

/** One lease waiter's place in one queue's FIFO. */
export class WaitNode {
  prev: WaitNode | null = null;
  next: WaitNode | null = null;
  constructor(
    readonly waiter: LeaseWaiter,
    readonly queue: Queue,
  ) {}
}

/** A `run` first waits out its wait-timeout, then (if its job is leased then) that lease's TTR (docs/protocol.md 7.9). */
export const RunPhase = { WaitTimeout: 0, LeaseTtr: 1 } as const;

/**
 * A `result` or `run` waiting for one job to finish (never for its ID, docs/protocol.md Q2):
 * `job` is a view that knows when the job has left the engine, `list` the job's waiters.
 */
export class JobWaiter {
  heapIndex = -1;
  prev: JobWaiter | null = null;
  next: JobWaiter | null = null;
  phase: number = RunPhase.WaitTimeout;
  constructor(
    /** Replaced by a view of the job's new slot when the job moves (Engine.compactStore). */
    public job: Job,
    readonly list: WaiterList,
    readonly isRun: boolean,
    readonly done: JobDone,
    public deadline: number,
    readonly seq: number,
  ) {}
}

/** What a job's waiters (JobStore.waitersOf) are while anyone waits for it: its result waiters and its run. */
export class WaiterList {
  head: JobWaiter | null = null;
  tail: JobWaiter | null = null;
  run: JobWaiter | null = null;

  append(w: JobWaiter): void {
    w.prev = this.tail;
    if (this.tail === null) this.head = w;
    else this.tail.next = w;
    this.tail = w;
    if (w.isRun) this.run = w;
  }

  unlink(w: JobWaiter): void {
    if (w.prev === null) this.head = w.next;
    else w.prev.next = w.next;
    if (w.next === null) this.tail = w.prev;
    else w.next.prev = w.prev;
    w.prev = null;
    w.next = null;
    if (this.run === w) this.run = null;
  }

  get empty(): boolean {
    return this.head === null;
  }
}

export type Waiter = LeaseWaiter | JobWaiter;

/** Wait-timeouts of every waiting lease, result and run: earliest first, then oldest. */
export class WaitHeap extends IndexedHeap<Waiter> {
  protected before(a: Waiter, b: Waiter): boolean {
    return a.deadline !== b.deadline ? a.deadline < b.deadline : a.seq < b.seq;
  }
  protected setIndex(w: Waiter, index: number): void {
    w.heapIndex = index;
  }
  nextAt(): number {
    const top = this.items[0];
    return top === undefined ? Infinity : top.deadline;
  }
}
