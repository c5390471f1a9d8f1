import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { TlsSettings } from './types.js';

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
}

export interface ListenOptions {
  host: string;
  port: number;
  tls: TlsSettings | null;
  backlog: number;
  logger: Logger;
}

const SOCKET_OPTIONS = { allowHalfOpen: true, keepAlive: true, noDelay: true } as const;

async function readPair(settings: TlsSettings): Promise<{ cert: Buffer; key: Buffer }> {
  const [cert, key] = await Promise.all([readFile(settings.cert), readFile(settings.key)]);
  return { cert, key };
}

export async function openListeners(options: ListenOptions, onSocket: (socket: net.Socket) => void): Promise<Listeners> {
  const { host, tls: tlsSettings, backlog, logger } = options;
  const servers: net.Server[] = [];
  let plain: net.Server | null = null;
  let secure: tls.Server | null = null;
  try {
    if (tlsSettings === null || tlsSettings.port !== null) {
      plain = net.createServer(SOCKET_OPTIONS, onSocket);
      servers.push(plain);
      await listen(plain, host, options.port, backlog);
    }
    if (tlsSettings !== null) {
      secure = tls.createServer({ ...SOCKET_OPTIONS, ...(await readPair(tlsSettings)) });
      secure.on('secureConnection', onSocket);
      secure.on('tlsClientError', (error, socket) => {
        logger.debug({ err: error, remote: socket.remoteAddress }, 'TLS handshake failed');
      });
      servers.push(secure);
      await listen(secure, host, tlsSettings.port ?? options.port, backlog);
    }
  } catch (error) {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    throw error;
  }
  const portOf = (server: net.Server | null): number | null => (server === null ? null : (server.address() as net.AddressInfo).port);
  const first = servers[0]!.address() as net.AddressInfo;
  return {
    plainPort: portOf(plain),
    tlsPort: portOf(secure),
    address: first.address,
    reloadTls: async () => {
      if (secure === null || tlsSettings === null) {
        logger.info('no TLS listener: nothing to reload');
        return;
      }
      secure.setSecureContext(await readPair(tlsSettings));
      logger.info({ cert: tlsSettings.cert, key: tlsSettings.key }, 'TLS certificate and key reloaded');
    },
    close: () => Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))).then(() => undefined),
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
