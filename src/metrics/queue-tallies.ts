import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Engine } from '../jobs/engine.js';
import type { Queue } from '../jobs/queue.js';

/** Label of the queues left out by the cardinality guard; no queue name can contain '*'. */
export const OTHER_QUEUES = '*other*';

/** Queues looked at per turn of the event loop: about a millisecond of work. */
const QUEUES_PER_TURN = 5_000;

export class QueueTally {
  ready = 0;
  scheduled = 0;
  leased = 0;
  completed = 0;
  failed = 0;
  /** Wall-clock ms since which the oldest ready job has been ready; Infinity when none is. */
  oldestReadySince = Infinity;
  added = 0;
  completedTotal = 0;

  constructor(readonly name: string) {}

  /** Adds the queue's counts by state and its totals (takes them away with sign -1). */
  addQueue(queue: Queue, sign = 1): void {
    this.ready += sign * queue.ready.size;
    this.scheduled += sign * queue.scheduled.size;
    this.leased += sign * queue.leased.size;
    this.completed += sign * queue.completed.size;
    this.failed += sign * queue.failed.size;
    this.added += sign * queue.addedTotal;
    this.completedTotal += sign * queue.completedTotal;
  }

  /** Counts in the queue's oldest ready job, if it has one. */
  addOldest(queue: Queue): void {
    this.oldestReadySince = Math.min(this.oldestReadySince, queue.ready.oldestSince);
  }
}

/** Jobs by queue and state: the `limit` queues with the most jobs waiting by name, the rest summed in one. */
export interface QueueTallies {
  queues: QueueTally[];
  /** The queues left out, summed; null when every queue has its own tally. */
  other: QueueTally | null;
  queueCount: number;
  /** Milliseconds the pass itself took, summed over its slices (not the turns between them). */
  workMs: number;
}

/**
 * The `limit` best items offered, by `below` (true when the first has the smaller
 * claim), kept in a min-heap of `limit` entries: an item costs one comparison unless it
 * enters, so a scrape sorts no more than `limit` queues however many exist.
 */
class BestOf<T> {
  readonly heap: T[] = [];

  constructor(
    private readonly limit: number,
    private readonly below: (a: T, b: T) => boolean,
  ) {}

  offer(item: T): void {
    const heap = this.heap;
    if (heap.length < this.limit) {
      heap.push(item);
      this.up(heap.length - 1);
    } else if (this.limit > 0 && this.below(heap[0]!, item)) {
      heap[0] = item;
      this.down(0);
    }
  }

  private up(index: number): void {
    const heap = this.heap;
    for (let c = index; c > 0;) {
      const p = (c - 1) >> 1;
      if (!this.below(heap[c]!, heap[p]!)) return;
      [heap[c], heap[p]] = [heap[p]!, heap[c]!];
      c = p;
    }
  }

  private down(index: number): void {
    const heap = this.heap;
    for (let i = index; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && this.below(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && this.below(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  }
}

function backlog(queue: Queue): number {
  return queue.ready.size + queue.scheduled.size;
}

/** Whether `a` has a smaller claim to a label of its own than `b`: a smaller backlog, ties to the earlier name. */
function lessBacklog(a: Queue, b: Queue): boolean {
  return backlog(a) < backlog(b) || (backlog(a) === backlog(b) && a.name > b.name);
}

/** Whether `a`'s oldest ready job has been ready for less time than `b`'s. */
function younger(a: Queue, b: Queue): boolean {
  return a.ready.oldestSince > b.ready.oldestSince;
}

/**
 * Counts the engine's jobs by queue and state for a scrape, from the sizes of each
 * queue's state lists and its ready list's oldest job: constant work per queue, none
 * per job. A million queues are looked at in slices of about a millisecond with a turn
 * of the event loop between them, so clients are served meanwhile. Under traffic a
 * queue's counts are those of the moment its slice ran (or, for a labelled queue, of the
 * end of the pass, so the *other* sum can be off by what those queues changed during it).
 * `clock` (ms, monotonic) times the pass's own work.
 */
export async function tallyQueues(engine: Engine, limit: number, clock: () => number = () => performance.now()): Promise<QueueTallies> {
  let started = clock();
  // A copy, since the engine's list may gain or lose queues between slices.
  const queues = engine.queueList.slice();
  const other = new QueueTally(OTHER_QUEUES);
  const chosen = new BestOf(limit, lessBacklog);
  // The limit + 1 queues whose oldest ready jobs are oldest: at least one is left out, if any is.
  const oldest = new BestOf(limit + 1, younger);
  let workMs = 0;
  for (let start = 0; start < queues.length; start += QUEUES_PER_TURN) {
    if (start > 0) {
      workMs += clock() - started;
      await nextTurn();
      started = clock();
    }
    const end = Math.min(queues.length, start + QUEUES_PER_TURN);
    for (let i = start; i < end; i++) {
      const queue = queues[i]!;
      other.addQueue(queue);
      chosen.offer(queue);
      if (queue.ready.size > 0) oldest.offer(queue);
    }
  }
  const labelled = new Set(chosen.heap);
  const tallies: QueueTally[] = [];
  for (const queue of chosen.heap.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const tally = new QueueTally(queue.name);
    tally.addQueue(queue);
    tally.addOldest(queue);
    other.addQueue(queue, -1);
    tallies.push(tally);
  }
  for (const queue of oldest.heap) if (!labelled.has(queue)) other.addOldest(queue);
  workMs += clock() - started;
  return { queues: tallies, other: tallies.length < queues.length ? other : null, queueCount: queues.length, workMs };
}
