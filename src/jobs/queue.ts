import { JobList } from './job-list.js';
import { JobStore } from './job-store.js';
import { ReadyList } from './ready-list.js';
import { StateList } from './state-list.js';
import type { WaitNode } from './waiters.js';

/**
 * One named queue: its jobs, as slots of its store: its ready list (leasable now, and which of its jobs has been ready
 * longest), its scheduled list (time not yet come), its leased, completed and failed jobs (an index per state, for listing them),
 * and the leases waiting on it, oldest first. A queue with waiting leases has
 * an empty ready list: a job that becomes ready goes straight to the oldest of them,
 * unless the queue is paused (then leases take nothing from it until it is resumed).
 *
 * A queue that only leases have named (never a job, a pause or a resume) lives only
 * while a lease waits on it (docs/protocol.md Q17): `used` tells the engine it may not free it.
 */
export class Queue {
  /** The queue's number in its store, which its jobs keep (JobStore.queueAt). */
  readonly id: number;
  readonly ready: ReadyList;
  readonly scheduled: JobList;
  readonly leased: StateList;
  readonly completed: StateList;
  readonly failed: StateList;
  paused = false;
  /**
   * Set once a job entered the queue or it was paused or resumed: from then on it is freed
   * only to make room for a new name at maxQueues, and only while it holds nothing.
   */
  used = false;
  /** Jobs of this queue in the engine's table, in any state. */
  jobCount = 0;
  waitHead: WaitNode | null = null;
  /** Jobs created in this queue and jobs completed in it since the start, for the metrics. */
  addedTotal = 0;
  completedTotal = 0;
  private waitTail: WaitNode | null = null;

  /** `store`: where its jobs' fields and payloads are kept, the engine's one store (a queue of its own makes one). */
  constructor(
    readonly name: string,
    readonly store: JobStore = new JobStore(),
  ) {
    this.id = store.addQueue(this);
    this.ready = new ReadyList(store);
    this.scheduled = new JobList(store);
    this.leased = new StateList(store);
    this.completed = new StateList(store);
    this.failed = new StateList(store);
  }

  /** No job, no waiting lease, not paused: freeing it loses nothing but its name and its counts. */
  get empty(): boolean {
    return this.jobCount === 0 && this.waitHead === null && !this.paused;
  }

  addWaiter(node: WaitNode): void {
    node.prev = this.waitTail;
    if (this.waitTail === null) this.waitHead = node;
    else this.waitTail.next = node;
    this.waitTail = node;
  }

  removeWaiter(node: WaitNode): void {
    if (node.prev === null) this.waitHead = node.next;
    else node.prev.next = node.next;
    if (node.next === null) this.waitTail = node.prev;
    else node.next.prev = node.prev;
    node.prev = null;
    node.next = null;
  }
}
