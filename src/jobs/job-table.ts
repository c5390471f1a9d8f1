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
/** Fewer jobs put off than this are placed one by one: sorting them would not pay. */
const SORTED_FROM = 4096;
/**
 * At most this many jobs are put off: then they are placed. A batch that size still
 * touches every cache line of a million-job table in order, and the arrays it takes
 * (1 MiB each) stay small: freed arrays of 4 MiB and more stayed in the process's RSS.
 */
const MAX_PUT_OFF = 1 << 18;
/** Bits of the hash by which put-off jobs are sorted, in passes of RADIX_BITS: the shard's and the top of the home place's. */
const SORT_BITS = 22;
const RADIX_BITS = 11;

/**
 * Every job by ID, as its slot in the store (job-store.ts): open-addressing hash tables with linear probing.
 *
 * A Map did this before. Replaying a million-job log spent a fifth of its time in the
 * Map's `get` and `set` (about 0.5 µs per job, mostly cache misses walking its bucket
 * chains and rehashing as it doubles); here a probe walks a typed array of 32-bit hash
 * tags, each beside its job's slot, and reads a job's ID only when its tag matches.
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
  /** Jobs put by insertNew that no shard holds yet; every call but `size` places them first. */
  private newSlots = new Int32Array(0);
  private newCount = 0;

  constructor(private readonly store: JobStore) {
    this.shards = Array.from({ length: SHARDS }, (_, i) => new Shard(store, FIRST_MAX_LOAD + ((LAST_MAX_LOAD - FIRST_MAX_LOAD) * i) / (SHARDS - 1)));
    this.found = this.shards[0]!;
  }

  get size(): number {
    return this.count;
  }

  /** The slot of the job with this ID, or -1. */
  get(id: string): number {
    this.place();
    const at = this.findText(id);
    return at < 0 ? -1 : this.found.slotAt(at);
  }

  has(id: string): boolean {
    this.place();
    return this.findText(id) >= 0;
  }

  hasKey(key: IdKey): boolean {
    this.place();
    return this.find(key.w0, key.w1, key.w2, key.w3) >= 0;
  }

  /** Puts the job under its ID; returns the slot of the job that held the ID before, or -1. */
  set(slot: number): number {
    this.place();
    const store = this.store;
    const tag = this.hash(store.id0(slot), store.id1(slot), store.id2(slot), store.id3(slot));
    const old = this.shardOf(tag).set(tag, slot);
    if (old < 0) this.count++;
    return old;
  }

  /** Removes the job with this ID; returns whether there was one. */
  delete(id: string): boolean {
    this.place();
    return this.deleteFound(this.findText(id));
  }

  /** Removes whichever job holds this job's ID (the job itself, unless it was replaced); returns whether one did. */
  remove(slot: number): boolean {
    this.place();
    const store = this.store;
    return this.deleteFound(this.find(store.id0(slot), store.id1(slot), store.id2(slot), store.id3(slot)));
  }

  /** The job with this slot's ID moved to `slot` (JobStore.moveTopDown). */
  moved(slot: number): void {
    this.place();
    const store = this.store;
    const at = this.find(store.id0(slot), store.id1(slot), store.id2(slot), store.id3(slot));
    this.found.setSlotAt(at, slot);
  }

  /** Every job's slot, in no particular order. */
  *values(): IterableIterator<number> {
    this.place();
    for (const shard of this.shards) yield* shard.slots();
  }

  /**
   * Puts a job whose ID no job in the table has, as the caller knows (replay: no add for
   * the ID since its last delete or expire record), without placing it yet. The jobs put
   * so are placed together by the next other call, by placeNew, or once MAX_PUT_OFF wait:
   * sorted by their home places, each shard grown once to its size after them. Placed one
   * by one, a million replayed jobs cost a cache miss each, a tenth of the replay, and
   * every shard's doublings. A job put off must not move in the store before it is placed:
   * the engine moves jobs only when it releases one, which it does after a table call.
   */
  insertNew(slot: number): void {
    if (this.newCount === MAX_PUT_OFF) this.place();
    if (this.newCount === this.newSlots.length) {
      const more = new Int32Array(Math.max(1024, 2 * this.newCount));
      more.set(this.newSlots);
      this.newSlots = more;
    }
    this.newSlots[this.newCount++] = slot;
    this.count++;
  }

  /** Places the jobs insertNew put, and lets go of its list: replay is over. */
  placeNew(): void {
    this.place();
    this.newSlots = new Int32Array(0);
  }

  private place(): void {
    const n = this.newCount;
    if (n === 0) return;
    this.newCount = 0;
    const store = this.store;
    let slots = this.newSlots;
    let tags = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const slot = slots[i]!;
      tags[i] = this.hash(store.id0(slot), store.id1(slot), store.id2(slot), store.id3(slot));
    }
    if (n >= SORTED_FROM) {
      const adding = new Int32Array(SHARDS);
      for (let i = 0; i < n; i++) adding[tags[i]! >>> (32 - SHARD_BITS)]!++;
      for (let s = 0; s < SHARDS; s++) this.shards[s]!.reserve(adding[s]!);
      // Least significant digit first: each pass keeps the order of the one before.
      let spareTags = new Int32Array(n);
      let spareSlots = new Int32Array(n);
      for (let shift = 32 - SORT_BITS; shift < 32; shift += RADIX_BITS) {
        radixPass(tags, slots, spareTags, spareSlots, n, shift);
        [tags, spareTags] = [spareTags, tags];
        [slots, spareSlots] = [spareSlots, slots];
      }
    }
    for (let i = 0; i < n; i++) this.shardOf(tags[i]!).set(tags[i]!, slots[i]!);
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
  /**
   * Each place is two words: the hash of the job there (its low bit set; 0 marks an empty
   * place), then the job's slot in the store. Side by side, a lookup finds both in one
   * cache line: with the slots in an array of their own, a table too large for the cache
   * cost a second miss on every insert and every hit.
   */
  places = new Int32Array(2 * MIN_CAPACITY);
  /** 32 − log2 of the capacity: a hash's home place is its top bits after the shard's. */
  private shift = 32 - Math.log2(MIN_CAPACITY);
  private count = 0;

  constructor(
    private readonly store: JobStore,
    private readonly maxLoad: number,
  ) {}

  /** Places, taken or not. */
  get capacity(): number {
    return this.places.length >>> 1;
  }

  /** Grows the shard at once to the size that `more` jobs would make it grow to. */
  reserve(more: number): void {
    let capacity = this.capacity;
    while (this.count + more > capacity * this.maxLoad) capacity *= 2;
    if (capacity !== this.capacity) this.resize(capacity);
  }

  /** The slot of the job at a place `find` gave. */
  slotAt(place: number): number {
    return this.places[2 * place + 1]!;
  }

  setSlotAt(place: number, slot: number): void {
    this.places[2 * place + 1] = slot;
  }

  /** Puts the job under its hash; returns the slot of the job that held its ID before, or -1. */
  set(tag: number, slot: number): number {
    const { places, store } = this;
    const mask = (places.length >>> 1) - 1;
    for (let at = this.homeOf(tag); ; at = (at + 1) & mask) {
      const t = places[2 * at]!;
      if (t === 0) {
        places[2 * at] = tag;
        places[2 * at + 1] = slot;
        if (++this.count > this.capacity * this.maxLoad) this.resize(this.capacity * 2);
        return -1;
      }
      if (t === tag) {
        const old = places[2 * at + 1]!;
        if (store.hasId(old, store.id0(slot), store.id1(slot), store.id2(slot), store.id3(slot))) {
          places[2 * at + 1] = slot;
          return old;
        }
      }
    }
  }

  /** Place of the ID with this hash and these words, or -1. */
  find(tag: number, id0: number, id1: number, id2: number, id3: number): number {
    const { places, store } = this;
    const mask = (places.length >>> 1) - 1;
    for (let at = this.homeOf(tag); ; at = (at + 1) & mask) {
      const t = places[2 * at]!;
      if (t === 0) return -1;
      if (t === tag && store.hasId(places[2 * at + 1]!, id0, id1, id2, id3)) return at;
    }
  }

  /** Empties the place `find` gave; false for -1. */
  delete(place: number): boolean {
    let hole = place;
    if (hole < 0) return false;
    const places = this.places;
    const mask = (places.length >>> 1) - 1;
    // Backward-shift deletion: pull later entries of the probe run into the hole when
    // their home place allows, so no tombstones are needed.
    for (let at = (hole + 1) & mask; places[2 * at] !== 0; at = (at + 1) & mask) {
      const home = this.homeOf(places[2 * at]!);
      if (((at - home) & mask) >= ((at - hole) & mask)) {
        places[2 * hole] = places[2 * at]!;
        places[2 * hole + 1] = places[2 * at + 1]!;
        hole = at;
      }
    }
    places[2 * hole] = 0;
    if (--this.count < this.capacity * MIN_LOAD && this.capacity > MIN_CAPACITY) this.resize(this.capacity / 2);
    return true;
  }

  /** Every job's slot, in no particular order. */
  *slots(): IterableIterator<number> {
    const places = this.places;
    for (let i = 0; i < places.length; i += 2) if (places[i] !== 0) yield places[i + 1]!;
  }

  /** Up to 2^(32 − SHARD_BITS) places, more than a shard ever holds. */
  private homeOf(tag: number): number {
    return (tag << SHARD_BITS) >>> this.shift;
  }

  private resize(capacity: number): void {
    const old = this.places;
    const places = new Int32Array(2 * capacity);
    this.places = places;
    this.shift = 32 - Math.log2(capacity);
    const mask = capacity - 1;
    for (let i = 0; i < old.length; i += 2) {
      const tag = old[i]!;
      if (tag === 0) continue;
      let at = this.homeOf(tag);
      while (places[2 * at] !== 0) at = (at + 1) & mask;
      places[2 * at] = tag;
      places[2 * at + 1] = old[i + 1]!;
    }
  }
}

/** One stable counting-sort pass of (tag, slot) pairs by RADIX_BITS bits of the tag from `shift` up. */
function radixPass(tags: Int32Array, slots: Int32Array, toTags: Int32Array, toSlots: Int32Array, n: number, shift: number): void {
  const mask = (1 << RADIX_BITS) - 1;
  const starts = new Int32Array((1 << RADIX_BITS) + 1);
  for (let i = 0; i < n; i++) starts[((tags[i]! >>> shift) & mask) + 1]!++;
  for (let d = 1; d <= mask; d++) starts[d + 1]! += starts[d]!;
  for (let i = 0; i < n; i++) {
    const at = starts[(tags[i]! >>> shift) & mask]!++;
    toTags[at] = tags[i]!;
    toSlots[at] = slots[i]!;
  }
}
