import test from 'ava';
import { startTestServer, Wire } from '../helpers/wire.js';
import { addCommand, inspectJob, inspectServer, leaseReply, newId, readJobBlock, readLine, resultReply, sleep } from '../helpers/replies.js';
import type { WorkqServer } from '../../src/server/types.js';

// Framing over a real socket (docs/protocol.md 2): pipelining, split input, binary blocks,
// the size limits and the per-command budget, and what closes a connection. Section
// numbers and Qn in the test titles refer to docs/protocol.md (Qn: its section 9).

const NIL = '00000000-0000-0000-0000-000000000000';
const MIB = 1_048_576;
const BUDGET = 1_058_576;
const err = (text: string): string => `-CLIENT-ERROR ${text}\r\n`;

let server: WorkqServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(() => server.stop());

async function connect(t: { teardown(fn: () => void): void }): Promise<Wire> {
  const wire = await Wire.connect(server.port);
  t.teardown(() => wire.close());
  return wire;
}

/** Bytes that, if ever parsed as command lines, delete `victim` (the injection of docs/protocol.md Q6). */
function injection(victim: string, size: number): Buffer {
  const line = Buffer.from(`delete ${victim}\r\n`, 'latin1');
  const block = Buffer.alloc(size, 0x20);
  for (let at = 0; at + line.length <= size; at += line.length) line.copy(block, at);
  return block;
}

/** Every byte value, CR/LF pairs and lone CRs and LFs. */
function binaryPayload(): Buffer {
  const all = Buffer.alloc(256);
  for (let b = 0; b < 256; b++) all[b] = b;
  return Buffer.concat([Buffer.from('\r\n'), all, Buffer.from('\r\n\r\n\n\r+OK 1\r\n'), all.reverse(), Buffer.from('\r')]);
}

test('hundreds of pipelined commands in one write are answered in order', async (t) => {
  const wire = await connect(t);
  const sent: Buffer[] = [];
  const expected: Buffer[] = [];
  for (let i = 0; i < 300; i++) {
    const id = newId();
    const result = `r${i}`;
    sent.push(addCommand(id, 'pipe', `p${i}`), Buffer.from(`result ${id} 0\r\ncomplete ${id} ${result.length}\r\n${result}\r\nresult ${id} 0\r\n`));
    expected.push(Buffer.from('+OK\r\n-TIMEOUT\r\n+OK\r\n'), resultReply(id, 1, result));
  }
  wire.send(Buffer.concat(sent));
  const want = Buffer.concat(expected);
  t.true((await wire.read(want.length)).equals(want));
  t.true(await wire.silentFor(50));
});

test('a command split into 1-byte writes, CR and LF of the line and of the block apart', async (t) => {
  const wire = await connect(t);
  wire.socket.setNoDelay(true);
  const id = newId();
  const bytes = addCommand(id, 'split', 'ping');
  for (let i = 0; i < bytes.length - 1; i++) {
    wire.send(bytes.subarray(i, i + 1));
    await sleep(2);
  }
  t.true(await wire.silentFor(150), 'no reply before the last byte of the block terminator');
  wire.send('\n');
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');

  // docs/protocol.md Q7: the block terminator's CR and LF in different segments, well apart.
  const other = newId();
  wire.send(`add ${other} split 1000 60000 4\r\npong\r`);
  t.true(await wire.silentFor(200));
  wire.send('\n');
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');
  wire.send(`inspect job ${NIL}\r`);
  t.true(await wire.silentFor(200));
  wire.send('\n');
  t.is(await wire.reply('-NOT-FOUND\r\n'), '-NOT-FOUND\r\n');
  wire.send('lease split 0\r\nlease split 0\r\n');
  const want = Buffer.concat([leaseReply(id, 'split', 1000, 'ping'), leaseReply(other, 'split', 1000, 'pong')]);
  t.true((await wire.read(want.length)).equals(want));
  t.false(wire.closed);
});

