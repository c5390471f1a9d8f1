import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ConnectionError, ServerStoppingError, WorkqError } from './errors.js';
import { ReplyParser, type ReplyKind, type ReplyValue } from './reply-parser.js';
import { splitAddress } from './hashing.js';

/**
 * One TCP connection to one server, pipelined: calls are queued in order, all the bytes
 * queued in one tick go out in one write, and replies are matched to calls in order
 * (the server answers in command order, docs/protocol.md 1). The socket is opened on the
 * first call and reopened by the first call after it dropped; after a failed attempt the
 * next one waits, the wait doubling up to a ceiling. With a secret, every new socket
 * sends `auth <secret>` ahead of the calls queued on it (docs/protocol.md 12.5); a refused
 * secret fails those calls and counts as a failed attempt.
 */

export interface ConnectionOptions {
  connectTimeoutMs: number;
  backoffMs: number;
  maxBackoffMs: number;
  /** Sent with `auth` on every new socket; null for a server without authentication. */
  secret: string | null;
  /** TLS options of node:tls connect (ca, servername, rejectUnauthorized, …), or null for plain TCP. */
  tls: TlsOptions | null;
}

/** What the client passes to node:tls for a TLS connection. */
export interface TlsOptions {
  /** Certificates to trust instead of the system's (PEM), e.g. a private CA or a self-signed server certificate. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Name to check the certificate against (and send as SNI); defaults to the host. */
  servername?: string;
  /** Default true: refuse a certificate that does not verify. */
  rejectUnauthorized?: boolean;
  /** Client certificate and key (PEM), for servers that ask for one. */
  cert?: string | Buffer;
  key?: string | Buffer;
}

interface Pending {
  readonly kind: ReplyKind;
  readonly resolve: (value: ReplyValue) => void;
  readonly reject: (error: WorkqError) => void;
}

export class Connection {
  private socket: Socket | null = null;
  private connected = false;
  private pending: Pending[] = [];
  private head = 0;
  private outgoing: Buffer[] = [];
  private flushQueued = false;
  private failures = 0;
  private retryAt = 0;
  private dialTimer: NodeJS.Timeout | null = null;
  private closing = false;
  private drained: (() => void) | null = null;

  constructor(
    readonly address: string,
    private readonly options: ConnectionOptions,
  ) {}

  /** Calls sent and not yet answered. */
  get inFlight(): number {
    return this.pending.length - this.head;
  }

  call(kind: ReplyKind, pieces: readonly Buffer[]): Promise<ReplyValue> {
    if (this.closing) return Promise.reject(new ConnectionError(this.address, 'client closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ kind, resolve, reject });
      for (const piece of pieces) this.outgoing.push(piece);
      if (this.connected) this.scheduleFlush();
      else if (this.socket === null && this.dialTimer === null) this.open();
    });
  }

