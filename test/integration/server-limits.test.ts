import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { promisify } from 'node:util';
import { WorkqClient } from '../../src/client/index.js';
import { startTestServer, Wire } from '../helpers/wire.js';
import { addCommand, leaseReply, newId, queueBlock, sleep } from '../helpers/replies.js';
import { DEFAULT_LIMITS, isLoopback } from '../../src/server/limits.js';
import type { ReplyBudget } from '../../src/server/reply-budget.js';
import { commandIndex, Outcome } from '../../src/server/stats.js';
import { ADD, INSPECT, PAUSE, RUN, SCHEDULE } from '../../src/protocol/commands.js';

// Connection limits and exposure over real TCP (docs/operations.md, Limits): each refusal
// is a clear line, the server stays up, and it recovers when the cause goes away.

const run = promisify(execFile);
const TOO_MANY = '-SERVER-ERROR Too many clients\r\n';
const IDLE = '-SERVER-ERROR Idle timeout\r\n';

test('max clients: past the limit one error line then close; a freed slot is taken again', async (t) => {
  const server = await startTestServer({ limits: { ...DEFAULT_LIMITS, maxClients: 3 } });
  t.teardown(() => server.stop());
  const held: Wire[] = [];
  for (let i = 0; i < 3; i++) {
    const w = await Wire.connect(server.port);
    t.teardown(() => w.close());
    w.send('inspect queues 0 1\r\n');
    t.is(await w.reply('+OK 0\r\n'), '+OK 0\r\n');
    held.push(w);
  }
  const refused = await Wire.connect(server.port);
  t.teardown(() => refused.close());
  refused.send('inspect queues 0 1\r\n');
  t.is(await refused.reply(TOO_MANY), TOO_MANY);
  t.true(await refused.waitClosed());
  t.is((await refused.read(1, 50)).length, 0, 'the command sent by the refused client never ran');
  t.is(server.status().connections, 3);
  t.is(server.stats.connectionsRefused, 1, 'counted for workq_connections_refused_total');
  t.is(server.stats.connectionsAccepted, 3, 'a refused connection is not counted as accepted');

  held[0]!.close();
  for (let i = 0; i < 500 && server.status().connections !== 2; i++) await sleep(10);
  const again = await Wire.connect(server.port);
  t.teardown(() => again.close());
  again.send('inspect queues 0 1\r\n');
  t.is(await again.reply('+OK 0\r\n'), '+OK 0\r\n');
  held[1]!.send('inspect queues 0 1\r\n');
  t.is(await held[1]!.reply('+OK 0\r\n'), '+OK 0\r\n', 'the clients already in were never disturbed');
});

test('idle timeout: an idle connection gets one error line and is closed; a waiting lease is not idle', async (t) => {
  const server = await startTestServer({ limits: { ...DEFAULT_LIMITS, idleTimeoutMs: 150 } });
  t.teardown(() => server.stop());
  const idle = await Wire.connect(server.port);
  t.teardown(() => idle.close());
  t.is(await idle.reply(IDLE, 10_000), IDLE);
  t.true(await idle.waitClosed());
  t.is(server.stats.idleTimeouts, 1, 'counted for workq_idle_timeouts_total');

  // A lease that waits three idle periods, then gets a job from another client.
  const waiting = await Wire.connect(server.port);
  t.teardown(() => waiting.close());
  waiting.send('lease idle-wait 5000\r\n');
  await sleep(600);
  t.false(waiting.closed, 'a connection waiting in lease is not idle');
  const producer = await Wire.connect(server.port);
  t.teardown(() => producer.close());
  const id = newId();
  producer.send(addCommand(id, 'idle-wait', 'x'));
  t.is(await producer.reply('+OK\r\n'), '+OK\r\n');
  const leased = leaseReply(id, 'idle-wait', 1000, 'x');
  t.true((await waiting.read(leased.length)).equals(leased));
  // After its reply the connection is idle again, and closed like any other.
  t.is(await waiting.reply(IDLE, 10_000), IDLE);
  t.true(await waiting.waitClosed());
});

