import { idText, writeIdWords } from './id-words.js';
import { PayloadSlab } from './payload-slab.js';
import type { Queue } from './queue.js';
import type { RetryDelay } from './retry-delay.js';
import { floorMs } from './wall-time.js';

/** Slots per page of every column: 2^14, so a page of IDs is 256 KiB and one of 4-byte fields 64 KiB. */
export const PAGE_SHIFT = 14;
const PAGE_SLOTS = 1 << PAGE_SHIFT;
export const PAGE_MASK = PAGE_SLOTS - 1;
/** Words of a page's free-slot bitmap. */
const PAGE_WORDS = PAGE_SLOTS >>> 5;
/** Below this share of its slots taken, the jobs in the store's upper half are moved down (`wantsShrink`). */
const MIN_LOAD = 0.2;

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
 * Layout of the `bits` column, for what every job has but seldom reads: state (3 bits),
 * attempts, max-attempts and max-fails (0–255 each, docs/protocol.md 3.5 and 7.4), the
 * foreground flag.
 */
const STATE_MASK = 0x7;
const ATTEMPTS_SHIFT = 3;
const MAX_ATTEMPTS_SHIFT = 11;
const MAX_FAILS_SHIFT = 19;
const BYTE = 0xff;
const FOREGROUND = 1 << 27;

/**
 * What only some jobs have: a scheduled time, failures and a result, waiters, a retry
 * delay. Made the first time a job needs any of it, so that a plain queued job does
 * not carry these fields.
 */
class JobExtra {
  timeSec = 0;
  timeNsec = 0;
  fails = 0;
  result: string | null = null;
  waiters: unknown = null;
  /** The job's own retry delay (docs/protocol-extensions.md); null: the engine's default. */
  retryDelay: RetryDelay | null = null;
  /** Unix ms at which the job, waiting out a retry delay, becomes ready; 0 when not waiting. */
  retryAt = 0;
}

type Column<T> = T[];

/** IDs made as text that the store remembers (recentSlotOf). */
const RECENT_TEXTS = 1024;

/** The value of a hex digit's char code, and something from 0 to 15 for any other. */
function nibble(code: number): number {
  return ((code & 15) + 9 * (code >> 6)) & 15;
}

/** Where the store remembers an ID made as text: by its last hex digits, which differ from job to job however a client numbers its IDs. */
function recentBucket(text: string): number {
  return ((nibble(text.charCodeAt(33)) & 3) << 8) | (nibble(text.charCodeAt(34)) << 4) | nibble(text.charCodeAt(35));
}

/** The same place, from the ID's last word (id-words.ts): those digits are its bytes 14 and 15. */
function recentBucketOfWord(w3: number): number {
  return (((w3 >>> 16) & 3) << 8) | (w3 >>> 24);
}

/**
 * Every job of an engine, as a C server keeps them: a job is a slot number, and its
 * fields are in typed-array columns indexed by the slot, unboxed and out of the garbage
 * collector's sight. Nothing per job is a JS object: the job table, the lists and the
 * heaps hold slots in typed arrays too, so a queued job costs its columns (76 bytes),
 * its payload in `payloads`, and 4 bytes in each structure that holds it, where a job
 * object and the 8-byte pointers to it cost about 110 bytes more. What only some jobs
 * have is in a JobExtra, found by the job's `extra` column.
 *
 * Each column is a list of pages of PAGE_SLOTS slots: slot s is at
 * `column[s >>> PAGE_SHIFT][s & PAGE_MASK]` (four words at `4 * (s & PAGE_MASK)` for the
 * IDs). The store grows by one page of each column and never copies what it holds:
 * growing flat columns by half copied them all at once, and at 1.5 million jobs that
 * was about 150 MB of new typed arrays in one step, which V8 answered with two full
 * collections done at once, a pause of half a second.
 *
 * A slot is taken when a job is made (`take`) and given back when the engine drops the
 * job (`free`). The lowest free slot is always taken first, and once the top two pages
 * are both free the top one is given back. Jobs that stay while others leave can hold
 * the top pages, so under a fifth of the slots taken the engine moves the highest jobs
 * to the lowest free slots (`moveTopDown`), a few at a time, telling each structure that
 * holds their slots.
 *
 * Each job also gets a serial number, unique among the last 2^32 jobs made: a Job view
 * (job.ts) remembers it, and refuses to read a slot that another job has taken since.
 */
