import { Parser } from '../../src/protocol/parser.js';
import type { Frame } from '../../src/protocol/frame.js';
import type { ClientError, ParserSink } from '../../src/protocol/types.js';

/** What the sink saw, as comparable text: `cmd args|flags|block`, `err code`, `close code`. */
export class RecordingSink implements ParserSink {
  readonly events: string[] = [];
  readonly frames: Frame[] = [];

  command(frame: Frame): void {
    this.frames.push(frame.keep());
    const flags = frame.flags === null ? '-' : frame.flags.join(',');
    const block = frame.block === null ? '-' : JSON.stringify(frame.blockText());
    this.events.push(`cmd ${JSON.stringify(frame.args)} ${flags} ${block}`);
  }

  error(error: ClientError): void {
    this.events.push(`err ${error}`);
  }

  close(error: ClientError | null): void {
    this.events.push(`close ${error ?? 'silent'}`);
  }
}

/**
 * Feeds `chunks` in order, then EOF when `eof`; returns the events. Each chunk is fed as a
 * copy that is overwritten once `feed` returns, as a socket reusing its read buffer would:
 * whatever the parser still needs from a chunk it must have copied.
 */
export function parseChunks(chunks: readonly Buffer[], eof = false): string[] {
  const sink = new RecordingSink();
  const parser = new Parser(sink);
  for (const chunk of chunks) {
    const reused = Buffer.from(chunk);
    parser.feed(reused);
    reused.fill(0x7e);
  }
  if (eof) parser.end();
  return sink.events;
}

export function bytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** Every way of splitting `input` tested here: whole, at each offset in two, byte by byte. */
export function splits(input: Buffer): Buffer[][] {
  const ways: Buffer[][] = [[input]];
  for (let i = 1; i < input.length; i++) ways.push([input.subarray(0, i), input.subarray(i)]);
  const single: Buffer[] = [];
  for (let i = 0; i < input.length; i++) single.push(input.subarray(i, i + 1));
  ways.push(single);
  return ways;
}
