import { IdKey, idText, idWord, writeIdWords } from './id-words.js';
import { type JobStore, PAGE_MASK, PAGE_SHIFT } from './job-store.js';
import type { Queue } from './queue.js';
import type { RetryDelay } from './retry-delay.js';
import type { RestoredJob } from './types.js';
import { floorMs } from './wall-time.js';

/** Job states as numbered on the wire (docs/protocol.md 7.1). */
export const JobState = {
  New: 0,
  Completed: 1,
  Failed: 2,
  Pending: 3,
  Leased: 4,
} as const;
export type JobState = (typeof JobState)[keyof typeof JobState];

/*
 * Layout of Job.bits, one 32-bit integer of the store's `bits` column, for what every job
 * has but seldom reads: state (3 bits), attempts, max-attempts and max-fails (0–255 each,
 * docs/protocol.md 3.5 and 7.4), the foreground flag.
 */
const STATE_MASK = 0x7;
const ATTEMPTS_SHIFT = 3;
const MAX_ATTEMPTS_SHIFT = 11;
const MAX_FAILS_SHIFT = 19;
const BYTE = 0xff;
const FOREGROUND = 1 << 27;

/**
 * What only some jobs have: a scheduled time, failures and a result, waiters. Allocated
 * the first time a job needs any of it, so that a plain queued job does not carry these
 * fields.
 */
class JobExtra {
  timeSec: number;
  timeNsec: number;
  fails = 0;
  result: string | null = null;
  waiters: unknown = null;
  /** The job's own retry delay (docs/protocol-extensions.md); null: the engine's default. */
  retryDelay: RetryDelay | null = null;
  /** Unix ms at which the job, waiting out a retry delay, becomes ready; 0 when not waiting. */
  retryAt = 0;

  constructor(timeSec: number, timeNsec: number) {
    this.timeSec = timeSec;
    this.timeNsec = timeNsec;
  }
}

/**
 * One job. The engine holds up to millions of them, so a job object holds only its queue,
 * its slot in the engine's JobStore, whose typed-array columns hold its numbers (ID words,
 * TTR, TTL, priority, created time, `bits`, its list and heap positions, its payload's
 * ref in the store's slab), and a JobExtra once it needs one; every field is read and
 * written through accessors. The job's pending deadline lives in the engine's deadline
 * heap.
 *
 * A job is readable while it is in the engine's table: when the engine drops it, its
 * slot goes to the next job made, and reading it from then on throws (a Job kept past
 * that, by a waiter or a caller, may only be compared by identity).
 *
 * Jobs are made by `Job.create` or `Job.restore`, never by `new`: both build each one as an object
 * literal (in `make`) with this class as its prototype, every field in one order, so all jobs share
 * one hidden class. A literal, unlike `new`, has an allocation site that V8 watches:
 * seeing nearly every job outlive its first young-generation collection, V8 then
 * allocates jobs in the old generation directly.
 *
 * The ID is kept as its 16 bytes in four words (id-words.ts): `id` makes its text when
 * read.
 *
 * Wall-clock instants that the log stores with nanosecond precision (created, the
 * scheduled time) are kept as whole Unix seconds plus nanoseconds, as Go does, so a
 * record written here carries exactly what the wire or the log gave us.
 */
export class Job {
  /** The job's queue (the queue of that name while the job is in the engine's table), whose store holds its fields. */
  declare readonly queue: Queue;
  /** Engine-private: the job's slot in its queue's store; -1 once the engine has dropped it. */
  declare slot: number;
  declare private extra: JobExtra | null;

