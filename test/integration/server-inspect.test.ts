import test from 'ava';
import { startTestServer, Wire } from '../helpers/wire.js';
import { addCommand, inspectJob, inspectServer, newId, queueBlock, readJobBlocks, sleep } from '../helpers/replies.js';
import type { WorkqServer } from '../../src/server/types.js';

// inspect over real TCP (docs/protocol.md 6): paging windows, order, and the server counters.
// Every test that looks at global state (queue list, counters) has a server of its own.

const err = (text: string): string => `-CLIENT-ERROR ${text}\r\n`;

async function ownServer(t: { teardown(fn: () => Promise<void> | void): void }): Promise<{ server: WorkqServer; wire: Wire }> {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const wire = await Wire.connect(server.port);
  t.teardown(() => wire.close());
  return { server, wire };
}

async function listed(wire: Wire, command: string): Promise<string[]> {
  wire.send(`${command}\r\n`);
  return (await readJobBlocks(wire)).map((block) => block.id);
}

test('inspect jobs: offset/limit windows over the ready list in queue order', async (t) => {
  const { wire } = await ownServer(t);
  const ids = Array.from({ length: 7 }, newId);
  // Priorities fall as IDs are added, so queue order is insertion order; a leased job is in neither list
  // (its TTR of a minute does not run out during the test, however loaded the machine).
  wire.send(Buffer.concat(ids.map((id, i) => addCommand(id, 'pages', `p${i}`, '1000 60000', `-priority=${10 - i}`))));
  t.is(await wire.reply('+OK\r\n'.repeat(7)), '+OK\r\n'.repeat(7));
  const leased = newId();
  wire.send(Buffer.concat([addCommand(leased, 'pages', 'top', '60000 60000', '-priority=99'), Buffer.from('lease pages 0\r\n')]));
  await wire.read(5 + `+OK 1\r\n${leased} pages 60000 3\r\ntop\r\n`.length);

  t.deepEqual(await listed(wire, 'inspect jobs pages 0 100'), ids);
  t.deepEqual(await listed(wire, 'inspect jobs pages 0 3'), ids.slice(0, 3));
  t.deepEqual(await listed(wire, 'inspect jobs pages 3 3'), ids.slice(3, 6));
  t.deepEqual(await listed(wire, 'inspect jobs pages 6 3'), ids.slice(6));
  t.deepEqual(await listed(wire, 'inspect jobs pages 2 1'), ids.slice(2, 3));
  for (const past of ['inspect jobs pages 7 3', 'inspect jobs pages 4294967295 100']) {
    wire.send(`${past}\r\n`);
    t.is(await wire.reply('+OK 0\r\n'), '+OK 0\r\n', past);
  }
  wire.send('inspect jobs pages 0 101\r\ninspect jobs pages 0 0\r\ninspect jobs pages -1 10\r\ninspect jobs nope 0 101\r\n');
  const want = err('Invalid limit') + err('Invalid limit') + err('Invalid cursor offset') + err('Invalid limit');
  t.is(await wire.reply(want), want);

  // Each listed block is byte for byte the block of `inspect job`.
  wire.send('inspect jobs pages 0 100\r\n');
  const blocks = await readJobBlocks(wire);
  for (const block of blocks) t.true((await inspectJob(wire, block.id)).block!.raw.equals(block.raw));
});

test('inspect scheduled-jobs: priority first, then time; windows', async (t) => {
  const { wire } = await ownServer(t);
  const plan: Array<[day: string, priority: number]> = [
    ['03', 0],
    ['01', 0],
    ['05', 5],
    ['02', 0],
    ['04', -1],
  ];
  const ids = plan.map(() => newId());
  for (const [i, [day, priority]] of plan.entries()) {
    wire.send(`schedule ${ids[i]} later 1000 60000 2030-01-${day}T00:00:00Z 1 -priority=${priority}\r\nx\r\n`);
  }
  t.is(await wire.reply('+OK\r\n'.repeat(5)), '+OK\r\n'.repeat(5));
  const order = [ids[2], ids[1], ids[3], ids[0], ids[4]];
  t.deepEqual(await listed(wire, 'inspect scheduled-jobs later 0 100'), order);
  t.deepEqual(await listed(wire, 'inspect scheduled-jobs later 1 2'), order.slice(1, 3));
  t.deepEqual(await listed(wire, 'inspect scheduled-jobs later 4 2'), order.slice(4));
  wire.send('inspect scheduled-jobs later 5 2\r\ninspect jobs later 0 10\r\ninspect queue later\r\n');
  const want = `+OK 0\r\n+OK 0\r\n+OK 1\r\n${queueBlock('later', 0, 5)}`;
  t.is(await wire.reply(want), want);
});

