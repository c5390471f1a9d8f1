import { createRequire } from 'node:module';

/**
 * Records up to this many bytes are summed here, longer ones by the native addon. Most
 * records are a few hundred bytes, where calling the addon (a view object per call and
 * the crossing into native code) costs more than the table walk below; past about
 * 300 bytes the addon's hardware CRC wins.
 */
const NATIVE_FROM = 256;

/**
 * The addon, loaded on its first use: in the replay worker, loading it took 20–25 ms of
 * the worker's start, which replay waits for, and a log of small records never needs it.
 */
let nativeCrc32c: ((input: Buffer) => number) | null = null;

function native(): (input: Buffer) => number {
  return (nativeCrc32c ??= (createRequire(import.meta.url)('@node-rs/crc32') as typeof import('@node-rs/crc32')).crc32c);
}

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), slicing by 8: table t at [256t, 256t+256). */
const TABLE = new Int32Array(8 * 256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  TABLE[i] = c;
}
for (let t = 1; t < 8; t++) {
  for (let i = 0; i < 256; i++) {
    const prev = TABLE[(t - 1) * 256 + i]!;
    TABLE[t * 256 + i] = (prev >>> 8) ^ TABLE[prev & 0xff]!;
  }
}

/** CRC-32C of `buf[start, end)`, as an unsigned 32-bit number. */
export function crc32c(buf: Buffer, start: number, end: number): number {
  if (end - start >= NATIVE_FROM) return native()(buf.subarray(start, end));
  const t = TABLE;
  let c = ~0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const w = c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    c =
      t[1792 + (w & 0xff)]! ^
      t[1536 + ((w >>> 8) & 0xff)]! ^
      t[1280 + ((w >>> 16) & 0xff)]! ^
      t[1024 + (w >>> 24)]! ^
      t[768 + buf[i + 4]!]! ^
      t[512 + buf[i + 5]!]! ^
      t[256 + buf[i + 6]!]! ^
      t[buf[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