  private constructor() {}

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
    return Job.fromKey(new IdKey().read(id), queue, ttr, ttl, priority, maxAttempts, maxFails, payload, createdSec, createdNsec, timeSec, timeNsec, foreground);
  }

  /** As `create`, the ID given as its words. */
  static fromKey(
    key: IdKey,
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
    const slot = store.take();
    const ids = store.ids[slot >>> PAGE_SHIFT]!;
    const at = 4 * (slot & PAGE_MASK);
    ids[at] = key.w0;
    ids[at + 1] = key.w1;
    ids[at + 2] = key.w2;
    ids[at + 3] = key.w3;
    Job.fill(store, slot, ttr, ttl, priority, maxAttempts, maxFails, store.payloads.store(payload), createdSec, createdNsec, foreground);
    return Job.make(queue, slot, timeSec, timeNsec);
  }

  /**
   * The job of a replayed add/schedule record, in `queue`; its ID taken from the record's
   * words, and its payload from the record's bytes, when it gives them.
   */
  static restore(spec: RestoredJob, queue: Queue): Job {
    const store = queue.store;
    const slot = store.take();
    const ids = store.ids[slot >>> PAGE_SHIFT]!;
    const at = 4 * (slot & PAGE_MASK);
    ids[at] = spec.id0 ?? idWord(spec.id, 0);
    ids[at + 1] = spec.id1 ?? idWord(spec.id, 1);
    ids[at + 2] = spec.id2 ?? idWord(spec.id, 2);
    ids[at + 3] = spec.id3 ?? idWord(spec.id, 3);
    const payloads = store.payloads;
    const payloadRef =
      spec.payloadBytes === undefined ? payloads.store(spec.payload) : payloads.storeBytes(spec.payloadBytes, spec.payloadStart!, spec.payloadEnd!);
    Job.fill(store, slot, spec.ttr, spec.ttl, spec.priority, spec.maxAttempts, spec.maxFails, payloadRef, spec.createdSec, spec.createdNsec, false);
    return Job.make(queue, slot, spec.timeSec, spec.timeNsec);
  }

  private static fill(
    store: JobStore,
    slot: number,
    ttr: number,
    ttl: number,
    priority: number,
    maxAttempts: number,
    maxFails: number,
    payloadRef: number,
    createdSec: number,
    createdNsec: number,
    foreground: boolean,
  ): void {
    const page = slot >>> PAGE_SHIFT;
    const cell = slot & PAGE_MASK;
    store.ttr[page]![cell] = ttr;
    store.ttl[page]![cell] = ttl;
    store.priority[page]![cell] = priority;
    store.payloadRef[page]![cell] = payloadRef;
    store.createdSec[page]![cell] = createdSec;
    store.createdNsec[page]![cell] = createdNsec;
    store.bits[page]![cell] = JobState.New | (maxAttempts << MAX_ATTEMPTS_SHIFT) | (maxFails << MAX_FAILS_SHIFT) | (foreground ? FOREGROUND : 0);
    store.listIndex[page]![cell] = -1;
    store.expiryIndex[page]![cell] = -1;
    store.deadlineIndex[page]![cell] = -1;
    store.ageIndex[page]![cell] = -1;
  }

  /** Every job is made here: one allocation site (see above). */
  private static make(queue: Queue, slot: number, timeSec: number, timeNsec: number): Job {
    const job = {
      __proto__: Job.prototype,
      queue,
      slot,
      extra: timeSec !== 0 || timeNsec !== 0 ? new JobExtra(timeSec, timeNsec) : null,
    };
    return job as unknown as Job;
  }

  /** The store of a job still in the engine. */
  private get store(): JobStore {
    if (this.slot < 0) throw new Error('a job was read after the engine dropped it');
    return this.queue.store;
  }

  /** The page of the store's columns that holds the job (JobStore). */
  private get page(): number {
    return this.slot >>> PAGE_SHIFT;
  }

  /** The job's place in that page. */
  private get cell(): number {
    return this.slot & PAGE_MASK;
  }

  /** The ID's bytes as words (id-words.ts); the key of the job table. */
  get id0(): number {
    return this.store.ids[this.page]![4 * this.cell]!;
  }

  get id1(): number {
    return this.store.ids[this.page]![4 * this.cell + 1]!;
  }

  get id2(): number {
    return this.store.ids[this.page]![4 * this.cell + 2]!;
  }

  get id3(): number {
    return this.store.ids[this.page]![4 * this.cell + 3]!;
  }

  /** True when the job's ID has these words. */
  hasId(id0: number, id1: number, id2: number, id3: number): boolean {
    const ids = this.store.ids[this.page]!;
    const at = 4 * this.cell;
    return ids[at] === id0 && ids[at + 1] === id1 && ids[at + 2] === id2 && ids[at + 3] === id3;
  }

  get ttr(): number {
    return this.store.ttr[this.page]![this.cell]!;
  }

  /** 0 for a `run` job, which has no TTL. */
  get ttl(): number {
    return this.store.ttl[this.page]![this.cell]!;
  }

  get priority(): number {
    return this.store.priority[this.page]![this.cell]!;
  }

  get createdSec(): number {
    return this.store.createdSec[this.page]![this.cell]!;
  }

  get createdNsec(): number {
    return this.store.createdNsec[this.page]![this.cell]!;
  }

  /** 0 while in the ready or scheduled list of its queue, its slot while in a state list (StateList), else -1. */
  get listIndex(): number {
    return this.store.listIndex[this.page]![this.cell]!;
  }

  set listIndex(index: number) {
    this.store.listIndex[this.page]![this.cell] = index;
  }

  /** Position in the engine's expiry heap, -1 when not there. */
  get expiryIndex(): number {
    return this.store.expiryIndex[this.page]![this.cell]!;
  }

  set expiryIndex(index: number) {
    this.store.expiryIndex[this.page]![this.cell] = index;
  }

  /** Position in the engine's deadline heap (TTR/schedule), which holds the deadline itself; -1 when not there. */
  get deadlineIndex(): number {
    return this.store.deadlineIndex[this.page]![this.cell]!;
  }

  set deadlineIndex(index: number) {
    this.store.deadlineIndex[this.page]![this.cell] = index;
  }

  /** Position in its ready list's age heap (ReadyList) while it is in that list. */
  get ageIndex(): number {
    return this.store.ageIndex[this.page]![this.cell]!;
  }

  set ageIndex(index: number) {
    this.store.ageIndex[this.page]![this.cell] = index;
  }

  /** State, attempts, max-attempts, max-fails and the foreground flag (layout above). */
  private get bits(): number {
    return this.store.bits[this.page]![this.cell]!;
  }

  private set bits(bits: number) {
    this.store.bits[this.page]![this.cell] = bits;
  }

  get name(): string {
    return this.queue.name;
  }

  /** latin1, one char per byte: made from the slab on each read. */
  get payload(): string {
    const store = this.store;
    return store.payloads.text(store.payloadRef[this.page]![this.cell]!);
  }

  get payloadLength(): number {
    const store = this.store;
    return store.payloads.length(store.payloadRef[this.page]![this.cell]!);
  }

  /** Writes the payload's bytes at `off`; returns the offset after them. */
  writePayload(buf: Buffer, off: number): number {
    const store = this.store;
    return store.payloads.copy(store.payloadRef[this.page]![this.cell]!, buf, off);
  }

  /** Engine-private: the engine drops the job; its payload's space and its slot go back to the store, and the job is no longer readable. */
  release(): void {
    const store = this.store;
    store.payloads.free(store.payloadRef[this.page]![this.cell]!);
    store.free(this.slot);
    this.slot = -1;
  }

  /** Engine-private: follows a compaction of the slab (PayloadSlab.relocate). */
  relocatePayload(): void {
    const store = this.store;
    store.payloadRef[this.page]![this.cell] = store.payloads.relocate(store.payloadRef[this.page]![this.cell]!);
  }

  /** Canonical lowercase 8-4-4-4-12 form, made on each read. */
  get id(): string {
    const ids = this.store.ids[this.page]!;
    const at = 4 * this.cell;
    return idText(ids[at]!, ids[at + 1]!, ids[at + 2]!, ids[at + 3]!);
  }

  /** Writes the ID's 16 bytes at `off`; returns the offset after them. */
  writeId(buf: Uint8Array, off: number): number {
    const ids = this.store.ids[this.page]!;
    const at = 4 * this.cell;
    return writeIdWords(buf, off, ids[at]!, ids[at + 1]!, ids[at + 2]!, ids[at + 3]!);
  }

  get state(): JobState {
    return (this.bits & STATE_MASK) as JobState;
  }

  set state(state: JobState) {
    this.bits = (this.bits & ~STATE_MASK) | state;
  }

  get attempts(): number {
    return (this.bits >> ATTEMPTS_SHIFT) & BYTE;
  }

  /** At most 255: leasing stops at the hard cap (docs/protocol.md 7.4). */
  set attempts(attempts: number) {
    this.bits = (this.bits & ~(BYTE << ATTEMPTS_SHIFT)) | (attempts << ATTEMPTS_SHIFT);
  }

  get maxAttempts(): number {
    return (this.bits >> MAX_ATTEMPTS_SHIFT) & BYTE;
  }

  get maxFails(): number {
    return (this.bits >> MAX_FAILS_SHIFT) & BYTE;
  }

  /** True for the job of a `run`: not persisted, no TTL, no max-fails. */
  get foreground(): boolean {
    return (this.bits & FOREGROUND) !== 0;
  }

  /** Scheduled time; both 0 when the job was not scheduled. */
  get timeSec(): number {
    return this.extra === null ? 0 : this.extra.timeSec;
  }

  get timeNsec(): number {
    return this.extra === null ? 0 : this.extra.timeNsec;
  }

  get scheduled(): boolean {
    const extra = this.extra;
    return extra !== null && (extra.timeSec !== 0 || extra.timeNsec !== 0);
  }

  /**
   * Wall-clock ms at which the job is evicted (Infinity for run jobs). Computed: a ms
   * timestamp held in a field would cost every job a 16-byte heap number.
   */
  get expiresAt(): number {
    if (this.foreground) return Infinity;
    return (this.scheduled ? floorMs(this.timeSec, this.timeNsec) : floorMs(this.createdSec, this.createdNsec)) + this.ttl;
  }

  get fails(): number {
    return this.extra === null ? 0 : this.extra.fails;
  }

  set fails(fails: number) {
    this.more().fails = fails;
  }

  /** The final result once COMPLETED/FAILED; before that, the last failure's result (docs/protocol.md 7.5). */
  get result(): string | null {
    return this.extra === null ? null : this.extra.result;
  }

  set result(result: string | null) {
    this.more().result = result;
  }

  /** Engine-private: result/run waiters, null while there are none. */
  get waiters(): unknown {
    return this.extra === null ? null : this.extra.waiters;
  }

  set waiters(waiters: unknown) {
    if (this.extra !== null) this.extra.waiters = waiters;
    else if (waiters !== null) this.more().waiters = waiters;
  }

  get retryDelay(): RetryDelay | null {
    return this.extra === null ? null : this.extra.retryDelay;
  }

  set retryDelay(delay: RetryDelay | null) {
    this.more().retryDelay = delay;
  }

  /** While the job waits out a retry delay (PENDING), when it becomes ready; else 0. */
  get retryAt(): number {
    return this.extra === null || this.state !== JobState.Pending ? 0 : this.extra.retryAt;
  }

  set retryAt(at: number) {
    if (this.extra !== null) this.extra.retryAt = at;
    else if (at !== 0) this.more().retryAt = at;
  }

  private more(): JobExtra {
    if (this.extra === null) this.extra = new JobExtra(0, 0);
    return this.extra;
  }
}