export class JobStore {
  readonly payloads = new PayloadSlab();
  /** The ID's four words (id-words.ts) at 4 * cell of the page. */
  private readonly ids: Column<Int32Array> = [];
  private readonly ttr: Column<Int32Array> = [];
  /** At most 2,592,000,000 ms (MAX_TTL). */
  private readonly ttl: Column<Uint32Array> = [];
  private readonly priority: Column<Int32Array> = [];
  private readonly payloadRef: Column<Int32Array> = [];
  private readonly createdSec: Column<Float64Array> = [];
  private readonly createdNsec: Column<Int32Array> = [];
  /** State, attempts, max-attempts, max-fails and the foreground flag (layout above). */
  private readonly bits: Column<Int32Array> = [];
  /** 0 while in the ready or scheduled list of its queue, its position while in a state list (StateList), else -1. */
  private readonly listIndex: Column<Int32Array> = [];
  /** Position in the engine's expiry heap, -1 when not there. */
  private readonly expiryIndex: Column<Int32Array> = [];
  /** Position in the engine's deadline heap (TTR end or scheduled time), -1 when not there. */
  private readonly deadlineIndex: Column<Int32Array> = [];
  /** Where its ready list keeps its readySince (ReadyAges) while it is in that list. */
  private readonly ageIndex: Column<Int32Array> = [];
  /** The job's queue, by its number (`queueAt`). */
  private readonly queueId: Column<Int32Array> = [];
  /** The job's JobExtra in `extras`, -1 while it has none. */
  private readonly extra: Column<Int32Array> = [];
  private readonly serial: Column<Uint32Array> = [];
  /**
   * IDs made as text lately, by the last characters of the text, with their jobs' slots
   * (-1 for none). A worker completes the job its lease reply just named, with that
   * reply's own string (Frame.expectedId): the engine looks here (Engine.slotOf) before
   * the job table hashes the ID and walks a shard, a cache miss there and another at the
   * job's ID. With hundreds of workers leasing in between, most of their jobs are still
   * here. A job that leaves its slot takes its entry with it (forgetText), so an entry
   * always names the job in its slot.
   */
  private readonly recentTexts = new Array<string>(RECENT_TEXTS).fill('');
  private readonly recentSlots = new Int32Array(RECENT_TEXTS).fill(-1);
  /** Set bits: free slots. */
  private readonly freeBits: Uint32Array[] = [];
  /** Free slots of each page. */
  private readonly freeCounts: number[] = [];
  /** No word of a page's bitmap below this one has a free slot. */
  private readonly freeWord: number[] = [];
  /** No page below this one has a free slot. */
  private lowestFree = 0;
  private taken = 0;
  private lastSerial = 0;
  private moved = -1;
  private readonly extras: (JobExtra | null)[] = [];
  private readonly freeExtras: number[] = [];
  private readonly queues: (Queue | null)[] = [];
  private readonly freeQueueIds: number[] = [];
  /** Every column but the IDs, one field a slot. */
  private readonly scalars: Column<Int32Array | Uint32Array | Float64Array>[] = [
    this.ttr,
    this.ttl,
    this.priority,
    this.payloadRef,
    this.createdSec,
    this.createdNsec,
    this.bits,
    this.listIndex,
    this.expiryIndex,
    this.deadlineIndex,
    this.ageIndex,
    this.queueId,
    this.extra,
    this.serial,
  ];

  /** Slots taken. */
  get size(): number {
    return this.taken;
  }

  /** Pages of each column. */
  get pageCount(): number {
    return this.ids.length;
  }

  // ---- slots -----------------------------------------------------------------------