test('activity keeps a connection open past the idle timeout', async (t) => {
  const server = await startTestServer({ limits: { ...DEFAULT_LIMITS, idleTimeoutMs: 300 } });
  t.teardown(() => server.stop());
  const busy = await Wire.connect(server.port);
  t.teardown(() => busy.close());
  for (let i = 0; i < 8; i++) {
    await sleep(100);
    busy.send('inspect queues 0 1\r\n');
    const got = await busy.reply('+OK 0\r\n');
    if (got !== '+OK 0\r\n') return t.fail(`reply ${i}: ${JSON.stringify(got)}`);
  }
  t.false(busy.closed);
});

test('bytes read re-arm the idle timer on their own: a line sent a byte at a time, with no reply until its end, outlives the timeout', async (t) => {
  const server = await startTestServer({ limits: { ...DEFAULT_LIMITS, idleTimeoutMs: 1000 } });
  t.teardown(() => server.stop());
  const slow = await Wire.connect(server.port);
  t.teardown(() => slow.close());
  // 20 bytes 100 ms apart: twice the idle timeout in all, and no write of the server's to re-arm it.
  for (const byte of Buffer.from('inspect queues 0 1\r\n')) {
    slow.send(Buffer.of(byte));
    await sleep(100);
  }
  t.is(await slow.reply('+OK 0\r\n'), '+OK 0\r\n');
  t.false(slow.closed);
  t.is(server.stats.idleTimeouts, 0);
});

test('listening on all interfaces without a secret is refused with the reason; with one, or when intended, it listens', async (t) => {
  const error = await t.throwsAsync(startTestServer({ host: '0.0.0.0' }));
  t.regex(error.message, /^refusing to listen on 0\.0\.0\.0 without a secret: anyone who can reach it could add, lease, complete or delete any job/);
  await t.throwsAsync(startTestServer({ host: '::', auth: { secrets: [], allowUnauthenticated: false } }), { message: /refusing to listen on ::/ });

  const secured = await startTestServer({ host: '0.0.0.0', auth: { secrets: ['exposed-secret-0123456'], allowUnauthenticated: false } });
  t.teardown(() => secured.stop());
  const w = await Wire.connect(secured.port);
  t.teardown(() => w.close());
  w.send('inspect queues 0 1\r\nauth exposed-secret-0123456\r\ninspect queues 0 1\r\n');
  const want = '-CLIENT-ERROR Authentication required\r\n+OK\r\n+OK 0\r\n';
  t.is(await w.reply(want), want);

  const intended = await startTestServer({ host: '0.0.0.0', auth: { secrets: [], allowUnauthenticated: true } });
  t.teardown(() => intended.stop());
  const open = await Wire.connect(intended.port);
  t.teardown(() => open.close());
  open.send('inspect queues 0 1\r\n');
  t.is(await open.reply('+OK 0\r\n'), '+OK 0\r\n');
});

test('loopback addresses', (t) => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1']) t.true(isLoopback(host), host);
  for (const host of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com', '127.0.0.1.example.com', '::ffff:10.0.0.1']) t.false(isLoopback(host), host);
});

/** The backlog the kernel reports for a listening port: ss shows it as Send-Q. */
async function kernelBacklog(port: number): Promise<number> {
  const { stdout } = await run('ss', ['-Hltn', `sport = :${port}`]);
  const columns = stdout.trim().split(/\s+/);
  return Number(columns[2]);
}

test('the listen backlog is configurable and above 511 by default (Linux caps it at somaxconn)', async (t) => {
  t.true(DEFAULT_LIMITS.backlog > 511);
  const somaxconn = Number((await readFile('/proc/sys/net/core/somaxconn', 'utf8')).trim());
  const small = await startTestServer({ limits: { ...DEFAULT_LIMITS, backlog: 37 } });
  t.teardown(() => small.stop());
  t.is(await kernelBacklog(small.port), 37);
  const standard = await startTestServer();
  t.teardown(() => standard.stop());
  t.is(await kernelBacklog(standard.port), Math.min(DEFAULT_LIMITS.backlog, somaxconn));
});