test('binary payloads and results with CRLF inside and every byte value round-trip', async (t) => {
  const wire = await connect(t);
  const id = newId();
  const payload = binaryPayload();
  wire.send(addCommand(id, 'binary', payload));
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');

  const { block } = await inspectJob(wire, id);
  t.true(block!.payload.equals(payload));
  t.is(block!.keys.get('payload-size'), String(payload.length));
  t.is(block!.keys.get('state'), '0');

  wire.send('lease binary 1000\r\n');
  const leased = leaseReply(id, 'binary', 1000, payload);
  t.true((await wire.read(leased.length)).equals(leased));

  const result = Buffer.concat([payload.subarray(100), payload.subarray(0, 100)]);
  wire.send(Buffer.concat([Buffer.from(`complete ${id} ${result.length}\r\n`), result, Buffer.from(`\r\nresult ${id} 0\r\n`)]));
  const finished = Buffer.concat([Buffer.from('+OK\r\n'), resultReply(id, 1, result)]);
  t.true((await wire.read(finished.length)).equals(finished));

  const failed = newId();
  wire.send(
    Buffer.concat([
      addCommand(failed, 'binary', payload),
      Buffer.from(`fail ${failed} ${result.length}\r\n`),
      result,
      Buffer.from(`\r\nresult ${failed} 0\r\n`),
    ]),
  );
  const failedReply = Buffer.concat([Buffer.from('+OK\r\n+OK\r\n'), resultReply(failed, 0, result)]);
  t.true((await wire.read(failedReply.length)).equals(failedReply));
});

test('a 1 MiB payload is accepted; 1 MiB + 1 is refused with its block consumed and never executed', async (t) => {
  const wire = await connect(t);
  const victim = newId();
  wire.send(addCommand(victim, 'big', 'keep me'));
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');

  const big = newId();
  const payload = injection(victim, MIB);
  wire.send(addCommand(big, 'big', payload));
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');

  const tooBig = newId();
  wire.send(addCommand(tooBig, 'big', injection(victim, MIB + 1)));
  t.is(await wire.reply(err('Invalid payload size')), err('Invalid payload size'));
  t.is((await inspectJob(wire, tooBig)).raw.toString(), '-NOT-FOUND\r\n');
  t.is((await inspectJob(wire, victim)).block?.keys.get('payload'), 'keep me');

  wire.send('lease big 0\r\nlease big 0\r\n');
  const leased = Buffer.concat([leaseReply(victim, 'big', 1000, 'keep me'), leaseReply(big, 'big', 1000, payload)]);
  t.true((await wire.read(leased.length)).equals(leased));
});

test('a line that fits but line + block does not is refused with the block consumed (2.5)', async (t) => {
  const wire = await connect(t);
  const victim = newId();
  wire.send(addCommand(victim, 'budget', 'x'));
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');
  const id = newId();
  const line = `add ${id} budget 1000 60000${' '.repeat(10_000)}${MIB}\r\n`;
  t.true(line.length + MIB + 2 > BUDGET && line.length < BUDGET);
  wire.send(Buffer.concat([Buffer.from(line), injection(victim, MIB), Buffer.from('\r\n')]));
  t.is(await wire.reply(err('Invalid payload size')), err('Invalid payload size'));
  t.is((await inspectJob(wire, victim)).block?.keys.get('state'), '0');
  t.is((await inspectJob(wire, id)).raw.toString(), '-NOT-FOUND\r\n');
});

test('Q6: the block of a command with bad flags is consumed, not executed', async (t) => {
  const wire = await connect(t);
  const victim = newId();
  wire.send(addCommand(victim, 'flags', 'x'));
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');
  const block = `delete ${victim}`;
  wire.send(`add ${newId()} flags 1000 60000 ${block.length} -priority=1 -priority=2\r\n${block}\r\n`);
  wire.send(`complete ${newId()} ${block.length} -=1\r\n${block}\r\n`);
  wire.send(`fail ${newId()} ${block.length} -x=\r\n${block}\r\n`);
  const flagsError = err('Invalid command flags');
  t.is(await wire.reply(flagsError.repeat(3)), flagsError.repeat(3));
  t.is((await inspectJob(wire, victim)).block?.keys.get('state'), '0');
  // A SIZE above 1 MiB after a flag error is skipped as it arrives.
  wire.send(Buffer.concat([Buffer.from(`add ${newId()} flags 1000 60000 ${2 * MIB} -a=1 -a=1\r\n`), injection(victim, 2 * MIB), Buffer.from('\r\n')]));
  t.is(await wire.reply(flagsError), flagsError);
  t.is((await inspectJob(wire, victim)).block?.keys.get('state'), '0');
});

test('a block of 2 MiB is skipped as it arrives and nothing in it runs', async (t) => {
  const wire = await connect(t);
  const victim = newId();
  wire.send(addCommand(victim, 'skip', 'x'));
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');
  const block = injection(victim, 2 * MIB);
  wire.send(`fail ${victim} ${block.length}\r\n`);
  for (let at = 0; at < block.length; at += 64 * 1024) {
    wire.send(block.subarray(at, at + 64 * 1024));
    await sleep(1);
  }
  wire.send('\r\n');
  t.is(await wire.reply(err('Invalid result size')), err('Invalid result size'));
  t.is((await inspectJob(wire, victim)).block?.keys.get('state'), '0');
});