  /**
   * The lowest free slot, for a new job in `queue`: its ID words, a serial, no extra, in
   * no list or heap; the caller writes the other columns (`fill`).
   */
  take(queue: Queue, id0: number, id1: number, id2: number, id3: number): number {
    const slot = this.claimLowest();
    this.taken++;
    const page = slot >>> PAGE_SHIFT;
    const cell = slot & PAGE_MASK;
    const ids = this.ids[page]!;
    const at = 4 * cell;
    ids[at] = id0;
    ids[at + 1] = id1;
    ids[at + 2] = id2;
    ids[at + 3] = id3;
    this.queueId[page]![cell] = queue.id;
    this.extra[page]![cell] = -1;
    this.listIndex[page]![cell] = -1;
    this.expiryIndex[page]![cell] = -1;
    this.deadlineIndex[page]![cell] = -1;
    this.ageIndex[page]![cell] = -1;
    // 0 marks a free slot: after 2^32 - 1 jobs the count starts again at 1.
    this.lastSerial = (this.lastSerial + 1) >>> 0 || 1;
    this.serial[page]![cell] = this.lastSerial;
    return slot;
  }

  /** Writes the fields of a job just taken. */
  fill(
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
    this.ttr[page]![cell] = ttr;
    this.ttl[page]![cell] = ttl;
    this.priority[page]![cell] = priority;
    this.payloadRef[page]![cell] = payloadRef;
    this.createdSec[page]![cell] = createdSec;
    this.createdNsec[page]![cell] = createdNsec;
    this.bits[page]![cell] = JobState.New | (maxAttempts << MAX_ATTEMPTS_SHIFT) | (maxFails << MAX_FAILS_SHIFT) | (foreground ? FOREGROUND : 0);
  }

  /** The engine drops the job: its payload, its extra and its slot go back, and its serial is no longer any job's. */
  free(slot: number): void {
    const page = slot >>> PAGE_SHIFT;
    const cell = slot & PAGE_MASK;
    this.payloads.free(this.payloadRef[page]![cell]!);
    this.payloadRef[page]![cell] = 0;
    const extra = this.extra[page]![cell]!;
    if (extra >= 0) {
      this.extras[extra] = null;
      this.freeExtras.push(extra);
    }
    this.serial[page]![cell] = 0;
    this.forgetText(slot, -1);
    this.unclaim(slot);
    this.taken--;
    this.dropEmptyTop();
  }

  /** True when so few slots are taken that jobs should move down to free the top pages (`moveTopDown`). */
  get wantsShrink(): boolean {
    const pages = this.freeCounts.length;
    return pages > 2 && this.taken < pages * PAGE_SLOTS * MIN_LOAD;
  }

  /**
   * Moves the job in the highest taken slot to the lowest free slot, and returns the slot it
   * left (the new one is `movedTo`); -1, moving nothing, when no free slot is below it.
   * Every column, the serial too, is copied. The caller must tell everything that holds
   * the old slot (the job table, the lists and heaps, the views its waiters keep), which
   * can still read the job's fields there until `endMoves` or the next `take`.
   */
  moveTopDown(): number {
    const from = this.highestTaken();
    const to = this.lowestFreeSlot();
    if (from < 0 || to < 0 || to > from) return -1;
    this.claim(to);
    const fp = from >>> PAGE_SHIFT;
    const fc = from & PAGE_MASK;
    const tp = to >>> PAGE_SHIFT;
    const tc = to & PAGE_MASK;
    this.ids[tp]!.set(this.ids[fp]!.subarray(4 * fc, 4 * fc + 4), 4 * tc);
    for (const column of this.scalars) column[tp]![tc] = column[fp]![fc]!;
    this.serial[fp]![fc] = 0;
    this.forgetText(from, to);
    this.unclaim(from);
    this.moved = to;
    return from;
  }

  /** Where the last `moveTopDown` put its job. */
  get movedTo(): number {
    return this.moved;
  }

  /** Gives back the pages that moves have left free at the top, once everything that held their slots has been told. */
  endMoves(): void {
    this.dropEmptyTop();
  }

  /** True while the job with this serial holds the slot. */
  holds(slot: number, serial: number): boolean {
    return serial !== 0 && this.serial[slot >>> PAGE_SHIFT]?.[slot & PAGE_MASK] === serial;
  }

  serialOf(slot: number): number {
    return this.serial[slot >>> PAGE_SHIFT]![slot & PAGE_MASK]!;
  }

  /** Marks the lowest free slot taken, adding a page when none is free, and returns it. */
  private claimLowest(): number {
    let slot = this.lowestFreeSlot();
    if (slot < 0) {
      this.addPage();
      slot = this.lowestFreeSlot();
    }
    this.claim(slot);
    return slot;
  }

