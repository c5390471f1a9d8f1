import { randomBytes } from 'node:crypto';

/** The open lives are kept by ID in 2^SHARD_BITS tables of their own, each growing on its own. */
const SHARD_BITS = 6;
const SHARDS = 1 << SHARD_BITS;
/** Slots of a fresh table; always a power of two. */
const MIN_CAPACITY = 64;
/** A table doubles once more than its share of slots is taken: between these, staggered by table. */
const FIRST_MAX_LOAD = 0.55;
const LAST_MAX_LOAD = 0.75;
/** Lives a fresh book has room for. */
const MIN_LIVES = 1024;

/** What a record linked to a life is to it (the low two bits of a link). */
const ADD = 1;
const MEMBER = 2;
const END = 3;

/**
 * When each record stops mattering (docs/command-log.md 11.4). The records of one job ID
 * are grouped into lives: a life begins with an add or schedule record for an ID that has
 * none open, takes in every later record for that ID, and ends with the ID's next delete
 * or expire record (the end). A record of a life may be dropped once
 *
 * - the life's expiration (the latest of its adds') has passed: replay then skips its
 *   adds, and every other record of the life finds no job; or
 * - for an add or another record before the end: the end is durable in the log. Replaying
 *   the end removes the job whatever came before it, and the end is kept while any add of
 *   the life is; or
 * - for the end: every add of the life is gone from the log, durably. The records left
 *   before it then find no job, and so does the end.
 *
 * A record for an ID without an open life (a run's records, an ID after its end) finds no
 * job on replay: droppable at once (0). Queue records are never dropped (Infinity).
 *
 * Each record's droppable-after value is fixed when it is appended or replayed: a time
 * (Unix ms, or 0, or Infinity), or, for a record of a life, a negative link to the life
 * (−1 − (life × 4 + role)), whose state the book keeps and `droppable` reads. The cleaner
 * so never re-reads the log to decide, and a record's value never changes.
 *
 * IDs are given as their 16 bytes where the record holds them; open lives are found by
 * ID in open-addressing tables of typed arrays (a Map keyed by ID strings cost every
 * live job a hash-table entry on the JS heap and, at a million jobs, about a microsecond
 * per insert). There are SHARDS of them, chosen by bits of the ID's hash, and each
 * doubles at a load of its own: one table doubling at 1.5 million open lives allocated
 * 40 MiB of typed arrays in one step and filled them, a pause of a fifth of a second for
 * every client of the server (the job table, src/jobs/job-table.ts, does the same).
 *
 * A life is freed once no record in the log links to it and it is not open, so the book
 * holds the open lives plus the ended ones whose records the cleaner has not yet
 * removed: under adds and deletes with long TTLs it stays as small as the live jobs.
 */
export class DropBook {
  private tables: LifeTable[];
  /**
   * Random odd multipliers of the hash: IDs are chosen by clients, so where an ID
   * lands must not be predictable (a client could otherwise make every ID probe the
   * same run of slots).
   */
  private mul = new Int32Array(randomBytes(16).buffer).map((w) => w | 1);
  /** Per life: the latest expiration (Unix ms) among its adds. */
  private expiry = new Float64Array(MIN_LIVES);
  /** Per life: its adds still in the log (not known removed); for a free life, the next free one. */
  private adds = new Int32Array(MIN_LIVES);
  /** Per life: records in the log (or queued for it) that link to it, plus one while it is open. */
  private refs = new Int32Array(MIN_LIVES);
  /** Per life: 1 once its end is durable. */
  private ended = new Uint8Array(MIN_LIVES);
  /** Whether the last `job` began a life: no add for its ID was open. */
  jobBeganLife = false;
  /** Lives ever handed out (the rest of the arrays is unused), and the first free one (−1: none). */
  private top = 0;
  private free = -1;
  /** The table of the last `slotOf`. */
  private found: LifeTable;

  constructor(tables?: LifeTable[]) {
    this.tables = tables ?? Array.from({ length: SHARDS }, (_, i) => new LifeTable(i, new Int32Array(4 * MIN_CAPACITY), new Int32Array(MIN_CAPACITY), 0));
    this.found = this.tables[0]!;
  }

