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
  /** Sockets sent to a child that has not said yet that it took them, by the id sent with them. */
  private readonly untaken = new Map<number, { socket: net.Socket; worker: Worker }>();
  private lastId = 0;
  /** Children whose channel's end is watched for sockets they did not take. */
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
    if (!worker.isConnected()) return this.hold(socket);
    this.watch(worker);
    const id = ++this.lastId;
    this.untaken.set(id, { socket, worker });
    const message: PrimaryMessage = { type: 'connection', socket: this.kind, id };
    worker.send(message, socket, { keepOpen: true }, (error: Error | null) => {
      if (error === null || !this.untaken.delete(id)) return;
      // The child went away before it got the socket, which is still whole here: another child takes it.
      this.pass(socket, worker);
    });
  }

  /** The child has the connection: the primary's copy of it goes (closing it leaves the child's open). */
  took(id: number): void {
    const sent = this.untaken.get(id);
    if (sent === undefined) return;
    this.untaken.delete(id);
    sent.socket.destroy();
  }

  /**
   * A child that dies may never take what it was sent: Node passes one handle at a time
   * and, when the channel closes, drops those still queued without calling back. Sockets
   * are therefore sent with keepOpen and kept here until the child says it took them;
   * once its channel is closed, the ones it did not take go to the next child, whole.
   * The process's 'close' is the sure sign: it comes after the exit and after the last
   * message of the channel was read, so every 'took' the child wrote has arrived. The
   * worker's 'disconnect' comes sooner but not always: Node never emits it for a child
   * that died while a handle sent to it awaited its acknowledgement.
   */
  private watch(worker: Worker): void {
    if (this.watched.has(worker)) return;
    this.watched.add(worker);
    const closed = (): void => {
      this.watched.delete(worker);
      worker.off('disconnect', closed);
      worker.process.off('close', closed);
      for (const [id, sent] of this.untaken) {
        if (sent.worker !== worker) continue;
        this.untaken.delete(id);
        this.pass(sent.socket, worker);
      }
    };
    worker.once('disconnect', closed);
    worker.process.once('close', closed);
  }
}