  /** The lowest free slot, -1 when every page is full. */
  private lowestFreeSlot(): number {
    let page = this.lowestFree;
    while (page < this.freeCounts.length && this.freeCounts[page] === 0) page++;
    this.lowestFree = page;
    if (page === this.freeCounts.length) return -1;
    const words = this.freeBits[page]!;
    let w = this.freeWord[page]!;
    while (words[w] === 0) w++;
    this.freeWord[page] = w;
    const free = words[w]!;
    return (page << PAGE_SHIFT) | (w << 5) | (31 - Math.clz32(free & -free));
  }

  /** The highest taken slot, -1 when none is. */
  private highestTaken(): number {
    for (let page = this.freeCounts.length - 1; page >= 0; page--) {
      if (this.freeCounts[page] === PAGE_SLOTS) continue;
      const words = this.freeBits[page]!;
      for (let w = PAGE_WORDS - 1; w >= 0; w--) {
        const taken = ~words[w]!;
        if (taken !== 0) return (page << PAGE_SHIFT) | (w << 5) | (31 - Math.clz32(taken));
      }
    }
    return -1;
  }

  private claim(slot: number): void {
    const page = slot >>> PAGE_SHIFT;
    const cell = slot & PAGE_MASK;
    const words = this.freeBits[page]!;
    const w = cell >>> 5;
    words[w] = words[w]! & ~(1 << (cell & 31));
    this.freeCounts[page]!--;
  }

  private unclaim(slot: number): void {
    const page = slot >>> PAGE_SHIFT;
    const cell = slot & PAGE_MASK;
    const words = this.freeBits[page]!;
    const w = cell >>> 5;
    words[w] = words[w]! | (1 << (cell & 31));
    this.freeCounts[page]!++;
    if (w < this.freeWord[page]!) this.freeWord[page] = w;
    if (page < this.lowestFree) this.lowestFree = page;
  }

  private addPage(): void {
    this.ids.push(new Int32Array(4 * PAGE_SLOTS));
    this.ttr.push(new Int32Array(PAGE_SLOTS));
    this.ttl.push(new Uint32Array(PAGE_SLOTS));
    this.priority.push(new Int32Array(PAGE_SLOTS));
    this.payloadRef.push(new Int32Array(PAGE_SLOTS));
    this.createdSec.push(new Float64Array(PAGE_SLOTS));
    this.createdNsec.push(new Int32Array(PAGE_SLOTS));
    this.bits.push(new Int32Array(PAGE_SLOTS));
    this.listIndex.push(new Int32Array(PAGE_SLOTS));
    this.expiryIndex.push(new Int32Array(PAGE_SLOTS));
    this.deadlineIndex.push(new Int32Array(PAGE_SLOTS));
    this.ageIndex.push(new Int32Array(PAGE_SLOTS));
    this.queueId.push(new Int32Array(PAGE_SLOTS));
    this.extra.push(new Int32Array(PAGE_SLOTS));
    this.serial.push(new Uint32Array(PAGE_SLOTS));
    this.freeBits.push(new Uint32Array(PAGE_WORDS).fill(0xffffffff));
    this.freeCounts.push(PAGE_SLOTS);
    this.freeWord.push(0);
  }

  /**
   * Gives back the top page while it and the page below are both wholly free: one free
   * page is kept on top, so a count of jobs that goes to and fro across a page's edge
   * does not make and drop a page each time.
   */
  private dropEmptyTop(): void {
    const counts = this.freeCounts;
    let pages = counts.length;
    while (pages > 1 && counts[pages - 1] === PAGE_SLOTS && counts[pages - 2] === PAGE_SLOTS) pages--;
    if (pages === counts.length) return;
    this.ids.length = pages;
    for (const column of this.scalars) column.length = pages;
    this.freeBits.length = pages;
    this.freeWord.length = pages;
    counts.length = pages;
    if (this.lowestFree > pages - 1) this.lowestFree = pages - 1;
  }

  // ---- queues ----------------------------------------------------------------------

  /** A number for the queue, which its jobs keep in their `queueId` column. */
  addQueue(queue: Queue): number {
    const id = this.freeQueueIds.pop() ?? this.queues.length;
    this.queues[id] = queue;
    return id;
  }

