import type { CommandSpec } from './types.js';
import { parseJobIdAt } from './values.js';

/**
 * Tokens up to this many bytes (names, numbers) are turned into strings in JS: for a
 * handful of bytes that is 2-4x cheaper than the native call behind toString.
 */
const SHORT_TOKEN = 8;
/** Positional arguments, by index, whose last short string is kept for reuse. */
const RECENT_TOKENS = 8;

const NO_BYTES = Buffer.alloc(0);

/** `buf[start..end)` as a latin1 string, one char per byte. */
export function latin1(buf: Buffer, start: number, end: number): string {
  if (end - start > SHORT_TOKEN) return buf.toString('latin1', start, end);
  let text = '';
  for (let i = start; i < end; i++) text += String.fromCharCode(buf[i]!);
  return text;
}

/**
 * A framed command: line split, flags parsed, block (if any) read in full. The positional
 * tokens stay where they are, as offsets into the bytes of the line, and become numbers
 * or strings only when the decoder asks for them: most are numbers, and a string made
 * for each would cost more than the command's own work.
 *
 * The parser hands its sink one Frame that it fills again for the next command, pointing
 * into the chunk it was given: what the sink keeps past its call is `keep()`'s copy.
 */
export class Frame {
  spec: CommandSpec;
  /** Bytes holding the positional tokens. */
  bytes: Buffer;
  /** Start and end in `bytes` of each positional token, the command name first: [s0, e0, s1, e1, …]. */
  bounds: Int32Array<ArrayBuffer>;
  /** Positional tokens, the command name included. */
  count: number;
  /** Flags as [key, value, key, value, …], or null when the line has none. */
  flags: string[] | null;
  /**
   * Bytes holding the data block of a block command, `block[blockStart, blockEnd)`, else
   * null. Like the tokens, they are the parser's until the sink returns: a payload is
   * copied from there into the job's store, with no string made on the way.
   */
  block: Buffer | null;
  blockStart = 0;
  blockEnd = 0;
  /**
   * The short argument strings of earlier lines by command and position (the parser's
   * frame only): clients repeat the same queue names line after line, and a token equal
   * to the last one at its place reuses that string instead of allocating its twin.
   */
  private readonly recent: (string[] | undefined)[] | null;
  /**
   * A canonical job ID the client is likely to send next (the parser's frame only): a
   * worker completes the job its last lease reply carried, and a token with that ID's
   * bytes reuses the reply's string instead of making its twin.
   */
  expectedId = '';

  /** `block`, when given, is the data block whole. */
  constructor(spec: CommandSpec, bytes: Buffer, bounds: Int32Array<ArrayBuffer>, count: number, flags: string[] | null, block: Buffer | null, reuse = false) {
    this.spec = spec;
    this.bytes = bytes;
    this.bounds = bounds;
    this.count = count;
    this.flags = flags;
    this.block = block;
    this.blockEnd = block === null ? 0 : block.length;
    this.recent = reuse ? [] : null;
  }

  /** Bytes in the data block (0 when there is none). */
  get blockLength(): number {
    return this.blockEnd - this.blockStart;
  }

  /** The data block's bytes, as a view into where they are held (a plain view: cheaper to make than a Buffer's). */
  blockView(): Uint8Array {
    const block = this.block;
    return block === null ? NO_BYTES : new Uint8Array(block.buffer, block.byteOffset + this.blockStart, this.blockEnd - this.blockStart);
  }

  /** The data block as latin1 text, one char per byte (0–255). */
  blockText(): string {
    return this.block === null ? '' : latin1(this.block, this.blockStart, this.blockEnd);
  }

  start(index: number): number {
    return this.bounds[2 * index]!;
  }

  end(index: number): number {
    return this.bounds[2 * index + 1]!;
  }

  /** Positional token `index` as latin1 text. */
  text(index: number): string {
    const buf = this.bytes;
    const start = this.bounds[2 * index]!;
    const end = this.bounds[2 * index + 1]!;
    const n = end - start;
    if (this.recent === null || n > SHORT_TOKEN || index >= RECENT_TOKENS) return latin1(buf, start, end);
    const recent = (this.recent[this.spec.index] ??= new Array<string>(RECENT_TOKENS).fill(''));
    const last = recent[index]!;
    if (last.length === n) {
      let i = 0;
      while (i < n && last.charCodeAt(i) === buf[start + i]) i++;
      if (i === n) return last;
    }
    const text = latin1(buf, start, end);
    recent[index] = text;
    return text;
  }

  /** Positional token `index` as a job ID in canonical form (values.ts parseJobIdAt), or null. */
  jobId(index: number): string | null {
    const buf = this.bytes;
    const start = this.bounds[2 * index]!;
    const end = this.bounds[2 * index + 1]!;
    const expected = this.expectedId;
    const n = expected.length;
    if (end - start === n && n > 0) {
      let i = 0;
      while (i < n && expected.charCodeAt(i) === buf[start + i]) i++;
      if (i === n) return expected;
    }
    return parseJobIdAt(buf, start, end);
  }

  /** Positional tokens `from` up to `to` (exclusive) as text. */
  texts(from: number, to: number): string[] {
    const list = new Array<string>(to - from);
    for (let i = from; i < to; i++) list[i - from] = this.text(i);
    return list;
  }

  /** Every positional token as text, the command name first. */
  get args(): string[] {
    return this.texts(0, this.count);
  }

  /** Drops what the frame points to, until it is filled again. */
  release(): void {
    this.bytes = NO_BYTES;
    this.flags = null;
    this.block = null;
    this.blockStart = this.blockEnd = 0;
  }

  /** A frame of its own, with a copy of the bytes of its tokens and block, for a command that runs later. */
  keep(): Frame {
    const from = this.bounds[0]!;
    const to = this.bounds[2 * this.count - 1]!;
    const bytes = Buffer.allocUnsafe(to - from);
    this.bytes.copy(bytes, 0, from, to);
    const bounds = this.bounds.slice(0, 2 * this.count);
    for (let i = 0; i < bounds.length; i++) bounds[i]! -= from;
    const block = this.block === null ? null : Buffer.from(this.blockView());
    return new Frame(this.spec, bytes, bounds, this.count, this.flags, block);
  }
}
