import { randomBytes } from 'node:crypto';
import { type IdKey, idWord } from './id-words.js';
import type { Job } from './job.js';

/** The table is 2^SHARD_BITS tables of its own, each growing and shrinking on its own. */
const SHARD_BITS = 6;
const SHARDS = 1 << SHARD_BITS;
/** Slots of a fresh shard; always a power of two. */
const MIN_CAPACITY = 64;
/** A shard doubles once more than its share of slots is taken: between these, staggered by shard… */
const FIRST_MAX_LOAD = 0.55;
const LAST_MAX_LOAD = 0.75;
/** …and halves when less than this share is. */
const MIN_LOAD = 0.1;
/** Words per ID (id-words.ts). */
const MULTIPLIERS = 4;

/**
 * Every job by ID: open-addressing hash tables with linear probing.
 *
 * A Map did this before. Replaying a million-job log spent a fifth of its time in the
 * Map's `get` and `set` (about 0.5 µs per job, mostly cache misses walking its bucket
 * chains and rehashing as it doubles); here a probe walks a typed array of 32-bit hash
 * tags, which sits in a few cache lines, and touches a job only when its tag matches.
 * `set` also answers in the same probe whether the ID was taken, so replay looks each
 * ID up once instead of twice.
 *
 * The jobs are spread over SHARDS tables by bits of their hash, and each doubles at a
 * load of its own, from FIRST_MAX_LOAD to LAST_MAX_LOAD: a single table doubled all at
 * once, allocating and filling arrays for every job in one step (32 MiB of pointers and
 * 16 MiB of tags at 1.5 million jobs), and V8 met that with a full collection done in
 * one pause. Staggered, the shards double one at a time across a third of the way to the
 * next doubling, each moving a 64th of the jobs.
 *
 * IDs are chosen by clients, so the hash mixes the ID's four words (id-words.ts, as the
 * job holds them) with secret random multipliers: where an ID lands cannot be predicted,
 * so a client cannot make IDs pile up in one run of slots. An ID given as text is turned
 * into words once per call, and compared with a job's words without making a string.
 */
export class JobTable {
  private readonly shards = Array.from({ length: SHARDS }, (_, i) => new Shard(FIRST_MAX_LOAD + ((LAST_MAX_LOAD - FIRST_MAX_LOAD) * i) / (SHARDS - 1)));
  private count = 0;
  /** The shard of the last `find`. */
  private found: Shard = this.shards[0]!;
  private readonly mul = new Int32Array(randomBytes(4 * MULTIPLIERS).buffer).map((w) => w | 1);

  get size(): number {
    return this.count;
  }

  get(id: string): Job | undefined {
    const slot = this.findText(id);
    return slot < 0 ? undefined : (this.found.jobs[slot] as Job);
  }

  has(id: string): boolean {
    return this.findText(id) >= 0;
  }

  hasKey(key: IdKey): boolean {
    return this.find(key.w0, key.w1, key.w2, key.w3) >= 0;
  }

  /** Puts the job under its ID; returns the job that held the ID before, if one did. */
  set(job: Job): Job | undefined {
    const tag = this.hash(job.id0, job.id1, job.id2, job.id3);
    const old = this.shardOf(tag).set(tag, job);
    if (old === undefined) this.count++;
    return old;
  }

  /** Removes the job with this ID; returns whether there was one. */
  delete(id: string): boolean {
    return this.deleteFound(this.findText(id));
  }

  /** Removes whichever job holds this job's ID (the job itself, unless it was replaced); returns whether one did. */
  remove(job: Job): boolean {
    return this.deleteFound(this.find(job.id0, job.id1, job.id2, job.id3));
  }

  /** True when this very job is the one held under its ID; a job the engine dropped never is, and is not read. */
  holds(job: Job): boolean {
    if (job.slot < 0) return false;
    const slot = this.find(job.id0, job.id1, job.id2, job.id3);
    return slot >= 0 && this.found.jobs[slot] === job;
  }