test('a block of exactly 64 MiB is skipped and the connection stays', async (t) => {
  const wire = await connect(t);
  const size = 64 * MIB;
  wire.send(`add ${newId()} huge 1000 60000 ${size}\r\n`);
  const chunk = Buffer.alloc(MIB, 'a');
  for (let sent = 0; sent < size; sent += chunk.length) {
    if (!wire.socket.write(chunk)) await new Promise((resolve) => wire.socket.once('drain', resolve));
  }
  wire.send(`\r\ninspect job ${NIL}\r\n`);
  t.is(await wire.reply(err('Invalid payload size') + '-NOT-FOUND\r\n', 20_000), err('Invalid payload size') + '-NOT-FOUND\r\n');
  t.false(wire.closed);
});

for (const [title, line, error] of [
  ['SIZE above 64 MiB', `add ${NIL} q 1000 60000 ${64 * MIB + 1}`, 'Invalid payload size'],
  ['negative SIZE', `add ${NIL} q 1000 60000 -1`, 'Invalid payload size'],
  ['negative result SIZE', `fail ${NIL} -5`, 'Invalid result size'],
  ['huge SIZE on run', `run ${NIL} q 1000 10 99999999999`, 'Invalid payload size'],
  ['huge SIZE on schedule', `schedule ${NIL} q 1000 10 2030-01-01T00:00:00Z 9223372036854775807`, 'Invalid payload size'],
] as const) {
  test(`${title}: error, then the connection is closed`, async (t) => {
    const wire = await connect(t);
    wire.send(`${line}\r\nxxxx\r\ninspect job ${NIL}\r\n`);
    t.is(await wire.reply(err(error)), err(error));
    t.true(await wire.waitClosed());
    t.is((await wire.read(1, 50)).length, 0);
  });
}

test('bad flags with a SIZE above 64 MiB close the connection after one error', async (t) => {
  const wire = await connect(t);
  wire.send(`add ${NIL} q 1000 60000 ${64 * MIB + 1} -a=1 -a=2\r\nxxxx\r\ninspect job ${NIL}\r\n`);
  t.regex(await readLine(wire), /^-CLIENT-ERROR (Invalid command flags|Invalid payload size)\r\n$/);
  t.true(await wire.waitClosed());
  t.is((await wire.read(1, 50)).length, 0);
});

/** A second connection's view of `victim`: still there, still new. */
async function stillNew(t: { teardown(fn: () => void): void }, victim: string): Promise<string | undefined> {
  const other = await connect(t);
  return (await inspectJob(other, victim)).block?.keys.get('state');
}

// docs/protocol.md 2.4, revised Do: when the end of a block cannot be known, the error is
// sent and the connection closed; nothing the client sent after the command line runs.
for (const [title, line, error] of [
  ['wrong argument count (a space in the queue name)', (size: number) => `add ${newId()} my queue 1000 60000 ${size}`, 'Invalid command args'],
  ['too few arguments', () => `add ${newId()} q 1000 60000`, 'Invalid command args'],
  ['too many arguments on complete', (size: number) => `complete ${newId()} 1 ${size}`, 'Invalid command args'],
  ['SIZE not a number', () => `add ${newId()} q 1000 60000 4x`, 'Invalid payload size'],
  ['result SIZE not a number', () => `fail ${newId()} ten`, 'Invalid result size'],
  ['bad flags and a wrong argument count', (size: number) => `schedule ${newId()} q 1000 60000 ${size} -a=`, 'Invalid command flags'],
  ['bad flags and SIZE not a number', () => `run ${newId()} q 1000 10 x -a=1 -a=2`, 'Invalid command flags'],
] as const) {
  test(`${title}: error, close, and the payload's commands never run`, async (t) => {
    const wire = await connect(t);
    const victim = newId();
    wire.send(addCommand(victim, 'unknown-end', 'x'));
    t.is(await wire.reply('+OK\r\n'), '+OK\r\n');
    const payload = injection(victim, 64 * 1024);
    wire.send(Buffer.concat([Buffer.from(`${line(payload.length)}\r\n`), payload, Buffer.from(`\r\ndelete ${victim}\r\n`)]));
    t.is(await wire.reply(err(error)), err(error));
    t.true(await wire.waitClosed());
    t.is((await wire.read(1, 50)).length, 0);
    t.is(await stillNew(t, victim), '0');
  });
}

