import { idText, idWord, writeIdWords } from './id-words.js';
import { EMPTY_PAYLOAD } from './payload-slab.js';
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
 * Layout of Job.bits, one small integer (a V8 Smi, unboxed in the job) for what every job
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
 * One job. The engine holds up to millions of them, so a plain queued job holds only
 * what it needs as fields; the rest is packed into `bits` or lives in a JobExtra, behind
 * accessors, and its pending deadline lives in the engine's deadline heap.
 *
 * Jobs are made by `Job.create` or `Job.restore`, never by `new`: both build each one as an object
 * literal (in `make`) with this class as its prototype, every field in one order, so all jobs share
 * one hidden class. A literal, unlike `new`, has an allocation site that V8 watches:
 * seeing nearly every job outlive its first young-generation collection, V8 then
 * allocates jobs in the old generation directly. Made by `new`, each job was copied
 * twice by the young-generation collector, about a quarter of a million-job replay.
 *
 * The ID is kept as its 16 bytes in four small-integer fields (id-words.ts): `id` makes
 * its text when read.
 *
 * Wall-clock instants that the log stores with nanosecond precision (created, the
 * scheduled time) are kept as whole Unix seconds plus nanoseconds, as Go does, so a
 * record written here carries exactly what the wire or the log gave us.
 */
export class Job {
  /** The ID's bytes as words (id-words.ts); the key of the job table. */
  declare readonly id0: number;
  declare readonly id1: number;
  declare readonly id2: number;
  declare readonly id3: number;
  /** The job's queue (the queue of that name while the job is in the engine's table), whose slab holds the payload. */
  declare readonly queue: Queue;
  declare readonly ttr: number;
  /** 0 for a `run` job, which has no TTL. */
  declare readonly ttl: number;
  declare readonly priority: number;
  /** The payload's ref in the queue's payload slab; EMPTY_PAYLOAD once the engine has dropped the job. */
  declare private payloadRef: number;
  declare readonly createdSec: number;
  declare readonly createdNsec: number;
  /** State, attempts, max-attempts, max-fails and the foreground flag (layout above). */
  declare private bits: number;
  /** 0 while in the ready or scheduled list of its queue, its slot while in a state list (StateList), else -1. */
  declare listIndex: number;
  /** Position in the engine's expiry heap, -1 when not there. */
  declare expiryIndex: number;
  /** Position in the engine's deadline heap (TTR/schedule), which holds the deadline itself; -1 when not there. */
  declare deadlineIndex: number;
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
    return Job.make(
      idWord(id, 0),
      idWord(id, 1),
      idWord(id, 2),
      idWord(id, 3),
      queue,
      ttr,
      ttl,
      priority,
      maxAttempts,
      maxFails,
      queue.payloads.store(payload),
      createdSec,
      createdNsec,
      timeSec,
      timeNsec,
      foreground,
    );
  }

  /**
   * The job of a replayed add/schedule record, in `queue`; its ID taken from the record's
   * words, and its payload from the record's bytes, when it gives them.
   */
  static restore(spec: RestoredJob, queue: Queue): Job {
    return Job.make(
      spec.id0 ?? idWord(spec.id, 0),
      spec.id1 ?? idWord(spec.id, 1),
      spec.id2 ?? idWord(spec.id, 2),
      spec.id3 ?? idWord(spec.id, 3),
      queue,
      spec.ttr,
      spec.ttl,
      spec.priority,
      spec.maxAttempts,
      spec.maxFails,
      spec.payloadBytes === undefined ? queue.payloads.store(spec.payload) : queue.payloads.storeBytes(spec.payloadBytes, spec.payloadStart!, spec.payloadEnd!),
      spec.createdSec,
      spec.createdNsec,
      spec.timeSec,
      spec.timeNsec,
      false,
    );
  }

  /** Every job is made here: one allocation site (see above). */
  private static make(
    id0: number,
    id1: number,
    id2: number,
    id3: number,
    queue: Queue,
    ttr: number,
    ttl: number,
    priority: number,
    maxAttempts: number,
    maxFails: number,
    payloadRef: number,
    createdSec: number,
    createdNsec: number,
    timeSec: number,
    timeNsec: number,
    foreground: boolean,
  ): Job {
    const job = {
      __proto__: Job.prototype,
      id0,
      id1,
      id2,
      id3,
      queue,
      ttr,
      ttl,
      priority,
      payloadRef,
      createdSec,
      createdNsec,
      bits: JobState.New | (maxAttempts << MAX_ATTEMPTS_SHIFT) | (maxFails << MAX_FAILS_SHIFT) | (foreground ? FOREGROUND : 0),
      listIndex: -1,
      expiryIndex: -1,
      deadlineIndex: -1,
      extra: timeSec !== 0 || timeNsec !== 0 ? new JobExtra(timeSec, timeNsec) : null,
    };
    return job as unknown as Job;
  }

  /** Canonical lowercase 8-4-4-4-12 form, made on each read. */
  get id(): string {
    return idText(this.id0, this.id1, this.id2, this.id3);
  }

  get name(): string {
    return this.queue.name;
  }

  /** latin1, one char per byte: made from the slab on each read ('' once the engine has dropped the job). */
  get payload(): string {
    return this.queue.payloads.text(this.payloadRef);
  }

  get payloadLength(): number {
    return this.queue.payloads.length(this.payloadRef);
  }

  /** Writes the payload's bytes at `off`; returns the offset after them. */
  writePayload(buf: Buffer, off: number): number {
    return this.queue.payloads.copy(this.payloadRef, buf, off);
  }

  /** Engine-private: frees the payload's slab space as the engine drops the job; the payload reads as '' from then on. */
  freePayload(): void {
    this.queue.payloads.free(this.payloadRef);
    this.payloadRef = EMPTY_PAYLOAD;
  }

  /** Engine-private: follows a compaction of the slab (PayloadSlab.relocate). */
  relocatePayload(): void {
    this.payloadRef = this.queue.payloads.relocate(this.payloadRef);
  }

  /** Writes the ID's 16 bytes at `off`; returns the offset after them. */
  writeId(buf: Uint8Array, off: number): number {
    return writeIdWords(buf, off, this.id0, this.id1, this.id2, this.id3);
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
