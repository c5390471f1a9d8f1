/** Records and options of the public client API. Durations are milliseconds. */
import type { JobStateName } from '../protocol/vocabulary.js';
import type { TlsOptions } from './connection.js';

export type { JobStateName, TlsOptions };

/** What callers may pass as a payload or result; strings are sent as UTF-8. */
export type Payload = Buffer | string;

/** The lists `inspectJobsByState` reads: the ready and scheduled lists, and an index per state (extension). */
export type ListedState = 'ready' | 'scheduled' | 'leased' | 'completed' | 'failed';

/** A job handed out by `lease`. */
export interface LeasedJob {
  readonly id: string;
  readonly name: string;
  readonly ttrMs: number;
  readonly payload: Buffer;
  /** The `host:port` it was leased from; complete and fail go back there. */
  readonly server: string;
}

/** The outcome of a finished job, as `run` and `result` report it. */
export interface JobResult {
  readonly id: string;
  /** True when completed, false when failed. */
  readonly success: boolean;
  readonly result: Buffer;
}

/** One job as `inspect job`, `inspect jobs` and `inspect scheduled-jobs` show it. */
export interface JobInfo {
  readonly id: string;
  readonly name: string;
  readonly ttrMs: number;
  /** 0 for the job of a `run`. */
  readonly ttlMs: number;
  readonly payload: Buffer;
  readonly maxAttempts: number;
  readonly attempts: number;
  readonly maxFails: number;
  readonly fails: number;
  readonly priority: number;
  readonly state: JobStateName;
  /** Whole seconds, UTC. */
  readonly created: Date;
  /** The scheduled time (whole seconds) for scheduled jobs, else null. */
  readonly time: Date | null;
  /** While the job waits out its retry delay, when it becomes ready (ms); else null. */
  readonly retryAt: Date | null;
  readonly server: string;
}

export interface QueueInfo {
  readonly name: string;
  readonly readyLen: number;
  readonly scheduledLen: number;
  /** Leases take nothing from the queue (`pause`); over several servers, true when any has it paused. */
  readonly paused: boolean;
}

export interface ServerInfo {
  readonly server: string;
  readonly activeClients: number;
  readonly evictedJobs: number;
  readonly started: Date;
  /** Every key the server sent, including ones this client does not know yet. */
  readonly keys: Readonly<Record<string, string>>;
}

export interface AddOptions {
  /** A UUIDv4; one is generated when absent. */
  id?: string;
  /** Time to run once leased; default 60000. */
  ttrMs?: number;
  /** Time to live from now (add) or from the scheduled time (schedule); default 86400000. */
  ttlMs?: number;
  priority?: number;
  maxAttempts?: number;
  maxFails?: number;
  /**
   * Wait before a retry after a lease (a fail under maxFails, a TTR timeout); default
   * the server's. With `retryMaxDelayMs` above 0 it doubles per retry up to that cap;
   * `retryJitterPercent` (0-100) shortens each by a random share.
   */
  retryDelayMs?: number;
  retryMaxDelayMs?: number;
  retryJitterPercent?: number;
}

export interface RunOptions {
  id?: string;
  /** Default 60000. */
  ttrMs?: number;
  /** How long to wait for a worker to finish the job; default 60000. */
  timeoutMs?: number;
  priority?: number;
}

export interface TouchOptions extends ServerOption {
  /** The lease's new length from now; default the job's own TTR. */
  ttrMs?: number;
}

/** Picks one server of the client's list, for calls that are per server. */
export interface ServerOption {
  server?: string;
}

export interface PageOptions extends ServerOption {
  /** Default 0. */
  offset?: number;
  /** 1 to 100, default 100. */
  limit?: number;
}

export interface ClientOptions {
  /** `host:port` addresses (`host` alone means port 9922). */
  servers: readonly string[];
  /**
   * Each waiting lease, run or result gets a connection of its own; this many of them
   * per server stay open for reuse once idle. Default 4.
   */
  idleBlockingConnections?: number;
  /** Default 5000. */
  connectTimeoutMs?: number;
  /** First reconnect delay after a failed attempt, doubled up to `maxBackoffMs`; default 50. */
  backoffMs?: number;
  /** Default 2000. */
  maxBackoffMs?: number;
  /** The server's shared secret, sent with `auth` on every connection (docs/protocol.md 12.5). */
  secret?: string;
  /** Connect with TLS: true for the system's CAs, or node:tls options (ca, servername, rejectUnauthorized). */
  tls?: boolean | TlsOptions;
}
