import test from 'ava';
import { nodeFileSystem } from '../../src/cmdlog/index.js';
import type { LogFileSystem } from '../../src/cmdlog/types.js';
import { startTestServer, tempDir, Wire } from '../helpers/wire.js';

// The circuit breaker over the wire (docs/protocol.md 8.2, docs/command-log.md 14): a failing disk
// turns the server read-only, the command whose record failed waits, reads keep
// working, and once the disk takes writes again the waiting reply goes out and
// read-only mode ends.

const READ_ONLY = '-SERVER-ERROR Read-only mode triggered by cmdlog circuit breaker\r\n';
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function failingDisk(): { fs: LogFileSystem; full: { on: boolean } } {
  const full = { on: false };
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const fs: LogFileSystem = {
    ...nodeFileSystem,
    writeSync(fd, buf, offset, length, position) {
      if (full.on) throw enospc();
      return nodeFileSystem.writeSync(fd, buf, offset, length, position);
    },
    async write(fd, buf, offset, length, position) {
      if (full.on) throw enospc();
      return nodeFileSystem.write(fd, buf, offset, length, position);
    },
  };
  return { fs, full };
}

test('a full disk makes the server read-only until writes succeed again; nothing acknowledged is lost', async (t) => {
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const disk = failingDisk();
  const server = await startTestServer({ cmdlogPath: dir.path, fs: disk.fs });
  const a = await Wire.connect(server.port);
  const b = await Wire.connect(server.port);
  // Also when an assertion fails first: an open log's timers keep the test process alive.
  t.teardown(() => {
    a.close();
    b.close();
    return server.stop();
  });

  a.send(`add ${id(1)} q 1000 60000 1\r\nx\r\n`);
  t.is(await a.reply('+OK\r\n'), '+OK\r\n');

  disk.full.on = true;
  a.send(`add ${id(2)} q 1000 60000 1\r\ny\r\n`);
  t.true(await a.silentFor(300), 'the add whose record failed is not answered');

  b.send(`add ${id(3)} q 1000 60000 1\r\nz\r\n`);
  t.is(await b.reply(READ_ONLY), READ_ONLY);
  b.send('lease q 0\r\n');
  t.is(await b.reply(READ_ONLY), READ_ONLY);
  b.send(`delete ${id(1)}\r\n`);
  t.is(await b.reply(READ_ONLY), READ_ONLY);
  b.send(`add ${id(4)} q 1000 60000 1 -priority=x\r\nz\r\n`);
  t.is(await b.reply(READ_ONLY), READ_ONLY, 'checks past the framing are skipped');
  // The extensions that change state are refused alike (docs/protocol-extensions.md).
  const extensions = [`touch ${id(1)}`, 'pause q', 'resume q', `retry ${id(1)}`, 'retry-failed q', 'touch bad-id', 'pause bad$'];
  b.send(extensions.map((line) => `${line}\r\n`).join(''));
  t.is(await b.reply(READ_ONLY.repeat(extensions.length)), READ_ONLY.repeat(extensions.length));
  b.send('inspect failed-jobs q 0 10\r\n');
  t.is(await b.reply('+OK 0\r\n'), '+OK 0\r\n', 'listing by state is a read');
  b.send(`add ${id(4)} q 1000 60000 1 -a=1 -a=2\r\nz\r\n`);
  const flags = '-CLIENT-ERROR Invalid command flags\r\n';
  t.is(await b.reply(flags), flags, 'framing errors still answer as usual');
  b.send(`result ${id(1)} 0\r\n`);
  t.is(await b.reply('-TIMEOUT\r\n'), '-TIMEOUT\r\n', 'reads keep working');
  b.send('inspect queue q\r\n');
  const queue = '+OK 1\r\nq 2\r\nready-len 2\r\nscheduled-len 0\r\n';
  t.is(await b.reply(queue), queue);

  disk.full.on = false;
  t.is(await a.reply('+OK\r\n', 20_000), '+OK\r\n', 'the waiting add is answered once its record is written');
  b.send(`add ${id(3)} q 1000 60000 1\r\nz\r\n`);
  t.is(await b.reply('+OK\r\n'), '+OK\r\n', 'read-only mode is over');

  a.close();
  b.close();
  await server.stop();
  const again = await startTestServer({ cmdlogPath: dir.path });
  t.teardown(() => again.stop());
  const c = await Wire.connect(again.port);
  c.send('inspect queue q\r\n');
  const all = '+OK 1\r\nq 2\r\nready-len 3\r\nscheduled-len 0\r\n';
  t.is(await c.reply(all), all);
  c.close();
});

test('a result waiter woken by a completion whose record cannot be written waits for that record', async (t) => {
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const disk = failingDisk();
  const server = await startTestServer({ cmdlogPath: dir.path, fs: disk.fs });
  const worker = await Wire.connect(server.port);
  const waiter = await Wire.connect(server.port);
  t.teardown(() => {
    worker.close();
    waiter.close();
    return server.stop();
  });
  worker.send(`add ${id(7)} q 1000 60000 1\r\nx\r\n`);
  t.is(await worker.reply('+OK\r\n'), '+OK\r\n');
  waiter.send(`result ${id(7)} 10000\r\n`);
  t.true(await waiter.silentFor(100));

  disk.full.on = true;
  worker.send(`complete ${id(7)} 4\r\ndone\r\n`);
  t.true(await waiter.silentFor(400), 'the result is not shown before its record is written');
  t.true(await worker.silentFor(0));

  disk.full.on = false;
  t.is(await worker.reply('+OK\r\n', 20_000), '+OK\r\n');
  const result = `+OK 1\r\n${id(7)} 1 4\r\ndone\r\n`;
  t.is(await waiter.reply(result, 20_000), result);
});
