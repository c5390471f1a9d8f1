import { randomBytes } from 'node:crypto';
import { type IdKey, idWord } from './id-words.js';
import type { Job } from './job.js';

/** Slots of a fresh table; always a power of two. */
const MIN_CAPACITY = 1024;
/** The table doubles when more than this share of its slots is taken… */
const MAX_LOAD = 0.7;
/** …and halves when less than this share is. */
const MIN_LOAD = 0.1;
/** Words per ID (id-words.ts). */
const MULTIPLIERS = 4;

/**
 * Every job by ID: an open-addressing hash table with linear probing.
 *
 * A Map did this before. Replaying a million-job log spent a fifth of its time in the
 * Map's `get` and `set` (about 0.5 µs per job, mostly cache misses walking its bucket
 * chains and rehashing as it doubles); here a probe walks a typed array of 32-bit hash
 * tags, which sits in a few cache lines, and touches a job only when its tag matches.
 * `set` also answers in the same probe whether the ID was taken, so replay looks each
 * ID up once instead of twice.
 *
 * IDs are chosen by clients, so the hash mixes the ID's four words (id-words.ts, as the
 * job holds them) with secret random multipliers: where an ID lands cannot be predicted,
 * so a client cannot make IDs pile up in one run of slots. An ID given as text is turned
 * into words once per call, and compared with a job's words without making a string.
 */
export class JobTable {
  /** Hash of the job in each slot, its low bit set; 0 marks an empty slot. */
  private tags = new Int32Array(MIN_CAPACITY);
  private jobs: Array<Job | null> = new Array<Job | null>(MIN_CAPACITY).fill(null);
  /** 32 − log2 of the capacity: a hash's home slot is its top bits. */
  private shift = 32 - Math.log2(MIN_CAPACITY);
  private count = 0;
  private readonly mul = new Int32Array(randomBytes(4 * MULTIPLIERS).buffer).map((w) => w | 1);

  get size(): number {
    return this.count;
  }

  get(id: string): Job | undefined {
    const slot = this.findText(id);
    return slot < 0 ? undefined : (this.jobs[slot] as Job);
  }

  has(id: string): boolean {
    return this.findText(id) >= 0;
  }

  hasKey(key: IdKey): boolean {
    return this.find(key.w0, key.w1, key.w2, key.w3) >= 0;
  }

  /** Puts the job under its ID; returns the job that held the ID before, if one did. */
  set(job: Job): Job | undefined {
    const { id0, id1, id2, id3 } = job;
    const tag = this.hash(id0, id1, id2, id3);
    const { tags, jobs } = this;
    const mask = tags.length - 1;
    for (let slot = (tag >>> this.shift) & mask; ; slot = (slot + 1) & mask) {
      const t = tags[slot]!;
      if (t === 0) {
        tags[slot] = tag;
        jobs[slot] = job;
        if (++this.count > tags.length * MAX_LOAD) this.resize(tags.length * 2);
        return undefined;
      }
      if (t === tag) {
        const old = jobs[slot] as Job;
        if (old.hasId(id0, id1, id2, id3)) {
          jobs[slot] = job;
          return old;
        }
      }
    }
  }

  /** Removes the job with this ID; returns whether there was one. */
  delete(id: string): boolean {
    return this.deleteSlot(this.findText(id));
  }

  /** Removes whichever job holds this job's ID (the job itself, unless it was replaced); returns whether one did. */
  remove(job: Job): boolean {
    return this.deleteSlot(this.find(job.id0, job.id1, job.id2, job.id3));
  }

  /** True when this very job is the one held under its ID; a job the engine dropped never is, and is not read. */
  holds(job: Job): boolean {
    if (job.slot < 0) return false;
    const slot = this.find(job.id0, job.id1, job.id2, job.id3);
    return slot >= 0 && this.jobs[slot] === job;
  }

  private deleteSlot(slot: number): boolean {
    let hole = slot;
    if (hole < 0) return false;
    const { tags, jobs } = this;
    const mask = tags.length - 1;
    // Backward-shift deletion: pull later entries of the probe run into the hole when
    // their home slot allows, so no tombstones are needed.
    for (let slot = (hole + 1) & mask; tags[slot] !== 0; slot = (slot + 1) & mask) {
      const home = (tags[slot]! >>> this.shift) & mask;
      if (((slot - home) & mask) >= ((slot - hole) & mask)) {
        tags[hole] = tags[slot]!;
        jobs[hole] = jobs[slot]!;
        hole = slot;
      }
    }
    tags[hole] = 0;
    jobs[hole] = null;
    if (--this.count < tags.length * MIN_LOAD && tags.length > MIN_CAPACITY) this.resize(tags.length / 2);
    return true;
  }

  /** Every job, in no particular order. */
  *values(): IterableIterator<Job> {
    for (const job of this.jobs) if (job !== null) yield job;
  }

  /** Slot of the canonical ID, or -1. */
  private findText(id: string): number {
    return this.find(idWord(id, 0), idWord(id, 1), idWord(id, 2), idWord(id, 3));
  }

  /** Slot of the ID with these words, or -1. */
  private find(id0: number, id1: number, id2: number, id3: number): number {
    const tag = this.hash(id0, id1, id2, id3);
    const { tags, jobs } = this;
    const mask = tags.length - 1;
    for (let slot = (tag >>> this.shift) & mask; ; slot = (slot + 1) & mask) {
      const t = tags[slot]!;
      if (t === 0) return -1;
      if (t === tag) {
        if ((jobs[slot] as Job).hasId(id0, id1, id2, id3)) return slot;
      }
    }
  }

  /** Multiply-add over the ID's words, with the low bit set so no hash is 0. */
  private hash(id0: number, id1: number, id2: number, id3: number): number {
    const mul = this.mul;
    return (Math.imul(id0, mul[0]!) + Math.imul(id1, mul[1]!) + Math.imul(id2, mul[2]!) + Math.imul(id3, mul[3]!)) | 1;
  }

  private resize(capacity: number): void {
    const { tags, jobs } = this;
    this.tags = new Int32Array(capacity);
    this.jobs = new Array<Job | null>(capacity).fill(null);
    this.shift = 32 - Math.log2(capacity);
    const mask = capacity - 1;
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i]!;
      if (tag === 0) continue;
      let slot = (tag >>> this.shift) & mask;
      while (this.tags[slot] !== 0) slot = (slot + 1) & mask;
      this.tags[slot] = tag;
      this.jobs[slot] = jobs[i]!;
    }
  }
}
