import { ADD, commandByBytes } from './commands.js';
import { Frame, latin1 } from './frame.js';
import type { ClientError, CommandSpec, ParserSink } from './types.js';
import { parseSizeAt } from './values.js';

/** Most bytes one command may take: line with CRLF, block and its CRLF (docs/protocol.md 2.5). */
export const COMMAND_BUDGET = 1_058_576;
/** Largest data block a command may carry (docs/protocol.md 2.4). */
export const MAX_BLOCK_SIZE = 1_048_576;
/** Largest block that is skipped to keep the connection; beyond it the connection closes. */
export const MAX_SKIP_SIZE = 64 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const DASH = 0x2d;
const EQ = 0x3d;

const READ_LINE = 0;
const READ_BLOCK = 1;
const READ_TERMINATOR = 2;
const SKIP_BLOCK = 3;
const CLOSED = 4;

/** Past this size the line and block accumulators are dropped after use instead of kept for the next command. */
const KEEP_PARTIAL = 64 * 1024;
const NO_BYTES = Buffer.alloc(0);
/** Flag token slots (start, end, first '=') kept between lines. */
const KEEP_TOKENS = 3 * 16;
/** Positional token slots (start, end) kept between lines. */
const KEEP_BOUNDS = 2 * 64;

/** `array` with twice the room, its contents kept. */
function grown(array: Int32Array): Int32Array<ArrayBuffer> {
  const next = new Int32Array(2 * array.length);
  next.set(array);
  return next;
}

/**
 * Push parser for the command stream of one connection (docs/protocol.md 2).
 * `feed` consumes every byte it is given and reports each command, framing error or
 * unrecoverable condition to the sink, in input order; anything incomplete waits for the
 * next chunk, so input split anywhere frames exactly like input that arrives whole.
 * Memory held between chunks is bounded by the per-command budget.
 */
export class Parser {
  private readonly sink: ParserSink;
  private mode = READ_LINE;

  /** Bytes of a line whose LF has not arrived yet. */
  private partial: Buffer | null = null;
  private partialLength = 0;

  /** Flag tokens of the line (start, end, first '='), and how many. */
  private flagTokens = new Int32Array(KEEP_TOKENS);
  private flagCount = 0;
  /** What the sink is handed, filled again for each command. */
  private readonly frame = new Frame(ADD, Buffer.alloc(0), new Int32Array(KEEP_BOUNDS), 0, null, null, true);
  /** The tokens of a block command's line whose block spans chunks, copied from the chunk that held them. */
  private lineBytes: Buffer | null = null;

  /** The block command being read: its block of `blockSize` bytes, then the CRLF. */
  private spec: CommandSpec | null = null;
  private blockSize = 0;
  /** Where the block is once all its bytes are in: `block[blockStart, blockStart + blockSize)`, a chunk or `blockBytes`. */
  private block: Buffer | null = null;
  private blockStart = 0;
  /** Bytes of a block that spans chunks (or whose chunk ends before its CRLF), gathered until it is complete. */
  private blockBytes: Buffer | null = null;
  private filled = 0;
  private terminatorSeen = 0;

  /** Block bytes still to drop (its CRLF is then checked like any block's), and the error to reply once they are gone. */
  private skipLeft = 0;
  private skipError: ClientError = 'invalid-payload-size';

  constructor(sink: ParserSink) {
    this.sink = sink;
  }

  feed(chunk: Buffer): void {
    const n = chunk.length;
    let pos = 0;
    while (pos < n) {
      switch (this.mode) {
        case READ_LINE:
          pos = this.readLine(chunk, pos);
          break;
        case READ_BLOCK:
          pos = this.readBlock(chunk, pos);
          break;
        case READ_TERMINATOR:
          pos = this.readTerminator(chunk, pos);
          break;
        case SKIP_BLOCK:
          pos = this.skipBlock(chunk, pos);
          break;
        default:
          return;
      }
    }
    // A block that goes on in the next chunk: its line's tokens must outlive this chunk, which the caller may reuse.
    // Otherwise the frame lets go of the chunk and of the last block, which an idle connection need not hold.
    if (this.spec === null) {
      this.frame.release();
      return;
    }
    if (this.frame.bytes === chunk) this.holdLine();
    if (this.block === chunk) this.holdBlock();
  }