  /** The book as typed arrays, to move it to another thread (the arrays go along, not copies). */
  toState(): DropBookState {
    const { mul, expiry, adds, refs, ended, top, free } = this;
    const tables = this.tables.map(({ keys, slots, used }) => ({ keys, slots, used }));
    return { tables, mul, expiry, adds, refs, ended, top, free };
  }

  static fromState(state: DropBookState): DropBook {
    const { tables, ...rest } = state;
    const book = new DropBook(tables.map((t, i) => new LifeTable(i, t.keys, t.slots, t.used)));
    Object.assign(book, rest);
    return book;
  }

  /** The buffers of a state, to transfer with it. */
  static buffers(state: DropBookState): ArrayBuffer[] {
    return [
      ...state.tables.flatMap((t) => [t.keys.buffer, t.slots.buffer]),
      state.mul.buffer,
      state.expiry.buffer,
      state.adds.buffer,
      state.refs.buffer,
      state.ended.buffer,
    ];
  }

  /** Lives the book holds (open, or with records left in the log that link to them). */
  get lives(): number {
    let n = 0;
    for (let i = 0; i < this.top; i++) if (this.refs[i]! > 0) n++;
    return n;
  }

  /** IDs with an open life. */
  get openLives(): number {
    let n = 0;
    for (const table of this.tables) n += table.used;
    return n;
  }

  /** Notes an add/schedule record for the ID at `buf[at, at+16)`, expiring at `expiresAt`; returns its droppable-after value. */
  job(buf: Uint8Array, at: number, expiresAt: number): number {
    const w0 = word(buf, at);
    const w1 = word(buf, at + 4);
    const w2 = word(buf, at + 8);
    const w3 = word(buf, at + 12);
    const sum = this.hash(w0, w1, w2, w3);
    const slot = this.slotOf(sum, w0, w1, w2, w3);
    const table = this.found;
    let life = table.slots[slot]! - 1;
    this.jobBeganLife = life < 0;
    if (life < 0) {
      life = this.newLife();
      table.put(slot, w0, w1, w2, w3, life);
      this.expiry[life] = expiresAt;
      if (table.used > table.slots.length * table.maxLoad) this.rebuild(table, table.slots.length * 2, null);
    } else if (this.expiry[life]! < expiresAt) {
      this.expiry[life] = expiresAt;
    }
    this.adds[life]!++;
    this.refs[life]!++;
    return link(life, ADD);
  }

  /** Notes a record for the ID at `buf[at, at+16)` that neither begins nor ends a life; returns its droppable-after value. */
  other(buf: Uint8Array, at: number): number {
    const slot = this.slotAt(buf, at);
    const life = this.found.slots[slot]! - 1;
    if (life < 0) return 0;
    this.refs[life]!++;
    return link(life, MEMBER);
  }

  /**
   * Notes a delete or expire record for the ID at `buf[at, at+16)`: it ends the ID's open
   * life, and the ID is forgotten. Returns its droppable-after value. The life's records
   * become droppable only once `durable` is told that this one is in the log to stay.
   */
  end(buf: Uint8Array, at: number): number {
    const slot = this.slotAt(buf, at);
    const table = this.found;
    const life = table.slots[slot]! - 1;
    if (life < 0) return 0;
    this.remove(table, slot);
    // The end's link takes over the open life's reference.
    return link(life, END);
  }

  /** A record with droppable-after value `dropAt` is durable in the log (fsynced, or written under 'os'). */
  durable(dropAt: number): void {
    if (dropAt < 0 && roleOf(dropAt) === END) this.ended[lifeOf(dropAt)] = 1;
  }

  /** Whether a record with droppable-after value `dropAt` may be dropped at `now`. */
  droppable(dropAt: number, now: number): boolean {
    if (dropAt >= 0) return dropAt < now;
    const life = lifeOf(dropAt);
    if (this.expiry[life]! < now) return true;
    return roleOf(dropAt) === END ? this.adds[life] === 0 : this.ended[life] === 1;
  }

