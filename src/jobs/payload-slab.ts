/** Bytes of one chunk of the slab (2^20). */
const CHUNK_BITS = 20;
const CHUNK_BYTES = 1 << CHUNK_BITS;
/** Entries start at multiples of 8 bytes, so a ref counts 8-byte units: 16 GiB of chunks fit in a small integer. */
const UNIT_BITS = 3;
const UNIT_MASK = (1 << UNIT_BITS) - 1;
const UNITS_PER_CHUNK_BITS = CHUNK_BITS - UNIT_BITS;
const UNITS_MASK = (1 << UNITS_PER_CHUNK_BITS) - 1;
/** Chunks at most, so that the largest ref, (chunk << 17 | unit) + 1, stays below 2^31. */
const MAX_CHUNKS = (1 << (31 - UNITS_PER_CHUNK_BITS)) - 1;
/** Each entry starts with its length, two bytes little-endian. */
const HEAD_BYTES = 2;
/** Longer payloads are kept as their own strings: their string header is small beside them, and they would waste a chunk's tail. */
export const SLAB_MAX_PAYLOAD = 4096;
/** Dead bytes below this never start a compaction, however few bytes are live. */
const MIN_COMPACT_BYTES = 8 * CHUNK_BYTES;

/** The ref of an empty payload, and of a payload freed: it reads as ''. */
export const EMPTY_PAYLOAD = 0;

/**
 * Job payloads, in large Buffers instead of one string per job: a queued 100-byte payload
 * costs 104 bytes here (its length, its bytes, padding to 8) against 120 as a latin1
 * string, and none of it is an object the garbage collector copies or marks. Before, a
 * replayed job's payload string was made young and copied by every scavenge until it
 * was promoted, and the job pointing at it (allocated old) cost a remembered-set entry.
 *
 * A payload is named by a ref, a small integer that the job holds: 0 for the empty
 * payload, a positive ref for bytes in a chunk, a negative one for a payload longer than
 * SLAB_MAX_PAYLOAD, kept as its string in `large`.
 *
 * Space comes from the end of the current chunk. A chunk whose entries have all been
 * freed is released (or kept as the one spare), so jobs that leave in the order they
 * came, the common case, free their chunks as they go. Jobs that leave out of order leave
 * dead bytes in chunks still holding live ones; once those dead bytes outnumber the live
 * ones (and MIN_COMPACT_BYTES), `wantsCompaction` says so, and the owner moves the live
 * entries of the chunks less than half live to fresh chunks (`beginCompaction`, then
 * `relocate` on every live ref, then `endCompaction`): the cost of a compaction is paid
 * for by the frees that made it due.
 *
 * A ref is valid from `store` until `free`; the owner must not read it after, nor keep a
 * ref that compaction has replaced.
 */
export class PayloadSlab {
  private chunks: (Buffer | null)[] = [];
  /** Bytes handed out from each chunk (for the current chunk, where its free space starts). */
  private used: number[] = [];
  /** Bytes of each chunk's entries not yet freed. */
  private live: number[] = [];
  /** Chunk indexes whose Buffer was released, to be used again. */
  private freeIndexes: number[] = [];
  private spare: Buffer | null = null;
  private current = -1;
  private liveTotal = 0;
  /** Bytes freed in chunks that still hold live entries. */
  private deadTotal = 0;
  /** Chunks whose live entries the running compaction moves; null while none runs. */
  private evacuating: Uint8Array | null = null;
  private readonly large: (string | null)[] = [];
  private readonly freeLarge: number[] = [];

  /** Bytes of the entries held (heads and padding included), plus the length of each large payload. */
  get liveBytes(): number {
    return this.liveTotal;
  }

  /** Chunks holding entries, for tests and the memory figures. */
  get chunkCount(): number {
    return this.chunks.length - this.freeIndexes.length;
  }

  /** Copies the payload's bytes in; returns its ref. */
  store(payload: Uint8Array): number {
    const length = payload.length;
    if (length === 0) return EMPTY_PAYLOAD;
    const ref = length > SLAB_MAX_PAYLOAD ? -1 : this.allocate(length);
    if (ref < 0) return this.storeLarge(Buffer.from(payload.buffer, payload.byteOffset, length).toString('latin1'));
    // Not Buffer.copy: from a shared buffer (replay's read chunks) it took several times as long.
    (this.chunks[chunkOf(ref)] as Buffer).set(payload, headAt(ref) + HEAD_BYTES);
    return ref;
  }

  length(ref: number): number {
    if (ref === EMPTY_PAYLOAD) return 0;
    if (ref < 0) return (this.large[-ref - 1] as string).length;
    const chunk = this.chunks[chunkOf(ref)] as Buffer;
    const at = headAt(ref);
    return chunk[at]! | (chunk[at + 1]! << 8);
  }

  /** The payload as latin1 text, made on each call. */
  text(ref: number): string {
    if (ref === EMPTY_PAYLOAD) return '';
    if (ref < 0) return this.large[-ref - 1] as string;
    const at = headAt(ref) + HEAD_BYTES;
    return (this.chunks[chunkOf(ref)] as Buffer).toString('latin1', at, at + this.length(ref));
  }

