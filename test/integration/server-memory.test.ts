import test from 'ava';
import net from 'node:net';
import { exited, freePort, spawnServer, waitForPort } from '../helpers/process.js';
import { residentBytes } from '../helpers/proc-memory.js';
import { addCommand, newId, sleep } from '../helpers/replies.js';
import { Wire } from '../helpers/wire.js';

// What a client can make a server hold in memory (docs/protocol.md 2.5 and 12.3:
// nothing a client sends can make it hold unbounded memory or crash it). The server
// runs as its own process so that its resident size is not mixed with the client's
// buffers.

const MB = 1_000_000;

test('data blocks pipelined behind a waiting lease do not pile up in server memory', async (t) => {
  // 300 MB through loopback to a server started from the sources: a minute on a loaded machine.
  t.timeout(120_000);
  const port = await freePort();
  const child = spawnServer(['-listen', `127.0.0.1:${port}`]);
  t.teardown(() => child.kill('SIGKILL'));
  await waitForPort(port);
  const wire = await Wire.connect(port);
  t.teardown(() => wire.close());
  const baseline = residentBytes(child.pid!);

  // Each command is answered -NOT-FOUND and stores nothing: only the wait holds them.
  const count = 300;
  const block = Buffer.alloc(MB, 'b');
  wire.send('lease nothing-comes 2500\r\n');
  const waitEnds = Date.now() + 2300;
  let grown = 0;
  const sampler = setInterval(() => {
    if (Date.now() < waitEnds) grown = Math.max(grown, residentBytes(child.pid!) - baseline);
  }, 50);
  t.teardown(() => clearInterval(sampler));
  const writing = (async () => {
    for (let i = 0; i < count; i++) {
      const ok = wire.socket.write(Buffer.concat([Buffer.from(`complete ${newId()} ${MB}\r\n`), block, Buffer.from('\r\n')]));
      if (!ok) await new Promise((resolve) => wire.socket.once('drain', resolve));
    }
  })();
  const want = '-TIMEOUT\r\n' + '-NOT-FOUND\r\n'.repeat(count);
  t.is(await wire.reply(want, 60_000), want, 'every command still runs, in order, after the wait');
  await writing;
  clearInterval(sampler);
  t.true(grown < 100 * MB, `server memory grew by ${Math.round(grown / MB)} MB while the lease waited`);
  wire.close();
  child.kill('SIGTERM');
  await exited(child);
});

test('pipelined commands whose replies are large do not pile up replies in server memory', async (t) => {
  t.timeout(120_000);
  const port = await freePort();
  const child = spawnServer(['-listen', `127.0.0.1:${port}`]);
  t.teardown(() => child.kill('SIGKILL'));
  await waitForPort(port);
  const socket = net.connect({ host: '127.0.0.1', port });
  t.teardown(() => socket.destroy());
  await new Promise((resolve) => socket.once('connect', resolve));
  let received = 0;
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  const id = newId();
  socket.write(addCommand(id, 'amplify', Buffer.alloc(MB, 'a')));
  socket.write(`inspect job ${id}\r\n`);
  const replyLength =
    `+OK 1\r\n${id} 12\r\n`.length +
    'name amplify\r\nttr 1000\r\nttl 60000\r\npayload-size 1000000\r\n'.length +
    8 +
    MB +
    2 +
    'max-attempts 0\r\nattempts 0\r\nmax-fails 0\r\nfails 0\r\npriority 0\r\nstate 0\r\ncreated 2026-01-01T00:00:00Z\r\n'.length;
  // Bounds for a failing test only, generous for a loaded machine.
  const deadline = Date.now() + 30_000;
  while (received < 5 + replyLength && Date.now() < deadline) await sleep(10);
  t.is(received, 5 + replyLength);

  // 300 requests of 1 MB each in a 15 kB write: the replies must not all be built at once.
  const baseline = residentBytes(child.pid!);
  const count = 300;
  socket.write(`inspect job ${id}\r\n`.repeat(count));
  let grown = 0;
  while (received < 5 + replyLength * (count + 1) && Date.now() < deadline + 60_000) {
    grown = Math.max(grown, residentBytes(child.pid!) - baseline);
    await sleep(20);
  }
  t.is(received, 5 + replyLength * (count + 1), 'every reply arrives');
  t.true(grown < 100 * MB, `server memory grew by ${Math.round(grown / MB)} MB for ${count} pipelined 1 MB replies`);
});