for (const [title, body, error] of [
  ['SIZE shorter than the data', (id: string, victim: string) => `add ${id} short 1000 60000 2\r\nping\r\ndelete ${victim}\r\n`, 'Invalid payload size'],
  ['SIZE one byte short', (id: string, victim: string) => `complete ${id} 3\r\nping\r\ndelete ${victim}\r\n`, 'Invalid payload size'],
  ['CR then junk', (id: string, victim: string) => `fail ${id} 4\r\npong\rXdelete ${victim}\r\n`, 'Invalid result size'],
  ['LF before CR', (id: string, victim: string) => `add ${id} short 1000 60000 4\r\nping\n\rdelete ${victim}\r\n`, 'Invalid payload size'],
] as const) {
  test(`a block terminator that is not CRLF (${title}): error, close, nothing after it runs`, async (t) => {
    const wire = await connect(t);
    const victim = newId();
    const id = newId();
    wire.send(addCommand(victim, 'short', 'x'));
    t.is(await wire.reply('+OK\r\n'), '+OK\r\n');
    wire.send(body(id, victim));
    t.is(await wire.reply(err(error)), err(error));
    t.true(await wire.waitClosed());
    t.is((await wire.read(1, 50)).length, 0);
    t.is(await stillNew(t, victim), '0');
    t.is((await inspectJob(await connect(t), id)).raw.toString(), '-NOT-FOUND\r\n');
  });
}

test('a skipped block (SIZE above 1 MiB) whose terminator is not CRLF: error, close', async (t) => {
  const wire = await connect(t);
  const victim = newId();
  wire.send(addCommand(victim, 'skipshort', 'x'));
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');
  wire.send(
    Buffer.concat([Buffer.from(`add ${newId()} skipshort 1000 60000 ${MIB + 1}\r\n`), injection(victim, MIB + 3), Buffer.from(`\r\ndelete ${victim}\r\n`)]),
  );
  t.is(await wire.reply(err('Invalid payload size')), err('Invalid payload size'));
  t.true(await wire.waitClosed());
  t.is(await stillNew(t, victim), '0');
});

test('the error reply is delivered whole before the close, with megabytes pipelined behind the bad command', async (t) => {
  const wire = await connect(t);
  const victim = newId();
  wire.send(addCommand(victim, 'flood', 'x'));
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');
  const before = Buffer.from(`inspect job ${NIL}\r\nlease empty-flood 0\r\n`);
  const bad = Buffer.from(`add ${newId()} flood 1000 60000 2\r\nping\r\n`);
  const behind = injection(victim, 8 * MIB);
  wire.send(Buffer.concat([before, bad, behind]));
  const want = '-NOT-FOUND\r\n-TIMEOUT\r\n' + err('Invalid payload size');
  t.is(await wire.reply(want), want);
  t.true(await wire.waitClosed());
  t.is(await stillNew(t, victim), '0');
});

test('a bare LF closes the connection; commands before it are answered, none after', async (t) => {
  const wire = await connect(t);
  wire.send(`inspect job ${NIL}\r\nlease q 10\ninspect job ${NIL}\r\n`);
  t.is(await wire.reply('-NOT-FOUND\r\n'), '-NOT-FOUND\r\n');
  t.true(await wire.waitClosed());
  t.is((await wire.read(1, 50)).length, 0);

  const lone = await connect(t);
  lone.send('\n');
  t.true(await lone.waitClosed());
  t.is((await lone.read(1, 50)).length, 0);
});

test('a CR that is not right before the LF is part of the line', async (t) => {
  const wire = await connect(t);
  wire.send('lease q 10\r\r\n');
  t.is(await wire.reply(err('Invalid wait timeout')), err('Invalid wait timeout'));
  t.false(wire.closed);
});

test('a line of exactly the budget is served; one byte more closes the connection', async (t) => {
  const fits = await connect(t);
  const command = `inspect job ${NIL}`;
  fits.send(`inspect job ${NIL}\r\n${command}${' '.repeat(BUDGET - command.length - 2)}\r\ninspect job ${NIL}\r\n`);
  t.is(await fits.reply('-NOT-FOUND\r\n'.repeat(3)), '-NOT-FOUND\r\n'.repeat(3));

  const over = await connect(t);
  over.send(`inspect job ${NIL}\r\n${command}${' '.repeat(BUDGET - command.length - 1)}\r\ninspect job ${NIL}\r\n`);
  t.is(await over.reply('-NOT-FOUND\r\n'), '-NOT-FOUND\r\n');
  t.true(await over.waitClosed());
  t.is((await over.read(1, 50)).length, 0);
});

