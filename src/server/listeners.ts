import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { SocketSources, TlsSettings } from './types.js';

/** The sockets a server accepts on: plain TCP, TLS, or both, handed to one callback. */
export interface Listeners {
  /** The plain TCP port, or null when TLS replaces it. */
  readonly plainPort: number | null;
  readonly tlsPort: number | null;
  readonly address: string;
  /** Reads the certificate and key again; handshakes from now on use them. */
  reloadTls(): Promise<void>;
  /** Stops accepting; resolves once every accepted connection has closed. */
  close(): Promise<void>;
  /** Cuts off every accepted socket still open, TLS handshakes in progress included. */
  destroyAll(): void;
}

export interface ListenOptions {
  host: string;
  port: number;
  tls: TlsSettings | null;
  backlog: number;
  /** A TLS handshake not done by then is dropped: it holds a socket and counts against nothing else. */
  handshakeTimeoutMs: number;
  /** Called for each handshake dropped at handshakeTimeoutMs. */
  onHandshakeTimeout: () => void;
  logger: Logger;
  /** Connections come from here (the supervisor's sockets) instead of listeners of our own; TLS ones raw, the handshake is ours. */
  sockets?: SocketSources | undefined;
}

const SOCKET_OPTIONS = { allowHalfOpen: true, keepAlive: true, noDelay: true } as const;

/**
 * Runs the server side of a TLS handshake on an accepted socket and hands the socket on
 * once it is secure. tls.Server is not used: with allowHalfOpen (which the protocol's half
 * close needs) it keeps a socket whose peer left mid-handshake open for good; here an end,
 * an error or the timeout before the handshake is done closes it.
 */
function handshake(raw: net.Socket, secureContext: tls.SecureContext, options: ListenOptions, onSocket: (socket: net.Socket) => void): tls.TLSSocket {
  const socket = new tls.TLSSocket(raw, { isServer: true, secureContext });
  const abandon = (error?: Error): void => {
    if (error !== undefined) options.logger.debug({ err: error, remote: raw.remoteAddress }, 'TLS handshake failed');
    socket.destroy();
  };
  const timedOut = (): void => {
    options.onHandshakeTimeout();
    abandon();
  };
  socket.setTimeout(options.handshakeTimeoutMs);
  socket.on('timeout', timedOut);
  socket.on('end', abandon);
  socket.on('error', abandon);
  socket.once('secure', () => {
    socket.setTimeout(0);
    socket.off('timeout', timedOut);
    socket.off('end', abandon);
    socket.off('error', abandon);
    onSocket(socket);
  });
  return socket;
}

async function readPair(settings: TlsSettings): Promise<{ cert: Buffer; key: Buffer }> {
  const [cert, key] = await Promise.all([readFile(settings.cert), readFile(settings.key)]);
  return { cert, key };
}

export async function openListeners(options: ListenOptions, onSocket: (socket: net.Socket) => void): Promise<Listeners> {
  const { host, tls: tlsSettings, backlog, logger } = options;
  const servers: net.Server[] = [];
  // Every accepted socket, also those that never become a connection (a TLS handshake
  // that stalls, a client turned away), so that a stop can cut them all off.
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  let plain: net.Server | null = null;
  let held: { host: string; port: number } | null = null;
  let secure: net.Server | null = null;
  let heldSecure: { host: string; port: number } | null = null;
  let context: tls.SecureContext | null = null;
  const sources = options.sockets ?? {};
  try {
    if ((tlsSettings === null || tlsSettings.port !== null) && sources.plain !== undefined) {
      held = await sources.plain.open();
      sources.plain.attach((socket) => {
        track(socket);
        onSocket(socket);
      });
    } else if (tlsSettings === null || tlsSettings.port !== null) {
      plain = net.createServer(SOCKET_OPTIONS, onSocket);
      plain.on('connection', track);
      servers.push(plain);
      await listen(plain, host, options.port, backlog);
    }
    if (tlsSettings !== null) {
      context = tls.createSecureContext(await readPair(tlsSettings));
      // The context in use when the handshake starts: reloadTls replaces it for later ones.
      const secureSocket = (raw: net.Socket): void => {
        track(handshake(raw, context!, options, onSocket));
      };
      if (sources.tls !== undefined) {
        heldSecure = await sources.tls.open();
        sources.tls.attach(secureSocket);
      } else {
        secure = net.createServer(SOCKET_OPTIONS, secureSocket);
        servers.push(secure);
        await listen(secure, host, tlsSettings.port ?? options.port, backlog);
      }
    }
  } catch (error) {
    sources.plain?.detach();
    sources.tls?.detach();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    throw error;
  }
  const portOf = (server: net.Server | null): number | null => (server === null ? null : (server.address() as net.AddressInfo).port);
  const first = servers[0]?.address() as net.AddressInfo | undefined;
  // Resolves once every accepted socket has closed, for the connections a SocketSource handed over.
  const allClosed = (): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (sockets.size === 0) resolve();
        else void Promise.all([...sockets].map((socket) => new Promise((done) => socket.once('close', done)))).then(check);
      };
      check();
    });
  const fromSources = held !== null || heldSecure !== null;
  return {
    plainPort: held?.port ?? portOf(plain),
    tlsPort: heldSecure?.port ?? portOf(secure),
    address: held?.host ?? heldSecure?.host ?? first!.address,
    reloadTls: async () => {
      if (context === null || tlsSettings === null) {
        logger.info('no TLS listener: nothing to reload');
        return;
      }
      context = tls.createSecureContext(await readPair(tlsSettings));
      logger.info({ cert: tlsSettings.cert, key: tlsSettings.key }, 'TLS certificate and key reloaded');
    },
    close: () => {
      sources.plain?.detach();
      sources.tls?.detach();
      const closing = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
      return Promise.all(fromSources ? [...closing, allClosed()] : closing).then(() => undefined);
    },
    destroyAll: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

function listen(server: net.Server, host: string, port: number, backlog: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // exclusive: under node:cluster each child binds its own port instead of sharing the primary's handle
    server.listen({ host, port, backlog, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
