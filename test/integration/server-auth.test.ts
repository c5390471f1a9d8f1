import test from 'ava';
import { ClientError, ConnectionError, WorkqClient } from '../../src/client/index.js';
import { startTestServer, tempDir, Wire } from '../helpers/wire.js';
import { addCommand, inspectJob, leaseReply, newId } from '../helpers/replies.js';
import type { WorkqServer } from '../../src/server/types.js';
import { DEFAULT_LIMITS } from '../../src/server/limits.js';

// Authentication over real TCP (docs/protocol.md 12.5): required, refused, rotated, and
// absent (the original's behaviour).

const OLD = 'old-secret-5c1d0e9a7b';
const NEW = 'new-secret-93f2a6b4c8';
const NEXT = 'next-secret-0d4e7f1a2b';
const REQUIRED = '-CLIENT-ERROR Authentication required\r\n';
const INVALID = '-CLIENT-ERROR Invalid secret\r\n';
const AUTH_TIMEOUT = '-SERVER-ERROR Authentication timeout\r\n';

async function serverWith(t: { teardown(fn: () => Promise<void>): void }, secrets: string[]): Promise<WorkqServer> {
  const server = await startTestServer({ auth: { secrets, allowUnauthenticated: false } });
  t.teardown(() => server.stop());
  return server;
}

async function wire(t: { teardown(fn: () => void): void }, port: number): Promise<Wire> {
  const w = await Wire.connect(port);
  t.teardown(() => w.close());
  return w;
}

test('until authenticated every command gets Authentication required and does nothing', async (t) => {
  const server = await serverWith(t, [OLD]);
  const a = await wire(t, server.port);
  const id = newId();
  a.send(
    Buffer.concat([
      addCommand(id, 'guarded', 'payload'),
      Buffer.from(`lease guarded 0\r\ninspect queues 0 10\r\ninspect server\r\ndelete ${id}\r\nrun ${newId()} guarded 1000 10 1\r\nx\r\n`),
    ]),
  );
  t.is(await a.reply(REQUIRED.repeat(6)), REQUIRED.repeat(6));
  // Framing errors still come from the parser, as for anyone.
  a.send('frobnicate\r\n');
  t.is(await a.reply('-CLIENT-ERROR Unknown command\r\n'), '-CLIENT-ERROR Unknown command\r\n');

  const b = await wire(t, server.port);
  b.send(`auth ${OLD}\r\ninspect queues 0 10\r\n`);
  t.is(await b.reply('+OK\r\n+OK 0\r\n'), '+OK\r\n+OK 0\r\n', 'neither the add nor the lease created a queue');
  t.is((await inspectJob(b, id)).raw.toString(), '-NOT-FOUND\r\n');
  t.false(a.closed);
});

