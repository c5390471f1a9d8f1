import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { LogFileSystem, SyncPolicy } from '../cmdlog/types.js';
import type { RetryDelay } from '../jobs/retry-delay.js';
import type { Clock } from '../jobs/types.js';
import type { ServerStats } from './stats.js';

export type { SyncPolicy };

/** Command-log settings; path null keeps everything in memory only. */
export interface CmdlogSettings {
  path: string | null;
  sync: SyncPolicy;
  syncIntervalMs: number;
  segmentSize: number;
  cleanIntervalMs: number;
}

/** Where one standalone server listens and logs: the original's flags, resolved. */
export interface ListenSettings {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  cmdlog: CmdlogSettings;
}

/**
 * Connections accepted by someone else: the supervisor's primary holds an instance's
 * listening socket across restarts and hands each accepted socket to the server.
 */
export interface SocketSource {
  /** Has the socket listen (or finds it listening); rejects with the listen error (code EADDRINUSE, …). */
  open(): Promise<{ host: string; port: number }>;
  /** From now on, until `detach`, each accepted socket goes to `onSocket`. */
  attach(onSocket: (socket: Socket) => void): void;
  detach(): void;
}

export interface ServerOptions extends ListenSettings {
  /** Take connections from here instead of listening on host and port. */
  sockets?: SocketSource;
  logger: Logger;
  /** Retry delay of jobs without their own (docs/protocol-extensions.md); none when absent. */
  retryDelay?: RetryDelay;
  clock?: Clock;
  /** The command log's file layer; tests inject faults (ENOSPC, EIO, short writes) through it. */
  cmdlogFs?: LogFileSystem;
  /** Counters for the metrics; pass one to read them during start-up too. */
  stats?: ServerStats;
}

export interface ServerStatus {
  host: string;
  port: number;
  jobs: number;
  connections: number;
  readOnly: boolean;
  startedAt: number;
}

/** A running standalone server (src/server/server.ts `startServer(options)`). */
export interface WorkqServer {
  readonly host: string;
  readonly port: number;
  status(): ServerStatus;
  readonly stats: ServerStats;
  /**
   * Graceful and idempotent (the same promise every time): stop accepting, let the
   * commands in flight finish, close connections, flush and fsync the log, release its
   * lock.
   */
  stop(): Promise<void>;
}
