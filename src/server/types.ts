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

/** Shared secrets (docs/protocol.md 12.5); none means no authentication, as the original. */
export interface AuthSettings {
  /** Any one of them authenticates; more than one lets a secret be rotated without downtime. */
  secrets: string[];
  /** Listening beyond loopback without a secret is refused unless this says it is intended. */
  allowUnauthenticated: boolean;
}

/** A TLS listener: certificate and key files in PEM, read at start and on reload. */
export interface TlsSettings {
  cert: string;
  key: string;
  /** TLS on this port alongside plain TCP on `port`; null: `port` speaks TLS only. */
  port: number | null;
}

/** Per-instance connection limits (docs/operations.md, Limits). */
export interface LimitSettings {
  /** Past this many open connections a new one gets `-SERVER-ERROR Too many clients` and is closed. */
  maxClients: number;
  /** A connection with nothing in flight for this long is closed; 0 never. */
  idleTimeoutMs: number;
  /** listen(2) backlog; Linux caps it at net.core.somaxconn. */
  backlog: number;
  /** Bytes jobs may hold before add, schedule and run get `-SERVER-ERROR Memory budget exhausted`; 0: no budget. */
  maxJobMemoryBytes: number;
  /** Reply bytes all connections together may hold before those holding some stop until the client reads them; 0: no server-wide bound. */
  maxReplyBufferBytes: number;
  /** Distinct queues; past it a command that would create one gets `-SERVER-ERROR Too many queues`. */
  maxQueues: number;
  /** With a secret: a connection not authenticated this long after it was accepted gets `-SERVER-ERROR Authentication timeout` and is closed; 0 never. */
  authTimeoutMs: number;
  /** A TLS handshake not done this long after the connection was accepted is dropped. */
  tlsHandshakeTimeoutMs: number;
}

/** Where one standalone server listens and logs: the original's flags, resolved. */
export interface ListenSettings {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  cmdlog: CmdlogSettings;
  /** Absent: no secret. */
  auth?: AuthSettings;
  /** Absent or null: plain TCP only. */
  tls?: TlsSettings | null;
  /** Absent: the defaults of src/server/limits.ts. */
  limits?: LimitSettings;
}

/**
 * Connections accepted by someone else: the supervisor's primary holds an instance's
 * listening sockets across restarts and hands each accepted socket to the server (a TLS
 * one raw: the server runs the handshake).
 */
export interface SocketSource {
  /** Has the socket listen (or finds it listening); rejects with the listen error (code EADDRINUSE, …). */
  open(): Promise<{ host: string; port: number }>;
  /** From now on, until `detach`, each accepted socket goes to `onSocket`. */
  attach(onSocket: (socket: Socket) => void): void;
  detach(): void;
}

/** Where a server takes each of its listeners' connections from instead of listening itself. */
export interface SocketSources {
  /** For the plain TCP port. */
  plain?: SocketSource;
  /** For the TLS port (or `port` when TLS replaces plain TCP). */
  tls?: SocketSource;
}

export interface ServerOptions extends ListenSettings {
  /** Take connections from here instead of listening on host and port (and the TLS port). */
  sockets?: SocketSources;
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
  /** The TLS listener's port, or null without one (when TLS replaces plain TCP, equal to port). */
  tlsPort: number | null;
  jobs: number;
  connections: number;
  readOnly: boolean;
  startedAt: number;
}

/** A running standalone server (src/server/server.ts `startServer(options)`). */
export interface WorkqServer {
  readonly host: string;
  /** The plain TCP port, or the TLS port when TLS replaces plain TCP. */
  readonly port: number;
  /** The TLS listener's port, or null without one. */
  readonly tlsPort: number | null;
  /** Reads the certificate and key files again; new connections use them, open ones keep theirs. */
  reloadTls(): Promise<void>;
  /**
   * The command log's cleaner rewrites and deletes no segment until resumeCleaning, while
   * the next server pre-reads the log (a hot restart, docs/command-log.md 10.5); resolves
   * once a pass in progress ended.
   */
  pauseCleaning(): Promise<void>;
  resumeCleaning(): void;
  status(): ServerStatus;
  readonly stats: ServerStats;
  /**
   * Graceful and idempotent (the same promise every time): stop accepting, let the
   * commands in flight finish, close connections, flush and fsync the log, release its
   * lock.
   */
  stop(): Promise<void>;
}
