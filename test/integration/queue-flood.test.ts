import test from 'ava';
import { randomUUID } from 'node:crypto';
import { startTestServer, Wire } from '../helpers/wire.js';
import { queueBlock } from '../helpers/replies.js';
import { DEFAULT_LIMITS } from '../../src/server/limits.js';

// A flood of new queue names must cost each add a small constant (docs/protocol.md 7.2):
// another client is served while it goes on. Checked by order, not by time: the second
// client's replies arrive while the flood's replies are still coming.

const NAMES = 1_000_000;
const BATCH = 5000;
const OK = '+OK\r\n';

/** Distinct names in no sorted order: multiplying by an odd constant permutes 32-bit integers. */
function nameOf(i: number): string {
  return `n${(Math.imul(i, 0x9e3779b1) >>> 0).toString(36)}`;
}

test('a million distinct queue names: a second client is answered while the flood goes on, and inspect queues pages them in byte order', async (t) => {
  t.timeout(600_000);
  // limits.maxQueues raised past the flood (its default, 100,000, would refuse most of it).
  const server = await startTestServer({ limits: { ...DEFAULT_LIMITS, maxQueues: NAMES + 1 } });
  t.teardown(() => server.stop());
  const flood = await Wire.connect(server.port);
  const probe = await Wire.connect(server.port);
  t.teardown(() => {
    flood.close();
    probe.close();
  });

  let acked = 0;
  let floodDone = false;
  const floodRun = (async () => {
    for (let start = 0; start < NAMES; start += BATCH) {
      let text = '';
      for (let i = start; i < start + BATCH; i++) text += `add ${randomUUID()} ${nameOf(i)} 1000 600000 1\r\nx\r\n`;
      flood.send(text);
      // One batch in flight at a time: the server reads the next while the probe waits its turn.
      const want = OK.repeat(BATCH);
      if ((await flood.reply(want, 120_000)) !== want) throw new Error(`flood reply wrong after ${acked}`);
      acked += BATCH;
    }
    floodDone = true;
  })();

  const seenAt: number[] = [];
  while (!floodDone) {
    probe.send(`add ${randomUUID()} probe 1000 600000 1\r\nx\r\n`);
    t.is(await probe.reply(OK, 120_000), OK);
    if (!floodDone) seenAt.push(acked);
  }
  await floodRun;
  const during = new Set(seenAt.filter((n) => n > 0 && n < NAMES));
  t.true(during.size >= 10, `the probe was answered at ${during.size} distinct points of the flood`);

  const sorted = Array.from({ length: NAMES }, (_, i) => nameOf(i))
    .concat('probe')
    .sort();
  for (const offset of [0, 500_000, NAMES - 50]) {
    const names = sorted.slice(offset, offset + 100);
    const want = `+OK ${names.length}\r\n${names.map((name) => queueBlock(name, name === 'probe' ? seenAt.length + 1 : 1, 0)).join('')}`;
    probe.send(`inspect queues ${offset} 100\r\n`);
    t.is(await probe.reply(want, 60_000), want);
  }
});
