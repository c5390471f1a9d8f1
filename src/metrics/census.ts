import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Engine } from '../jobs/engine.js';
import { JobState, type Job } from '../jobs/job.js';
import type { Queue } from '../jobs/queue.js';
import { floorMs, readyAt } from '../jobs/wall-time.js';

/** Label of the queues left out by the cardinality guard; no queue name can contain '*'. */
export const OTHER_QUEUES = '*other*';

/** Queues (or job-table slots) looked at per turn of the event loop: about a millisecond of work. */
const QUEUES_PER_TURN = 5_000;
const SLOTS_PER_TURN = 16_384;

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

  addQueue(queue: Queue, sign = 1): void {
    this.ready += sign * queue.ready.size;
    this.scheduled += sign * queue.scheduled.size;
    this.added += sign * queue.addedTotal;
    this.completedTotal += sign * queue.completedTotal;
  }

  addJob(job: Job): void {
    switch (job.state) {
      case JobState.Leased:
        this.leased++;
        return;
      case JobState.Completed:
        this.completed++;
        return;
      case JobState.Failed:
        this.failed++;
        return;
      default:
        // In the ready list: a list position and no schedule deadline.
        if (job.listIndex >= 0 && job.deadlineIndex < 0) {
          const since = Math.max(readyAt(job), floorMs(job.createdSec, job.createdNsec));
          if (since < this.oldestReadySince) this.oldestReadySince = since;
        }
    }
  }
}

/** Jobs by queue and state: the `limit` queues with the most jobs waiting by name, the rest summed in one. */
export interface Census {
  queues: QueueTally[];
  /** The queues left out, summed; null when every queue has its own tally. */
  other: QueueTally | null;
  queueCount: number;
  /** Milliseconds the walk itself took, summed over its slices (not the turns between them). */
  workMs: number;
}

/**
 * The `limit` queues with the largest backlog (ready + scheduled), ties to the earlier
 * name; `all` gets the sums over every queue on the way.
 */
async function chooseQueues(queues: readonly Queue[], limit: number, all: QueueTally, timer: { workMs: number }): Promise<Queue[]> {
  const chosen: Queue[] = [];
  const backlog = (queue: Queue): number => queue.ready.size + queue.scheduled.size;
  // A min-heap on backlog of the best `limit` so far: each queue costs one comparison unless it enters.
  const below = (a: Queue, b: Queue): boolean => backlog(a) < backlog(b) || (backlog(a) === backlog(b) && a.name > b.name);
  const siftDown = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < chosen.length && below(chosen[l]!, chosen[m]!)) m = l;
      if (r < chosen.length && below(chosen[r]!, chosen[m]!)) m = r;
      if (m === i) return;
      [chosen[i], chosen[m]] = [chosen[m]!, chosen[i]!];
      i = m;
    }
  };
  for (let start = 0; start < queues.length; start += QUEUES_PER_TURN) {
    if (start > 0) await nextTurn();
    const sliceStarted = performance.now();
    const end = Math.min(queues.length, start + QUEUES_PER_TURN);
    for (let i = start; i < end; i++) {
      const queue = queues[i]!;
      all.addQueue(queue);
      if (limit === 0) continue;
      if (chosen.length < limit) {
        chosen.push(queue);
        for (let c = chosen.length - 1; c > 0;) {
          const p = (c - 1) >> 1;
          if (!below(chosen[c]!, chosen[p]!)) break;
          [chosen[c], chosen[p]] = [chosen[p]!, chosen[c]!];
          c = p;
        }
      } else if (below(chosen[0]!, queue)) {
        chosen[0] = queue;
        siftDown(0);
      }
    }
    timer.workMs += performance.now() - sliceStarted;
  }
  return chosen;
}

/**
 * Counts the engine's jobs by queue and state for a scrape. It walks every queue and
 * every job, but in slices of about a millisecond with a turn of the event loop between
 * them, so clients are served while it runs; under traffic the counts are therefore
 * those of a moment spread over the walk (exact once the server is idle).
 */
export async function takeCensus(engine: Engine, limit: number): Promise<Census> {
  const queues = engine.queueList;
  const other = new QueueTally(OTHER_QUEUES);
  const timer = { workMs: 0 };
  const chosen = await chooseQueues(queues, limit, other, timer);
  let started = performance.now();
  const tallies = new Map<string, QueueTally>();
  for (const queue of chosen.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const tally = new QueueTally(queue.name);
    tally.addQueue(queue);
    other.addQueue(queue, -1);
    tallies.set(queue.name, tally);
  }
  const visit = (job: Job): void => (tallies.get(job.name) ?? other).addJob(job);
  for (let from = 0; from < engine.jobSlots; from += SLOTS_PER_TURN) {
    timer.workMs += performance.now() - started;
    await nextTurn();
    started = performance.now();
    engine.jobsInSlots(from, from + SLOTS_PER_TURN, visit);
  }
  timer.workMs += performance.now() - started;
  return { queues: [...tallies.values()], other: tallies.size < queues.length ? other : null, queueCount: queues.length, workMs: timer.workMs };
}
