import test from 'ava';
import net from 'node:net';
import type { ChildMessage } from '../../supervisor/messages.js';
import { PrimarySockets } from '../../supervisor/primary-sockets.js';

/** A connected pair over loopback: the server side stands for a socket the primary sent. */
async function pair(): Promise<{ served: net.Socket; client: net.Socket; close: () => void }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect({ host: '127.0.0.1', port });
  const served = await accepted;
  return {
    served,
    client,
    close: () => {
      client.destroy();
      served.destroy();
      server.close();
    },
  };
}

test("a connection of its kind is taken: 'took' goes back with its id, then the server gets it", async (t) => {
  const sent: ChildMessage[] = [];
  const source = new PrimarySockets((message) => sent.push(message), 'tls');
  const got: net.Socket[] = [];
  source.attach((socket) => got.push(socket));
  const { served, close } = await pair();
  t.teardown(close);

  source.onMessage({ type: 'connection', socket: 'plain', id: 1 }, served);
  t.deepEqual(sent, [], "another kind's connection is not this source's");
  t.deepEqual(got, []);
  source.onMessage({ type: 'connection', socket: 'tls', id: 7 }, served);
  t.deepEqual(sent, [{ type: 'took', socket: 'tls', id: 7 }]);
  t.deepEqual(got, [served]);
  t.true(served.allowHalfOpen);
});

test("a connection reaching a stopping server is not taken: no 'took', its copy closed at once, so the primary hands it on whole", async (t) => {
  const sent: ChildMessage[] = [];
  const source = new PrimarySockets((message) => sent.push(message), 'plain');
  source.attach(() => t.fail('a stopping server serves nothing'));
  source.detach();
  const { served, close } = await pair();
  t.teardown(close);

  source.onMessage({ type: 'connection', socket: 'plain', id: 3 }, served);
  t.deepEqual(sent, []);
  t.true(served.destroyed);
});

test("listening: the primary's answer settles open(), an address or the listen error with its code", async (t) => {
  const sent: ChildMessage[] = [];
  const source = new PrimarySockets((message) => sent.push(message), 'plain');
  const opening = source.open();
  t.deepEqual(sent, [{ type: 'listen', socket: 'plain' }]);
  source.onMessage({ type: 'listening', socket: 'tls', host: '127.0.0.1', port: 1 }, undefined);
  source.onMessage({ type: 'listening', socket: 'plain', host: '127.0.0.1', port: 9922 }, undefined);
  t.deepEqual(await opening, { host: '127.0.0.1', port: 9922 });

  const failing = source.open();
  source.onMessage({ type: 'listen-failed', socket: 'plain', code: 'EADDRINUSE', message: 'address in use' }, undefined);
  const error = await t.throwsAsync(failing);
  t.is((error as NodeJS.ErrnoException).code, 'EADDRINUSE');
});
