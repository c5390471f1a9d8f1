import test from 'ava';
import type { WorkqServer } from '../../src/server/types.js';
import { startTestServer, Wire } from '../helpers/wire.js';
import { addCommand, leaseReply, newId, resultReply } from '../helpers/replies.js';

// Every plain connection's reads land in one buffer (src/server/socket-reads.ts): whatever a
// connection keeps of a read past it (a line whose block comes later, a block whose CRLF
// does) must be its own copy, or the next read of any connection overwrites it. Here many
// connections send commands cut into pieces, each piece its own read, their pieces taking
// turns; every byte must arrive where it was sent.

const CONNECTIONS = 6;
/** Block sizes: empty, small, one read's worth and more, several reads' worth. */
const SIZES = [0, 1, 37, 1000, 65_536, 70_001, 200_000];

let server: WorkqServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(() => server.stop());

/** Bytes that differ by connection and by job, so a block read into another's place shows. */
function block(connection: number, job: number, size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (connection * 31 + job * 7 + i * 13) & 0xff;
  return bytes;
}

/**
 * A command cut at the places where the parser must keep something of a read: inside the
 * line, right after it (the block comes in a later read), inside the block, and before the
 * block's CRLF.
 */
function pieces(command: Buffer): Buffer[] {
  const lineEnd = command.indexOf('\n') + 1;
  const blockEnd = command.length - 2;
  const cuts = [...new Set([Math.floor(lineEnd / 2), lineEnd, Math.floor((lineEnd + blockEnd) / 2), blockEnd])].filter((at) => at > 0 && at < command.length);
  const list: Buffer[] = [];
  let from = 0;
  for (const at of cuts.sort((a, b) => a - b)) {
    if (at > from) list.push(command.subarray(from, at));
    from = at;
  }
  list.push(command.subarray(from));
  return list;
}

/**
 * Sends each connection's commands, piece by piece, the connections taking turns. The server
 * runs in this process: waiting for the next turn of the event loop between writes lets it
 * read each piece on its own.
 */
async function sendInTurns(wires: Wire[], commands: Buffer[][]): Promise<void> {
  const queues = commands.map((list) => list.flatMap(pieces));
  for (let step = 0; queues.some((queue) => step < queue.length); step++) {
    for (let c = 0; c < wires.length; c++) {
      const piece = queues[c]![step];
      if (piece !== undefined) wires[c]!.send(piece);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('commands cut across reads on many connections at once keep every byte: lines, payloads and results', async (t) => {
  const wires = await Promise.all(Array.from({ length: CONNECTIONS }, () => Wire.connect(server.port)));
  const ids = wires.map(() => SIZES.map(() => newId()));
  const queue = (c: number): string => `interleaved-${c}`;

  await sendInTurns(
    wires,
    wires.map((_, c) => SIZES.map((size, j) => addCommand(ids[c]![j]!, queue(c), block(c, j, size)))),
  );
  for (const wire of wires) t.is(await wire.reply('+OK\r\n'.repeat(SIZES.length)), '+OK\r\n'.repeat(SIZES.length));

  // Each connection leases its own queue's jobs, in the order they were added.
  for (let c = 0; c < CONNECTIONS; c++) {
    for (let j = 0; j < SIZES.length; j++) {
      wires[c]!.send(`lease ${queue(c)} 1000\r\n`);
      const expected = leaseReply(ids[c]![j]!, queue(c), 1000, block(c, j, SIZES[j]!));
      t.true((await wires[c]!.read(expected.length)).equals(expected), `connection ${c}, job ${j}`);
    }
  }

  // Results go the same way, with the sizes the other way round.
  const results = wires.map((_, c) => SIZES.map((_, j) => block(c + CONNECTIONS, j, SIZES[SIZES.length - 1 - j]!)));
  await sendInTurns(
    wires,
    wires.map((_, c) =>
      SIZES.map((_, j) => {
        const result = results[c]![j]!;
        return Buffer.concat([Buffer.from(`complete ${ids[c]![j]!} ${result.length}\r\n`), result, Buffer.from('\r\n')]);
      }),
    ),
  );
  for (const wire of wires) t.is(await wire.reply('+OK\r\n'.repeat(SIZES.length)), '+OK\r\n'.repeat(SIZES.length));
  for (let c = 0; c < CONNECTIONS; c++) {
    for (let j = 0; j < SIZES.length; j++) {
      wires[c]!.send(`result ${ids[c]![j]!} 0\r\n`);
      const expected = resultReply(ids[c]![j]!, 1, results[c]![j]!);
      t.true((await wires[c]!.read(expected.length)).equals(expected), `result of connection ${c}, job ${j}`);
    }
  }
  for (const wire of wires) wire.close();
});