test('the job operations are refused alike until authenticated: touch, pause, resume, retry, retry-failed and the state lists do nothing', async (t) => {
  const dir = await tempDir('workq-auth-ops-');
  t.teardown(() => dir.remove());
  const server = await startTestServer({ auth: { secrets: [OLD], allowUnauthenticated: false }, cmdlogPath: dir.path, sync: 'always' });
  t.teardown(() => server.stop());
  const owner = await wire(t, server.port);
  const [leased, failed] = [newId(), newId()];
  owner.send(
    Buffer.concat([
      Buffer.from(`auth ${OLD}\r\n`),
      addCommand(leased, 'ops', 'l'),
      addCommand(failed, 'ops', 'f'),
      Buffer.from('lease ops 0\r\nlease ops 0\r\n'),
    ]),
  );
  const setup = Buffer.concat([Buffer.from('+OK\r\n+OK\r\n+OK\r\n'), leaseReply(leased, 'ops', 1000, 'l'), leaseReply(failed, 'ops', 1000, 'f')]);
  t.true((await owner.read(setup.length)).equals(setup));
  owner.send(`fail ${failed} 1\r\nx\r\n`);
  t.is(await owner.reply('+OK\r\n'), '+OK\r\n');
  const logged = server.stats.log.bytesWritten;
  t.true(logged > 0);
  const refusedBefore = server.stats.authRequired;

  const stranger = await wire(t, server.port);
  const lines = [
    `touch ${leased} 60000`,
    `touch ${leased}`,
    'pause ops',
    'resume ops',
    `retry ${failed}`,
    'retry-failed ops',
    'inspect failed-jobs ops 0 10',
    'inspect leased-jobs ops 0 10',
    'inspect completed-jobs ops 0 10',
  ];
  stranger.send(lines.map((line) => `${line}\r\n`).join(''));
  t.is(await stranger.reply(REQUIRED.repeat(lines.length)), REQUIRED.repeat(lines.length));
  t.is(server.stats.authRequired - refusedBefore, lines.length, 'counted for workq_auth_failures_total{reason="required"}');

  // A reply leaves only once its log record is written (docs/protocol.md 8.1), so a
  // command that ran would have grown the log by the time its reply arrived.
  t.is(server.stats.log.bytesWritten, logged, 'nothing reached the log: no touch, pause, resume or retry');
  owner.send('inspect queue ops\r\n');
  const queue = '+OK 1\r\nops 2\r\nready-len 0\r\nscheduled-len 0\r\n';
  t.is(await owner.reply(queue), queue, 'ops was never paused');
  t.is((await inspectJob(owner, failed)).block?.keys.get('state'), '2', 'the failed job was not retried');
});

test('a wrong secret is refused and the connection may try again; pipelined commands follow the outcome', async (t) => {
  const server = await serverWith(t, [OLD]);
  const a = await wire(t, server.port);
  const id = newId();
  a.send(
    Buffer.concat([
      Buffer.from(`auth ${NEW}\r\nauth ${OLD.slice(0, -1)}\r\nauth ${OLD}x\r\nauth x\r\n`),
      addCommand(id, 'retry', 'p'),
      Buffer.from(`auth ${OLD}\r\n`),
      addCommand(id, 'retry', 'p'),
      Buffer.from('lease retry 0\r\n'),
    ]),
  );
  const want = Buffer.concat([Buffer.from(INVALID.repeat(4) + REQUIRED + '+OK\r\n+OK\r\n'), leaseReply(id, 'retry', 1000, 'p')]);
  t.true((await a.read(want.length)).equals(want));
  a.send(`auth ${NEW}\r\ninspect queue retry\r\n`);
  const after = `${INVALID}+OK 1\r\nretry 2\r\nready-len 0\r\nscheduled-len 0\r\n`;
  t.is(await a.reply(after), after, 'a failed auth later leaves an authenticated connection as it was');
  t.is(server.stats.authInvalidSecret, 5, 'counted for workq_auth_failures_total{reason="invalid_secret"}');
  t.is(server.stats.authRequired, 1);
});

test('rotation: both secrets work while both are configured; after the switch only the new one', async (t) => {
  const both = await serverWith(t, [OLD, NEW]);
  for (const secret of [OLD, NEW]) {
    const w = await wire(t, both.port);
    w.send(`auth ${secret}\r\ninspect queues 0 1\r\n`);
    t.is(await w.reply('+OK\r\n+OK 0\r\n'), '+OK\r\n+OK 0\r\n', secret);
  }
  await both.stop();
  const rotated = await serverWith(t, [NEW, NEXT]);
  const w = await wire(t, rotated.port);
  w.send(`auth ${OLD}\r\nauth ${NEXT}\r\ninspect queues 0 1\r\n`);
  t.is(await w.reply(`${INVALID}+OK\r\n+OK 0\r\n`), `${INVALID}+OK\r\n+OK 0\r\n`);
});

test('without a secret nothing changes, and auth is accepted whatever it says', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const w = await wire(t, server.port);
  const id = newId();
  w.send(Buffer.concat([addCommand(id, 'open', 'p'), Buffer.from(`auth anything-at-all\r\nlease open 0\r\n`)]));
  const want = Buffer.concat([Buffer.from('+OK\r\n+OK\r\n'), leaseReply(id, 'open', 1000, 'p')]);
  t.true((await w.read(want.length)).equals(want));
});

