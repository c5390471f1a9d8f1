import test from 'ava';
import { startTestServer, Wire } from '../helpers/wire.js';
import type { WorkqServer } from '../../src/server/types.js';

// The worked sessions of docs/protocol.md section 11, byte for byte. Timestamps are whatever
// the clock says, so they are compared by shape.

const TS = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g;
const shape = (s: string) => s.replace(TS, '<time>');

let server: WorkqServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(() => server.stop());

async function session(): Promise<Wire> {
  return Wire.connect(server.port);
}

function jobBlock(id: string, keys: Record<string, string | number>): string {
  const lines = Object.entries(keys).map(([k, v]) => `${k} ${v}\r\n`);
  return `${id} ${lines.length}\r\n${lines.join('')}`;
}

test('11.1 add, duplicate add; 11.2 inspect; 11.3 lease, complete, result, delete', async (t) => {
  // a server of its own: `inspect queues` lists every queue the other sessions create
  const own = await startTestServer();
  t.teardown(() => own.stop());
  const a = await Wire.connect(own.port);
  const id = '8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e';
  a.send(`add ${id} ping 5000 60000 4 -priority=10 -max-attempts=3\r\nping\r\n`);
  t.is(await a.reply('+OK\r\n'), '+OK\r\n');
  a.send(`add ${id} ping 5000 60000 4\r\nping\r\n`);
  t.is(await a.reply('-CLIENT-ERROR Duplicate job\r\n'), '-CLIENT-ERROR Duplicate job\r\n');

  const block = (attempts: number, state: number) =>
    jobBlock(id, {
      name: 'ping',
      ttr: 5000,
      ttl: 60000,
      'payload-size': 4,
      payload: 'ping',
      'max-attempts': 3,
      attempts,
      'max-fails': 0,
      fails: 0,
      priority: 10,
      state,
      created: '<time>',
    });
  const inspectJob = `+OK 1\r\n${block(0, 0)}`;
  a.send(`inspect job ${id}\r\n`);
  t.is(shape(await a.reply(inspectJob.replace('<time>', '2026-11-29T02:23:45Z'))), inspectJob);
  a.send('inspect jobs ping 0 10\r\n');
  t.is(shape(await a.reply(inspectJob.replace('<time>', '2026-11-29T02:23:45Z'))), inspectJob);
  const queue = '+OK 1\r\nping 2\r\nready-len 1\r\nscheduled-len 0\r\n';
  a.send('inspect queue ping\r\n');
  t.is(await a.reply(queue), queue);
  a.send('inspect queues 0 10\r\n');
  t.is(await a.reply(queue), queue);

  a.send('lease ping 1000\r\n');
  const leased = `+OK 1\r\n${id} ping 5000 4\r\nping\r\n`;
  t.is(await a.reply(leased), leased);
  a.send('lease ping 100\r\n');
  t.is(await a.reply('-TIMEOUT\r\n'), '-TIMEOUT\r\n');
  const leasedJob = `+OK 1\r\n${block(1, 4)}`;
  a.send(`inspect job ${id}\r\n`);
  t.is(shape(await a.reply(leasedJob.replace('<time>', '2026-11-29T02:23:45Z'))), leasedJob);
  a.send(`complete ${id} 4\r\npong\r\n`);
  t.is(await a.reply('+OK\r\n'), '+OK\r\n');
  a.send(`complete ${id} 4\r\npong\r\n`);
  t.is(await a.reply('-CLIENT-ERROR Duplicate result\r\n'), '-CLIENT-ERROR Duplicate result\r\n');
  a.send(`result ${id} 1000\r\n`);
  const result = `+OK 1\r\n${id} 1 4\r\npong\r\n`;
  t.is(await a.reply(result), result);
  a.send(`delete ${id}\r\n`);
  t.is(await a.reply('+OK\r\n'), '+OK\r\n');
  a.send(`delete ${id}\r\n`);
  t.is(await a.reply('-NOT-FOUND\r\n'), '-NOT-FOUND\r\n');
  a.send(`result ${id} 1000\r\n`);
  t.is(await a.reply('-NOT-FOUND\r\n'), '-NOT-FOUND\r\n');
  a.close();
});

test('11.4 fail', async (t) => {
  const a = await session();
  const id = '1d2c3b4a-5e6f-4a1b-8c2d-3e4f5a6b7c8d';
  a.send(`add ${id} email 2000 60000 5\r\nhello\r\n`);
  t.is(await a.reply('+OK\r\n'), '+OK\r\n');
  a.send('lease email 1000\r\n');
  const leased = `+OK 1\r\n${id} email 2000 5\r\nhello\r\n`;
  t.is(await a.reply(leased), leased);
  a.send(`fail ${id} 7\r\nbounced\r\n`);
  t.is(await a.reply('+OK\r\n'), '+OK\r\n');
  a.send(`result ${id} 0\r\n`);
  const result = `+OK 1\r\n${id} 0 7\r\nbounced\r\n`;
  t.is(await a.reply(result), result);
  a.close();
});

