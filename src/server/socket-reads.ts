import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

/** Bytes one read may bring: libuv's own suggestion for a read, so reads are as large as with Node's buffers. */
const READ_BUFFER_SIZE = 64 * 1024;

/**
 * Where every plain connection's reads land, one after another. A chunk is handed to its
 * connection, which consumes it before the next read can happen (reads are delivered one at
 * a time from the event loop), so one buffer serves them all and stays in the cache.
 */
const shared = Buffer.allocUnsafe(READ_BUFFER_SIZE);

/**
 * The private names under which a net.Socket keeps its `onread` settings (lib/net.js:
 * kBuffer and kBufferCb), found on the first socket that has them; null when this Node
 * has none, and then every socket is read the stream way.
 */
let names: OnreadNames | null | undefined;

interface OnreadNames {
  buffer: symbol;
  callback: symbol;
}

interface UserBufferHandle {
  useUserBuffer(buffer: Uint8Array): void;
}

function onreadNames(socket: Socket): OnreadNames | null {
  if (names === undefined) {
    const own = Object.getOwnPropertySymbols(socket);
    const buffer = own.find((symbol) => symbol.description === 'kBuffer');
    const callback = own.find((symbol) => symbol.description === 'kBufferCb');
    names = buffer !== undefined && callback !== undefined ? { buffer, callback } : null;
  }
  return names;
}

/**
 * Calls `onChunk` with each piece of data the socket reads, and says whether the reads land
 * in the shared buffer. `onChunk` must be done with the chunk when it returns: the bytes of
 * the next read may take its place.
 *
 * A plain TCP socket is read the way Node's documented `onread` option reads a socket it
 * connects (net.Socket options): into one buffer of ours, not a new Buffer for every read
 * pushed through the stream. Node offers that option only for sockets it connects, so an
 * accepted socket is given the settings the option sets. That takes an allocation and the
 * stream's work off every read: about a microsecond of the server's CPU per
 * add→lease→complete cycle of synchronous workers (bench/README.md). Pause, resume,
 * 'end', 'close' and the idle timer behave as with 'data'. A socket this cannot be done
 * for safely (TLS, whose reads the stream decrypts; one already read through its stream;
 * a Node without these settings, or one that refuses them) is read through 'data'.
 */
export function readChunks(socket: Socket, onChunk: (chunk: Buffer) => void): boolean {
  if (readIntoShared(socket, onChunk)) return true;
  socket.on('data', onChunk);
  return false;
}

function readIntoShared(socket: Socket, onChunk: (chunk: Buffer) => void): boolean {
  const settings = onreadSettings(socket);
  if (settings === null) return false;
  try {
    (socket as unknown as { _handle: UserBufferHandle })._handle.useUserBuffer(shared);
  } catch {
    // A Node that refuses a buffer of the caller's for a socket it did not connect.
    return false;
  }
  const own = socket as unknown as Record<symbol, unknown>;
  own[settings.buffer] = shared;
  own[settings.callback] = (bytes: number, buffer: Buffer): void => {
    onChunk(buffer.subarray(0, bytes));
  };
  // A socket the supervisor's primary handed over may hold what its stream read while the
  // handover went on. That goes first, on the next tick: before any new read (reads come
  // in a later phase of the loop) and before an 'end' behind it, once the caller is set up.
  if (socket.readableLength > 0) process.nextTick(takeHeld, socket, onChunk);
  return true;
}

function takeHeld(socket: Socket, onChunk: (chunk: Buffer) => void): void {
  const held = socket.read() as Buffer | null;
  if (held !== null) onChunk(held);
}

/** The names of the socket's `onread` settings when it can be read into the shared buffer and has none set, else null. */
function onreadSettings(socket: Socket): OnreadNames | null {
  // A socket that something already reads through its stream ('data') is left to it.
  if (socket instanceof TLSSocket || socket.destroyed || socket.readableFlowing === true) return null;
  const handle = (socket as unknown as { _handle?: Partial<UserBufferHandle> | null })._handle;
  if (handle === null || handle === undefined || typeof handle.useUserBuffer !== 'function') return null;
  const found = onreadNames(socket);
  if (found === null) return null;
  const own = socket as unknown as Record<symbol, unknown>;
  return own[found.buffer] === null && own[found.callback] === null ? found : null;
}
