import test from 'ava';
import type { Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import pino from 'pino';
import { Acceptor } from '../../supervisor/acceptor.js';
import { describeLayout, socketLayout } from '../../supervisor/socket-layout.js';

/** A child as the acceptor sees it: it is sent sockets, or is gone; it says it took one through the acceptor's took(). */
function fakeWorker(connected = true): { worker: Worker; received: net.Socket[]; messages: unknown[] } {
  const received: net.Socket[] = [];
  const messages: unknown[] = [];
  const worker = Object.assign(new EventEmitter(), {
    process: new EventEmitter(),
    isConnected: () => connected,
    send: (message: unknown, socket: net.Socket, _options: unknown, done: (error: Error | null) => void) => {
      messages.push(message);
      received.push(socket);
      done(null);
      return true;
    },
  }) as unknown as Worker;
  return { worker, received, messages };
}

function dial(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

async function until(probe: () => boolean): Promise<void> {
  while (!probe()) await new Promise((resolve) => setTimeout(resolve, 5));
}

test('connections made while no child serves are held, then handed to the next child in order; later ones go straight to it', async (t) => {
  const acceptor = new Acceptor('127.0.0.1', 0, pino({ level: 'silent' }));
  t.teardown(() => acceptor.close());
  const { port } = await acceptor.open();
  t.is((await acceptor.open()).port, port, 'opened once');
  const clients = [await dial(port), await dial(port)];
  t.teardown(() => clients.forEach((client) => client.destroy()));

  const child = fakeWorker();
  await new Promise((resolve) => setTimeout(resolve, 50));
  acceptor.deliverTo(child.worker);
  await until(() => child.received.length === 2);
  t.deepEqual(
    child.received.map((socket) => socket.remotePort),
    clients.map((client) => client.localPort),
  );

  clients.push(await dial(port));
  await until(() => child.received.length === 3);
  t.is(child.received[2]!.remotePort, clients[2]!.localPort);
});

test('a child whose channel is gone gets nothing: the connection waits for the next one', async (t) => {
  const acceptor = new Acceptor('127.0.0.1', 0, pino({ level: 'silent' }));
  t.teardown(() => acceptor.close());
  const { port } = await acceptor.open();
  const gone = fakeWorker(false);
  acceptor.deliverTo(gone.worker);
  const client = await dial(port);
  t.teardown(() => client.destroy());
  const next = fakeWorker();
  await new Promise((resolve) => setTimeout(resolve, 50));
  acceptor.deliverTo(next.worker);
  await until(() => next.received.length === 1);
  t.is(gone.received.length, 0);
});

test('sockets a child was sent but did not say it took when its channel closed go to the next child, held until it serves or at once; a taken one is closed here', async (t) => {
  const acceptor = new Acceptor('127.0.0.1', 0, pino({ level: 'silent' }));
  t.teardown(() => acceptor.close());
  const { port } = await acceptor.open();
  for (const nextFirst of [false, true]) {
    const dying = fakeWorker();
    acceptor.deliverTo(dying.worker);
    const client = await dial(port);
    t.teardown(() => client.destroy());
    await until(() => dying.received.length === 1);

    const next = fakeWorker();
    // The exit may reach the supervisor after its replacement serves, or before.
    if (nextFirst) acceptor.deliverTo(next.worker);
    else acceptor.deliverTo(null);
    dying.worker.emit('disconnect');
    if (!nextFirst) acceptor.deliverTo(next.worker);
    await until(() => next.received.length === 1);
    t.is(next.received[0]!.remotePort, client.localPort);
    t.false(next.received[0]!.destroyed);

    const { id } = next.messages[0] as { id: number };
    acceptor.took(id);
    t.true(next.received[0]!.destroyed, "the primary's copy is closed once the child took it");
    next.worker.emit('disconnect');
    await new Promise((resolve) => setTimeout(resolve, 20));
    t.is(next.received.length, 1, 'a taken socket is not sent again');
  }
});

test("a child that died with a socket it never took, and whose 'disconnect' never came, gives it up at its process's 'close'; one it took before dying is not sent again", async (t) => {
  const acceptor = new Acceptor('127.0.0.1', 0, pino({ level: 'silent' }));
  t.teardown(() => acceptor.close());
  const { port } = await acceptor.open();
  const dying = fakeWorker();
  acceptor.deliverTo(dying.worker);
  const clients = [await dial(port), await dial(port)];
  t.teardown(() => clients.forEach((client) => client.destroy()));
  await until(() => dying.received.length === 2);
  // The first was taken: its 'took' is read after the exit, before the channel's end.
  acceptor.deliverTo(null);
  acceptor.took((dying.messages[0] as { id: number }).id);
  t.true(dying.received[0]!.destroyed);

  const next = fakeWorker();
  acceptor.deliverTo(next.worker);
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.is(next.received.length, 0, 'nothing moves before the channel of the dead child is known closed');
  dying.worker.process.emit('close', null, 'SIGKILL');
  await until(() => next.received.length === 1);
  t.is(next.received[0]!.remotePort, clients[1]!.localPort, 'the untaken one, whole');
  t.false(next.received[0]!.destroyed);
  dying.worker.emit('disconnect');
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.is(next.received.length, 1, 'a late disconnect sends nothing twice');
});

test('closed (the instance is left down): held connections are closed and new ones refused; a later open listens again', async (t) => {
  const acceptor = new Acceptor('127.0.0.1', 0, pino({ level: 'silent' }));
  const { port } = await acceptor.open();
  const held = await dial(port);
  const closed = new Promise((resolve) => held.once('close', resolve));
  held.on('error', () => undefined);
  await new Promise((resolve) => setTimeout(resolve, 50));
  acceptor.close();
  await closed;
  const refused = await dial(port).then(
    (socket) => {
      socket.destroy();
      return null;
    },
    (error: NodeJS.ErrnoException) => error.code,
  );
  t.is(refused, 'ECONNREFUSED');
  t.teardown(() => acceptor.close());
  await acceptor.open();
});

test("a TLS port's acceptor hands the raw socket on, marked tls, before anything was read from it", async (t) => {
  const acceptor = new Acceptor('127.0.0.1', 0, pino({ level: 'silent' }), undefined, 'tls');
  t.teardown(() => acceptor.close());
  const { port } = await acceptor.open();
  const child = fakeWorker();
  acceptor.deliverTo(child.worker);
  const client = await dial(port);
  t.teardown(() => client.destroy());
  client.write('\x16\x03\x01');
  await until(() => child.received.length === 1);
  t.deepEqual(child.messages, [{ type: 'connection', socket: 'tls', id: 1 }]);
  t.true(child.received[0]!.isPaused(), 'not read by the primary');
});

test('the sockets an instance listens on: plain, TLS only on its port, or TLS beside plain on a port of its own', (t) => {
  const cert = { cert: 'c.pem', key: 'k.pem' };
  t.is(describeLayout(socketLayout({ host: '127.0.0.1', port: 9922, tls: null })), 'plain 127.0.0.1:9922');
  t.is(describeLayout(socketLayout({ host: '127.0.0.1', port: 9922, tls: { ...cert, port: null } })), 'tls 127.0.0.1:9922');
  t.is(describeLayout(socketLayout({ host: '0.0.0.0', port: 9922, tls: { ...cert, port: 9923 } })), 'plain 0.0.0.0:9922, tls 0.0.0.0:9923');
});
