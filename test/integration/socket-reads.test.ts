import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { fork } from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import { readChunks } from '../../src/server/socket-reads.js';
import { readFile } from 'node:fs/promises';
import { makeCertificate } from '../helpers/tls.js';
import { root } from '../helpers/process.js';
import { tempDir } from '../helpers/wire.js';

// readChunks over real loopback sockets: which sockets read into the shared buffer, and
// that such a socket still pauses, resumes and ends like a stream.

/** An accepted socket read with readChunks, and what it read. */
class Reader {
  readonly chunks: string[] = [];
  /** The memory each chunk was handed in. */
  readonly memory: ArrayBufferLike[] = [];
  /** The chunks' texts and 'end', in the order they came. */
  readonly events: string[] = [];
  readonly shared: boolean;
  private wake: (() => void) | null = null;

  constructor(readonly socket: net.Socket) {
    this.shared = readChunks(socket, (chunk) => {
      this.chunks.push(chunk.toString('latin1'));
      this.events.push(chunk.toString('latin1'));
      this.memory.push(chunk.buffer);
      this.wake?.();
    });
    socket.on('end', () => {
      this.events.push('end');
      this.wake?.();
    });
  }

  /** Everything read so far, once it holds `text`. */
  async until(text: string): Promise<string> {
    await this.waitFor(() => this.chunks.join('').includes(text));
    return this.chunks.join('');
  }

  /** Once the socket has seen its peer's end. */
  ended(): Promise<void> {
    return this.waitFor(() => this.events.includes('end'));
  }

  private async waitFor(done: () => boolean): Promise<void> {
    while (!done()) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    this.wake = null;
  }
}

/** A server that hands each accepted socket (plain, or the TLS socket over it) to `onSocket`. */
async function listen(onSocket: (socket: net.Socket) => void): Promise<{ port: number; close(): void }> {
  const server = net.createServer({ allowHalfOpen: true }, onSocket);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  await once(socket, 'connect');
  return socket;
}

/** Until `list` has `n` entries. */
async function nth<T>(list: T[], n: number): Promise<T> {
  while (list.length < n) await new Promise((resolve) => setImmediate(resolve));
  return list[n - 1]!;
}

/**
 * A client, and the Reader of the socket the server accepted for it: made by `accept`, at
 * once by default. The client sends `first` as soon as it is connected.
 */
async function connected(accept: (socket: net.Socket, done: (reader: Reader) => void) => void = (socket, done) => done(new Reader(socket)), first = '') {
  const readers: Reader[] = [];
  const server = await listen((socket) => accept(socket, (reader) => readers.push(reader)));
  const client = await connect(server.port);
  if (first !== '') client.write(first);
  const reader = await nth(readers, 1);
  return {
    client,
    reader,
    close: () => {
      client.destroy();
      server.close();
    },
  };
}

test('plain sockets read into one shared buffer, and each chunk holds what was sent', async (t) => {
  const readers: Reader[] = [];
  const server = await listen((socket) => readers.push(new Reader(socket)));
  const a = await connect(server.port);
  const b = await connect(server.port);
  const first = await nth(readers, 1);
  const second = await nth(readers, 2);
  t.true(first.shared);
  t.true(second.shared);
  a.write('add from a\r\n');
  t.is(await first.until('\n'), 'add from a\r\n');
  b.write('lease from b\r\n');
  t.is(await second.until('\n'), 'lease from b\r\n');
  a.write('more from a\r\n');
  t.is(await first.until('more from a\r\n'), 'add from a\r\nmore from a\r\n');
  t.is(first.memory[0], second.memory[0]);
  t.is(first.memory[0], first.memory[1]);
  a.destroy();
  b.destroy();
  server.close();
});

test('a socket reading into the shared buffer reads nothing while paused, then what came meanwhile', async (t) => {
  const { client, reader, close } = await connected();
  client.write('one\r\n');
  await reader.until('one\r\n');
  reader.socket.pause();
  client.write('two\r\n');
  // Time for the bytes to be read if the pause did not stop reads (a bound on missing a bug, not on passing).
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.deepEqual(reader.chunks, ['one\r\n']);
  reader.socket.resume();
  t.is(await reader.until('two\r\n'), 'one\r\ntwo\r\n');
  close();
});