test.serial('a giant line sent slowly is cut off near the budget; server memory stays flat', async (t) => {
  const wire = await connect(t);
  const before = process.memoryUsage();
  const chunk = Buffer.alloc(64 * 1024, 'z');
  let sent = 0;
  const deadline = Date.now() + 10_000;
  while (sent < 20 * MIB && !wire.closed && Date.now() < deadline) {
    wire.send(chunk);
    sent += chunk.length;
    await sleep(1);
  }
  t.true(await wire.waitClosed(3000), 'the server closes the connection');
  t.true(sent < 20 * MIB, `closed after ${sent} bytes`);
  const after = process.memoryUsage();
  const grown = after.rss - before.rss;
  t.true(grown < 50 * MIB, `rss grew by ${grown} bytes`);
  t.true(after.arrayBuffers - before.arrayBuffers < 50 * MIB);
});

test('the client ends its side: replies still come, a waiting lease included, then close', async (t) => {
  const wire = await connect(t);
  const id = newId();
  wire.send(Buffer.concat([addCommand(id, 'halfclose', 'x'), Buffer.from('lease nothing-here 300\r\nlease halfclose 300\r\n')]));
  wire.socket.end();
  const want = Buffer.concat([Buffer.from('+OK\r\n-TIMEOUT\r\n'), leaseReply(id, 'halfclose', 1000, 'x')]);
  // As text, so that a failure shows what came instead (s5 under load showed only `false`).
  t.is((await wire.read(want.length)).toString('latin1'), want.toString('latin1'));
  t.true(await wire.waitClosed());
});

test('the connection ends inside a block: error E, then close; inside a line: no reply', async (t) => {
  const block = await connect(t);
  block.send(`fail ${NIL} 10\r\nabc`);
  block.socket.end();
  t.is(await block.reply(err('Invalid result size')), err('Invalid result size'));
  t.true(await block.waitClosed());

  const line = await connect(t);
  line.send(`inspect job ${NIL}`);
  line.socket.end();
  t.true(await line.waitClosed());
  t.is((await line.read(1, 50)).length, 0);
});

test('thousands of commands pipelined behind a waiting lease all run, in order, after it', async (t) => {
  const wire = await connect(t);
  const ids = Array.from({ length: 3000 }, newId);
  wire.send(`lease backlog 300\r\n${ids.map((id) => `delete ${id}\r\n`).join('')}inspect job ${NIL}\r\n`);
  const want = '-TIMEOUT\r\n' + '-NOT-FOUND\r\n'.repeat(ids.length + 1);
  t.is(await wire.reply(want), want);
  t.true(await wire.silentFor(50));
});

test('a client that stops reading gets every reply, in order, once it reads again', async (t) => {
  const wire = await connect(t);
  const id = newId();
  const payload = Buffer.alloc(64 * 1024, 'p');
  wire.send(addCommand(id, 'slowreader', payload));
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');
  const { raw } = await inspectJob(wire, id);
  wire.socket.pause();
  const count = 300;
  wire.send(`inspect job ${id}\r\n`.repeat(count) + `inspect job ${NIL}\r\n`);
  await sleep(300);
  wire.socket.resume();
  for (let i = 0; i < count; i++) {
    const got = await wire.read(raw.length);
    if (!got.equals(raw)) return t.fail(`reply ${i} differs`);
  }
  t.is(await wire.reply('-NOT-FOUND\r\n'), '-NOT-FOUND\r\n');
  t.true((await inspectServer(wire)).has('active-clients'));
});

test('Q5: a payload holding CRLF is written raw in inspect blocks', async (t) => {
  const wire = await connect(t);
  const id = newId();
  wire.send(Buffer.concat([addCommand(id, 'crlf', 'a\r\nname evil\r\n'), Buffer.from('inspect jobs crlf 0 1\r\n')]));
  t.is(await wire.reply('+OK\r\n+OK 1\r\n'), '+OK\r\n+OK 1\r\n');
  const block = await readJobBlock(wire);
  t.is(block.keys.get('name'), 'crlf');
  t.true(block.raw.includes(Buffer.from('payload-size 14\r\npayload a\r\nname evil\r\n\r\nmax-attempts 0\r\n')));
});
