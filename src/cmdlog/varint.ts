/**
 * LEB128 varints as Go's encoding/binary writes them (docs/command-log.md 6.2). Values stay exact
 * up to 2^53; the few fields that keep only low bits of a longer varint go through
 * `lowBits`, which re-reads the bytes as a BigInt (a path no real log takes).
 */

/** Bytes the minimal uvarint encoding of `n` (0 ≤ n < 2^53) takes. */
export function uvarintLength(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** Writes the minimal uvarint of `n` at `off`; returns the offset after it. */
export function writeUvarint(buf: Buffer, off: number, n: number): number {
  while (n >= 128) {
    buf[off++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[off++] = n;
  return off;
}

/** Zig-zag of a signed 32-bit value, as a non-negative number. */
export function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

/** Inverse of zig-zag for a value read as a uvarint, keeping the low 32 bits, signed. */
export function unzigzag32(u: number): number {
  const n = u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  return n | 0;
}

/** The uvarint starting at `start`, as a BigInt, for values beyond 2^53. */
export function uvarintBig(buf: Buffer, start: number): bigint {
  let x = 0n;
  let shift = 0n;
  for (let p = start; ; p++) {
    const c = buf[p]!;
    x |= BigInt(c & 0x7f) << shift;
    if (c < 0x80) return x;
    shift += 7n;
  }
}

/** The low `bits` bits of the uvarint at `start` (unsigned). */
export function lowBits(buf: Buffer, start: number, bits: number): number {
  return Number(BigInt.asUintN(bits, uvarintBig(buf, start)));
}

/** The zig-zag varint at `start`, reduced to a signed 32-bit value. */
export function zigzagLow32(buf: Buffer, start: number): number {
  const u = uvarintBig(buf, start);
  const n = (u >> 1n) ^ -(u & 1n);
  return Number(BigInt.asIntN(32, n));
}