  /** Stops taking calls, lets the calls in flight get their replies, then closes. */
  close(): Promise<void> {
    this.closing = true;
    // A connection still being dialled has calls queued that were made before close():
    // they get their replies too (or fail with the dial).
    if (this.inFlight === 0 || this.socket === null) {
      this.destroy();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.drained = () => {
        this.destroy();
        resolve();
      };
    });
  }

  /** Closes at once; calls in flight reject with ConnectionError. */
  destroy(): void {
    this.closing = true;
    if (this.dialTimer !== null) {
      clearTimeout(this.dialTimer);
      this.dialTimer = null;
    }
    const socket = this.socket;
    this.socket = null;
    this.connected = false;
    if (socket !== null) socket.destroy();
    this.dropAll('client closed');
  }

  private open(): void {
    const delay = this.retryAt - Date.now();
    if (delay <= 0) {
      this.dial();
      return;
    }
    this.dialTimer = setTimeout(() => {
      this.dialTimer = null;
      this.dial();
    }, delay);
  }

  private dial(): void {
    const { host, port } = splitAddress(this.address);
    const { tls } = this.options;
    // SNI carries host names only; a certificate for an IP address is still checked against it.
    const socket =
      tls === null ? netConnect({ host, port, noDelay: true }) : tlsConnect({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ...tls });
    this.socket = socket;
    let lastError: Error | null = null;
    const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), this.options.connectTimeoutMs);
    const parser = new ReplyParser(this.address, {
      next: () => this.pending[this.head]?.kind,
      reply: (value) => {
        this.settle(value);
        // The server closes this socket after that reply (docs/protocol.md 12.8): a call made
        // from now on, such as the retry of the call just answered, goes to a new one.
        if (value instanceof ServerStoppingError && this.socket === socket) {
          this.socket = null;
          this.connected = false;
          socket.destroy();
          this.dropAll('server stopping');
        }
      },
      malformed: (reason) => socket.destroy(new Error(`malformed reply: ${reason}`)),
    });
    socket.once(tls === null ? 'connect' : 'secureConnect', () => {
      clearTimeout(timer);
      socket.setKeepAlive(true);
      socket.setNoDelay(true);
      this.connected = true;
      this.failures = 0;
      this.retryAt = 0;
      if (this.options.secret !== null) this.authenticate(socket, this.options.secret);
      this.scheduleFlush();
    });
    socket.on('data', (chunk: Buffer) => parser.feed(chunk));
    socket.on('error', (error: Error) => {
      lastError = error;
    });
    socket.once('close', () => {
      clearTimeout(timer);
      if (this.socket !== socket) return;
      const wasConnected = this.connected;
      this.socket = null;
      this.connected = false;
      if (!wasConnected) {
        this.failures += 1;
        const wait = Math.min(this.options.backoffMs * 2 ** (this.failures - 1), this.options.maxBackoffMs);
        this.retryAt = Date.now() + wait;
      }
      const reason = wasConnected ? 'connection lost' : 'cannot connect';
      this.dropAll(lastError === null ? reason : `${reason}: ${lastError.message}`, lastError);
    });
  }

  /** Puts `auth` ahead of everything queued: it is the first command the server reads on this socket. */
  private authenticate(socket: Socket, secret: string): void {
    this.pending.splice(this.head, 0, {
      kind: 'ok',
      resolve: () => undefined,
      reject: (error) => this.refused(socket, error),
    });
    this.outgoing.unshift(Buffer.from(`auth ${secret}\r\n`, 'latin1'));
  }

  private refused(socket: Socket, error: WorkqError): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.connected = false;
    this.failures += 1;
    this.retryAt = Date.now() + Math.min(this.options.backoffMs * 2 ** (this.failures - 1), this.options.maxBackoffMs);
    socket.destroy();
    this.dropAll(`authentication refused: ${error.message}`, error);
  }

  private settle(value: ReplyValue | WorkqError): void {
    const call = this.pending[this.head];
    if (call === undefined) return;
    this.pending[this.head] = undefined as unknown as Pending;
    this.head += 1;
    if (this.head === this.pending.length) {
      this.pending = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
    if (value instanceof WorkqError) call.reject(value);
    else call.resolve(value);
    if (this.inFlight === 0) this.finishDrain();
  }

  private finishDrain(): void {
    const drained = this.drained;
    this.drained = null;
    if (drained !== null) drained();
  }

  private dropAll(message: string, cause?: Error | null): void {
    const calls = this.pending.slice(this.head);
    this.pending = [];
    this.head = 0;
    this.outgoing = [];
    for (const call of calls) call.reject(new ConnectionError(this.address, message, { cause: cause ?? undefined }));
    this.finishDrain();
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(this.flush);
  }

  private readonly flush = (): void => {
    this.flushQueued = false;
    const socket = this.socket;
    if (socket === null || !this.connected || this.outgoing.length === 0) return;
    const data = this.outgoing.length === 1 ? (this.outgoing[0] as Buffer) : Buffer.concat(this.outgoing);
    this.outgoing = [];
    socket.write(data);
  };
}
