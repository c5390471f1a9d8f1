import { IdKey } from './id-words.js';
import type { JobState, JobStore } from './job-store.js';
import type { Queue } from './queue.js';
import type { RetryDelay } from './retry-delay.js';

export { JobState } from './job-store.js';

/**
 * A view of one job of a JobStore: its slot and its serial. The engine keeps jobs as slots
 * (job-store.ts) and makes a view when it works on one or hands one out; a view is a
 * short-lived object, and nothing the engine keeps holds one, except a waiter for its job.
 *
 * A view reads its job while the job is in the engine. Once the engine drops the job,
 * its slot goes to the next job made, with another serial, and reading the view from
 * then on throws instead of showing that job (`live` says whether it still may be read).
 */
export class Job {
  private constructor(
    readonly store: JobStore,
    readonly slot: number,
    readonly serial: number,
  ) {}

  /** The view of the job in `slot` now. */
  static at(store: JobStore, slot: number): Job {
    return new Job(store, slot, store.serialOf(slot));
  }

  /** A job of its own store, outside any engine (for tests and tools): `queue` must have been made with that store. */
  static create(
    id: string,
    queue: Queue,
    ttr: number,
    ttl: number,
    priority: number,
    maxAttempts: number,
    maxFails: number,
    payload: string,
    createdSec: number,
    createdNsec: number,
    timeSec: number,
    timeNsec: number,
    foreground: boolean,
  ): Job {
    const store = queue.store;
    const key = new IdKey().read(id);
    const slot = store.take(queue, key.w0, key.w1, key.w2, key.w3);
    store.fill(slot, ttr, ttl, priority, maxAttempts, maxFails, store.payloads.store(Buffer.from(payload, 'latin1')), createdSec, createdNsec, foreground);
    store.setTime(slot, timeSec, timeNsec);
    return Job.at(store, slot);
  }

  /** True while the job is in its store: the view may be read. */
  get live(): boolean {
    return this.store.holds(this.slot, this.serial);
  }

  /** The slot, checked to still be this job's. */
  private get s(): number {
    if (!this.store.holds(this.slot, this.serial)) throw new Error('a job was read after the engine dropped it');
    return this.slot;
  }

  get queue(): Queue {
    return this.store.queueOf(this.s);
  }

  get name(): string {
    return this.queue.name;
  }

  /** Canonical lowercase 8-4-4-4-12 form, made on each read. */
  get id(): string {
    return this.store.idText(this.s);
  }

  /** Writes the ID's 16 bytes at `off`; returns the offset after them. */
  writeId(buf: Uint8Array, off: number): number {
    return this.store.writeId(this.s, buf, off);
  }

  get ttr(): number {
    return this.store.ttrOf(this.s);
  }

  /** 0 for a `run` job, which has no TTL. */
  get ttl(): number {
    return this.store.ttlOf(this.s);
  }

  get priority(): number {
    return this.store.priorityOf(this.s);
  }

  get createdSec(): number {
    return this.store.createdSecOf(this.s);
  }

  get createdNsec(): number {
    return this.store.createdNsecOf(this.s);
  }

  /** Scheduled time; both 0 when the job was not scheduled. */
  get timeSec(): number {
    return this.store.timeSecOf(this.s);
  }

  get timeNsec(): number {
    return this.store.timeNsecOf(this.s);
  }

  get scheduled(): boolean {
    return this.store.scheduledOf(this.s);
  }

  /** Wall-clock ms at which the job is evicted (Infinity for run jobs). */
  get expiresAt(): number {
    return this.store.expiresAtOf(this.s);
  }

  get state(): JobState {
    return this.store.stateOf(this.s);
  }

  get attempts(): number {
    return this.store.attemptsOf(this.s);
  }

  get maxAttempts(): number {
    return this.store.maxAttemptsOf(this.s);
  }

  get maxFails(): number {
    return this.store.maxFailsOf(this.s);
  }

  get fails(): number {
    return this.store.failsOf(this.s);
  }

  /** True for the job of a `run`: not persisted, no TTL, no max-fails. */
  get foreground(): boolean {
    return this.store.foregroundOf(this.s);
  }

  /** The final result once COMPLETED/FAILED; before that, the last failure's result (docs/protocol.md 7.5). */
  get result(): string | null {
    return this.store.resultOf(this.s);
  }

  get retryDelay(): RetryDelay | null {
    return this.store.retryDelayOf(this.s);
  }

  /** While the job waits out a retry delay (PENDING), when it becomes ready; else 0. */
  get retryAt(): number {
    return this.store.retryAtOf(this.s);
  }

  /** latin1, one char per byte: made from the slab on each read. */
  get payload(): string {
    return this.store.payloadText(this.s);
  }

  get payloadLength(): number {
    return this.store.payloadLength(this.s);
  }

  /** Writes the payload's bytes at `off`; returns the offset after them. */
  writePayload(buf: Buffer, off: number): number {
    return this.store.writePayload(this.s, buf, off);
  }
}