  /** The queue holds no job any more and is dropped: its number goes to the next queue made. */
  removeQueue(queue: Queue): void {
    if (this.queues[queue.id] !== queue) return;
    this.queues[queue.id] = null;
    this.freeQueueIds.push(queue.id);
  }

  queueAt(id: number): Queue {
    return this.queues[id]!;
  }

  queueOf(slot: number): Queue {
    return this.queues[this.queueId[slot >>> PAGE_SHIFT]![slot & PAGE_MASK]!]!;
  }

  // ---- fields read by the lists and heaps, and by Job views -------------------------

  id0(slot: number): number {
    return this.ids[slot >>> PAGE_SHIFT]![4 * (slot & PAGE_MASK)]!;
  }

  id1(slot: number): number {
    return this.ids[slot >>> PAGE_SHIFT]![4 * (slot & PAGE_MASK) + 1]!;
  }

  id2(slot: number): number {
    return this.ids[slot >>> PAGE_SHIFT]![4 * (slot & PAGE_MASK) + 2]!;
  }

  id3(slot: number): number {
    return this.ids[slot >>> PAGE_SHIFT]![4 * (slot & PAGE_MASK) + 3]!;
  }

  /** True when the job's ID has these words. */
  hasId(slot: number, id0: number, id1: number, id2: number, id3: number): boolean {
    const ids = this.ids[slot >>> PAGE_SHIFT]!;
    const at = 4 * (slot & PAGE_MASK);
    return ids[at] === id0 && ids[at + 1] === id1 && ids[at + 2] === id2 && ids[at + 3] === id3;
  }

  /** True when a's ID comes before b's in byte order, which is the order of their canonical text. */
  idBefore(a: number, b: number): boolean {
    const aIds = this.ids[a >>> PAGE_SHIFT]!;
    const bIds = this.ids[b >>> PAGE_SHIFT]!;
    const aAt = 4 * (a & PAGE_MASK);
    const bAt = 4 * (b & PAGE_MASK);
    for (let k = 0; k < 4; k++) {
      const x = aIds[aAt + k]!;
      const y = bIds[bAt + k]!;
      // Word k holds bytes 4k…4k+3 little-endian: swapped, they compare as one unsigned number.
      if (x !== y) return byteSwap(x) < byteSwap(y);
    }
    return false;
  }

  /** Canonical lowercase 8-4-4-4-12 form, made on each call (and remembered a while: recentSlotOf). */
  idText(slot: number): string {
    const ids = this.ids[slot >>> PAGE_SHIFT]!;
    const at = 4 * (slot & PAGE_MASK);
    const text = idText(ids[at]!, ids[at + 1]!, ids[at + 2]!, ids[at + 3]!);
    const i = recentBucket(text);
    this.recentTexts[i] = text;
    this.recentSlots[i] = slot;
    return text;
  }

  /** The slot of the job whose ID is `text`, if the store made that text lately (idText) and the job is still here; else -1, which says nothing. */
  recentSlotOf(text: string): number {
    const i = recentBucket(text);
    return this.recentTexts[i] === text ? this.recentSlots[i]! : -1;
  }

  /** The job in `slot` leaves it: for good (`to` -1), or for `to`. Its remembered text, if any, names no slot or the new one. */
  private forgetText(slot: number, to: number): void {
    const i = recentBucketOfWord(this.ids[slot >>> PAGE_SHIFT]![4 * (slot & PAGE_MASK) + 3]!);
    if (this.recentSlots[i] === slot) this.recentSlots[i] = to;
  }

  /** Writes the ID's 16 bytes at `off`; returns the offset after them. */
  writeId(slot: number, buf: Uint8Array, off: number): number {
    const ids = this.ids[slot >>> PAGE_SHIFT]!;
    const at = 4 * (slot & PAGE_MASK);
    return writeIdWords(buf, off, ids[at]!, ids[at + 1]!, ids[at + 2]!, ids[at + 3]!);
  }

  ttrOf(slot: number): number {
    return this.ttr[slot >>> PAGE_SHIFT]![slot & PAGE_MASK]!;
  }

  ttlOf(slot: number): number {
    return this.ttl[slot >>> PAGE_SHIFT]![slot & PAGE_MASK]!;
  }

