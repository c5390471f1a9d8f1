/** Job IDs between their canonical text form and the 16 raw bytes (docs/command-log.md 6.3). */

/** ASCII of the two lowercase hex digits of each byte value: [hi, lo] at 2*v. */
const HEX_ASCII = new Uint8Array(512);
for (let v = 0; v < 256; v++) {
  const text = v.toString(16).padStart(2, '0');
  HEX_ASCII[2 * v] = text.charCodeAt(0);
  HEX_ASCII[2 * v + 1] = text.charCodeAt(1);
}

/** Where the text of each of the 16 bytes starts in the 36 characters. */
const TEXT_AT = Uint8Array.of(0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34);
/** The text is assembled here; the dashes never move. */
const ID_TEXT = Buffer.alloc(36, 0x2d);

const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[97 + i] = 10 + i;
  NIBBLE[65 + i] = 10 + i;
}

/**
 * Canonical lowercase 8-4-4-4-12 text of the 16 bytes at `off`, as one flat string:
 * built by concatenation it would be a tree of a dozen cons strings that every
 * replayed job kept alive (about 450 bytes each) and that hashing has to walk.
 */
export function idToString(b: Buffer, off: number): string {
  for (let i = 0; i < 16; i++) {
    const v = b[off + i]! << 1;
    const at = TEXT_AT[i]!;
    ID_TEXT[at] = HEX_ASCII[v]!;
    ID_TEXT[at + 1] = HEX_ASCII[v + 1]!;
  }
  return ID_TEXT.toString('latin1', 0, 36);
}

/** Writes the 16 bytes of a canonical ID (as the engine holds it) at `off`. */
export function writeId(buf: Buffer, off: number, id: string): number {
  let c = 0;
  for (let i = 0; i < 16; i++) {
    if (c === 8 || c === 13 || c === 18 || c === 23) c++;
    buf[off + i] = (NIBBLE[id.charCodeAt(c)]! << 4) | NIBBLE[id.charCodeAt(c + 1)]!;
    c += 2;
  }
  return off + 16;
}

/** Version 4, RFC 4122 variant, not all zero: what add/complete/fail/delete accept (docs/protocol.md 3.2). */
export function isV4Id(b: Buffer, off: number): boolean {
  return b[off + 6]! >> 4 === 4 && (b[off + 8]! & 0xc0) === 0x80;
}
