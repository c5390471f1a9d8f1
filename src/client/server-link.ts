import { Connection, type ConnectionOptions } from './connection.js';
import { ConnectionError } from './errors.js';
import type { ReplyKind, ReplyValue } from './reply-parser.js';

/**
 * Everything a client holds for one server: one pipelined connection for the commands
 * that answer at once, and connections for lease, run and result. A waiting command
 * holds up every later command of its connection (docs/protocol.md 1), so each waiting call
 * gets a connection of its own; they never queue behind each other, which would let a
 * crowd of result waits starve a worker's leases. Up to `keepIdle` of them stay open
 * for reuse once their call is done.
 */
export class ServerLink {
  private readonly main: Connection;
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private closed = false;

  constructor(
    readonly address: string,
    private readonly options: ConnectionOptions,
    private readonly keepIdle: number,
  ) {
    this.main = new Connection(address, options);
  }

  call(kind: ReplyKind, pieces: readonly Buffer[]): Promise<ReplyValue> {
    return this.main.call(kind, pieces);
  }

  async callBlocking(kind: ReplyKind, pieces: readonly Buffer[]): Promise<ReplyValue> {
    if (this.closed) throw new ConnectionError(this.address, 'client closed');
    const connection = this.idle.pop() ?? this.open();
    try {
      return await connection.call(kind, pieces);
    } finally {
      this.release(connection);
    }
  }

  /** Lets pipelined calls finish; waiting calls in flight reject with ConnectionError. */
  async close(): Promise<void> {
    this.closed = true;
    for (const connection of this.all) connection.destroy();
    await this.main.close();
  }

  private open(): Connection {
    const connection = new Connection(this.address, this.options);
    this.all.add(connection);
    return connection;
  }

  private release(connection: Connection): void {
    if (!this.closed && this.idle.length < this.keepIdle) {
      this.idle.push(connection);
      return;
    }
    this.all.delete(connection);
    connection.destroy();
  }
}