test('client: a connection the server closed for idleness is reopened by the next call', async (t) => {
  const server = await startTestServer({ limits: { ...DEFAULT_LIMITS, idleTimeoutMs: 100 } });
  t.teardown(() => server.stop());
  const client = new WorkqClient({ servers: [`127.0.0.1:${server.port}`] });
  t.teardown(() => client.close());
  const first = await client.add('idle-client', 'a');
  for (let i = 0; i < 500 && server.status().connections !== 0; i++) await sleep(10);
  t.is(server.status().connections, 0, 'the idle connection was closed');
  const second = await client.add('idle-client', 'b');
  t.deepEqual((await client.inspectJobs('idle-client')).map((job) => job.id).sort(), [first, second].sort());
});

/** A raw socket that sends and never reads until `resume` is called; then counts the bytes it gets. */
class NonReader {
  received = 0;
  private constructor(readonly socket: net.Socket) {
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<NonReader> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new NonReader(socket)));
      socket.once('error', reject);
    });
  }

  /** Starts reading; resolves once `total` bytes have arrived. */
  readAll(total: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.received >= total) resolve();
      };
      this.socket.on('data', (chunk: Buffer) => {
        this.received += chunk.length;
        check();
      });
      check();
    });
  }
}

/** The highest count of held reply bytes the server reaches, seen at every change rather than sampled. */
function trackPeak(budget: ReplyBudget): { peak: number } {
  const seen = { peak: budget.held };
  const share = budget.share.bind(budget);
  budget.share = (now: number, before: number): void => {
    share(now, before);
    seen.peak = Math.max(seen.peak, budget.held);
  };
  return seen;
}

/** A queue of `jobs` jobs of `size` bytes, added through `wire`. */
async function fillQueue(t: ExecutionContext, wire: Wire, name: string, jobs: number, size: number, ttrMs = 1000): Promise<void> {
  const adds: Buffer[] = [];
  for (let i = 0; i < jobs; i++) adds.push(addCommand(newId(), name, 'p'.repeat(size), `${ttrMs} 600000`));
  wire.send(Buffer.concat(adds));
  t.is(await wire.reply('+OK\r\n'.repeat(jobs)), '+OK\r\n'.repeat(jobs));
}

/** The reply to `command`, read through a raw socket up to a sentinel that follows it. */
async function replyTo(port: number, command: string): Promise<Buffer> {
  const probe = await NonReader.connect(port);
  const sentinel = '-NOT-FOUND\r\n';
  const measured = readUntil(probe.socket, sentinel);
  probe.socket.write(`${command}\r\ninspect job ${newId()}\r\n`);
  const all = await measured;
  probe.socket.destroy();
  return all.subarray(0, all.length - sentinel.length);
}

/** Reads from a raw socket until what arrived ends with `suffix`; returns it all. */
function readUntil(socket: net.Socket, suffix: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      if (all.subarray(-suffix.length).toString('latin1') === suffix) {
        socket.off('data', onData);
        resolve(all);
      }
    };
    socket.on('data', onData);
  });
}

