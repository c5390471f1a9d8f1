import test from 'ava';
import { exited, freePort, spawnServer, waitForPort } from '../helpers/process.js';
import { addCommand, inspectJob, leaseReply, newId, queueBlock, sleep } from '../helpers/replies.js';
import { tempDir, Wire } from '../helpers/wire.js';

// Each state the protocol extensions add comes back after a kill -9: a lease extended by
// touch (it outlives the job's own TTR), a paused queue (leases still skip it), a
// queue resumed after a pause (leases take from it again), and a job waiting out its
// retry delay (it waits until the same instant), a failed job started over by retry
// (NEW again, counters at 0), and one left failed (listed by inspect failed-jobs). Every command was
// acknowledged before the kill, so under `always` its record is on disk.

test('a touched lease, a paused queue, a resumed one, a retry wait, a retried job and a failed one survive kill -9', async (t) => {
  const dir = await tempDir();
  t.teardown(() => dir.remove());
  const port = await freePort();
  const args = ['-listen', `127.0.0.1:${port}`, '-cmdlog-path', dir.path, '-cmdlog-sync', 'always'];
  const first = spawnServer(args);
  t.teardown(() => first.kill('SIGKILL'));
  await waitForPort(port);
  const [touched, held, free, retried, restarted, failed] = [newId(), newId(), newId(), newId(), newId(), newId()];
  const a = await Wire.connect(port);
  const expect = async (command: string | Buffer, reply: string | Buffer): Promise<void> => {
    a.send(command);
    const want = typeof reply === 'string' ? reply : reply.toString('latin1');
    t.is(await a.reply(want), want);
  };
  await expect(addCommand(touched, 'k-touch', 't', '1000 600000'), '+OK\r\n');
  await expect('lease k-touch 0\r\n', leaseReply(touched, 'k-touch', 1000, 't'));
  const leasedAt = Date.now();
  await expect(`touch ${touched} 600000\r\n`, '+OK\r\n');
  await expect('pause k-held\r\npause k-free\r\nresume k-free\r\n', '+OK\r\n+OK\r\n+OK\r\n');
  await expect(Buffer.concat([addCommand(held, 'k-held', 'h'), addCommand(free, 'k-free', 'f')]), '+OK\r\n+OK\r\n');
  await expect(addCommand(retried, 'k-retry', 'r', '1000 600000', '-max-fails=3 -retry-delay=300000'), '+OK\r\n');
  await expect('lease k-retry 0\r\n', leaseReply(retried, 'k-retry', 1000, 'r'));
  await expect(`fail ${retried} 0\r\n\r\n`, '+OK\r\n');
  const retryAt = (await inspectJob(a, retried)).block?.keys.get('retry-at');
  t.truthy(retryAt);
  await expect(Buffer.concat([addCommand(restarted, 'k-again', 'a'), addCommand(failed, 'k-again', 'b')]), '+OK\r\n+OK\r\n');
  await expect(
    `lease k-again 0\r\nfail ${restarted} 1\r\nx\r\nfail ${failed} 0\r\n\r\nretry ${restarted}\r\n`,
    leaseReply(restarted, 'k-again', 1000, 'a').toString('latin1') + '+OK\r\n+OK\r\n+OK\r\n',
  );
  first.kill('SIGKILL');
  t.deepEqual(await exited(first), { code: null, signal: 'SIGKILL' });
  a.close();

  const second = spawnServer(args);
  t.teardown(() => second.kill('SIGKILL'));
  await waitForPort(port);
  // Let the job's own TTR pass for certain: only the touch keeps it leased now.
  await sleep(Math.max(0, leasedAt + 1500 - Date.now()));
  const b = await Wire.connect(port);
  t.teardown(() => b.close());
  const { block } = await inspectJob(b, touched);
  t.is(block?.keys.get('state'), '4');
  t.is(block?.keys.get('attempts'), '1');
  b.send('inspect queue k-held\r\ninspect queue k-free\r\nlease k-held 0\r\nlease k-held k-free 0\r\n');
  const want =
    '+OK 1\r\nk-held 3\r\nready-len 1\r\nscheduled-len 0\r\npaused 1\r\n' +
    '+OK 1\r\n' +
    queueBlock('k-free', 1, 0) +
    '-TIMEOUT\r\n' +
    leaseReply(free, 'k-free', 1000, 'f').toString('latin1');
  t.is(await b.reply(want), want);
  const waiting = (await inspectJob(b, retried)).block;
  t.is(waiting?.keys.get('state'), '3');
  t.is(waiting?.keys.get('retry-at'), retryAt);
  b.send('inspect queue k-retry\r\nlease k-retry 0\r\n');
  const retry = '+OK 1\r\n' + queueBlock('k-retry', 0, 1) + '-TIMEOUT\r\n';
  t.is(await b.reply(retry), retry);
  t.like(Object.fromEntries((await inspectJob(b, restarted)).block!.keys), { state: '0', attempts: '0', fails: '0' });
  const failedList = (await inspectJob(b, failed)).raw.toString('latin1').replace(/^\+OK 1\r\n/, '');
  b.send('inspect failed-jobs k-again 0 10\r\n');
  t.is(await b.reply(`+OK 1\r\n${failedList}`), `+OK 1\r\n${failedList}`);
  b.send(`touch ${touched} 100\r\nresume k-held\r\nlease k-held 0\r\n`);
  const after = '+OK\r\n+OK\r\n' + leaseReply(held, 'k-held', 1000, 'h').toString('latin1');
  t.is(await b.reply(after), after);
});
