import { randomBytes } from 'node:crypto';

/** Slots of a fresh table; always a power of two. */
const MIN_CAPACITY = 1024;
/** The table doubles when more than this share of its slots is taken. */
const MAX_LOAD = 0.7;
/** The last second a slot can hold (in 2106); a later expiration is kept as this one. */
const MAX_SEC = 0xffffffff;

/**
 * When each record stops mattering (docs/command-log.md 11.4). An add/schedule record matters
 * until its job's expiration; any other record for an ID matters until every
 * add/schedule for that ID before it in the log has expired. Both are known when the
 * record is appended or replayed, in log order, so every record gets a fixed "droppable
 * after" instant and the cleaner never has to re-read the log to decide.
 *
 * IDs are given as their 16 bytes where the record holds them. The book keeps, per ID,
 * the latest expiration among the add/schedule records seen so far, in whole Unix
 * seconds rounded up (other records for an ID are so kept up to a second longer, never
 * shorter; after 2106, for good), in an open-addressing table of typed arrays: a Map keyed by ID strings
 * cost every live job a hash-table entry on the JS heap and, at a million jobs,
 * about a microsecond per insert, a third of the time replay took.
 */
export class DropBook {
  /** Slot i holds its ID as four 32-bit words at 4i…4i+3. */
  private keys = new Int32Array(4 * MIN_CAPACITY);
  /** Expiration second of slot i; 0 marks an empty slot (no expiration is at 0). */
  private secs = new Uint32Array(MIN_CAPACITY);
  /** 32 − log2 of the capacity: the hash keeps that many high bits. */
  private shift = 32 - Math.log2(MIN_CAPACITY);
  private used = 0;
  /**
   * Random odd multipliers of the hash: IDs are chosen by clients, so where an ID
   * lands must not be predictable (a client could otherwise make every ID probe the
   * same run of slots).
   */
  private mul = new Int32Array(randomBytes(16).buffer).map((w) => w | 1);

  /** The book as typed arrays, to move it to another thread (the arrays go along, not copies). */
  toState(): DropBookState {
    return { keys: this.keys, secs: this.secs, mul: this.mul, used: this.used };
  }

  static fromState(state: DropBookState): DropBook {
    const book = new DropBook();
    book.keys = state.keys;
    book.secs = state.secs;
    book.mul = state.mul;
    book.used = state.used;
    book.shift = 32 - Math.log2(state.secs.length);
    return book;
  }

  /** Notes an add/schedule record for the ID at `buf[at, at+16)`; returns when it becomes droppable. */
  job(buf: Uint8Array, at: number, expiresAt: number): number {
    // Never 0 (the empty mark): an expiration before 1970 is long past either way.
    const sec = Math.min(Math.max(Math.ceil(expiresAt / 1000), 1), MAX_SEC);
    const w0 = word(buf, at);
    const w1 = word(buf, at + 4);
    const w2 = word(buf, at + 8);
    const w3 = word(buf, at + 12);
    const slot = this.slotOf(w0, w1, w2, w3);
    const seen = this.secs[slot]!;
    if (seen === 0) {
      this.put(slot, w0, w1, w2, w3, sec);
      if (this.used > this.secs.length * MAX_LOAD) this.rebuild(this.secs.length * 2, 0);
    } else if (seen < sec) {
      this.secs[slot] = sec;
    }
    return expiresAt;
  }

  /** When a non-job record for the ID at `buf[at, at+16)` appended now becomes droppable (0: already). */
  other(buf: Uint8Array, at: number): number {
    return this.secs[this.slotOf(word(buf, at), word(buf, at + 4), word(buf, at + 8), word(buf, at + 12))]! * 1000;
  }

  /** Forgets expirations before `now`: for every later record they count as none. */
  prune(now: number): void {
    const secs = this.secs;
    let live = 0;
    for (let i = 0; i < secs.length; i++) if (secs[i] !== 0 && secs[i]! * 1000 >= now) live++;
    if (live === this.used) return;
    let capacity = MIN_CAPACITY;
    while (live > capacity * MAX_LOAD) capacity *= 2;
    this.rebuild(capacity, now);
  }

  /** The slot holding the ID, or the empty slot where it would go (linear probing). */
  private slotOf(w0: number, w1: number, w2: number, w3: number): number {
    const { keys, secs, mul } = this;
    const mask = secs.length - 1;
    const sum = Math.imul(w0, mul[0]!) + Math.imul(w1, mul[1]!) + Math.imul(w2, mul[2]!) + Math.imul(w3, mul[3]!);
    for (let slot = (sum >>> this.shift) & mask; ; slot = (slot + 1) & mask) {
      if (secs[slot] === 0) return slot;
      const k = slot * 4;
      if (keys[k] === w0 && keys[k + 1] === w1 && keys[k + 2] === w2 && keys[k + 3] === w3) return slot;
    }
  }

  private put(slot: number, w0: number, w1: number, w2: number, w3: number, sec: number): void {
    const k = slot * 4;
    this.keys[k] = w0;
    this.keys[k + 1] = w1;
    this.keys[k + 2] = w2;
    this.keys[k + 3] = w3;
    this.secs[slot] = sec;
    this.used++;
  }

  /** Moves the entries expiring at or after `now` into a fresh table of `capacity` slots. */
  private rebuild(capacity: number, now: number): void {
    const { keys, secs } = this;
    this.keys = new Int32Array(4 * capacity);
    this.secs = new Uint32Array(capacity);
    this.shift = 32 - Math.log2(capacity);
    this.used = 0;
    for (let i = 0; i < secs.length; i++) {
      const sec = secs[i]!;
      if (sec === 0 || sec * 1000 < now) continue;
      const k = i * 4;
      const w0 = keys[k]!;
      const w1 = keys[k + 1]!;
      const w2 = keys[k + 2]!;
      const w3 = keys[k + 3]!;
      this.put(this.slotOf(w0, w1, w2, w3), w0, w1, w2, w3, sec);
    }
  }
}

/** Little-endian 32-bit word at `at`. */
function word(buf: Uint8Array, at: number): number {
  return buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24);
}

export interface DropBookState {
  keys: Int32Array<ArrayBuffer>;
  secs: Uint32Array<ArrayBuffer>;
  mul: Int32Array<ArrayBuffer>;
  used: number;
}

/** A sealed (read-only) segment as the cleaner tracks it. */
export interface SealedSegment {
  num: number;
  size: number;
  /** Droppable-after instant (Unix ms) of each record, in file order. */
  dropAt: Float64Array;
}
