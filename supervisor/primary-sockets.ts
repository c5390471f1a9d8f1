import net from 'node:net';
import type { SocketSource } from '../src/server/types.js';
import type { ChildMessage, PrimaryMessage, SocketKind } from './messages.js';

/**
 * In a child: the connections of one of the instance's sockets (plain or TLS) as the
 * primary accepts them (supervisor/acceptor.ts). The primary holds the listening socket,
 * so a restarting instance is never refused. A TLS socket arrives raw; the server runs
 * the handshake.
 */
export class PrimarySockets implements SocketSource {
  private onSocket: ((socket: net.Socket) => void) | null = null;
  private pending: { resolve: (address: { host: string; port: number }) => void; reject: (error: Error) => void } | null = null;

  constructor(
    private readonly send: (message: ChildMessage) => void,
    readonly kind: SocketKind,
  ) {}

  open(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.send({ type: 'listen', socket: this.kind });
    });
  }

  attach(onSocket: (socket: net.Socket) => void): void {
    this.onSocket = onSocket;
  }

  detach(): void {
    this.onSocket = null;
  }

  /** Takes the primary's answers to its 'listen' and the sockets it accepted; other messages (other kinds) are not its own. */
  onMessage(message: PrimaryMessage, handle: unknown): void {
    if ((message.type !== 'listening' && message.type !== 'listen-failed' && message.type !== 'connection') || message.socket !== this.kind) return;
    if (message.type === 'listening') {
      this.pending?.resolve({ host: message.host, port: message.port });
      this.pending = null;
    } else if (message.type === 'listen-failed') {
      this.pending?.reject(Object.assign(new Error(message.message), { code: message.code ?? undefined }));
      this.pending = null;
    } else if (message.type === 'connection' && handle instanceof net.Socket) {
      if (this.onSocket === null) {
        // This server is stopping (on a signal of its own: the primary stops sending before
        // it asks for a stop). Closing this copy at once, before anything was read from it,
        // and not saying 'took' leaves the connection whole with the primary, which hands it
        // to the next server once this process is gone.
        handle.destroy();
        return;
      }
      this.send({ type: 'took', socket: this.kind, id: message.id });
      // The socket was made by the IPC layer, not by a server with these options (a TLS socket takes allowHalfOpen from it).
      handle.allowHalfOpen = true;
      handle.setNoDelay(true);
      handle.setKeepAlive(true);
      this.onSocket(handle);
    }
  }
}
