import convict from 'convict';
import { LOG_LEVELS, SYNC_POLICIES, registerFormats } from './formats.js';
import { assertInstances, type InstanceEntry } from './instances.js';
import { DEFAULT_JOB_MEMORY_BYTES } from '../server/heap-limit.js';

/** The configuration as convict holds it, before instances inherit the shared settings. */
export interface RawConfig {
  host: string;
  log: { level: (typeof LOG_LEVELS)[number] };
  cmdlog: {
    sync: (typeof SYNC_POLICIES)[number];
    syncIntervalMs: number;
    segmentSize: number;
    cleanIntervalMs: number;
  };
  auth: { secrets: string[]; allowUnauthenticated: boolean };
  tls: { cert: string; key: string; port: number | null };
  limits: {
    maxClients: number;
    idleTimeoutMs: number;
    backlog: number;
    maxJobMemoryBytes: number;
    maxReplyBufferBytes: number;
    maxQueues: number;
    authTimeoutMs: number;
    tlsHandshakeTimeoutMs: number;
  };
  retry: { delayMs: number; maxDelayMs: number; jitterPercent: number };
  instances: InstanceEntry[];
  supervisor: {
    controlSocket: string;
    maxRestarts: number;
    restartWindowMs: number;
    stopTimeoutMs: number;
    readyTimeoutMs: number;
    pingIntervalMs: number;
    unresponsiveAfterMs: number;
    replaceUnresponsiveAfterMs: number;
    failedRetryMs: number;
  };
  admin: {
    enabled: boolean;
    host: string;
    port: number;
    maxQueues: number;
  };
}

export const DEFAULT_SEGMENT_SIZE = 64 * 1024 * 1024;

registerFormats(assertInstances);

/**
 * The one schema of Workq's configuration. Shared keys are the defaults every instance
 * inherits; an instance overrides any of them for itself.
 */
