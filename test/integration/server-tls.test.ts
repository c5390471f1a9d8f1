import test from 'ava';
import { copyFile, writeFile } from 'node:fs/promises';
import { ConnectionError, WorkqClient } from '../../src/client/index.js';
import { startTestServer, tempDir, Wire } from '../helpers/wire.js';
import { addCommand, leaseReply, newId } from '../helpers/replies.js';
import { makeCertificate, type TestCertificate } from '../helpers/tls.js';
import { DEFAULT_LIMITS } from '../../src/server/limits.js';

// TLS listeners over real sockets (docs/operations.md, TLS): alongside plain TCP or instead
// of it, with the client, and a certificate reloaded without a restart.

let dir: { path: string; remove(): Promise<void> };
let first: TestCertificate;
let second: TestCertificate;
test.before(async () => {
  dir = await tempDir('workq-tls-');
  [first, second] = await Promise.all([makeCertificate(dir.path, 'first'), makeCertificate(dir.path, 'second')]);
});
test.after.always(() => dir.remove());

async function roundTrip(w: Wire, queue: string): Promise<boolean> {
  const id = newId();
  w.send(Buffer.concat([addCommand(id, queue, 'over tls'), Buffer.from(`lease ${queue} 0\r\n`)]));
  const want = Buffer.concat([Buffer.from('+OK\r\n'), leaseReply(id, queue, 1000, 'over tls')]);
  return (await w.read(want.length)).equals(want);
}

test('TLS alongside plain TCP: both serve the same jobs', async (t) => {
  const server = await startTestServer({ tls: { cert: first.certPath, key: first.keyPath, port: 0 } });
  t.teardown(() => server.stop());
  t.not(server.tlsPort, null);
  t.not(server.tlsPort, server.port);
  const secure = await Wire.connectTls(server.tlsPort!, { ca: first.cert, servername: 'localhost' });
  t.teardown(() => secure.close());
  t.true(await roundTrip(secure, 'tls-alongside'));
  const plain = await Wire.connect(server.port);
  t.teardown(() => plain.close());
  t.true(await roundTrip(plain, 'tls-alongside'));
  t.is(server.status().connections, 2);
});

test('TLS instead of plain TCP: a plain client gets no service', async (t) => {
  const server = await startTestServer({ tls: { cert: first.certPath, key: first.keyPath, port: null } });
  t.teardown(() => server.stop());
  t.is(server.tlsPort, server.port);
  const secure = await Wire.connectTls(server.port, { ca: first.cert });
  t.teardown(() => secure.close());
  t.true(await roundTrip(secure, 'tls-only'));
  const plain = await Wire.connect(server.port);
  t.teardown(() => plain.close());
  plain.send('inspect queues 0 10\r\n');
  t.true(await plain.waitClosed());
  t.false((await plain.read(4, 50)).toString('latin1').startsWith('+OK'));
});

test('client over TLS with a secret: round trip; an untrusted certificate is refused', async (t) => {
  const secret = 'tls-client-secret-0123';
  const server = await startTestServer({
    tls: { cert: first.certPath, key: first.keyPath, port: null },
    auth: { secrets: [secret], allowUnauthenticated: false },
  });
  t.teardown(() => server.stop());
  const address = `127.0.0.1:${server.port}`;
  const client = new WorkqClient({ servers: [address], secret, tls: { ca: first.cert } });
  t.teardown(() => client.close());
  const id = await client.add('tls-client', 'hello');
  t.is((await client.lease(['tls-client'], 1000))?.id, id);

  const untrusted = new WorkqClient({ servers: [address], secret, tls: true, backoffMs: 1 });
  t.teardown(() => untrusted.close());
  await t.throwsAsync(untrusted.add('tls-client', 'x'), { instanceOf: ConnectionError, message: /self.signed/i });
  const wrongCa = new WorkqClient({ servers: [address], secret, tls: { ca: second.cert }, backoffMs: 1 });
  t.teardown(() => wrongCa.close());
  await t.throwsAsync(wrongCa.add('tls-client', 'x'), { instanceOf: ConnectionError });
  const insecure = new WorkqClient({ servers: [address], secret, tls: { rejectUnauthorized: false } });
  t.teardown(() => insecure.close());
  t.is(typeof (await insecure.add('tls-client', 'y')), 'string');
});