  /** Moves the tokens of the frame's line into the parser's own buffer. */
  private holdLine(): void {
    const frame = this.frame;
    const from = frame.start(0);
    const to = frame.end(frame.count - 1);
    let bytes = this.lineBytes;
    if (bytes === null || bytes.length < to - from) this.lineBytes = bytes = Buffer.allocUnsafe(Math.max(to - from, 256));
    frame.bytes.copy(bytes, 0, from, to);
    frame.bytes = bytes;
    const bounds = frame.bounds;
    for (let i = 0; i < 2 * frame.count; i++) bounds[i] = bounds[i]! - from;
  }

  /** Moves a block read whole from the chunk, whose CRLF is still to come, into the gathering buffer. */
  private holdBlock(): void {
    const size = this.blockSize;
    const bytes = this.gatherer(size);
    this.block!.copy(bytes, 0, this.blockStart, this.blockStart + size);
    this.block = bytes;
    this.blockStart = 0;
  }

  /** The gathering buffer, with room for a block of `size` bytes. */
  private gatherer(size: number): Buffer {
    let bytes = this.blockBytes;
    if (bytes === null || bytes.length < size) {
      bytes = Buffer.allocUnsafe(Math.min(Math.max(size, 2 * (bytes?.length ?? 0), 256), MAX_BLOCK_SIZE));
      this.blockBytes = bytes;
    }
    return bytes;
  }

  /** A canonical job ID the client is likely to send back next: see Frame.expectedId. */
  expectId(id: string): void {
    this.frame.expectedId = id;
  }

  /** The peer finished sending. A half-read block is answered with its error; a half line is not. */
  end(): void {
    switch (this.mode) {
      case READ_LINE:
        if (this.partialLength > 0) this.close(null);
        else this.shut();
        return;
      case READ_BLOCK:
      case READ_TERMINATOR:
      case SKIP_BLOCK:
        this.close(this.blockError());
        return;
    }
  }

  private readLine(chunk: Buffer, pos: number): number {
    const n = chunk.length;
    const lf = chunk.indexOf(LF, pos);
    if (lf < 0) {
      // Without an LF inside the budget this line can never be accepted.
      if (this.partialLength + n - pos >= COMMAND_BUDGET) this.close(null);
      else this.appendPartial(chunk, pos, n);
      return n;
    }
    const length = this.partialLength + lf + 1 - pos;
    if (length > COMMAND_BUDGET) {
      this.close(null);
      return n;
    }
    if (this.partialLength === 0) {
      this.line(chunk, pos, lf, length);
    } else {
      this.appendPartial(chunk, pos, lf + 1);
      const buf = this.partial!;
      this.partialLength = 0;
      if (buf.length > KEEP_PARTIAL) this.partial = null;
      this.line(buf, 0, length - 1, length);
    }
    return lf + 1;
  }

  private appendPartial(chunk: Buffer, from: number, to: number): void {
    const needed = this.partialLength + to - from;
    let buf = this.partial;
    if (buf === null || buf.length < needed) {
      const grown = Buffer.allocUnsafe(Math.min(Math.max(needed, 2 * (buf?.length ?? 0), 256), COMMAND_BUDGET));
      if (buf !== null) buf.copy(grown, 0, 0, this.partialLength);
      this.partial = buf = grown;
    }
    chunk.copy(buf, this.partialLength, from, to);
    this.partialLength = needed;
  }

  /** One complete line `buf[start..lf]` (LF included), `length` bytes counted against the budget. */
  private line(buf: Buffer, start: number, lf: number, length: number): void {
    if (lf === start || buf[lf - 1] !== CR) {
      this.close(null);
      return;
    }
    const end = lf - 1;
    const positional = this.tokenize(buf, start, end);
    // The command name is the first raw piece: a leading space leaves it empty, and a flag is none.
    const frame = this.frame;
    const named = positional > 0 && frame.start(0) === start;
    this.frameLine(buf, positional, named ? commandByBytes(buf, start, frame.end(0)) : undefined, length);
    if (this.flagTokens.length > KEEP_TOKENS) this.flagTokens = new Int32Array(KEEP_TOKENS);
    // A block command's line is still in use until its block is read.
    if (this.mode === READ_LINE && frame.bounds.length > KEEP_BOUNDS) frame.bounds = new Int32Array(KEEP_BOUNDS);
  }