export const schema: convict.Schema<RawConfig> = {
  host: {
    doc: 'Address the servers listen on, unless an instance sets its own host.',
    format: 'workq-host',
    default: '127.0.0.1',
    env: 'WORKQ_HOST',
  },
  log: {
    level: {
      doc: 'Level of the JSON log lines written to stdout.',
      format: [...LOG_LEVELS],
      default: 'info',
      env: 'WORKQ_LOG_LEVEL',
      arg: 'log-level',
    },
  },
  cmdlog: {
    sync: {
      doc: 'When the command log is fsynced: interval (every syncIntervalMs), always (before each reply), os (never; the OS decides).',
      format: [...SYNC_POLICIES],
      default: 'interval',
      env: 'WORKQ_CMDLOG_SYNC',
    },
    syncIntervalMs: {
      doc: 'Milliseconds between fsyncs with sync "interval" (must be > 0 then); ignored by "os" and "always".',
      format: 'workq-ms',
      default: 1000,
      env: 'WORKQ_CMDLOG_SYNC_INTERVAL_MS',
    },
    segmentSize: {
      doc: 'Bytes after which the active segment is closed and a new one started; 0 means the default (64 MiB).',
      format: 'workq-bytes',
      default: DEFAULT_SEGMENT_SIZE,
      env: 'WORKQ_CMDLOG_SEGMENT_SIZE',
    },
    cleanIntervalMs: {
      doc: 'Milliseconds between cleaning passes over the closed segments (must be > 0).',
      format: 'workq-ms',
      default: 300_000,
      env: 'WORKQ_CMDLOG_CLEAN_INTERVAL_MS',
    },
  },
  auth: {
    secrets: {
      doc: 'Shared secrets: when any is set, a connection must send `auth <secret>` with one of them before any other command. Several allow rotation. Never a command-line flag; the environment variable is a comma-separated list.',
      format: 'workq-secrets',
      default: [],
      env: 'WORKQ_AUTH_SECRETS',
      sensitive: true,
    },
    allowUnauthenticated: {
      doc: 'Listening beyond loopback without a secret is refused unless this is true (an open port is intended: a trusted network, a firewall in front).',
      format: Boolean,
      default: false,
      env: 'WORKQ_ALLOW_UNAUTHENTICATED',
    },
  },
  tls: {
    cert: {
      doc: 'PEM certificate (chain) file of the TLS listener; empty for no TLS. Read at start and again on SIGHUP (standalone) or hot restart (supervisor).',
      format: 'workq-file',
      default: '',
      env: 'WORKQ_TLS_CERT',
    },
    key: {
      doc: 'PEM private key file of the TLS listener; required with tls.cert.',
      format: 'workq-file',
      default: '',
      env: 'WORKQ_TLS_KEY',
    },
    port: {
      doc: "Port of the TLS listener, alongside plain TCP on the instance's port; null: the instance's port speaks TLS only.",
      format: 'workq-port-or-null',
      default: null,
      env: 'WORKQ_TLS_PORT',
    },
  },
  limits: {
    maxClients: {
      doc: 'Most open connections per instance; past it a new connection gets `-SERVER-ERROR Too many clients` and is closed.',
      format: 'workq-count',
      default: 10_000,
      env: 'WORKQ_MAX_CLIENTS',
    },
    idleTimeoutMs: {
      doc: 'A connection with nothing to do for this long (not waiting in lease, run or result) gets `-SERVER-ERROR Idle timeout` and is closed; 0 never.',
      format: 'workq-ms',
      default: 0,
      env: 'WORKQ_IDLE_TIMEOUT_MS',
    },
    backlog: {
      doc: 'listen(2) backlog of pending connections; Linux caps it at net.core.somaxconn.',
      format: 'workq-count',
      default: 4096,
      env: 'WORKQ_LISTEN_BACKLOG',
    },
    maxJobMemoryBytes: {
      doc: "Bytes the jobs of an instance may hold (payloads, results and about 320 bytes per job); past it add, schedule and run get `-SERVER-ERROR Memory budget exhausted` while lease, complete, fail and delete still work. The supervisor gives each server a V8 heap of twice this plus 256 MiB so that its log always replays. 0: no budget (and Node's default heap).",
      format: 'workq-bytes',
      default: DEFAULT_JOB_MEMORY_BYTES,
      env: 'WORKQ_MAX_JOB_MEMORY_BYTES',
    },
    maxReplyBufferBytes: {
      doc: 'Reply bytes all the connections of an instance may hold (built and not yet taken by their clients); at it, a connection that holds replies is neither read nor served until its client has taken them all, while connections that read their replies go on. 0: no bound for the instance (each connection keeps its own 4 MiB).',
      format: 'workq-bytes',
      default: 64 * 1024 * 1024,
      env: 'WORKQ_MAX_REPLY_BUFFER_BYTES',
    },
    maxQueues: {
      doc: 'Distinct queues per instance; at it, add, schedule, run and pause on a new name get `-SERVER-ERROR Too many queues` unless an empty queue (no job, no waiting lease, not paused) can make room, while everything on existing queues still works.',
      format: 'workq-count',
      default: 100_000,
      env: 'WORKQ_MAX_QUEUES',
    },
    authTimeoutMs: {
      doc: 'With a secret: a connection that has not authenticated this long after it was accepted gets `-SERVER-ERROR Authentication timeout` and is closed; 0 never.',
      format: 'workq-ms',
      default: 10_000,
      env: 'WORKQ_AUTH_TIMEOUT_MS',
    },
    tlsHandshakeTimeoutMs: {
      doc: 'A TLS handshake not done this long after the connection was accepted is dropped (> 0): a socket that never completes one holds nothing for long.',
      format: 'workq-count',
      default: 10_000,
      env: 'WORKQ_TLS_HANDSHAKE_TIMEOUT_MS',
    },
  },
  retry: {
    delayMs: {
      doc: 'Retry delay of jobs added without -retry-delay: how long a job retried after its lease (a fail under max-fails, a TTR timeout) waits before it is ready again; 0: no delay (docs/protocol-extensions.md).',
      format: 'workq-retry-ms',
      default: 0,
      env: 'WORKQ_RETRY_DELAY_MS',
    },
    maxDelayMs: {
      doc: 'Above 0: the default retry delay doubles per retry up to this many ms; 0: it stays delayMs.',
      format: 'workq-retry-ms',
      default: 0,
      env: 'WORKQ_RETRY_MAX_DELAY_MS',
    },
    jitterPercent: {
      doc: 'Each default retry delay is shortened by a random share of up to this percentage (0-100).',
      format: 'workq-percent',
      default: 0,
      env: 'WORKQ_RETRY_JITTER_PERCENT',
    },
  },
  instances: {
    doc: 'The servers to run: [{ name, host, port, cmdlog: { path, sync, syncIntervalMs, segmentSize, cleanIntervalMs }, auth: { secrets, allowUnauthenticated }, tls: { cert, key, port }, limits: { maxClients, idleTimeoutMs, backlog, maxJobMemoryBytes, maxReplyBufferBytes, maxQueues, authTimeoutMs, tlsHandshakeTimeoutMs } }]; only port is required, the rest inherits the shared settings. cmdlog.path null keeps an instance in memory only. The environment variable holds the array as JSON.',
    format: 'workq-instances',
    default: [],
    env: 'WORKQ_INSTANCES',
  },
  supervisor: {
    controlSocket: {
      doc: "Absolute path of the unix socket of the supervisor's status service; empty means <temp directory>/workq-<uid>/control.sock. Give each supervisor of one user on one host its own.",
      format: 'workq-socket-path',
      default: '',
      env: 'WORKQ_CONTROL_SOCKET',
    },
    maxRestarts: {
      doc: 'A server that exits unexpectedly more than this many times within restartWindowMs is left down and reported.',
      format: 'nat',
      default: 5,
      env: 'WORKQ_MAX_RESTARTS',
    },
    restartWindowMs: {
      doc: 'Window in which unexpected exits are counted against maxRestarts.',
      format: 'workq-ms',
      default: 60_000,
      env: 'WORKQ_RESTART_WINDOW_MS',
    },
    stopTimeoutMs: {
      doc: 'How long a stopping server may take to flush and exit before it is killed.',
      format: 'workq-ms',
      default: 10_000,
      env: 'WORKQ_STOP_TIMEOUT_MS',
    },
    readyTimeoutMs: {
      doc: 'How long a starting server may take to replay its log and listen before it counts as failed.',
      format: 'workq-ms',
      default: 120_000,
      env: 'WORKQ_READY_TIMEOUT_MS',
    },
    pingIntervalMs: {
      doc: 'How often the supervisor pings each serving server over IPC to see that its event loop still turns (> 0).',
      format: 'workq-ms',
      default: 1000,
      env: 'WORKQ_PING_INTERVAL_MS',
    },
    unresponsiveAfterMs: {
      doc: 'A server that has not answered a ping for this long is shown as unresponsive (> 0).',
      format: 'workq-ms',
      default: 3000,
      env: 'WORKQ_UNRESPONSIVE_AFTER_MS',
    },
    replaceUnresponsiveAfterMs: {
      doc: 'A server that has not answered a ping for this long is killed (SIGKILL) and restarted; at least unresponsiveAfterMs.',
      format: 'workq-ms',
      default: 20_000,
      env: 'WORKQ_REPLACE_UNRESPONSIVE_AFTER_MS',
    },
    failedRetryMs: {
      doc: 'An instance left down (crash loop, port in use) is tried again after this long; 0 waits for a hot restart (SIGHUP).',
      format: 'workq-ms',
      default: 60_000,
      env: 'WORKQ_FAILED_RETRY_MS',
    },
  },
  admin: {
    enabled: {
      doc: 'Whether the supervisor serves /metrics, /healthz, /readyz, /status and the status page over HTTP.',
      format: Boolean,
      default: true,
      env: 'WORKQ_ADMIN_ENABLED',
    },
    host: {
      doc: 'Address of the admin HTTP listener; keep it on loopback or a private network (it has no authentication).',
      format: 'workq-host',
      default: '127.0.0.1',
      env: 'WORKQ_ADMIN_HOST',
    },
    port: {
      doc: 'Port of the admin HTTP listener; 0 picks a free one (the "admin listening" log line tells which).',
      format: 'port',
      default: 9920,
      env: 'WORKQ_ADMIN_PORT',
    },
    maxQueues: {
      doc: 'Queues per instance that get a queue label of their own in the metrics (those with the most ready and scheduled jobs); the others are summed under queue="*other*".',
      format: 'nat',
      default: 100,
      env: 'WORKQ_ADMIN_MAX_QUEUES',
    },
  },
};