test('inspect queues: byte order of names, windows, offset past the end', async (t) => {
  const { wire } = await ownServer(t);
  wire.send('inspect queues 0 10\r\n');
  t.is(await wire.reply('+OK 0\r\n'), '+OK 0\r\n', 'no queues yet');
  const names = ['b', 'B', 'a', '_', '-', '.x', '0', 'Z', 'a.b', 'ab', 'A'];
  wire.send(names.map((name) => `lease ${name} 0\r\n`).join('') + 'inspect queues 0 10\r\n');
  const timeouts = '-TIMEOUT\r\n'.repeat(names.length) + '+OK 0\r\n';
  t.is(await wire.reply(timeouts), timeouts, 'queues that only leases named are gone with the leases (Q17)');
  wire.send(names.map((name) => `resume ${name}\r\n`).join(''));
  t.is(await wire.reply('+OK\r\n'.repeat(names.length)), '+OK\r\n'.repeat(names.length));
  wire.send(Buffer.concat([addCommand(newId(), 'Z', 'z'), addCommand(newId(), 'Z', 'z'), addCommand(newId(), '_', 'u')]));
  wire.send('schedule ' + newId() + ' a.b 1000 60000 2030-01-01T00:00:00Z 1\r\nx\r\n');
  t.is(await wire.reply('+OK\r\n'.repeat(4)), '+OK\r\n'.repeat(4));

  const sorted = ['-', '.x', '0', 'A', 'B', 'Z', '_', 'a', 'a.b', 'ab', 'b'];
  const counts: Record<string, [number, number]> = { Z: [2, 0], _: [1, 0], 'a.b': [0, 1] };
  const block = (name: string) => queueBlock(name, ...(counts[name] ?? [0, 0]));
  const window = (offset: number, limit: number): string => {
    const part = sorted.slice(offset, offset + limit);
    return `+OK ${part.length}\r\n${part.map(block).join('')}`;
  };
  for (const [offset, limit] of [
    [0, 100],
    [0, 1],
    [3, 4],
    [10, 5],
    [11, 10],
    [4294967295, 100],
  ] as const) {
    wire.send(`inspect queues ${offset} ${limit}\r\n`);
    t.is(await wire.reply(window(offset, limit)), window(offset, limit), `window ${offset} ${limit}`);
  }
});

test('inspect never creates queues; a rejected add creates none', async (t) => {
  const { wire } = await ownServer(t);
  const id = newId();
  wire.send(
    `inspect queue ghost\r\ninspect jobs ghost 0 1\r\nadd ${id} ghost 1000 0 1\r\nx\r\nadd ${id} ghost 0 1000 1\r\nx\r\ninspect queue ghost\r\ninspect queues 0 100\r\n`,
  );
  const want = `-NOT-FOUND\r\n-NOT-FOUND\r\n${err('Invalid TTL')}${err('Invalid TTR')}-NOT-FOUND\r\n+OK 0\r\n`;
  t.is(await wire.reply(want), want);
});

test('inspect server: active-clients counts the open connections', async (t) => {
  const { server, wire } = await ownServer(t);
  t.is((await inspectServer(wire)).get('active-clients'), '1');
  const others = [await Wire.connect(server.port), await Wire.connect(server.port), await Wire.connect(server.port)];
  t.teardown(() => others.forEach((other) => other.close()));
  // A connection counts once the server has accepted it; ask from the newest one.
  t.is((await inspectServer(others[2]!)).get('active-clients'), '4');
  others[0]!.close();
  others[1]!.close();
  let count = '';
  for (let i = 0; i < 100 && count !== '2'; i++) {
    count = (await inspectServer(wire)).get('active-clients')!;
    if (count !== '2') await sleep(20);
  }
  t.is(count, '2');
});

test('inspect server: evicted-jobs counts unfinished jobs removed by their TTL', async (t) => {
  const { wire } = await ownServer(t);
  const [done, open, leased] = [newId(), newId(), newId()];
  wire.send(Buffer.concat([addCommand(done, 'ttl', 'd', '1000 300'), addCommand(open, 'ttl', 'o', '1000 300'), addCommand(leased, 'ttl2', 'l', '5000 300')]));
  wire.send(`complete ${done} 1\r\nr\r\nlease ttl2 0\r\n`);
  t.is(await wire.reply('+OK\r\n'.repeat(4)), '+OK\r\n'.repeat(4));
  await wire.read(`+OK 1\r\n${leased} ttl2 5000 1\r\nl\r\n`.length);
  t.is((await inspectServer(wire)).get('evicted-jobs'), '0');
  await sleep(700);
  const keys = await inspectServer(wire);
  t.is(keys.get('evicted-jobs'), '2');
  t.is(keys.get('jobs'), '0');
  for (const id of [done, open, leased]) t.is((await inspectJob(wire, id)).raw.toString(), '-NOT-FOUND\r\n');
});