  /** Checks a tokenized line in the order of docs/protocol.md 2.3–2.4 and reports the outcome. */
  private frameLine(buf: Buffer, positional: number, spec: CommandSpec | undefined, length: number): void {
    const flagCount = this.flagCount;
    const arityOk = spec !== undefined && positional >= spec.minArgs && positional <= spec.maxArgs;

    let flags: string[] | null = null;
    if (flagCount > 0) {
      flags = this.parseFlags(buf, flagCount);
      if (flags === null) {
        this.rejectFlags(spec, arityOk, buf, positional);
        return;
      }
    }
    if (spec === undefined) {
      this.sink.error('unknown-command');
    } else if (!arityOk) {
      // A block command with the wrong count has no SIZE to go by: its block would be read as commands.
      if (spec.block) this.close('invalid-command-args');
      else this.sink.error('invalid-command-args');
    } else {
      const frame = this.frame;
      frame.spec = spec;
      frame.bytes = buf;
      frame.count = positional;
      frame.flags = flags;
      frame.block = null;
      frame.blockStart = frame.blockEnd = 0;
      if (spec.block) this.startBlock(spec, frame, length);
      else this.sink.command(frame);
    }
  }

  /**
   * Splits `buf[start..end)` on spaces: the bounds of the positional tokens go to the
   * frame, flags (`-` first, with an `=`) to `flagTokens` with their first `=`. Returns
   * the positional count; `flagCount` holds the other.
   */
  private tokenize(buf: Buffer, start: number, end: number): number {
    let bounds = this.frame.bounds;
    let flags = this.flagTokens;
    let positional = 0;
    let flagCount = 0;
    let p = start;
    while (p < end) {
      if (buf[p] === SP) {
        p++;
        continue;
      }
      const tokenStart = p;
      let eq = -1;
      if (buf[p] === DASH) {
        while (p < end && buf[p] !== SP) {
          if (eq < 0 && buf[p] === EQ) eq = p;
          p++;
        }
      } else {
        while (p < end && buf[p] !== SP) p++;
      }
      if (eq < 0) {
        if (2 * positional + 2 > bounds.length) this.frame.bounds = bounds = grown(bounds);
        bounds[2 * positional] = tokenStart;
        bounds[2 * positional + 1] = p;
        positional++;
      } else {
        if (3 * flagCount + 3 > flags.length) this.flagTokens = flags = grown(flags);
        flags[3 * flagCount] = tokenStart;
        flags[3 * flagCount + 1] = p;
        flags[3 * flagCount + 2] = eq;
        flagCount++;
      }
    }
    this.flagCount = flagCount;
    return positional;
  }

  /** Flags as [key, value, …] (docs/protocol.md 2.3), or null when one is malformed or repeated. */
  private parseFlags(buf: Buffer, flagCount: number): string[] | null {
    const tokens = this.flagTokens;
    const flags: string[] = new Array<string>(2 * flagCount);
    // Pairwise comparison is cheapest for the few flags real commands carry; a line stuffed
    // with thousands of flags must not cost quadratic time.
    const seen = flagCount > 8 ? new Set<string>() : null;
    let f = 0;
    for (let t = 0; t < flagCount; t++) {
      const eq = tokens[3 * t + 2]!;
      const keyStart = tokens[3 * t]! + 1;
      const tokenEnd = tokens[3 * t + 1]!;
      let valueEnd = eq + 1;
      while (valueEnd < tokenEnd && buf[valueEnd] !== EQ) valueEnd++;
      if (eq === keyStart || valueEnd === eq + 1) return null;
      const key = latin1(buf, keyStart, eq);
      if (seen !== null) {
        if (seen.has(key)) return null;
        seen.add(key);
      } else {
        for (let k = 0; k < f; k += 2) if (flags[k] === key) return null;
      }
      flags[f] = key;
      flags[f + 1] = latin1(buf, eq + 1, valueEnd);
      f += 2;
    }
    return flags;
  }