// Serial: their floods keep the event loop busy for seconds, which would trip the short timers of the idle-timeout tests.
test.serial(
  'server-wide reply bound: clients that pipeline and never read are stalled, a reading client is served, held bytes stay within the bound',
  async (t) => {
    t.timeout(300_000);
    const LIMIT = 1024 * 1024;
    const CLIENTS = 10;
    const PIPELINED = 3000;
    const JOBS = 32;
    const server = await startTestServer({ limits: { ...DEFAULT_LIMITS, maxReplyBufferBytes: LIMIT } });
    t.teardown(() => server.stop());
    const good = await Wire.connect(server.port);
    t.teardown(() => good.close());
    await fillQueue(t, good, 'big', JOBS, 1000);
    const reply = (await replyTo(server.port, `inspect jobs big 0 ${JOBS}`)).length;
    t.true(reply > JOBS * 1000);

    const held = trackPeak(server.stats.replies);
    const flood: NonReader[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const c = await NonReader.connect(server.port);
      t.teardown(() => c.socket.destroy());
      c.socket.write(`inspect jobs big 0 ${JOBS}\r\n`.repeat(PIPELINED));
      flood.push(c);
    }
    // The flood fills its sockets, then the server's bound.
    for (let i = 0; i < 3000 && server.stats.replies.held + reply <= LIMIT; i++) await sleep(10);
    t.true(server.stats.replies.held + reply > LIMIT, 'the non-readers brought the server to its bound: no room for another of their replies');

    const inspects = (): number => server.stats.commands.get(commandIndex(INSPECT), Outcome.Ok);
    const want = `+OK 1\r\n${queueBlock('big', JOBS, 0)}`;
    for (let i = 0; i < 20; i++) {
      good.send('inspect queues 0 1\r\n');
      t.is(await good.reply(want), want, `round trip ${i} of the reading client`);
      t.true(server.stats.replies.held + reply > LIMIT, 'answered while the server is at its bound');
    }
    const ranBeforeTheyRead = inspects();
    t.true(ranBeforeTheyRead - 21 - 1 < CLIENTS * PIPELINED, 'the non-readers were stalled: most of their commands had not run yet');
    t.true(server.stats.replies.waits > 0, 'counted for workq_reply_waits_total');
    t.true(held.peak <= LIMIT + reply, `held at most the bound plus one reply (${held.peak} bytes, bound ${LIMIT}, reply ${reply})`);

    // Once they read, everything they asked for arrives, in full.
    await Promise.all(flood.map((c) => c.readAll(PIPELINED * reply)));
    for (const c of flood) t.is(c.received, PIPELINED * reply);
    t.true(held.peak <= LIMIT + reply, `still within the bound while they drained (${held.peak} bytes)`);
    for (let i = 0; i < 500 && server.stats.replies.held !== 0; i++) await sleep(10);
    t.is(server.stats.replies.held, 0, 'nothing held once every reply was taken');
  },
);

test.serial(
  'server-wide reply bound with many non-readers: held bytes stay within the bound plus one reply in total, a reading client is served, everyone gets every byte',
  async (t) => {
    t.timeout(300_000);
    const LIMIT = 1024 * 1024;
    const CLIENTS = 40;
    const PIPELINED = 100;
    const JOBS = 50;
    const server = await startTestServer({ limits: { ...DEFAULT_LIMITS, maxReplyBufferBytes: LIMIT } });
    t.teardown(() => server.stop());
    const reader = await Wire.connect(server.port);
    t.teardown(() => reader.close());
    await fillQueue(t, reader, 'big', JOBS, 2000);
    const listing = `inspect jobs big 0 ${JOBS}`;
    const expected = await replyTo(server.port, listing);
    const reply = expected.length;
    t.true(reply > JOBS * 2000);

    const held = trackPeak(server.stats.replies);
    const flood: NonReader[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const c = await NonReader.connect(server.port);
      t.teardown(() => c.socket.destroy());
      c.socket.write(`${listing}\r\n`.repeat(PIPELINED));
      flood.push(c);
    }
    // Each non-reader first fills its kernel buffers (a socket that took all it was given holds
    // nothing in the server), then the server's bound; from then on they wait for room.
    for (let i = 0; i < 3000 && (server.stats.replies.held + reply <= LIMIT || server.stats.replies.waits < CLIENTS); i++) await sleep(10);
    t.true(server.stats.replies.held + reply > LIMIT, 'the non-readers filled the bound');

    // A reading client's small commands go on; its own listing waits for room like theirs.
    const small = `+OK 1\r\n${queueBlock('big', JOBS, 0)}`;
    for (let i = 0; i < 20; i++) {
      reader.send('inspect queues 0 1\r\n');
      t.is(await reader.reply(small), small, `round trip ${i} of the reading client`);
    }
    const second = await Wire.connect(server.port);
    t.teardown(() => second.close());
    second.send(`${listing}\r\ninspect queues 0 1\r\n`);
    t.true(held.peak <= LIMIT + reply, `held at most the bound plus one reply while they do not read (${held.peak} bytes, bound ${LIMIT}, reply ${reply})`);

    // Once they read, every reply arrives in full, and the waiting listing is answered, byte for byte as when nothing was held.
    const drained = Promise.all(flood.map((c) => c.readAll(PIPELINED * reply)));
    t.is(await second.reply(expected, 120_000), expected.toString('latin1'), 'the listing that waited for room');
    t.is(await second.reply(small), small);
    await drained;
    for (const c of flood) t.is(c.received, PIPELINED * reply);
    t.true(held.peak <= LIMIT + reply, `held at most the bound plus one reply while they drained (${held.peak} bytes)`);
    for (let i = 0; i < 500 && server.stats.replies.held !== 0; i++) await sleep(10);
    t.is(server.stats.replies.held, 0, 'nothing held once every reply was taken');
  },
);

