import type { Worker } from 'node:cluster';
import net from 'node:net';
import type { Logger } from 'pino';
import type { PrimaryMessage, SocketKind } from './messages.js';

/** Connections held at most while no server of the instance takes them; beyond that, new ones are closed. */
const HELD_MAX = 4096;

/**
 * One listening socket of an instance (its plain TCP or its TLS port), held by the primary
 * so that it stays open while the instance's server is replaced (hot restart, crash): a
 * client connecting then is accepted and held, unread, and handed to the next server once
 * it serves, instead of being refused. Every accepted socket goes to the serving child over
 * the IPC channel (node:cluster's own round-robin works the same way); the primary never
 * reads from it, so a TLS client's handshake is run by the child.
 */
export class Acceptor {
  private server: net.Server | null = null;
  private opening: Promise<net.AddressInfo> | null = null;
  private target: Worker | null = null;
  private readonly held = new Set<net.Socket>();
  /** Sockets handed to a child whose send has not completed yet, by child. */
  private readonly unsent = new Map<net.Socket, Worker>();
  /** Children whose channel's end is watched for unsent sockets. */
  private readonly watched = new WeakSet<Worker>();
  private overflowLogged = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly logger: Logger,
    /** listen(2) backlog (limits.backlog); Node's default when absent. */
    private readonly backlog?: number,
    /** Tells the child which of its listeners the socket belongs to. */
    private readonly kind: SocketKind = 'plain',
  ) {}

  /** Listens (once; a later call finds the socket open). Rejects with the listen error (EADDRINUSE, …). */
  open(): Promise<net.AddressInfo> {
    this.opening ??= new Promise<net.AddressInfo>((resolve, reject) => {
      const server = net.createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
      const failed = (error: Error): void => {
        this.opening = null;
        reject(error);
      };
      server.once('error', failed);
      // exclusive: the primary's own socket, not node:cluster's shared handle
      server.listen({ host: this.host, port: this.port, exclusive: true, ...(this.backlog === undefined ? {} : { backlog: this.backlog }) }, () => {
        server.off('error', failed);
        server.on('error', (error) => this.logger.error({ err: error }, 'listening socket error'));
        this.server = server;
        resolve(server.address() as net.AddressInfo);
      });
    });
    return this.opening;
  }

  /** From now on accepted connections go to `worker`, the held ones first; null holds them. */
  deliverTo(worker: Worker | null): void {
    this.target = worker;
    if (worker === null) return;
    for (const socket of this.held) {
      this.held.delete(socket);
      this.send(worker, socket);
    }
    this.overflowLogged = false;
  }

  /** The instance is left down: held connections are closed and the socket too, so that clients are refused, as with no server. */
  close(): void {
    this.target = null;
    for (const socket of this.held) socket.destroy();
    this.held.clear();
    // The listening socket closes at once; close()'s callback is not awaited: it would wait
    // for the sockets handed to children, asking children that may be gone.
    this.server?.close();
    this.server = null;
    this.opening = null;
  }

  private accept(socket: net.Socket): void {
    // A client that gives up before a child has the socket must not take the primary down with an unhandled error.
    socket.on('error', () => socket.destroy());
    if (this.target !== null) return this.send(this.target, socket);
    this.hold(socket);
  }

  /** A socket that `from` did not take: to the serving child when that is another one by now, else held for the next. */
  private pass(socket: net.Socket, from: Worker): void {
    if (this.target !== null && this.target !== from) this.send(this.target, socket);
    else this.hold(socket);
  }

  private hold(socket: net.Socket): void {
    if (socket.destroyed) return;
    if (this.held.size >= HELD_MAX) {
      if (!this.overflowLogged) this.logger.warn({ held: this.held.size }, 'no server takes connections: too many held, closing new ones');
      this.overflowLogged = true;
      socket.destroy();
      return;
    }
    this.held.add(socket);
    socket.once('close', () => this.held.delete(socket));
  }

  private send(worker: Worker, socket: net.Socket): void {
    const message: PrimaryMessage = { type: 'connection', socket: this.kind };
    if (!worker.isConnected()) return this.hold(socket);
    this.watch(worker);
    this.unsent.set(socket, worker);
    worker.send(message, socket, (error: NodeJS.ErrnoException | null) => {
      if (!this.unsent.delete(socket) || error === null) return;
      // The channel closed before the send began: the socket is whole, another child takes it.
      if (error.code === 'ERR_IPC_CHANNEL_CLOSED') this.pass(socket, worker);
      // A failed write: Node has closed the handle, so the client sees its connection end and may connect again.
      else socket.destroy();
    });
  }

  /**
   * Node passes one handle at a time and queues the next ones until the child acknowledges
   * the last; when the channel closes first (the child died), it drops that queue without
   * calling back, leaving those connections open and unanswered. They were never written
   * to the channel, so they are whole: the next child takes them.
   */
  private watch(worker: Worker): void {
    if (this.watched.has(worker)) return;
    this.watched.add(worker);
    worker.once('disconnect', () => {
      this.watched.delete(worker);
      for (const [socket, sentTo] of this.unsent) {
        if (sentTo !== worker) continue;
        this.unsent.delete(socket);
        this.pass(socket, worker);
      }
    });
  }
}