test('reloadTls: new connections get the new certificate; a broken file leaves the old one in use', async (t) => {
  const certPath = `${dir.path}/live.crt`;
  const keyPath = `${dir.path}/live.key`;
  await copyFile(first.certPath, certPath);
  await copyFile(first.keyPath, keyPath);
  const server = await startTestServer({ tls: { cert: certPath, key: keyPath, port: null } });
  t.teardown(() => server.stop());
  const before = await Wire.connectTls(server.port, { ca: first.cert });
  t.teardown(() => before.close());

  await copyFile(second.certPath, certPath);
  await copyFile(second.keyPath, keyPath);
  await server.reloadTls();
  const after = await Wire.connectTls(server.port, { ca: second.cert });
  t.teardown(() => after.close());
  t.true(await roundTrip(after, 'tls-reload'));
  await t.throwsAsync(Wire.connectTls(server.port, { ca: first.cert }));
  t.true(await roundTrip(before, 'tls-reload'), 'an open connection keeps its session');

  await writeFile(keyPath, 'not a key');
  await t.throwsAsync(server.reloadTls());
  const still = await Wire.connectTls(server.port, { ca: second.cert });
  t.teardown(() => still.close());
  t.true(await roundTrip(still, 'tls-reload'));
});

test('a TLS key file that cannot be read stops the start with the system error', async (t) => {
  await t.throwsAsync(startTestServer({ tls: { cert: first.certPath, key: `${dir.path}/missing.key`, port: 0 } }), { code: 'ENOENT' });
});

test('a peer that leaves mid-handshake is closed at once, and a TLS client may half-close and still get its replies', async (t) => {
  const server = await startTestServer({ tls: { cert: first.certPath, key: first.keyPath, port: null } });
  const leaver = await Wire.connect(server.port);
  leaver.send(Buffer.from([0x16, 0x03, 0x01]));
  leaver.socket.end();
  t.true(await leaver.waitClosed());

  const secure = await Wire.connectTls(server.port, { ca: first.cert });
  const id = newId();
  secure.send(Buffer.concat([addCommand(id, 'tls-half', 'x'), Buffer.from('lease tls-empty 200\r\nlease tls-half 200\r\n')]));
  secure.socket.end();
  const want = Buffer.concat([Buffer.from('+OK\r\n-TIMEOUT\r\n'), leaseReply(id, 'tls-half', 1000, 'x')]);
  t.true((await secure.read(want.length)).equals(want));
  t.true(await secure.waitClosed());
  await server.stop();
  t.is(server.status().connections, 0);
});

test('a handshake not done within limits.tlsHandshakeTimeoutMs is dropped and counted; a finished one is not', async (t) => {
  const server = await startTestServer({
    tls: { cert: first.certPath, key: first.keyPath, port: null },
    limits: { ...DEFAULT_LIMITS, tlsHandshakeTimeoutMs: 1000 },
  });
  t.teardown(() => server.stop());
  // The finished handshake first: on a busy machine a handshake of its own may take a while.
  const secure = await Wire.connectTls(server.port, { ca: first.cert });
  t.teardown(() => secure.close());
  const stalled = await Wire.connect(server.port);
  t.teardown(() => stalled.close());
  stalled.send(Buffer.from([0x16, 0x03, 0x01]));
  t.true(await stalled.waitClosed());
  t.is(server.stats.tlsHandshakeTimeouts, 1, 'counted for workq_tls_handshake_timeouts_total');
  t.true(await roundTrip(secure, 'tls-after-timeout'), 'the connection whose handshake finished is served');
});