test("a socket reading into the shared buffer sees the peer's end, and can still write", async (t) => {
  const { client, reader, close } = await connected();
  t.true(reader.shared);
  const ended = once(reader.socket, 'end');
  client.end('last\r\n');
  await ended;
  t.deepEqual(reader.chunks, ['last\r\n']);
  let answer = '';
  client.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  const answered = once(client, 'end');
  reader.socket.end('+OK\r\n');
  await answered;
  t.is(answer, '+OK\r\n');
  close();
});

/** Hands the socket to a Reader once its stream holds bytes read before (and, with `ended`, the peer's end too). */
function afterEarlyReads(ended: boolean) {
  return (socket: net.Socket, done: (reader: Reader) => void): void => {
    const state = (socket as unknown as { _readableState: { ended: boolean } })._readableState;
    const wait = (): void => {
      if (socket.readableLength > 0 && (!ended || state.ended)) done(new Reader(socket));
      else setImmediate(wait);
    };
    wait();
  };
}

test('a socket whose stream already holds read bytes reads into the shared buffer, those bytes first', async (t) => {
  const { client, reader, close } = await connected(afterEarlyReads(false), 'early\r\n');
  t.true(reader.shared);
  client.write('late\r\n');
  t.is(await reader.until('late\r\n'), 'early\r\nlate\r\n');
  close();
});

test("bytes the stream held before, and the peer's end behind them, come in that order", async (t) => {
  const readers: Reader[] = [];
  const server = await listen((socket) => afterEarlyReads(true)(socket, (reader) => readers.push(reader)));
  const client = await connect(server.port);
  client.end('early and last\r\n');
  const reader = await nth(readers, 1);
  t.true(reader.shared);
  await reader.ended();
  t.deepEqual(reader.events, ['early and last\r\n', 'end']);
  client.destroy();
  server.close();
});

test('a socket handed over from another process, as the supervisor hands its children their connections, reads into the shared buffer', async (t) => {
  const child = fork(path.join(root, 'test/helpers/ipc-reader.ts'), [], { cwd: root, execArgv: ['--import=tsx'] });
  t.teardown(() => child.kill());
  await once(child, 'message');
  // As supervisor/acceptor.ts: accepted paused, handed over at once, the primary's copy kept open.
  const server = net.createServer({ pauseOnConnect: true }, (socket) => child.send('connection', socket, { keepOpen: true }));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = net.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
  client.write('sent before the handover\r\n');
  const [answer] = (await once(child, 'message')) as [{ shared: boolean; text: string }];
  t.deepEqual(answer, { shared: true, text: 'sent before the handover\r\n' });
  client.destroy();
  server.close();
});

test('a TLS socket is read through its stream', async (t) => {
  const dir = await tempDir();
  const { cert, keyPath } = await makeCertificate(dir.path, 'reads');
  const context = tls.createSecureContext({ cert, key: await readFile(keyPath) });
  const readers: Reader[] = [];
  const server = await listen((raw) => {
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
    secure.once('secure', () => readers.push(new Reader(secure)));
  });
  const client = tls.connect({ host: '127.0.0.1', port: server.port, ca: cert, servername: 'localhost' });
  await once(client, 'secureConnect');
  const reader = await nth(readers, 1);
  t.false(reader.shared);
  client.write('over tls\r\n');
  t.is(await reader.until('\n'), 'over tls\r\n');
  client.destroy();
  server.close();
  await dir.remove();
});

test('a socket whose handle refuses a buffer of ours is read through its stream', async (t) => {
  const { client, reader, close } = await connected((socket, done) => {
    (socket as unknown as { _handle: { useUserBuffer(buffer: Uint8Array): void } })._handle.useUserBuffer = () => {
      throw new Error('refused');
    };
    done(new Reader(socket));
  });
  t.false(reader.shared);
  client.write('still read\r\n');
  t.is(await reader.until('\n'), 'still read\r\n');
  close();
});
