import type { Job } from './job.js';
import type { Finished } from './types.js';
import type { Queue } from './queue.js';
import { SlotHeap } from './slot-heap.js';

export type LeaseDone = (job: Job | null) => void;
export type JobDone = (outcome: Finished | 'timeout') => void;

/** The places of a lease waiter that waits nowhere (never changed). */
export const NO_NODES: readonly WaitNode[] = [];

/** A `lease` waiting for a job in any of its queues; linked into each queue's waiter FIFO. */
export class LeaseWaiter {
  heapIndex = -1;
  /** Its place in the waiter FIFO of each queue it waits on; none once it no longer waits. */
  nodes: readonly WaitNode[] = NO_NODES;
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

/** Waiters by number, in deadline order: the typed-array heap of SlotHeap, on numbers that `WaitHeap` gives its waiters. */
class WaiterNumbers extends SlotHeap {
  constructor(private readonly byNumber: (Waiter | null)[]) {
    super();
  }
  protected before(a: number, b: number): boolean {
    const x = this.byNumber[a]!;
    const y = this.byNumber[b]!;
    return x.deadline !== y.deadline ? x.deadline < y.deadline : x.seq < y.seq;
  }
  protected setIndex(n: number, index: number): void {
    this.byNumber[n]!.heapIndex = index;
  }
}

/** Wait-timeouts of every waiting lease, result and run: earliest first, then oldest. Each waiter knows its position (heapIndex). */
export class WaitHeap {
  /** Waiters in the heap by the number each got on entering it; null for a free number. */
  private readonly byNumber: (Waiter | null)[] = [];
  private readonly freeNumbers: number[] = [];
  private readonly heap = new WaiterNumbers(this.byNumber);

  get size(): number {
    return this.heap.size;
  }

  /** Earliest deadline, Infinity when none waits. */
  nextAt(): number {
    const top = this.heap.peek();
    return top < 0 ? Infinity : this.byNumber[top]!.deadline;
  }

  push(w: Waiter): void {
    const n = this.freeNumbers.pop() ?? this.byNumber.length;
    this.byNumber[n] = w;
    this.heap.push(n);
  }

  /** Removes and returns the waiter with the earliest deadline, undefined when none waits. */
  pop(): Waiter | undefined {
    const top = this.heap.peek();
    if (top < 0) return undefined;
    const w = this.byNumber[top]!;
    this.remove(0);
    return w;
  }

  /** Removes the waiter at `index` (a heapIndex this heap gave it). */
  remove(index: number): void {
    const n = this.heap.at(index);
    this.heap.remove(index);
    this.byNumber[n] = null;
    this.freeNumbers.push(n);
  }
}