test('11.5 schedule, inspect scheduled-jobs', async (t) => {
  const a = await session();
  const id = 'e3b0c442-98fc-4c14-9afb-f4c8996fb924';
  a.send(`schedule ${id} report 1000 60000 2030-01-01T00:00:00Z 3 -priority=2\r\nmon\r\n`);
  t.is(await a.reply('+OK\r\n'), '+OK\r\n');
  a.send('inspect scheduled-jobs report 0 10\r\n');
  const expected =
    '+OK 1\r\n' +
    jobBlock(id, {
      name: 'report',
      ttr: 1000,
      ttl: 60000,
      'payload-size': 3,
      payload: 'mon',
      'max-attempts': 0,
      attempts: 0,
      'max-fails': 0,
      fails: 0,
      priority: 2,
      state: 0,
      created: '<time>',
      time: '2030-01-01T00:00:00Z',
    });
  const got = await a.reply(expected.replace('<time>', '2026-11-29T02:23:47Z'));
  t.is(got.replace(/created \S+/, 'created <time>'), expected);
  a.send('inspect queue report\r\n');
  const queue = '+OK 1\r\nreport 2\r\nready-len 0\r\nscheduled-len 1\r\n';
  t.is(await a.reply(queue), queue);
  a.close();
});

test("11.6 result waiting on another connection's work", async (t) => {
  const a = await session();
  const b = await session();
  const id = '0f8e7d6c-5b4a-4938-a7b6-c5d4e3f2a1b0';
  a.send(`add ${id} thumb 1000 60000 3\r\nimg\r\n`);
  t.is(await a.reply('+OK\r\n'), '+OK\r\n');
  a.send(`result ${id} 5000\r\n`);
  t.true(await a.silentFor(100));
  b.send('lease thumb 1000\r\n');
  const leased = `+OK 1\r\n${id} thumb 1000 3\r\nimg\r\n`;
  t.is(await b.reply(leased), leased);
  b.send(`complete ${id} 2\r\nok\r\n`);
  t.is(await b.reply('+OK\r\n'), '+OK\r\n');
  const result = `+OK 1\r\n${id} 1 2\r\nok\r\n`;
  t.is(await a.reply(result), result);
  a.close();
  b.close();
});

test('11.7 run with a worker, run timeout', async (t) => {
  const a = await session();
  const b = await session();
  const id = '4c1d6e0a-2b3f-4e5d-b6a7-980f1e2d3c4b';
  a.send(`run ${id} resize 5000 10000 3\r\nimg\r\n`);
  b.send('lease resize 1000\r\n');
  const leased = `+OK 1\r\n${id} resize 5000 3\r\nimg\r\n`;
  t.is(await b.reply(leased), leased);
  b.send(`complete ${id} 5\r\nsmall\r\n`);
  t.is(await b.reply('+OK\r\n'), '+OK\r\n');
  const result = `+OK 1\r\n${id} 1 5\r\nsmall\r\n`;
  t.is(await a.reply(result), result);
  a.send(`result ${id} 0\r\n`);
  t.is(await a.reply('-NOT-FOUND\r\n'), '-NOT-FOUND\r\n');
  const started = Date.now();
  a.send(`run ${id} resize 5000 200 3\r\nimg\r\n`);
  t.is(await a.reply('-TIMEOUT\r\n'), '-TIMEOUT\r\n');
  t.true(Date.now() - started >= 190);
  a.send('lease resize thumb 200\r\n');
  t.is(await a.reply('-TIMEOUT\r\n'), '-TIMEOUT\r\n');
  a.close();
  b.close();
});

test('11.8 TTR expiry, requeue, max-attempts', async (t) => {
  const a = await session();
  const id = '7b9e2c4d-1a3f-4e5b-8c6d-0e1f2a3b4c5d';
  a.send(`add ${id} ttrq 300 60000 1 -max-attempts=2\r\nx\r\n`);
  t.is(await a.reply('+OK\r\n'), '+OK\r\n');
  const leased = `+OK 1\r\n${id} ttrq 300 1\r\nx\r\n`;
  a.send('lease ttrq 1000\r\n');
  t.is(await a.reply(leased), leased);
  await new Promise((resolve) => setTimeout(resolve, 450));
  a.send('inspect queue ttrq\r\n');
  const queue = '+OK 1\r\nttrq 2\r\nready-len 1\r\nscheduled-len 0\r\n';
  t.is(await a.reply(queue), queue);
  a.send('lease ttrq 1000\r\n');
  t.is(await a.reply(leased), leased);
  await new Promise((resolve) => setTimeout(resolve, 450));
  a.send('lease ttrq 100\r\n');
  t.is(await a.reply('-TIMEOUT\r\n'), '-TIMEOUT\r\n');
  a.send(`result ${id} 0\r\n`);
  const result = `+OK 1\r\n${id} 0 0\r\n\r\n`;
  t.is(await a.reply(result), result);
  a.close();
});

