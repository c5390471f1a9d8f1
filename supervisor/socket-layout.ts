import type { InstanceSettings } from '../src/config/resolve.js';
import type { SocketKind } from './messages.js';

/** One listening socket of an instance: its plain TCP port or its TLS port. */
export interface ListenSocket {
  kind: SocketKind;
  host: string;
  port: number;
}

/** The sockets an instance listens on, as configured: plain TCP, TLS, or both (TLS on its own port). */
export function socketLayout(settings: Pick<InstanceSettings, 'host' | 'port' | 'tls'>): ListenSocket[] {
  const tls = settings.tls ?? null;
  const sockets: ListenSocket[] = [];
  if (tls === null || tls.port !== null) sockets.push({ kind: 'plain', host: settings.host, port: settings.port });
  if (tls !== null) sockets.push({ kind: 'tls', host: settings.host, port: tls.port ?? settings.port });
  return sockets;
}

/** The layout in words (`plain 127.0.0.1:9922, tls 127.0.0.1:9923`): passed to children, compared, and shown in errors. */
export function describeLayout(sockets: readonly ListenSocket[]): string {
  return sockets.map((socket) => `${socket.kind} ${socket.host}:${socket.port}`).join(', ');
}
