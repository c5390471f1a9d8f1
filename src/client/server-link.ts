import { Connection, type ConnectionOptions } from './connection.js';
import { ConnectionError } from './errors.js';
import type { ReplyKind, ReplyValue } from './reply-parser.js';

/**
 * Everything a client holds for one server: one pipelined connection for the commands
 * that answer at once, and a small pool of connections for lease, run and result. A
 * blocking command holds up every later command of its connection (PROTOCOL.md 1), so
 * each of those connections carries one blocking call at a time; when all are busy,
 * further blocking calls queue here.
 */
export class ServerLink {
  private readonly main: Connection;
  private readonly idle: Connection[] = [];
  private readonly all: Connection[] = [];
  private readonly waiters: Array<(connection: Connection | null) => void> = [];
  private closed = false;

  constructor(
    readonly address: string,
    private readonly options: ConnectionOptions,
    private readonly poolSize: number,
  ) {
    this.main = new Connection(address, options);
  }

  call(kind: ReplyKind, pieces: readonly Buffer[]): Promise<ReplyValue> {
    return this.main.call(kind, pieces);
  }

  async callBlocking(kind: ReplyKind, pieces: readonly Buffer[]): Promise<ReplyValue> {
    const connection = await this.acquire();
    if (connection === null) throw new ConnectionError(this.address, 'client closed');
    try {
      return await connection.call(kind, pieces);
    } finally {
      this.release(connection);
    }
  }

  /** Lets pipelined calls finish; blocking calls in flight reject with ConnectionError. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter(null);
    for (const connection of this.all) connection.destroy();
    await this.main.close();
  }

  private acquire(): Promise<Connection | null> {
    if (this.closed) return Promise.resolve(null);
    const ready = this.idle.pop();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.all.length < this.poolSize) {
      const connection = new Connection(this.address, this.options);
      this.all.push(connection);
      return Promise.resolve(connection);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(connection: Connection): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter(connection);
    else this.idle.push(connection);
  }
}