test('client: the secret is sent on every connection, blocking ones included; a wrong one fails the calls', async (t) => {
  const server = await serverWith(t, [OLD, NEW]);
  const address = `127.0.0.1:${server.port}`;
  const client = new WorkqClient({ servers: [address], secret: NEW });
  t.teardown(() => client.close());
  const id = await client.add('client-auth', 'hello');
  const leased = await client.lease(['client-auth'], 1000);
  t.is(leased?.id, id);
  await client.complete(id, 'done');
  t.deepEqual(await client.result(id, 1000), { id, success: true, result: Buffer.from('done') });

  const wrong = new WorkqClient({ servers: [address], secret: NEXT, backoffMs: 1 });
  t.teardown(() => wrong.close());
  const refused = await t.throwsAsync(wrong.add('client-auth', 'x'), { instanceOf: ConnectionError });
  t.regex(refused.message, /authentication refused: Invalid secret/);
  await t.throwsAsync(wrong.lease(['client-auth'], 100), { instanceOf: ConnectionError, message: /authentication refused/ });

  const none = new WorkqClient({ servers: [address] });
  t.teardown(() => none.close());
  await t.throwsAsync(none.add('client-auth', 'x'), { instanceOf: ClientError, message: 'Authentication required' });
  t.is((await client.inspectQueue('client-auth')).readyLen, 0, 'nothing was added by the refused clients');
});

test('authentication timeout: a connection that has not authenticated in time gets one error line and is closed; one that has stays', async (t) => {
  const server = await startTestServer({ auth: { secrets: [OLD], allowUnauthenticated: false }, limits: { ...DEFAULT_LIMITS, authTimeoutMs: 200 } });
  t.teardown(() => server.stop());
  const silent = await wire(t, server.port);
  const refusedOnly = await wire(t, server.port);
  refusedOnly.send('inspect queues 0 1\r\nauth wrong-secret-0000000\r\n');
  t.is(await refusedOnly.reply(REQUIRED + INVALID), REQUIRED + INVALID);
  const authenticated = await wire(t, server.port);
  authenticated.send(`auth ${OLD}\r\n`);
  t.is(await authenticated.reply('+OK\r\n'), '+OK\r\n');

  for (const w of [silent, refusedOnly]) {
    t.is(await w.reply(AUTH_TIMEOUT), AUTH_TIMEOUT);
    t.true(await w.waitClosed());
  }
  t.is(server.stats.authTimeouts, 2, 'counted for workq_auth_timeouts_total');
  // The authenticated connection outlived both closings and still works.
  authenticated.send('inspect queues 0 1\r\n');
  t.is(await authenticated.reply('+OK 0\r\n'), '+OK 0\r\n');
  t.false(authenticated.closed);
  t.is(server.status().connections, 1, 'the closed connections freed their client slots');
});

test('authentication timeout applies only with a secret, and 0 turns it off', async (t) => {
  const open = await startTestServer({ limits: { ...DEFAULT_LIMITS, authTimeoutMs: 50 } });
  t.teardown(() => open.stop());
  const off = await startTestServer({ auth: { secrets: [OLD], allowUnauthenticated: false }, limits: { ...DEFAULT_LIMITS, authTimeoutMs: 0 } });
  t.teardown(() => off.stop());
  const a = await wire(t, open.port);
  const b = await wire(t, off.port);
  // A closing after 50 ms would have come before these replies to commands sent 300 ms later.
  await new Promise((resolve) => setTimeout(resolve, 300));
  a.send('inspect queues 0 1\r\n');
  b.send('inspect queues 0 1\r\n');
  t.is(await a.reply('+OK 0\r\n'), '+OK 0\r\n');
  t.is(await b.reply(REQUIRED), REQUIRED);
  t.is(open.stats.authTimeouts + off.stats.authTimeouts, 0);
});