  priorityOf(slot: number): number {
    return this.priority[slot >>> PAGE_SHIFT]![slot & PAGE_MASK]!;
  }

  createdSecOf(slot: number): number {
    return this.createdSec[slot >>> PAGE_SHIFT]![slot & PAGE_MASK]!;
  }

  createdNsecOf(slot: number): number {
    return this.createdNsec[slot >>> PAGE_SHIFT]![slot & PAGE_MASK]!;
  }

  listIndexOf(slot: number): number {
    return this.listIndex[slot >>> PAGE_SHIFT]![slot & PAGE_MASK]!;
  }

  setListIndex(slot: number, index: number): void {
    this.listIndex[slot >>> PAGE_SHIFT]![slot & PAGE_MASK] = index;
  }

  expiryIndexOf(slot: number): number {
    return this.expiryIndex[slot >>> PAGE_SHIFT]![slot & PAGE_MASK]!;
  }

  setExpiryIndex(slot: number, index: number): void {
    this.expiryIndex[slot >>> PAGE_SHIFT]![slot & PAGE_MASK] = index;
  }

  deadlineIndexOf(slot: number): number {
    return this.deadlineIndex[slot >>> PAGE_SHIFT]![slot & PAGE_MASK]!;
  }

  setDeadlineIndex(slot: number, index: number): void {
    this.deadlineIndex[slot >>> PAGE_SHIFT]![slot & PAGE_MASK] = index;
  }

  ageIndexOf(slot: number): number {
    return this.ageIndex[slot >>> PAGE_SHIFT]![slot & PAGE_MASK]!;
  }

  setAgeIndex(slot: number, index: number): void {
    this.ageIndex[slot >>> PAGE_SHIFT]![slot & PAGE_MASK] = index;
  }

  private bitsOf(slot: number): number {
    return this.bits[slot >>> PAGE_SHIFT]![slot & PAGE_MASK]!;
  }

  private setBits(slot: number, bits: number): void {
    this.bits[slot >>> PAGE_SHIFT]![slot & PAGE_MASK] = bits;
  }

  stateOf(slot: number): JobState {
    return (this.bitsOf(slot) & STATE_MASK) as JobState;
  }

  setState(slot: number, state: JobState): void {
    this.setBits(slot, (this.bitsOf(slot) & ~STATE_MASK) | state);
  }

  attemptsOf(slot: number): number {
    return (this.bitsOf(slot) >> ATTEMPTS_SHIFT) & BYTE;
  }

  /** At most 255: leasing stops at the hard cap (docs/protocol.md 7.4). */
  setAttempts(slot: number, attempts: number): void {
    this.setBits(slot, (this.bitsOf(slot) & ~(BYTE << ATTEMPTS_SHIFT)) | (attempts << ATTEMPTS_SHIFT));
  }

  maxAttemptsOf(slot: number): number {
    return (this.bitsOf(slot) >> MAX_ATTEMPTS_SHIFT) & BYTE;
  }

  maxFailsOf(slot: number): number {
    return (this.bitsOf(slot) >> MAX_FAILS_SHIFT) & BYTE;
  }

  /** True for the job of a `run`: not persisted, no TTL, no max-fails. */
  foregroundOf(slot: number): boolean {
    return (this.bitsOf(slot) & FOREGROUND) !== 0;
  }

  payloadText(slot: number): string {
    return this.payloads.text(this.payloadRef[slot >>> PAGE_SHIFT]![slot & PAGE_MASK]!);
  }

  payloadLength(slot: number): number {
    return this.payloads.length(this.payloadRef[slot >>> PAGE_SHIFT]![slot & PAGE_MASK]!);
  }

  /** Writes the payload's bytes at `off`; returns the offset after them. */
  writePayload(slot: number, buf: Buffer, off: number): number {
    return this.payloads.copy(this.payloadRef[slot >>> PAGE_SHIFT]![slot & PAGE_MASK]!, buf, off);
  }

  /** Follows a compaction of the slab (PayloadSlab.relocate). */
  relocatePayload(slot: number): void {
    const column = this.payloadRef[slot >>> PAGE_SHIFT]!;
    const cell = slot & PAGE_MASK;
    column[cell] = this.payloads.relocate(column[cell]!);
  }

