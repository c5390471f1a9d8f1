/** Job IDs between their canonical text form and the 16 raw bytes (docs/command-log.md 6.3). */
import { idText, idWord, writeIdWords } from '../jobs/id-words.js';

/** Little-endian 32-bit word at `off`: the engine's word of those four ID bytes (id-words.ts). */
export function idWordAt(b: Buffer, off: number): number {
  return b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24);
}

/**
 * Canonical lowercase 8-4-4-4-12 text of the 16 bytes at `off`, as one flat string:
 * built by concatenation it would be a tree of a dozen cons strings that every
 * replayed job kept alive (about 450 bytes each) and that hashing has to walk.
 */
export function idToString(b: Buffer, off: number): string {
  return idText(idWordAt(b, off), idWordAt(b, off + 4), idWordAt(b, off + 8), idWordAt(b, off + 12));
}

/** Writes the 16 bytes of a canonical ID at `off`. */
export function writeId(buf: Buffer, off: number, id: string): number {
  return writeIdWords(buf, off, idWord(id, 0), idWord(id, 1), idWord(id, 2), idWord(id, 3));
}

/** Version 4, RFC 4122 variant, not all zero: what add/complete/fail/delete accept (docs/protocol.md 3.2). */
export function isV4Id(b: Buffer, off: number): boolean {
  return b[off + 6]! >> 4 === 4 && (b[off + 8]! & 0xc0) === 0x80;
}
