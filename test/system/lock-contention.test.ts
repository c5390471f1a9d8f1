import test from 'ava';
import { exited, freePort, spawnServer, waitForPort } from '../helpers/process.js';
import { tempDir, Wire } from '../helpers/wire.js';

// Two real processes on one command-log directory: the second is refused with a message
// naming the directory while the first keeps serving; once the first is killed -9, its
// lock is taken over within seconds.

test('a directory held by a live server is refused; a killed holder\'s lock is taken over', async (t) => {
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const [port1, port2] = [await freePort(), await freePort()];
  const first = spawnServer(['-listen', `127.0.0.1:${port1}`, '-cmdlog-path', dir.path]);
  t.teardown(() => first.kill('SIGKILL'));
  await waitForPort(port1);
  const wire = await Wire.connect(port1);
  wire.send('add 00000000-0000-4000-8000-000000000001 held 1000 60000 1\r\nx\r\n');
  t.is(await wire.reply('+OK\r\n'), '+OK\r\n');

  const second = spawnServer(['-listen', `127.0.0.1:${port2}`, '-cmdlog-path', dir.path]);
  t.teardown(() => second.kill('SIGKILL'));
  const { code } = await exited(second);
  t.is(code, 1);
  t.true(second.output().includes(dir.path), `the refusal names the directory: ${second.output()}`);
  wire.send('inspect queue held\r\n');
  const queue = '+OK 1\r\nheld 2\r\nready-len 1\r\nscheduled-len 0\r\n';
  t.is(await wire.reply(queue), queue, 'the holder keeps serving');
  wire.close();

  first.kill('SIGKILL');
  await exited(first);
  const third = spawnServer(['-listen', `127.0.0.1:${port2}`, '-cmdlog-path', dir.path]);
  t.teardown(() => third.kill('SIGKILL'));
  // Taking the stale lock over within the lock's retries is the event: past them the
  // start would have been refused (exit 1) and nothing would listen.
  await waitForPort(port2);
  const after = await Wire.connect(port2);
  after.send('inspect queue held\r\n');
  t.is(await after.reply(queue), queue, 'and serves the jobs of the killed one');
  after.close();
  third.kill('SIGTERM');
  t.is((await exited(third)).code, 0);
});
