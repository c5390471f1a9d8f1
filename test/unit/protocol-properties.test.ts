import test from 'ava';
import fc from 'fast-check';
import { COMMANDS } from '../../src/protocol/commands.js';
import { decode } from '../../src/protocol/decode.js';
import { COMMAND_BUDGET, MAX_BLOCK_SIZE, Parser } from '../../src/protocol/parser.js';
import type { CommandSpec } from '../../src/protocol/types.js';
import { parseJobId } from '../../src/protocol/values.js';
import { RecordingSink, parseChunks } from './protocol-helpers.js';

/** A token: bytes other than SP and LF, not empty. */
const tokenBytes = fc
  .uint8Array({ minLength: 1, maxLength: 12 })
  .map((raw) => Buffer.from(raw.map((b) => (b === 0x20 || b === 0x0a ? 0x41 : b))).toString('latin1'));

/** A positional argument: a token that is not a flag. */
const argument = tokenBytes.map((s) => (s.startsWith('-') ? s.replace(/=/g, '_') : s));

const flagPart = tokenBytes.map((s) => s.replace(/=/g, '_'));

interface Command {
  spec: CommandSpec;
  args: string[];
  flags: [string, string][];
  block: Buffer | null;
  /** Where each flag goes among the positionals (after the name), and the spaces used. */
  slots: number[];
  spaces: number[];
}

const command: fc.Arbitrary<Command> = fc
  .record({
    spec: fc.constantFrom(...COMMANDS),
    extra: fc.array(argument, { maxLength: 6 }),
    flags: fc.uniqueArray(fc.tuple(flagPart, flagPart), { maxLength: 4, selector: ([key]) => key }),
    block: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    sizeStyle: fc.constantFrom('', '+', '0', '00'),
    slots: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
    spaces: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 16, maxLength: 16 }),
  })
  .map(({ spec, extra, flags, block, sizeStyle, slots, spaces }) => {
    const wanted = Number.isFinite(spec.maxArgs) ? spec.maxArgs : spec.minArgs + (extra.length % 4);
    const args = [spec.name];
    for (let i = 1; i < wanted; i++) args.push(extra[i % Math.max(extra.length, 1)] ?? 'a');
    if (spec.block) args[args.length - 1] = sizeStyle + String(block.length);
    return { spec, args, flags, block: spec.block ? block : null, slots, spaces };
  });

function serialize(c: Command): Buffer {
  const positional = c.args.slice(1);
  const at = c.flags.map((_, i) => c.slots[i]! % (positional.length + 1)).sort((a, b) => a - b);
  const tokens: string[] = [];
  let f = 0;
  for (let p = 0; p <= positional.length; p++) {
    while (f < c.flags.length && at[f] === p) tokens.push(`-${c.flags[f]![0]}=${c.flags[f++]![1]}`);
    if (p < positional.length) tokens.push(positional[p]!);
  }
  let line = c.args[0]!;
  tokens.forEach((token, i) => {
    line += ' '.repeat(c.spaces[i % c.spaces.length]!) + token;
  });
  line += ' '.repeat(c.spaces[15]! - 1) + '\r\n';
  const parts: Buffer[] = [Buffer.from(line, 'latin1')];
  if (c.block !== null) parts.push(c.block, Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

/** Cuts `input` at the given (sorted, deduplicated) offsets. */
function cut(input: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (input.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(input.subarray(from, p));
    from = p;
  }
  chunks.push(input.subarray(from));
  return chunks;
}

test('random valid commands round-trip through any chunking', (t) => {
  fc.assert(
    fc.property(fc.array(command, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 20 }), (commands, offsets) => {
      const input = Buffer.concat(commands.map(serialize));
      const sink = new RecordingSink();
      const parser = new Parser(sink);
      for (const chunk of cut(input, offsets)) parser.feed(chunk);
      parser.end();
      t.is(sink.events.length, commands.length);
      commands.forEach((c, i) => {
        const frame = sink.frames[i]!;
        t.is(frame.spec, c.spec);
        t.deepEqual(frame.args, c.args);
        t.deepEqual(frame.flags, c.flags.length === 0 ? null : c.flags.flat());
        t.deepEqual(frame.block === null ? null : Buffer.from(frame.blockView()), c.block);
      });
    }),
    { numRuns: 300 },
  );
});

/** Bytes weighted toward what matters to framing. */
const garbageByte = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0x0d, 0x0a, 0x20, 0x2d, 0x3d, 0x2b, 0x30, 0x31, 0x39, 0x7b) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }) },
);
const garbagePiece = fc.oneof(
  fc.array(garbageByte, { maxLength: 40 }).map((b) => Buffer.from(b)),
  fc.constantFrom(...COMMANDS.map((s) => s.name), 'inspect job', '-priority=', '1048577', '-1', '\r\n', '\n', ' ').map((s) => Buffer.from(s, 'latin1')),
);

test('garbage never throws, splits never change the outcome, memory stays bounded', (t) => {
  fc.assert(
    fc.property(fc.array(garbagePiece, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 10 }), fc.boolean(), (pieces, offsets, eof) => {
      const input = Buffer.concat(pieces);
      const whole = parseChunks([input], eof);
      const sink = new RecordingSink();
      const parser = new Parser(sink);
      const internals = parser as unknown as { partial: Buffer | null; blockBytes: Buffer | null };
      for (const chunk of cut(input, offsets)) {
        parser.feed(chunk);
        t.true((internals.partial?.length ?? 0) <= COMMAND_BUDGET);
        t.true((internals.blockBytes?.length ?? 0) <= MAX_BLOCK_SIZE);
      }
      if (eof) parser.end();
      t.deepEqual(sink.events, whole);
      for (const frame of sink.frames) {
        const request = decode(frame);
        t.is(typeof request.kind, 'string');
      }
    }),
    { numRuns: 500 },
  );
});

test('random text never breaks the ID parser and accepted IDs are canonical', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary-ascii', maxLength: 50 }), (text) => {
      const id = parseJobId(text);
      if (id !== null) t.regex(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }),
  );
  fc.assert(
    fc.property(fc.uuid(), fc.constantFrom('', '{', 'urn:uuid:'), fc.boolean(), fc.boolean(), (uuid, prefix, upper, dashes) => {
      let text = upper ? uuid.toUpperCase() : uuid;
      if (!dashes) text = text.replace(/-/g, '');
      t.is(parseJobId(prefix + text), uuid.toLowerCase());
    }),
  );
});
