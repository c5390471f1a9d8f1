import test from 'ava';
import { startTestServer, Wire } from '../helpers/wire.js';
import { newId } from '../helpers/replies.js';
import type { WorkqServer } from '../../src/server/types.js';

// docs/protocol.md 11.10, "More observed one-liners": each row on a fresh connection. After
// the row's bytes a sentinel command follows; reading the expected replies and the
// sentinel's reply as one exact byte string proves that nothing else was answered in
// between (a block left unread would add an `Unknown command`). Rows whose block end is
// unknown close the connection instead (docs/protocol.md 2.4).

const SENTINEL = 'inspect job 00000000-0000-0000-0000-000000000000\r\n';
const SENTINEL_REPLY = '-NOT-FOUND\r\n';
const err = (text: string): string => `-CLIENT-ERROR ${text}\r\n`;

let server: WorkqServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(() => server.stop());

async function row(sent: string, expected: string): Promise<string> {
  const wire = await Wire.connect(server.port);
  try {
    wire.send(sent + SENTINEL);
    const want = expected + SENTINEL_REPLY;
    const got = await wire.reply(want);
    return got === want && (await wire.silentFor(50)) ? expected : got;
  } finally {
    wire.close();
  }
}

const rows: Array<[title: string, sent: (id: string) => string, expected: string]> = [
  ['unknown flag ignored', (id) => `add ${id} q 1000 60000 1 -foo=bar\r\nx\r\n`, '+OK\r\n'],
  ['4 flags on add', (id) => `add ${id} q 1000 60000 1 -a=1 -b=2 -c=3 -d=4\r\nx\r\n`, err('Invalid command args')],
  ['size accepts a sign', (id) => `add ${id} q 1000 60000 +1\r\nx\r\n`, '+OK\r\n'],
  ['u32 takes no sign', (id) => `add ${id} q +5 60000 1\r\nx\r\n`, err('Invalid TTR')],
  ['priority accepts a sign', (id) => `add ${id} q 1000 60000 1 -priority=+7\r\nx\r\n`, '+OK\r\n'],
  ['parse phase before name check', (id) => `add ${id} bad$ 1000 0 1 -priority=x\r\nx\r\n`, err('Invalid Priority')],
  ['schedule time', (id) => `schedule ${id} bad$ 0 0 x 1\r\nx\r\n`, err('Invalid Time')],
  ['run takes one flag', (id) => `run ${id} q 1000 10 1 -priority=1 -x=2\r\nx\r\n`, err('Invalid command args')],
  ['lease wait timeout checked first', () => 'lease bad$ x\r\n', err('Invalid wait timeout')],
  ['result ID', () => 'result garbage x\r\n', err('Invalid ID')],
  ['inspect limit 101', () => 'inspect queues 0 101\r\n', err('Invalid limit')],
  ['inspect offset beyond u32', () => 'inspect queues 4294967296 10\r\n', err('Invalid cursor offset')],
  ['inspect jobs of an unknown queue', () => 'inspect jobs nope 0 10\r\n', '-NOT-FOUND\r\n'],
  ['inspect job nil ID', () => 'inspect job 00000000-0000-0000-0000-000000000000\r\n', '-NOT-FOUND\r\n'],
  ['inspect unknown object', () => 'inspect foo\r\n', err('Unknown command')],
  ['inspect takes no flags', () => 'inspect -x=1 server\r\n', err('Invalid command args')],
];

for (const [title, sent, expected] of rows) {
  test(`one-liner: ${title}`, async (t) => {
    t.is(await row(sent(newId()), expected), expected);
  });
}

/** Rows whose block end cannot be known: the error, then the connection closes and the sentinel is never answered (docs/protocol.md 2.4). */
const closingRows: Array<[title: string, sent: (id: string) => string, expected: string]> = [
  ['flag without = is an argument: wrong count closes', (id) => `add ${id} q 1000 60000 1 -priority\r\nx\r\n`, err('Invalid command args')],
  ['complete size not a number closes', (id) => `complete ${id} x\r\n`, err('Invalid payload size')],
  ['fail size not a number closes', (id) => `fail ${id} x\r\n`, err('Invalid result size')],
];

for (const [title, sent, expected] of closingRows) {
  test(`one-liner: ${title}`, async (t) => {
    const wire = await Wire.connect(server.port);
    t.teardown(() => wire.close());
    wire.send(sent(newId()) + SENTINEL);
    t.is(await wire.reply(expected), expected);
    t.true(await wire.waitClosed());
    t.is((await wire.read(1, 50)).length, 0);
  });
}

test('one-liner: lease good bad$ 10 → Invalid Name, and no queue good is left behind (Q17)', async (t) => {
  t.is(await row('inspect queue good\r\n', '-NOT-FOUND\r\n'), '-NOT-FOUND\r\n');
  t.is(await row('lease good bad$ 10\r\n', err('Invalid Name')), err('Invalid Name'));
  t.is(await row('inspect queue good\r\n', '-NOT-FOUND\r\n'), '-NOT-FOUND\r\n');
});

test('one-liner: the accepted adds stored what their signed values and flags said', async (t) => {
  const wire = await Wire.connect(server.port);
  t.teardown(() => wire.close());
  const id = newId();
  wire.send(`add ${id} signs 1000 60000 +1 -priority=+7 -foo=bar\r\nx\r\ninspect job ${id}\r\n`);
  const expected =
    `+OK\r\n+OK 1\r\n${id} 12\r\nname signs\r\nttr 1000\r\nttl 60000\r\npayload-size 1\r\npayload x\r\n` +
    'max-attempts 0\r\nattempts 0\r\nmax-fails 0\r\nfails 0\r\npriority 7\r\nstate 0\r\ncreated YYYY-MM-DDTHH:MM:SSZ\r\n';
  const got = await wire.reply(expected);
  t.is(got.replace(/created \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/, 'created YYYY-MM-DDTHH:MM:SSZ'), expected);
});
