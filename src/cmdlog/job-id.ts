/** Job IDs between their canonical text form and the 16 raw bytes (CMDLOG.md 6.3). */

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[97 + i] = 10 + i;
  NIBBLE[65 + i] = 10 + i;
}

/** Canonical lowercase 8-4-4-4-12 text of the 16 bytes at `off`. */
export function idToString(b: Buffer, off: number): string {
  return (
    HEX[b[off]!]! + HEX[b[off + 1]!]! + HEX[b[off + 2]!]! + HEX[b[off + 3]!]! + '-' +
    HEX[b[off + 4]!]! + HEX[b[off + 5]!]! + '-' +
    HEX[b[off + 6]!]! + HEX[b[off + 7]!]! + '-' +
    HEX[b[off + 8]!]! + HEX[b[off + 9]!]! + '-' +
    HEX[b[off + 10]!]! + HEX[b[off + 11]!]! + HEX[b[off + 12]!]! + HEX[b[off + 13]!]! + HEX[b[off + 14]!]! + HEX[b[off + 15]!]!
  );
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

/** Version 4, RFC 4122 variant, not all zero: what add/complete/fail/delete accept (PROTOCOL.md 3.2). */
export function isV4Id(b: Buffer, off: number): boolean {
  return b[off + 6]! >> 4 === 4 && (b[off + 8]! & 0xc0) === 0x80;
}