  /**
   * A malformed or repeated flag. When the block's extent is known (right arity, SIZE a
   * number) the block is dropped first so that its bytes are never taken for commands;
   * when it is not, the connection closes (docs/protocol.md 2.4, Q6).
   */
  private rejectFlags(spec: CommandSpec | undefined, arityOk: boolean, buf: Buffer, positional: number): void {
    const error: ClientError = 'invalid-command-flags';
    if (spec === undefined || !spec.block) {
      this.sink.error(error);
      return;
    }
    if (!arityOk) {
      this.close(error);
      return;
    }
    const size = parseSizeAt(buf, this.frame.start(positional - 1), this.frame.end(positional - 1));
    if (size === null || size < 0 || size > MAX_SKIP_SIZE) this.close(error);
    else this.startSkip(size, error);
  }

  private startBlock(spec: CommandSpec, frame: Frame, lineLength: number): void {
    const error = spec.blockError!;
    const last = frame.count - 1;
    const size = parseSizeAt(frame.bytes, frame.start(last), frame.end(last));
    if (size === null || size < 0 || size > MAX_SKIP_SIZE) {
      this.close(error);
    } else if (size > MAX_BLOCK_SIZE || lineLength + size + 2 > COMMAND_BUDGET) {
      this.startSkip(size, error);
    } else {
      this.spec = spec;
      this.blockSize = size;
      this.block = size === 0 ? NO_BYTES : null;
      this.blockStart = 0;
      this.filled = 0;
      this.terminatorSeen = 0;
      this.mode = size === 0 ? READ_TERMINATOR : READ_BLOCK;
    }
  }

  private startSkip(bytes: number, error: ClientError): void {
    this.skipLeft = bytes;
    this.skipError = error;
    this.mode = SKIP_BLOCK;
  }

  private readBlock(chunk: Buffer, pos: number): number {
    const size = this.blockSize;
    const available = chunk.length - pos;
    if (this.filled === 0 && available >= size) {
      this.block = chunk;
      this.blockStart = pos;
      this.mode = READ_TERMINATOR;
      return pos + size;
    }
    // Only the first piece of a block (nothing filled yet) can find the gathering buffer too small.
    const bytes = this.filled === 0 ? this.gatherer(size) : this.blockBytes!;
    const take = Math.min(size - this.filled, available);
    chunk.copy(bytes, this.filled, pos, pos + take);
    this.filled += take;
    if (this.filled === size) {
      this.block = bytes;
      this.mode = READ_TERMINATOR;
    }
    return pos + take;
  }

  private readTerminator(chunk: Buffer, pos: number): number {
    const n = chunk.length;
    while (pos < n && this.terminatorSeen < 2) {
      const expected = this.terminatorSeen === 0 ? CR : LF;
      if (chunk[pos] !== expected) {
        // SIZE did not match the data: where the next command starts is unknown (docs/protocol.md 2.4).
        this.close(this.blockError());
        return n;
      }
      pos++;
      this.terminatorSeen++;
    }
    if (this.terminatorSeen === 2) {
      if (this.spec === null) {
        this.mode = READ_LINE;
        this.sink.error(this.skipError);
        return pos;
      }
      const frame = this.frame;
      frame.block = this.block;
      frame.blockStart = this.blockStart;
      frame.blockEnd = this.blockStart + this.blockSize;
      this.clearBlock();
      this.mode = READ_LINE;
      this.sink.command(frame);
    }
    return pos;
  }

  private skipBlock(chunk: Buffer, pos: number): number {
    const take = Math.min(this.skipLeft, chunk.length - pos);
    this.skipLeft -= take;
    if (this.skipLeft === 0) {
      this.terminatorSeen = 0;
      this.mode = READ_TERMINATOR;
    }
    return pos + take;
  }

  /** Error E of the block being read, or the error owed for the block being skipped. */
  private blockError(): ClientError {
    return this.spec !== null ? this.spec.blockError! : this.skipError;
  }

  private clearBlock(): void {
    this.spec = null;
    this.block = null;
    if (this.blockBytes !== null && this.blockBytes.length > KEEP_PARTIAL) this.blockBytes = null;
    if (this.lineBytes !== null && this.lineBytes.length > KEEP_PARTIAL) this.lineBytes = null;
  }

  /** Stops parsing for good and lets go of every buffer. */
  private shut(): void {
    this.mode = CLOSED;
    this.partial = null;
    this.partialLength = 0;
    this.blockBytes = null;
    this.lineBytes = null;
    this.clearBlock();
    this.frame.release();
  }

  private close(error: ClientError | null): void {
    this.shut();
    this.sink.close(error);
  }
}
