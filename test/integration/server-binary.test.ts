import test from 'ava';
import { startTestServer, tempDir, Wire } from '../helpers/wire.js';
import { addCommand, inspectJob, leaseReply, newId, resultReply } from '../helpers/replies.js';

// Payloads and results are held as latin1 strings inside the server (one char per byte):
// every byte value must come back unchanged on every path, the log and a replay included.

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, b) => b));
/** All 256 values again, in another order, with the framing bytes at both ends. */
const REVERSED = Buffer.from(ALL_BYTES).reverse();

function finishCommand(verb: 'complete' | 'fail', id: string, result: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${verb} ${id} ${result.length}\r\n`), result, Buffer.from('\r\n')]);
}

async function expectBytes(wire: Wire, want: Buffer | string): Promise<boolean> {
  const expected = typeof want === 'string' ? Buffer.from(want, 'latin1') : want;
  const got = await wire.read(expected.length);
  if (!got.equals(expected)) throw new Error(`expected ${expected.toString('hex')}, got ${got.toString('hex')}`);
  return true;
}

test('every byte value survives add → lease, inspect, complete/fail → result, the log and a replay', async (t) => {
  const dir = await tempDir('workq-binary-');
  t.teardown(() => dir.remove());
  const done = newId();
  const failed = newId();
  const queued = newId();

  const first = await startTestServer({ cmdlogPath: dir.path });
  t.teardown(() => first.stop());
  const a = await Wire.connect(first.port);
  // The blocks arrive split at every few bytes as well as whole.
  const adds = Buffer.concat([addCommand(done, 'bin', ALL_BYTES), addCommand(failed, 'bin', REVERSED), addCommand(queued, 'bin-q', ALL_BYTES)]);
  for (let i = 0; i < adds.length; i += 97) a.send(adds.subarray(i, i + 97));
  t.true(await expectBytes(a, '+OK\r\n'.repeat(3)));
  a.send('lease bin 0\r\nlease bin 0\r\n');
  t.true(await expectBytes(a, Buffer.concat([leaseReply(done, 'bin', 1000, ALL_BYTES), leaseReply(failed, 'bin', 1000, REVERSED)])));
  t.deepEqual((await inspectJob(a, queued)).block?.payload, ALL_BYTES);
  a.send(Buffer.concat([finishCommand('complete', done, REVERSED), finishCommand('fail', failed, ALL_BYTES)]));
  t.true(await expectBytes(a, '+OK\r\n+OK\r\n'));
  a.send(`result ${done} 0\r\nresult ${failed} 0\r\n`);
  t.true(await expectBytes(a, Buffer.concat([resultReply(done, 1, REVERSED), resultReply(failed, 0, ALL_BYTES)])));
  a.close();
  await first.stop();

  const second = await startTestServer({ cmdlogPath: dir.path });
  t.teardown(() => second.stop());
  const b = await Wire.connect(second.port);
  t.teardown(() => b.close());
  t.deepEqual((await inspectJob(b, done)).block?.payload, ALL_BYTES);
  t.deepEqual((await inspectJob(b, failed)).block?.payload, REVERSED);
  b.send(`result ${done} 0\r\nresult ${failed} 0\r\nlease bin-q 0\r\n`);
  t.true(
    await expectBytes(b, Buffer.concat([resultReply(done, 1, REVERSED), resultReply(failed, 0, ALL_BYTES), leaseReply(queued, 'bin-q', 1000, ALL_BYTES)])),
  );
});
