import net from 'node:net';
import test from 'ava';
import fc from 'fast-check';
import { COMMANDS } from '../../src/protocol/commands.js';
import { COMMAND_BUDGET, MAX_BLOCK_SIZE, Parser } from '../../src/protocol/parser.js';
import type { WorkqServer } from '../../src/server/types.js';
import { RecordingSink } from '../unit/protocol-helpers.js';
import { startTestServer, Wire } from '../helpers/wire.js';
import { addCommand, leaseReply, newId } from '../helpers/replies.js';

// Bounded fuzzing, part of `npm test` (issue 13): random byte streams cut at random points,
// against the parser and against a live server on a real socket. Bounded by run count, not
// time. Between inputs a well-behaved client on its own connection must still be served.

const IDS = ['8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e', '1d2c3b4a-5e6f-4a1b-8c2d-3e4f5a6b7c8d', '00000000-0000-0000-0000-000000000000'];

/**
 * Pieces that make the parser and the commands take their interesting paths: command
 * names, IDs, sizes around the limits, flags, line ends, and raw bytes. Wait timeouts and
 * TTRs stay small so that blocking commands end on their own within a run.
 */
const word = fc.constantFrom(
  ...COMMANDS.map((s) => s.name),
  ...IDS,
  ' ',
  ' ',
  ' ',
  '\r\n',
  '\r\n',
  '\n',
  '\r',
  'q',
  'fz',
  'inspect server',
  'inspect job',
  'inspect queues 0 10',
  'inspect jobs q 0 10',
  '0',
  '1',
  '2',
  '4',
  '10',
  '+2',
  '-1',
  'x',
  '1048576',
  '1048577',
  '67108865',
  '-priority=1',
  '-max-fails=2',
  '-a=',
  '-=1',
  '2030-01-01T00:00:00Z',
);
const rawBytes = fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b));
const wellFormed = fc
  .tuple(fc.constantFrom('add', 'complete', 'fail'), fc.constantFrom(...IDS), fc.uint8Array({ maxLength: 24 }))
  .map(([name, id, payload]) => {
    const line = name === 'add' ? `add ${id} fz 10 1000 ${payload.length}` : `${name} ${id} ${payload.length}`;
    return Buffer.concat([Buffer.from(`${line}\r\n`), Buffer.from(payload), Buffer.from('\r\n')]);
  });
const piece = fc.oneof(
  { weight: 6, arbitrary: word.map((w) => Buffer.from(w, 'latin1')) },
  { weight: 2, arbitrary: rawBytes },
  { weight: 1, arbitrary: wellFormed },
);
const stream = fc.array(piece, { maxLength: 40 }).map((pieces) => Buffer.concat(pieces));
const cuts = fc.array(fc.nat(), { maxLength: 12 });

/** `input` cut at the given offsets (taken modulo its length), in order. */
function cut(input: Buffer, offsets: number[]): Buffer[] {
  if (input.length === 0) return [];
  const points = [...new Set(offsets.map((o) => o % input.length))].filter((p) => p > 0).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(input.subarray(from, p));
    from = p;
  }
  chunks.push(input.subarray(from));
  return chunks;
}

test('parser: random streams cut anywhere never throw, frame alike, close at most once and last', (t) => {
  fc.assert(
    fc.property(stream, cuts, fc.boolean(), (input, offsets, eof) => {
      const whole = new RecordingSink();
      const reference = new Parser(whole);
      reference.feed(input);
      if (eof) reference.end();

      const sink = new RecordingSink();
      const parser = new Parser(sink);
      const internals = parser as unknown as { partial: Buffer | null; blockBytes: Buffer | null };
      for (const chunk of cut(input, offsets)) {
        parser.feed(chunk);
        if ((internals.partial?.length ?? 0) > COMMAND_BUDGET || (internals.blockBytes?.length ?? 0) > MAX_BLOCK_SIZE) return false;
      }
      if (eof) parser.end();
      const closes = sink.events.filter((e) => e.startsWith('close')).length;
      t.deepEqual(sink.events, whole.events);
      return closes === 0 || (closes === 1 && sink.events.at(-1)!.startsWith('close'));
    }),
    { numRuns: 400 },
  );
});

let server: WorkqServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(() => server.stop());

/**
 * Sends `chunks` as separate writes on a fresh connection and half-closes. The server
 * closes once it has answered everything; a `run` or `result` that the random bytes gave a
 * long wait-timeout legitimately waits on (docs/protocol.md 1, Half close), so after
 * `graceMs` the client leaves instead. Resolves whether the server closed first.
 */
function hammer(port: number, chunks: Buffer[], graceMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    let timer: NodeJS.Timeout | null = null;
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (timer !== null) clearTimeout(timer);
      resolve(true);
    });
    const send = async (): Promise<void> => {
      for (const chunk of chunks) {
        if (socket.destroyed) break;
        socket.write(chunk);
        await new Promise((r) => setImmediate(r));
      }
      if (socket.destroyed) return;
      socket.end();
      timer = setTimeout(() => {
        socket.removeAllListeners('close');
        socket.destroy();
        resolve(false);
      }, graceMs);
    };
    socket.on('connect', () => void send());
  });
}

test.serial('live server: random streams cut anywhere; the server closes or serves each, and a well-behaved client is served after each', async (t) => {
  const client = await Wire.connect(server.port);
  t.teardown(() => client.close());
  let runs = 0;
  let left = 0;
  await fc.assert(
    fc.asyncProperty(stream, cuts, async (input, offsets) => {
      runs++;
      if (!(await hammer(server.port, cut(input, offsets), 2000))) left++;
      const id = newId();
      // The job is deleted once leased, so that its TTR running out never puts it back in the queue.
      client.send(Buffer.concat([addCommand(id, 'well-behaved', 'ok'), Buffer.from(`lease well-behaved 0\r\ndelete ${id}\r\n`)]));
      const want = Buffer.concat([Buffer.from('+OK\r\n'), leaseReply(id, 'well-behaved', 1000, 'ok'), Buffer.from('+OK\r\n')]);
      // Generous bounds: they only decide when a hang counts as one, on a machine that may be busy.
      const got = await client.read(want.length, 30_000);
      return got.equals(want) && !client.closed;
    }),
    { numRuns: 200 },
  );
  t.is(runs, 200);
  t.log(`${left} of ${runs} inputs left a command waiting at the end`);
  t.false(client.closed);
  // Every fuzzing connection is gone: the server counts only the well-behaved one.
  for (let i = 0; i < 500 && server.status().connections !== 1; i++) await new Promise((r) => setTimeout(r, 10));
  t.is(server.status().connections, 1);
});