  /**
   * A record with droppable-after value `dropAt` is gone from the log, durably (renamed away
   * and the directory fsynced). True when it was the last add of a life that has ended: the
   * end may go now.
   */
  dropped(dropAt: number): boolean {
    if (dropAt >= 0) return false;
    const life = lifeOf(dropAt);
    const lastAdd = roleOf(dropAt) === ADD && --this.adds[life]! === 0 && this.ended[life] === 1;
    this.unref(life);
    return lastAdd && this.refs[life]! > 0;
  }

  /**
   * Closes the open lives whose expiration is before `now`: for every later record they
   * count as none (replay skips their adds), and the tables shrink when they were many.
   */
  prune(now: number): void {
    const { expiry } = this;
    for (const table of this.tables) {
      const { slots } = table;
      let live = 0;
      for (let i = 0; i < slots.length; i++) if (slots[i] !== 0 && expiry[slots[i]! - 1]! >= now) live++;
      let capacity = MIN_CAPACITY;
      while (live > capacity * table.maxLoad) capacity *= 2;
      if (live !== table.used || capacity < slots.length / 2) this.rebuild(table, capacity, now);
    }
  }

  private newLife(): number {
    let life = this.free;
    if (life >= 0) {
      this.free = this.adds[life]!;
    } else {
      if (this.top === this.refs.length) this.growLives();
      life = this.top++;
    }
    this.adds[life] = 0;
    this.refs[life] = 1;
    this.ended[life] = 0;
    return life;
  }

  private unref(life: number): void {
    if (--this.refs[life]! > 0) return;
    this.adds[life] = this.free;
    this.free = life;
  }

  private growLives(): void {
    const n = this.refs.length * 2;
    const expiry = new Float64Array(n);
    expiry.set(this.expiry);
    const adds = new Int32Array(n);
    adds.set(this.adds);
    const refs = new Int32Array(n);
    refs.set(this.refs);
    const ended = new Uint8Array(n);
    ended.set(this.ended);
    Object.assign(this, { expiry, adds, refs, ended });
  }

  private slotAt(buf: Uint8Array, at: number): number {
    const w0 = word(buf, at);
    const w1 = word(buf, at + 4);
    const w2 = word(buf, at + 8);
    const w3 = word(buf, at + 12);
    return this.slotOf(this.hash(w0, w1, w2, w3), w0, w1, w2, w3);
  }

  private hash(w0: number, w1: number, w2: number, w3: number): number {
    const { mul } = this;
    return Math.imul(w0, mul[0]!) + Math.imul(w1, mul[1]!) + Math.imul(w2, mul[2]!) + Math.imul(w3, mul[3]!);
  }

  /**
   * The slot holding the ID, or the empty slot where it would go (linear probing), in the
   * table chosen by the hash's top SHARD_BITS bits, which is left in `found`.
   */
  private slotOf(sum: number, w0: number, w1: number, w2: number, w3: number): number {
    const table = (this.found = this.tables[sum >>> (32 - SHARD_BITS)]!);
    const { keys, slots } = table;
    const mask = slots.length - 1;
    for (let slot = table.homeOf(sum); ; slot = (slot + 1) & mask) {
      if (slots[slot] === 0) return slot;
      const k = slot * 4;
      if (keys[k] === w0 && keys[k + 1] === w1 && keys[k + 2] === w2 && keys[k + 3] === w3) return slot;
    }
  }

  /** Empties `slot` of `table`, moving back the entries after it that probing would no longer find (linear probing's deletion). */
  private remove(table: LifeTable, slot: number): void {
    const { keys, slots } = table;
    const mask = slots.length - 1;
    slots[slot] = 0;
    table.used--;
    let hole = slot;
    for (let i = (slot + 1) & mask; slots[i] !== 0; i = (i + 1) & mask) {
      const k = i * 4;
      const home = table.homeOf(this.hash(keys[k]!, keys[k + 1]!, keys[k + 2]!, keys[k + 3]!));
      // The entry at i may fill the hole unless its home lies cyclically in (hole, i].
      if (hole <= i ? home > hole && home <= i : home > hole || home <= i) continue;
      keys.copyWithin(hole * 4, k, k + 4);
      slots[hole] = slots[i]!;
      slots[i] = 0;
      hole = i;
    }
  }