  /** Writes the payload's bytes at `off` of `buf`; returns the offset after them. */
  copy(ref: number, buf: Buffer, off: number): number {
    if (ref === EMPTY_PAYLOAD) return off;
    if (ref < 0) return off + buf.write(this.large[-ref - 1] as string, off, 'latin1');
    const chunk = this.chunks[chunkOf(ref)] as Buffer;
    const length = this.length(ref);
    // A plain view: subarray would make a Buffer, twice the time for 100 bytes.
    buf.set(new Uint8Array(chunk.buffer, chunk.byteOffset + headAt(ref) + HEAD_BYTES, length), off);
    return off + length;
  }

  /** The payload's space is free again; its ref must not be read any more. */
  free(ref: number): void {
    if (ref === EMPTY_PAYLOAD) return;
    if (ref < 0) {
      const index = -ref - 1;
      this.liveTotal -= (this.large[index] as string).length;
      this.large[index] = null;
      this.freeLarge.push(index);
      return;
    }
    const size = entryBytes(this.length(ref));
    const c = chunkOf(ref);
    this.liveTotal -= size;
    this.live[c] = this.live[c]! - size;
    this.deadTotal += size;
    if (this.live[c] === 0) this.empty(c);
  }

  /** True when enough dead bytes sit in chunks with live entries that compacting them pays (see the class comment). */
  get wantsCompaction(): boolean {
    return this.deadTotal > MIN_COMPACT_BYTES && this.deadTotal > this.liveTotal;
  }

  /** Starts a compaction: every live ref must then go through `relocate` before `endCompaction`. */
  beginCompaction(): void {
    const c = this.current;
    // New entries go to fresh chunks, never to one being emptied.
    this.current = -1;
    if (c >= 0 && this.live[c] === 0) this.empty(c);
    const evacuating = new Uint8Array(this.chunks.length);
    for (let i = 0; i < this.chunks.length; i++) {
      if (this.chunks[i] !== null && 2 * this.live[i]! < this.used[i]!) evacuating[i] = 1;
    }
    this.evacuating = evacuating;
  }

  /** The ref of the same payload once compaction is over: moved when its chunk is being emptied. */
  relocate(ref: number): number {
    if (ref <= EMPTY_PAYLOAD) return ref;
    const c = chunkOf(ref);
    const evacuating = this.evacuating;
    if (evacuating === null || c >= evacuating.length || evacuating[c] === 0) return ref;
    const length = this.length(ref);
    const moved = this.allocate(length);
    if (moved < 0) return ref;
    const from = headAt(ref);
    (this.chunks[c] as Buffer).copy(this.chunks[chunkOf(moved)] as Buffer, headAt(moved), from, from + HEAD_BYTES + length);
    this.free(ref);
    return moved;
  }

  endCompaction(): void {
    this.evacuating = null;
  }

  /** A ref to `length` bytes of chunk space with the length written at its head; -1 when no chunk can be had. */
  private allocate(length: number): number {
    const size = entryBytes(length);
    let c = this.current;
    if (c < 0 || this.used[c]! + size > CHUNK_BYTES) {
      c = this.newChunk();
      if (c < 0) return -1;
    }
    const at = this.used[c]!;
    this.used[c] = at + size;
    this.live[c] = this.live[c]! + size;
    this.liveTotal += size;
    const chunk = this.chunks[c] as Buffer;
    chunk[at] = length & 0xff;
    chunk[at + 1] = length >>> 8;
    return ((c << UNITS_PER_CHUNK_BITS) | (at >>> UNIT_BITS)) + 1;
  }

  /** Makes a fresh chunk the current one; -1 when every chunk index is taken. */
  private newChunk(): number {
    const c = this.freeIndexes.length > 0 ? (this.freeIndexes.pop() as number) : this.chunks.length;
    if (c >= MAX_CHUNKS) return -1;
    // The chunk left behind keeps its entries until they are freed; its unused tail goes with it.
    this.current = c;
    this.chunks[c] = this.spare ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
    this.spare = null;
    this.used[c] = 0;
    this.live[c] = 0;
    return c;
  }

  /** The chunk holds no live entry any more: the current one starts over, any other is released (one is kept as the spare). */
  private empty(c: number): void {
    this.deadTotal -= this.used[c]!;
    this.used[c] = 0;
    if (c === this.current) return;
    const evacuating = this.evacuating;
    if (evacuating !== null && c < evacuating.length) evacuating[c] = 0;
    if (this.spare === null) this.spare = this.chunks[c] as Buffer;
    this.chunks[c] = null;
    this.freeIndexes.push(c);
  }

  private storeLarge(payload: string): number {
    const index = this.freeLarge.length > 0 ? (this.freeLarge.pop() as number) : this.large.length;
    this.large[index] = payload;
    this.liveTotal += payload.length;
    return -index - 1;
  }
}

/** The chunk of a chunk ref. */
function chunkOf(ref: number): number {
  return (ref - 1) >>> UNITS_PER_CHUNK_BITS;
}

/** Where in its chunk the entry of a chunk ref starts (its length, then its bytes). */
function headAt(ref: number): number {
  return ((ref - 1) & UNITS_MASK) << UNIT_BITS;
}

/** Chunk bytes an entry of `length` payload bytes takes: its head and the bytes, padded to a unit. */
function entryBytes(length: number): number {
  return (HEAD_BYTES + length + UNIT_MASK) & ~UNIT_MASK;
}
