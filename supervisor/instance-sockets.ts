import type { Worker } from 'node:cluster';
import type net from 'node:net';
import type { Logger } from 'pino';
import type { InstanceSettings } from '../src/config/resolve.js';
import { Acceptor } from './acceptor.js';
import type { SocketKind } from './messages.js';
import { socketLayout } from './socket-layout.js';

/**
 * The listening sockets the primary holds for one instance: its plain TCP port, its TLS
 * port, or both, each with its own Acceptor. A TLS socket is held and handed over raw, as
 * accepted: the child runs the handshake with its own certificate; the primary never
 * holds a key.
 */
export class InstanceSockets {
  private readonly acceptors = new Map<SocketKind, Acceptor>();

  constructor(settings: InstanceSettings, logger: Logger) {
    for (const socket of socketLayout(settings)) {
      this.acceptors.set(socket.kind, new Acceptor(socket.host, socket.port, logger, settings.limits?.backlog, socket.kind));
    }
  }

  /** Listens on the socket of that kind (once); rejects with the listen error. */
  open(kind: SocketKind): Promise<net.AddressInfo> {
    const acceptor = this.acceptors.get(kind);
    // The child checked on start that it listens as the primary does (socket-layout.ts), so this is a bug, not an operator's error.
    if (acceptor === undefined) return Promise.reject(new Error(`the supervisor holds no ${kind} socket for this instance`));
    return acceptor.open();
  }

  /** The child has the connection sent as `id` on the socket of that kind. */
  took(kind: SocketKind, id: number): void {
    this.acceptors.get(kind)?.took(id);
  }

  deliverTo(worker: Worker | null): void {
    for (const acceptor of this.acceptors.values()) acceptor.deliverTo(worker);
  }

  close(): void {
    for (const acceptor of this.acceptors.values()) acceptor.close();
  }
}
