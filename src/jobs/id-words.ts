/**
 * A job ID as the engine keeps it: its 16 bytes as four 32-bit words (bytes 4k…4k+3,
 * little-endian, in word k), each a small integer that V8 stores unboxed in the job.
 * The canonical text (lowercase 8-4-4-4-12, docs/protocol.md 3.2) is made only when an
 * ID is read out: a 36-character string per job cost 56 bytes of heap and a pointer,
 * and one more object for every young-generation collection to copy.
 */

/** Where the text of each of the 16 bytes starts in the 36 characters. */
const TEXT_AT = Uint8Array.of(0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34);

/** Value of a hex digit's char code (lowercase or uppercase), -1 for anything else. */
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[97 + i] = 10 + i;
  NIBBLE[65 + i] = 10 + i;
}

/** ASCII of the two lowercase hex digits of each byte value: [hi, lo] at 2*v. */
const HEX_ASCII = new Uint8Array(512);
for (let v = 0; v < 256; v++) {
  const text = v.toString(16).padStart(2, '0');
  HEX_ASCII[2 * v] = text.charCodeAt(0);
  HEX_ASCII[2 * v + 1] = text.charCodeAt(1);
}

/** The text is assembled here; the dashes never move. */
const ID_TEXT = Buffer.alloc(36, 0x2d);

function byteAt(id: string, b: number): number {
  const at = TEXT_AT[b]!;
  return (NIBBLE[id.charCodeAt(at)]! << 4) | NIBBLE[id.charCodeAt(at + 1)]!;
}

/** Word `k` (0–3) of a canonical ID's bytes. */
export function idWord(id: string, k: number): number {
  const b = 4 * k;
  return byteAt(id, b) | (byteAt(id, b + 1) << 8) | (byteAt(id, b + 2) << 16) | (byteAt(id, b + 3) << 24);
}

/**
 * An ID's words, read from its text once per command and used for both the job table's
 * lookup and the new job: a command that adds a job parsed its ID twice before.
 */
export class IdKey {
  w0 = 0;
  w1 = 0;
  w2 = 0;
  w3 = 0;

  /** Reads a canonical ID; returns this key. */
  read(id: string): this {
    this.w0 = idWord(id, 0);
    this.w1 = idWord(id, 1);
    this.w2 = idWord(id, 2);
    this.w3 = idWord(id, 3);
    return this;
  }
}

/** The canonical text of the ID whose words these are, as one flat string. */
export function idText(w0: number, w1: number, w2: number, w3: number): string {
  putWord(w0, 0);
  putWord(w1, 4);
  putWord(w2, 8);
  putWord(w3, 12);
  return ID_TEXT.toString('latin1', 0, 36);
}

function putWord(w: number, b: number): void {
  for (let i = 0; i < 4; i++) {
    const v = ((w >>> (8 * i)) & 0xff) << 1;
    const at = TEXT_AT[b + i]!;
    ID_TEXT[at] = HEX_ASCII[v]!;
    ID_TEXT[at + 1] = HEX_ASCII[v + 1]!;
  }
}

/** Writes the ID's 16 bytes at `off` of `buf`; returns the offset after them. */
export function writeIdWords(buf: Uint8Array, off: number, w0: number, w1: number, w2: number, w3: number): number {
  writeWord(buf, off, w0);
  writeWord(buf, off + 4, w1);
  writeWord(buf, off + 8, w2);
  writeWord(buf, off + 12, w3);
  return off + 16;
}

function writeWord(buf: Uint8Array, off: number, w: number): void {
  buf[off] = w & 0xff;
  buf[off + 1] = (w >>> 8) & 0xff;
  buf[off + 2] = (w >>> 16) & 0xff;
  buf[off + 3] = w >>> 24;
}
