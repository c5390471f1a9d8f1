import { randomBytes } from 'node:crypto';
import { type IdKey, idWord } from './id-words.js';
import type { JobStore } from './job-store.js';

/** The table is 2^SHARD_BITS tables of its own, each growing and shrinking on its own. */
const SHARD_BITS = 6;
const SHARDS = 1 << SHARD_BITS;
/** Places of a fresh shard; always a power of two. */
const MIN_CAPACITY = 64;
/** A shard doubles once more than this share of its places is taken: between these, staggered by shard… */
const FIRST_MAX_LOAD = 0.55;
const LAST_MAX_LOAD = 0.75;
/** …and halves when less than this share is. */
const MIN_LOAD = 0.1;
/** Words per ID (id-words.ts). */
const MULTIPLIERS = 4;

/**
 * Every job by ID, as its slot in the store (job-store.ts): open-addressing hash tables with linear probing.
 *
 * A Map did this before. Replaying a million-job log spent a fifth of its time in the
 * Map's `get` and `set` (about 0.5 µs per job, mostly cache misses walking its bucket
 * chains and rehashing as it doubles); here a probe walks a typed array of 32-bit hash
 * tags, which sits in a few cache lines, and reads a job's ID only when its tag matches.
 * `set` also answers in the same probe whether the ID was taken, so replay looks each
 * ID up once instead of twice.
 *
 * The jobs are spread over SHARDS tables by bits of their hash, and each doubles at a
 * load of its own, from FIRST_MAX_LOAD to LAST_MAX_LOAD: a single table doubled all at
 * once, allocating and filling arrays for every job in one step (32 MiB of pointers and
 * 16 MiB of tags at 1.5 million jobs, when it held pointers), and V8 met that with a full collection done in
 * one pause. Staggered, the shards double one at a time across a third of the way to the
 * next doubling, each moving a 64th of the jobs.
 *
 * IDs are chosen by clients, so the hash mixes the ID's four words (id-words.ts, as the
 * store holds them) with secret random multipliers: where an ID lands cannot be predicted,
 * so a client cannot make IDs pile up in one run of places. An ID given as text is turned
 * into words once per call, and compared with a job's words without making a string.
 */
export class JobTable {
  private readonly shards: Shard[];
  private count = 0;
  /** The shard of the last `find`. */
  private found: Shard;
  private readonly mul = new Int32Array(randomBytes(4 * MULTIPLIERS).buffer).map((w) => w | 1);

  constructor(private readonly store: JobStore) {
    this.shards = Array.from({ length: SHARDS }, (_, i) => new Shard(store, FIRST_MAX_LOAD + ((LAST_MAX_LOAD - FIRST_MAX_LOAD) * i) / (SHARDS - 1)));
    this.found = this.shards[0]!;
  }

  get size(): number {
    return this.count;
  }

  /** The slot of the job with this ID, or -1. */
  get(id: string): number {
    const at = this.findText(id);
    return at < 0 ? -1 : this.found.slots[at]!;
  }

  has(id: string): boolean {
    return this.findText(id) >= 0;
  }

  hasKey(key: IdKey): boolean {
    return this.find(key.w0, key.w1, key.w2, key.w3) >= 0;
  }

  /** Puts the job under its ID; returns the slot of the job that held the ID before, or -1. */
  set(slot: number): number {
    const store = this.store;
    const tag = this.hash(store.id0(slot), store.id1(slot), store.id2(slot), store.id3(slot));
    const old = this.shardOf(tag).set(tag, slot);
    if (old < 0) this.count++;
    return old;
  }

  /** Removes the job with this ID; returns whether there was one. */
  delete(id: string): boolean {
    return this.deleteFound(this.findText(id));
  }

  /** Removes whichever job holds this job's ID (the job itself, unless it was replaced); returns whether one did. */
  remove(slot: number): boolean {
    const store = this.store;
    return this.deleteFound(this.find(store.id0(slot), store.id1(slot), store.id2(slot), store.id3(slot)));
  }

  /** The job with this slot's ID moved to `slot` (JobStore.moveTopDown). */
  moved(slot: number): void {
    const store = this.store;
    const at = this.find(store.id0(slot), store.id1(slot), store.id2(slot), store.id3(slot));
    this.found.slots[at] = slot;
  }