  /**
   * Moves the open lives of `table` into fresh arrays of `capacity` slots; given `now`,
   * those expiring before it are closed instead. A table that only grows passes null:
   * the lives of its slots come in hash order, so reading each one's expiry there was a
   * cache miss per entry, two thirds of the growing and a fifth of a replay's checks.
   */
  private rebuild(table: LifeTable, capacity: number, now: number | null): void {
    const { keys, slots } = table;
    const { expiry } = this;
    table.reset(capacity);
    for (let i = 0; i < slots.length; i++) {
      const life = slots[i]! - 1;
      if (life < 0) continue;
      if (now !== null && expiry[life]! < now) {
        this.unref(life);
        continue;
      }
      const k = i * 4;
      const w0 = keys[k]!;
      const w1 = keys[k + 1]!;
      const w2 = keys[k + 2]!;
      const w3 = keys[k + 3]!;
      table.put(this.slotOf(this.hash(w0, w1, w2, w3), w0, w1, w2, w3), w0, w1, w2, w3, life);
    }
  }
}

/** One of the book's tables of open lives by ID. */
class LifeTable {
  /** A table doubles once more than this share of its slots is taken. */
  readonly maxLoad: number;
  /** 32 − log2 of the capacity: the hash's bits below the table's give the home slot. */
  shift: number;

  constructor(
    index: number,
    /** Slot i holds its ID as four 32-bit words at 4i…4i+3. */
    public keys: Int32Array<ArrayBuffer>,
    /** 1 + the open life of slot i; 0 marks an empty slot. */
    public slots: Int32Array<ArrayBuffer>,
    public used: number,
  ) {
    this.maxLoad = FIRST_MAX_LOAD + ((LAST_MAX_LOAD - FIRST_MAX_LOAD) * index) / (SHARDS - 1);
    this.shift = 32 - Math.log2(slots.length);
  }

  put(slot: number, w0: number, w1: number, w2: number, w3: number, life: number): void {
    const k = slot * 4;
    this.keys[k] = w0;
    this.keys[k + 1] = w1;
    this.keys[k + 2] = w2;
    this.keys[k + 3] = w3;
    this.slots[slot] = life + 1;
    this.used++;
  }

  /** The home slot of a hash: its bits below the table's (a table never nears 2^26 slots). */
  homeOf(sum: number): number {
    return (sum << SHARD_BITS) >>> this.shift;
  }

  /** Fresh empty arrays of `capacity` slots, none used. */
  reset(capacity: number): void {
    this.keys = new Int32Array(4 * capacity);
    this.slots = new Int32Array(capacity);
    this.shift = 32 - Math.log2(capacity);
    this.used = 0;
  }
}

function link(life: number, role: number): number {
  return -1 - (life * 4 + role);
}

function lifeOf(dropAt: number): number {
  return Math.floor((-1 - dropAt) / 4);
}

function roleOf(dropAt: number): number {
  return (-1 - dropAt) % 4;
}

/** Little-endian 32-bit word at `at`. */
function word(buf: Uint8Array, at: number): number {
  return buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24);
}

export interface DropBookState {
  tables: { keys: Int32Array<ArrayBuffer>; slots: Int32Array<ArrayBuffer>; used: number }[];
  mul: Int32Array<ArrayBuffer>;
  expiry: Float64Array<ArrayBuffer>;
  adds: Int32Array<ArrayBuffer>;
  refs: Int32Array<ArrayBuffer>;
  ended: Uint8Array<ArrayBuffer>;
  top: number;
  free: number;
}

/** A sealed (read-only) segment as the cleaner tracks it. */
export interface SealedSegment {
  num: number;
  size: number;
  /** Droppable-after value of each record, in file order (DropBook). */
  dropAt: Float64Array;
}