test.serial('server-wide reply bound: a listing larger than the whole bound is built when nothing else is held', async (t) => {
  const LIMIT = 8192;
  const server = await startTestServer({ limits: { ...DEFAULT_LIMITS, maxReplyBufferBytes: LIMIT } });
  t.teardown(() => server.stop());
  const wire = await Wire.connect(server.port);
  t.teardown(() => wire.close());
  await fillQueue(t, wire, 'big', 20, 2000);
  const expected = await replyTo(server.port, 'inspect jobs big 0 20');
  t.true(expected.length > LIMIT);
  const held = trackPeak(server.stats.replies);
  wire.send('inspect jobs big 0 20\r\n'.repeat(3) + 'inspect queues 0 1\r\n');
  for (let i = 0; i < 3; i++) t.is(await wire.reply(expected), expected.toString('latin1'), `listing ${i}`);
  const small = `+OK 1\r\n${queueBlock('big', 20, 0)}`;
  t.is(await wire.reply(small), small);
  t.true(held.peak <= LIMIT + expected.length, `one listing at a time (${held.peak} bytes)`);
});

test.serial(
  'server-wide reply bound: leases of large jobs by non-reading workers stay within the bound plus one reply; a small job is leased at once by a reading worker',
  async (t) => {
    t.timeout(300_000);
    const LIMIT = 1024 * 1024;
    const CLIENTS = 20;
    const PIPELINED = 60;
    const PAYLOAD = 'p'.repeat(100_000);
    const server = await startTestServer({ limits: { ...DEFAULT_LIMITS, maxReplyBufferBytes: LIMIT } });
    t.teardown(() => server.stop());
    const worker = await Wire.connect(server.port);
    t.teardown(() => worker.close());
    // Leases that outlived their TTR while a busy machine drained 120 MB would put jobs back in the queue, the small one too.
    const TTR = 300_000;
    await fillQueue(t, worker, 'big', CLIENTS * PIPELINED, PAYLOAD.length, TTR);
    const reply = leaseReply(newId(), 'big', TTR, PAYLOAD).length;

    const held = trackPeak(server.stats.replies);
    const flood: NonReader[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const c = await NonReader.connect(server.port);
      t.teardown(() => c.socket.destroy());
      c.socket.write('lease big 0\r\n'.repeat(PIPELINED));
      flood.push(c);
    }
    for (let i = 0; i < 3000 && (server.stats.replies.held + reply <= LIMIT || server.stats.replies.waits < CLIENTS); i++) await sleep(10);
    t.true(server.stats.replies.held + reply > LIMIT, 'the non-reading workers filled the bound');

    // A small job fits in any case: a reading worker gets it while the bound is full.
    const id = newId();
    worker.send(Buffer.concat([addCommand(id, 'small', 'x', `${TTR} 600000`), Buffer.from('lease small 0\r\n')]));
    const small = Buffer.concat([Buffer.from('+OK\r\n'), leaseReply(id, 'small', TTR, 'x')]);
    t.is(await worker.reply(small), small.toString('latin1'));
    t.true(held.peak <= LIMIT + reply, `held at most the bound plus one reply (${held.peak} bytes, bound ${LIMIT}, reply ${reply})`);

    // Once they read, every job arrives once: each lease took one of the jobs.
    await Promise.all(flood.map((c) => c.readAll(PIPELINED * reply)));
    for (const c of flood) t.is(c.received, PIPELINED * reply);
    t.true(held.peak <= LIMIT + reply, `held at most the bound plus one reply while they drained (${held.peak} bytes)`);
    worker.send('inspect queues 0 2\r\n');
    const none = `+OK 2\r\n${queueBlock('big', 0, 0)}${queueBlock('small', 0, 0)}`;
    t.is(await worker.reply(none), none, 'every job was leased');
  },
);