  /** Every job's slot, in no particular order. */
  *values(): IterableIterator<number> {
    for (const shard of this.shards) {
      const { tags, slots } = shard;
      for (let i = 0; i < tags.length; i++) if (tags[i] !== 0) yield slots[i]!;
    }
  }

  private deleteFound(at: number): boolean {
    if (!this.found.delete(at)) return false;
    this.count--;
    return true;
  }

  /** Place of the canonical ID in its shard, or -1. */
  private findText(id: string): number {
    return this.find(idWord(id, 0), idWord(id, 1), idWord(id, 2), idWord(id, 3));
  }

  /** Place of the ID with these words in its shard, which is left in `found`; or -1. */
  private find(id0: number, id1: number, id2: number, id3: number): number {
    const tag = this.hash(id0, id1, id2, id3);
    this.found = this.shardOf(tag);
    return this.found.find(tag, id0, id1, id2, id3);
  }

  /** The hash's top SHARD_BITS bits; the bits below them give the home place in the shard (homeOf). */
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
  /** Hash of the job in each place, its low bit set; 0 marks an empty place. */
  tags = new Int32Array(MIN_CAPACITY);
  /** The job's slot in the store, beside its tag. */
  slots = new Int32Array(MIN_CAPACITY);
  /** 32 − log2 of the capacity: a hash's home place is its top bits after the shard's. */
  private shift = 32 - Math.log2(MIN_CAPACITY);
  private count = 0;

  constructor(
    private readonly store: JobStore,
    private readonly maxLoad: number,
  ) {}

  /** Puts the job under its hash; returns the slot of the job that held its ID before, or -1. */
  set(tag: number, slot: number): number {
    const { tags, slots, store } = this;
    const mask = tags.length - 1;
    for (let at = this.homeOf(tag); ; at = (at + 1) & mask) {
      const t = tags[at]!;
      if (t === 0) {
        tags[at] = tag;
        slots[at] = slot;
        if (++this.count > tags.length * this.maxLoad) this.resize(tags.length * 2);
        return -1;
      }
      if (t === tag) {
        const old = slots[at]!;
        if (store.hasId(old, store.id0(slot), store.id1(slot), store.id2(slot), store.id3(slot))) {
          slots[at] = slot;
          return old;
        }
      }
    }
  }

  /** Place of the ID with this hash and these words, or -1. */
  find(tag: number, id0: number, id1: number, id2: number, id3: number): number {
    const { tags, slots, store } = this;
    const mask = tags.length - 1;
    for (let at = this.homeOf(tag); ; at = (at + 1) & mask) {
      const t = tags[at]!;
      if (t === 0) return -1;
      if (t === tag && store.hasId(slots[at]!, id0, id1, id2, id3)) return at;
    }
  }

  /** Empties the place `find` gave; false for -1. */
  delete(place: number): boolean {
    let hole = place;
    if (hole < 0) return false;
    const { tags, slots } = this;
    const mask = tags.length - 1;
    // Backward-shift deletion: pull later entries of the probe run into the hole when
    // their home place allows, so no tombstones are needed.
    for (let at = (hole + 1) & mask; tags[at] !== 0; at = (at + 1) & mask) {
      const home = this.homeOf(tags[at]!);
      if (((at - home) & mask) >= ((at - hole) & mask)) {
        tags[hole] = tags[at]!;
        slots[hole] = slots[at]!;
        hole = at;
      }
    }
    tags[hole] = 0;
    if (--this.count < tags.length * MIN_LOAD && tags.length > MIN_CAPACITY) this.resize(tags.length / 2);
    return true;
  }

  /** Up to 2^(32 − SHARD_BITS) places, more than a shard ever holds. */
  private homeOf(tag: number): number {
    return (tag << SHARD_BITS) >>> this.shift;
  }

  private resize(capacity: number): void {
    const { tags, slots } = this;
    this.tags = new Int32Array(capacity);
    this.slots = new Int32Array(capacity);
    this.shift = 32 - Math.log2(capacity);
    const mask = capacity - 1;
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i]!;
      if (tag === 0) continue;
      let at = this.homeOf(tag);
      while (this.tags[at] !== 0) at = (at + 1) & mask;
      this.tags[at] = tag;
      this.slots[at] = slots[i]!;
    }
  }
}
