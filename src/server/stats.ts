import { LogStats } from '../cmdlog/index.js';
import type { Engine } from '../jobs/engine.js';
import { ReplyBudget } from './reply-budget.js';
import { COMMANDS } from '../protocol/commands.js';
import type { CommandSpec } from '../protocol/types.js';
import { BucketCounts, SECONDS_BUCKETS } from '../stats/bucket-counts.js';
import type { SyncPolicy } from './types.js';

/** How a command was answered, as counted: an index into CommandCounts. */
export const Outcome = { Ok: 0, Timeout: 1, NotFound: 2, ClientError: 3, ReadOnly: 4, Refused: 5 } as const;
/** `refused`: a limit of the instance said no (the memory budget, the number of queues). */
export const OUTCOME_NAMES: readonly string[] = ['ok', 'timeout', 'not_found', 'client_error', 'read_only', 'refused'];

/** The row of CommandCounts for input that framed no command (an unknown name, a bad line). */
export const NO_COMMAND = COMMANDS.length;
export const COMMAND_NAMES: readonly string[] = [...COMMANDS.map((spec) => spec.name), 'none'];

export function commandIndex(spec: CommandSpec): number {
  return spec.index;
}

/** Replies by command and outcome: one number per pair, incremented in place. */
export class CommandCounts {
  readonly counts = new Float64Array(COMMAND_NAMES.length * OUTCOME_NAMES.length);

  count(command: number, outcome: number): void {
    this.counts[command * OUTCOME_NAMES.length + outcome]! += 1;
  }

  get(command: number, outcome: number): number {
    return this.counts[command * OUTCOME_NAMES.length + outcome]!;
  }
}

/** The parts of the command log the metrics read. */
export interface LogView {
  readonly readOnly: boolean;
  readonly segmentCount: number;
}

/**
 * Everything one server counts for its metrics, as plain fields the server, its
 * connections, its engine and its log update in place. The caller may create it before
 * the server starts, so that a scrape during replay sees the replay's progress.
 */
export class ServerStats {
  readonly log = new LogStats();
  readonly commands = new CommandCounts();
  /** Leases that got a job after waiting for one. */
  readonly leaseWaitSeconds = new BucketCounts(SECONDS_BUCKETS);
  connectionsAccepted = 0;
  connectionsOpen = 0;
  /** Connections turned away past limits.maxClients (never counted as accepted). */
  connectionsRefused = 0;
  /** Connections closed by limits.idleTimeoutMs. */
  idleTimeouts = 0;
  /** `auth` commands whose secret the instance does not hold. */
  authInvalidSecret = 0;
  /** Commands refused because their connection had not authenticated yet. */
  authRequired = 0;
  /** Connections closed by limits.authTimeoutMs before they authenticated. */
  authTimeouts = 0;
  /** TLS handshakes dropped at limits.tlsHandshakeTimeoutMs. */
  tlsHandshakeTimeouts = 0;
  /** Reply bytes held by the connections (limits.maxReplyBufferBytes); the server sets its own at start. */
  replies = new ReplyBudget(0);
  /** Set as soon as the server has its engine (before replay). */
  engine: Engine | null = null;
  /** Null when the server keeps everything in memory only. */
  commandLog: LogView | null = null;
  sync: SyncPolicy | 'none' = 'none';
  /** Wall-clock ms since which the server listens; null while it starts. */
  listeningSince: number | null = null;
}