test('11.9 complete without a lease; delete with a non-v4 ID; TTL expiry', async (t) => {
  const a = await session();
  const id = '2a4b6c8d-0e1f-4a2b-9c3d-4e5f6a7b8c9d';
  a.send(`add ${id} cq 1000 60000 1\r\nx\r\n`);
  t.is(await a.reply('+OK\r\n'), '+OK\r\n');
  a.send(`complete ${id} 4\r\ndone\r\n`);
  t.is(await a.reply('+OK\r\n'), '+OK\r\n');
  a.send('inspect queue cq\r\n');
  const queue = '+OK 1\r\ncq 2\r\nready-len 0\r\nscheduled-len 0\r\n';
  t.is(await a.reply(queue), queue);
  a.send('delete 6ba7b810-9dad-11d1-80b4-00c04fd430c4\r\n');
  t.is(await a.reply('+OK\r\n'), '+OK\r\n');
  const tq = '9f8e7d6c-5b4a-4321-8fed-cba987654321';
  a.send(`add ${tq} tq 1000 300 1\r\nx\r\n`);
  t.is(await a.reply('+OK\r\n'), '+OK\r\n');
  await new Promise((resolve) => setTimeout(resolve, 450));
  a.send(`inspect job ${tq}\r\n`);
  t.is(await a.reply('-NOT-FOUND\r\n'), '-NOT-FOUND\r\n');
  a.send('inspect server\r\n');
  const head = await a.reply('+OK 1\r\nserver 7\r\n');
  t.is(head, '+OK 1\r\nserver 7\r\n');
  const lines: string[] = [];
  for (let i = 0; i < 7; i++) {
    let line = '';
    while (!line.endsWith('\r\n')) line += (await a.read(1)).toString('latin1');
    lines.push(line);
  }
  t.regex(lines[0]!, /^active-clients \d+\r\n$/);
  t.regex(lines[1]!, /^evicted-jobs [1-9]\d*\r\n$/);
  t.regex(lines[2]!, /^started \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\r\n$/);
  t.regex(lines[3]!, /^jobs \d+\r\n$/);
  t.is(lines[4], 'read-only 0\r\n');
  t.regex(lines[5]!, /^uptime \d+\r\n$/);
  t.regex(lines[6]!, /^version \d+\.\d+\.\d+\S*\r\n$/);
  a.close();
});

test('11.10 errors and framing (this project: a block whose end is unknown closes the connection, 2.4)', async (t) => {
  const a = await session();
  a.send('frobnicate\r\n');
  t.is(await a.reply('-CLIENT-ERROR Unknown command\r\n'), '-CLIENT-ERROR Unknown command\r\n');
  a.send('add 8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e ping 5000 60000\r\n');
  t.is(await a.reply('-CLIENT-ERROR Invalid command args\r\n'), '-CLIENT-ERROR Invalid command args\r\n');
  t.true(await a.waitClosed());

  // this project (docs/protocol.md 2.4, Q6): the block of an add with bad flags is read and dropped
  const b = await session();
  b.send('add 8c5b8a2e-6d1f-4b3a-9c7e-2f1a0b9c8d7e ping 5000 60000 4 -priority=1 -priority=2\r\nping\r\n');
  t.is(await b.reply('-CLIENT-ERROR Invalid command flags\r\n'), '-CLIENT-ERROR Invalid command flags\r\n');
  b.send('add 6ba7b810-9dad-11d1-80b4-00c04fd430c4 ping 5000 60000 4\r\nping\r\n');
  t.is(await b.reply('-CLIENT-ERROR Invalid ID\r\n'), '-CLIENT-ERROR Invalid ID\r\n');
  b.send('\r\n');
  t.is(await b.reply('-CLIENT-ERROR Unknown command\r\n'), '-CLIENT-ERROR Unknown command\r\n');
  b.send('add 2a4b6c8d-0e1f-4a2b-9c3d-4e5f6a7b8c9d ping 5000 60000 4\r\npingXY');
  t.is(await b.reply('-CLIENT-ERROR Invalid payload size\r\n'), '-CLIENT-ERROR Invalid payload size\r\n');
  t.true(await b.waitClosed());
  t.is((await b.read(1, 50)).length, 0);

  const c = await session();
  c.send('lease ping 10\n');
  t.true(await c.waitClosed());
  t.is((await c.read(1, 50)).length, 0);
});
