import test from 'ava';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { exited, freePort, spawnServer, waitForPort } from '../helpers/process.js';
import { tempDir, Wire } from '../helpers/wire.js';

// Every add the client saw +OK for is back after a kill -9 in the middle of a pipelined
// load, under the default `interval` policy and under `always`.

async function loadUntilKilled(port: number, kill: () => void): Promise<string[]> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise((resolve) => socket.once('connect', resolve));
  const sent: string[] = [];
  const acked: string[] = [];
  let pending = '';
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    let at: number;
    while ((at = pending.indexOf('\r\n')) !== -1) {
      const line = pending.slice(0, at);
      pending = pending.slice(at + 2);
      if (line !== '+OK') throw new Error(`unexpected reply ${line}`);
      acked.push(sent[acked.length]!);
    }
    if (acked.length >= 2000) kill();
  });
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.on('error', () => undefined);
  const deadline = Date.now() + 20_000;
  while (!socket.destroyed && Date.now() < deadline && sent.length < 200_000) {
    let batch = '';
    for (let i = 0; i < 64; i++) {
      const id = randomUUID();
      sent.push(id);
      batch += `add ${id} load 60000 600000 3\r\nabc\r\n`;
    }
    if (!socket.write(batch)) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
    await new Promise((resolve) => setImmediate(resolve));
  }
  await closed;
  return acked;
}

for (const sync of ['interval', 'always']) {
  test(`kill -9 under a pipelined load loses no acknowledged add (${sync})`, async (t) => {
    // Two server starts from the sources and up to 20 s of load: minutes on a loaded machine.
    t.timeout(180_000);
    const dir = await tempDir();
    t.teardown(() => dir.remove());
    const port = await freePort();
    const args = ['-listen', `127.0.0.1:${port}`, '-cmdlog-path', dir.path, '-cmdlog-sync', sync];
    const first = spawnServer(args);
    t.teardown(() => first.kill('SIGKILL'));
    await waitForPort(port);
    let killed = false;
    const acked = await loadUntilKilled(port, () => {
      if (!killed) first.kill('SIGKILL');
      killed = true;
    });
    t.true(killed, 'the load reached the kill point');
    t.deepEqual(await exited(first), { code: null, signal: 'SIGKILL' });
    t.true(acked.length >= 2000);

    const second = spawnServer(args);
    t.teardown(() => second.kill('SIGKILL'));
    await waitForPort(port);
    const wire = await Wire.connect(port);
    const missing: string[] = [];
    for (let i = 0; i < acked.length; i += 500) {
      const ids = acked.slice(i, i + 500);
      wire.send(ids.map((id) => `inspect job ${id}\r\n`).join(''));
      for (const id of ids) {
        const head = (await wire.read(7 + 1)).toString('latin1');
        if (head.startsWith('-NOT-FO')) {
          await wire.read(4);
          missing.push(id);
          continue;
        }
        // +OK 1\r\n<id> 12\r\n … created …\r\n: skip to the end of the block
        let block = head;
        while (!/created \S+\r\n$/.test(block)) block += (await wire.read(1)).toString('latin1');
      }
    }
    t.deepEqual(missing, []);
    wire.close();
    second.kill('SIGTERM');
    t.is((await exited(second)).code, 0);
  });
}