test('max queues: a command that would create a queue past the limit is refused, existing queues work, an emptied queue makes room', async (t) => {
  const TOO_MANY_QUEUES = '-SERVER-ERROR Too many queues\r\n';
  const server = await startTestServer({ limits: { ...DEFAULT_LIMITS, maxQueues: 3 } });
  t.teardown(() => server.stop());
  const w = await Wire.connect(server.port);
  t.teardown(() => w.close());
  const exchange = async (send: string | Buffer, want: string): Promise<void> => {
    w.send(send);
    t.is(await w.reply(want), want, typeof send === 'string' ? send : send.toString('latin1'));
  };
  const ids = { q1: newId(), q2: newId(), q3: newId() };
  for (const [name, id] of Object.entries(ids)) await exchange(addCommand(id, name, 'x'), '+OK\r\n');

  // Every way of creating a fourth queue is refused, and creates nothing.
  await exchange(addCommand(newId(), 'q4', 'x'), TOO_MANY_QUEUES);
  await exchange(`schedule ${newId()} q4 1000 60000 2030-01-01T00:00:00Z 1\r\nx\r\n`, TOO_MANY_QUEUES);
  await exchange(`run ${newId()} q4 1000 100 1\r\nx\r\n`, TOO_MANY_QUEUES);
  await exchange('pause q4\r\n', TOO_MANY_QUEUES);
  await exchange('inspect queue q4\r\n', '-NOT-FOUND\r\n');
  // A lease that does not wait needs no queue; one that waits may name new queues (they live only while it waits).
  await exchange('lease q4 0\r\n', '-TIMEOUT\r\n');
  await exchange('lease q4 q5 20\r\n', '-TIMEOUT\r\n');
  t.is(server.status().jobs, 3);

  // Everything on the existing queues still works.
  await exchange(addCommand(newId(), 'q1', 'y'), '+OK\r\n');
  await exchange('pause q3\r\nresume q3\r\n', '+OK\r\n+OK\r\n');
  const leased = leaseReply(ids.q2, 'q2', 1000, 'x');
  w.send('lease q2 1000\r\n');
  t.true((await w.read(leased.length)).equals(leased));
  await exchange(`complete ${ids.q2} 0\r\n\r\n`, '+OK\r\n');
  await exchange(addCommand(newId(), 'q4', 'x'), TOO_MANY_QUEUES);

  // q2 holds a completed job still; deleting it empties q2, and q4 takes its place.
  await exchange(`delete ${ids.q2}\r\n`, '+OK\r\n');
  await exchange(addCommand(newId(), 'q4', 'x'), '+OK\r\n');
  await exchange('inspect queue q2\r\n', '-NOT-FOUND\r\n');
  await exchange(`inspect queues 0 10\r\n`, `+OK 3\r\n${queueBlock('q1', 2, 0)}${queueBlock('q3', 1, 0)}${queueBlock('q4', 1, 0)}`);

  // A paused queue is kept even when empty: its pause is state. Resumed, it can make room.
  await exchange(`pause q3\r\ndelete ${ids.q3}\r\n`, '+OK\r\n+OK\r\n');
  await exchange(addCommand(newId(), 'q5', 'x'), TOO_MANY_QUEUES);
  await exchange('resume q3\r\n', '+OK\r\n');
  await exchange(addCommand(newId(), 'q5', 'x'), '+OK\r\n');
  await exchange('inspect queue q3\r\n', '-NOT-FOUND\r\n');

  const engine = server.stats.engine!;
  t.is(engine.counters.queuesRefused, 6, 'counted for workq_queues_refused_total');
  t.is(engine.counters.queuesReclaimed, 2, 'counted for workq_queues_reclaimed_total');
  const refusedRow = (spec: Parameters<typeof commandIndex>[0]): number => server.stats.commands.get(commandIndex(spec), Outcome.Refused);
  t.is(refusedRow(ADD), 3, 'each refusal is an outcome="refused" in workq_commands_total');
  t.is(refusedRow(SCHEDULE) + refusedRow(RUN) + refusedRow(PAUSE), 3);
});