  /** Every job, in no particular order. */
  *values(): IterableIterator<Job> {
    for (const shard of this.shards) for (const job of shard.jobs) if (job !== null) yield job;
  }

  private deleteFound(slot: number): boolean {
    if (!this.found.delete(slot)) return false;
    this.count--;
    return true;
  }

  /** Slot of the canonical ID, or -1. */
  private findText(id: string): number {
    return this.find(idWord(id, 0), idWord(id, 1), idWord(id, 2), idWord(id, 3));
  }

  /** Slot of the ID with these words in its shard, which is left in `found`; or -1. */
  private find(id0: number, id1: number, id2: number, id3: number): number {
    const tag = this.hash(id0, id1, id2, id3);
    this.found = this.shardOf(tag);
    return this.found.find(tag, id0, id1, id2, id3);
  }

  /** The hash's top SHARD_BITS bits; the bits below them give the home slot in the shard (homeOf). */
  private shardOf(tag: number): Shard {
    return this.shards[tag >>> (32 - SHARD_BITS)]!;
  }

  /** Multiply-add over the ID's words, with the low bit set so no hash is 0. */
  private hash(id0: number, id1: number, id2: number, id3: number): number {
    const mul = this.mul;
    return (Math.imul(id0, mul[0]!) + Math.imul(id1, mul[1]!) + Math.imul(id2, mul[2]!) + Math.imul(id3, mul[3]!)) | 1;
  }
}

/** One of the table's open-addressing tables. */
class Shard {
  /** Hash of the job in each slot, its low bit set; 0 marks an empty slot. */
  tags = new Int32Array(MIN_CAPACITY);
  jobs: Array<Job | null> = new Array<Job | null>(MIN_CAPACITY).fill(null);
  /** 32 − log2 of the capacity: a hash's home slot is its top bits after the shard's. */
  private shift = 32 - Math.log2(MIN_CAPACITY);
  private count = 0;

  constructor(private readonly maxLoad: number) {}

  /** Puts the job under its hash; returns the job that held its ID before, if one did. */
  set(tag: number, job: Job): Job | undefined {
    const { tags, jobs } = this;
    const mask = tags.length - 1;
    for (let slot = this.homeOf(tag); ; slot = (slot + 1) & mask) {
      const t = tags[slot]!;
      if (t === 0) {
        tags[slot] = tag;
        jobs[slot] = job;
        if (++this.count > tags.length * this.maxLoad) this.resize(tags.length * 2);
        return undefined;
      }
      if (t === tag) {
        const old = jobs[slot] as Job;
        if (old.hasId(job.id0, job.id1, job.id2, job.id3)) {
          jobs[slot] = job;
          return old;
        }
      }
    }
  }

  /** Slot of the ID with this hash and these words, or -1. */
  find(tag: number, id0: number, id1: number, id2: number, id3: number): number {
    const { tags, jobs } = this;
    const mask = tags.length - 1;
    for (let slot = this.homeOf(tag); ; slot = (slot + 1) & mask) {
      const t = tags[slot]!;
      if (t === 0) return -1;
      if (t === tag) {
        if ((jobs[slot] as Job).hasId(id0, id1, id2, id3)) return slot;
      }
    }
  }

  /** Empties the slot `find` gave; false for -1. */
  delete(slot: number): boolean {
    let hole = slot;
    if (hole < 0) return false;
    const { tags, jobs } = this;
    const mask = tags.length - 1;
    // Backward-shift deletion: pull later entries of the probe run into the hole when
    // their home slot allows, so no tombstones are needed.
    for (let slot = (hole + 1) & mask; tags[slot] !== 0; slot = (slot + 1) & mask) {
      const home = this.homeOf(tags[slot]!);
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

  /** Up to 2^(32 − SHARD_BITS) slots, more than a shard ever holds. */
  private homeOf(tag: number): number {
    return (tag << SHARD_BITS) >>> this.shift;
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
      let slot = this.homeOf(tag);
      while (this.tags[slot] !== 0) slot = (slot + 1) & mask;
      this.tags[slot] = tag;
      this.jobs[slot] = jobs[i]!;
    }
  }
}