  // ---- what only some jobs have (JobExtra) -----------------------------------------

  private extraOf(slot: number): JobExtra | null {
    const index = this.extra[slot >>> PAGE_SHIFT]![slot & PAGE_MASK]!;
    return index < 0 ? null : this.extras[index]!;
  }

  private more(slot: number): JobExtra {
    const column = this.extra[slot >>> PAGE_SHIFT]!;
    const cell = slot & PAGE_MASK;
    if (column[cell]! >= 0) return this.extras[column[cell]!]!;
    const extra = new JobExtra();
    const index = this.freeExtras.pop() ?? this.extras.length;
    this.extras[index] = extra;
    column[cell] = index;
    return extra;
  }

  /** Scheduled time, seconds; 0 (with 0 ns) when the job was not scheduled. */
  timeSecOf(slot: number): number {
    const extra = this.extraOf(slot);
    return extra === null ? 0 : extra.timeSec;
  }

  timeNsecOf(slot: number): number {
    const extra = this.extraOf(slot);
    return extra === null ? 0 : extra.timeNsec;
  }

  /** Sets the scheduled time of a job just made; nothing is kept for a job that has none. */
  setTime(slot: number, sec: number, nsec: number): void {
    if (sec === 0 && nsec === 0) return;
    const extra = this.more(slot);
    extra.timeSec = sec;
    extra.timeNsec = nsec;
  }

  scheduledOf(slot: number): boolean {
    const extra = this.extraOf(slot);
    return extra !== null && (extra.timeSec !== 0 || extra.timeNsec !== 0);
  }

  /**
   * Wall-clock ms at which the job is evicted (Infinity for run jobs). Computed: a ms
   * timestamp in a column would cost every job 8 bytes.
   */
  expiresAtOf(slot: number): number {
    if (this.foregroundOf(slot)) return Infinity;
    const extra = this.extraOf(slot);
    const scheduled = extra !== null && (extra.timeSec !== 0 || extra.timeNsec !== 0);
    return (scheduled ? floorMs(extra.timeSec, extra.timeNsec) : floorMs(this.createdSecOf(slot), this.createdNsecOf(slot))) + this.ttlOf(slot);
  }

  failsOf(slot: number): number {
    const extra = this.extraOf(slot);
    return extra === null ? 0 : extra.fails;
  }

  setFails(slot: number, fails: number): void {
    this.more(slot).fails = fails;
  }

  /** The final result once COMPLETED/FAILED; before that, the last failure's result (docs/protocol.md 7.5). */
  resultOf(slot: number): string | null {
    const extra = this.extraOf(slot);
    return extra === null ? null : extra.result;
  }

  setResult(slot: number, result: string | null): void {
    const extra = this.extraOf(slot);
    if (extra !== null) extra.result = result;
    else if (result !== null) this.more(slot).result = result;
  }

  /** The engine's result/run waiters, null while there are none. */
  waitersOf(slot: number): unknown {
    const extra = this.extraOf(slot);
    return extra === null ? null : extra.waiters;
  }

  setWaiters(slot: number, waiters: unknown): void {
    const extra = this.extraOf(slot);
    if (extra !== null) extra.waiters = waiters;
    else if (waiters !== null) this.more(slot).waiters = waiters;
  }

  retryDelayOf(slot: number): RetryDelay | null {
    const extra = this.extraOf(slot);
    return extra === null ? null : extra.retryDelay;
  }

  setRetryDelay(slot: number, delay: RetryDelay | null): void {
    const extra = this.extraOf(slot);
    if (extra !== null) extra.retryDelay = delay;
    else if (delay !== null) this.more(slot).retryDelay = delay;
  }

  /** While the job waits out a retry delay (PENDING), when it becomes ready; else 0. */
  retryAtOf(slot: number): number {
    const extra = this.extraOf(slot);
    return extra === null || this.stateOf(slot) !== JobState.Pending ? 0 : extra.retryAt;
  }

  setRetryAt(slot: number, at: number): void {
    const extra = this.extraOf(slot);
    if (extra !== null) extra.retryAt = at;
    else if (at !== 0) this.more(slot).retryAt = at;
  }
}

function byteSwap(word: number): number {
  return (((word & 0xff) << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24)) >>> 0;
}
