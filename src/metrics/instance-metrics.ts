import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { COMMAND_NAMES, OUTCOME_NAMES, type ServerStats } from '../server/stats.js';
import { tallyQueues, type QueueTallies, type QueueTally } from './queue-tallies.js';
import { registerBucketHistogram } from './histogram.js';
import { one, registerReadings, type Reading } from './readings.js';

export interface InstanceMetricsOptions {
  /** The instance label of every value. */
  instance: string;
  /** Queues that get a queue label of their own (the largest backlogs); the rest are summed under '*other*'. */
  maxQueues: number;
  /** Wall clock in ms, for the age of the oldest ready job. */
  now?: () => number;
  /** Monotonic clock in ms that times the passes over the queues, to decide whether to reuse one. */
  monotonicNow?: () => number;
}

const STATES = ['ready', 'scheduled', 'leased', 'completed', 'failed'] as const;

/**
 * Tallies whose pass took more than TALLY_FRESH_MS are reused until TALLY_REUSE_FACTOR
 * times its work has passed, which holds the passes to about 1% of a core however often
 * Prometheus scrapes. A pass costs per queue, not per job, so only a server holding
 * hundreds of thousands of queues ever reuses one; others count afresh at every scrape.
 */
const TALLY_FRESH_MS = 5;
const TALLY_REUSE_FACTOR = 100;

/** Whether tallies whose pass took `workMs` are still good `ageMs` after it ended. */
export function talliesReusable(workMs: number, ageMs: number): boolean {
  return workMs > TALLY_FRESH_MS && ageMs < workMs * TALLY_REUSE_FACTOR;
}

function tallies(taken: QueueTallies): QueueTally[] {
  return taken.other === null ? taken.queues : [...taken.queues, taken.other];
}

function stateCount(tally: QueueTally, state: (typeof STATES)[number]): number {
  return tally[state];
}

/**
 * The registry of one server's metrics: every value read from its ServerStats (and, for
 * jobs by queue, from a pass over its engine's queues) when a scrape asks. A scrape that
 * arrives while another runs shares its pass.
 */
export function instanceRegistry(stats: ServerStats, options: InstanceMetricsOptions): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ instance: options.instance });
  const now = options.now ?? Date.now;
  const monotonicNow = options.monotonicNow ?? (() => performance.now());
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();

  let pass: Promise<QueueTallies | null> | null = null;
  let last: { tallies: QueueTallies; at: number } | null = null;
  const takeOnce = (): Promise<QueueTallies | null> => {
    if (last !== null && talliesReusable(last.tallies.workMs, monotonicNow() - last.at)) return Promise.resolve(last.tallies);
    const engine = stats.engine;
    pass ??= (engine === null ? Promise.resolve(null) : tallyQueues(engine, options.maxQueues, monotonicNow))
      .then((taken) => {
        last = taken === null ? null : { tallies: taken, at: monotonicNow() };
        return taken;
      })
      .finally(() => (pass = null));
    return pass;
  };
  const byQueue = (value: (tally: QueueTally) => number | null) => async (): Promise<Reading[]> => {
    const taken = await takeOnce();
    if (taken === null) return [];
    const out: Reading[] = [];
    for (const tally of tallies(taken)) {
      const v = value(tally);
      if (v !== null) out.push({ labels: { queue: tally.name }, value: v });
    }
    return out;
  };
  const engine = <T>(read: (e: NonNullable<ServerStats['engine']>) => T, none: T): T => (stats.engine === null ? none : read(stats.engine));

  registerReadings(registry, {
    name: 'workq_jobs',
    help: `Jobs held, by queue and state. Only the ${options.maxQueues} queues with the most ready and scheduled jobs have a queue label of their own; the others are summed under queue="*other*".`,
    type: 'gauge',
    read: async () => {
      const taken = await takeOnce();
      if (taken === null) return [];
      const out: Reading[] = [];
      for (const tally of tallies(taken)) {
        for (const state of STATES) out.push({ labels: { queue: tally.name, state }, value: stateCount(tally, state) });
      }
      return out;
    },
  });
  registerReadings(registry, {
    name: 'workq_queue_oldest_ready_age_seconds',
    help: 'How long the job that has been ready the longest has waited to be leased, by queue (no value when the queue has no ready job).',
    type: 'gauge',
    read: byQueue((tally) => (tally.oldestReadySince === Infinity ? null : Math.max(0, now() - tally.oldestReadySince) / 1000)),
  });
  registerReadings(registry, {
    name: 'workq_queue_jobs_added_total',
    help: 'Jobs created by add, schedule and run since the start, by queue (queue label guarded as for workq_jobs).',
    type: 'counter',
    read: byQueue((tally) => tally.added),
  });
  registerReadings(registry, {
    name: 'workq_queue_jobs_completed_total',
    help: 'Jobs completed since the start, by queue (queue label guarded as for workq_jobs).',
    type: 'counter',
    read: byQueue((tally) => tally.completedTotal),
  });
  registerReadings(registry, {
    name: 'workq_queues',
    help: 'Queues the server knows (each name ever used), however many have a label of their own.',
    type: 'gauge',
    read: () => one(engine((e) => e.queueList.length, 0)),
  });
  registerReadings(registry, {
    name: 'workq_queues_refused_total',
    help: 'add, schedule, run and pause refused with -SERVER-ERROR Too many queues (limits.maxQueues).',
    type: 'counter',
    read: () => one(engine((e) => e.counters.queuesRefused, 0)),
  });
  registerReadings(registry, {
    name: 'workq_queues_reclaimed_total',
    help: 'Empty queues freed to make room for a new name at limits.maxQueues.',
    type: 'counter',
    read: () => one(engine((e) => e.counters.queuesReclaimed, 0)),
  });

  const counters = (read: (c: NonNullable<ServerStats['engine']>['counters']) => number) => () => one(engine((e) => read(e.counters), 0));
  registerReadings(registry, {
    name: 'workq_jobs_added_total',
    help: 'Jobs created by add, schedule and run since the start.',
    type: 'counter',
    read: counters((c) => c.added),
  });
  registerReadings(registry, {
    name: 'workq_leases_total',
    help: 'Attempts started: jobs handed out to lease and run.',
    type: 'counter',
    read: counters((c) => c.leased),
  });
  registerReadings(registry, {
    name: 'workq_jobs_completed_total',
    help: 'Jobs completed since the start.',
    type: 'counter',
    read: counters((c) => c.completed),
  });
  registerReadings(registry, {
    name: 'workq_jobs_failed_total',
    help: 'Jobs failed for good since the start (by fail or at an attempt limit).',
    type: 'counter',
    read: counters((c) => c.failed),
  });
  registerReadings(registry, {
    name: 'workq_ttr_timeouts_total',
    help: 'Leases whose TTR ran out before complete or fail.',
    type: 'counter',
    read: counters((c) => c.ttrTimeouts),
  });
  registerReadings(registry, {
    name: 'workq_job_retries_total',
    help: 'Jobs put back to be leased again: after a fail while fails were left (limit="max-fails"), after a TTR timeout while attempts were left (limit="max-attempts").',
    type: 'counter',
    read: () =>
      engine(
        (e) => [
          { labels: { limit: 'max-fails' }, value: e.counters.retriesMaxFails },
          { labels: { limit: 'max-attempts' }, value: e.counters.retriesMaxAttempts },
        ],
        [],
      ),
  });
  registerReadings(registry, {
    name: 'workq_jobs_exhausted_total',
    help: 'Jobs failed for good because they reached a limit: max-fails (by fail) or max-attempts (by TTR timeout or at the next lease).',
    type: 'counter',
    read: () =>
      engine(
        (e) => [
          { labels: { limit: 'max-fails' }, value: e.counters.exhaustedMaxFails },
          { labels: { limit: 'max-attempts' }, value: e.counters.exhaustedMaxAttempts },
        ],
        [],
      ),
  });
  registerReadings(registry, {
    name: 'workq_ttl_evictions_total',
    help: 'Unfinished jobs removed because their TTL ended (inspect server evicted-jobs).',
    type: 'counter',
    read: () => one(engine((e) => e.evictedJobs, 0)),
  });

  registerReadings(registry, {
    name: 'workq_commands_total',
    help: 'Commands answered, by command and outcome (ok, timeout, not_found, client_error, read_only, refused); command="none" counts input that framed no command.',
    type: 'counter',
    read: () => {
      const out: Reading[] = [];
      COMMAND_NAMES.forEach((command, c) => {
        OUTCOME_NAMES.forEach((outcome, o) => {
          const value = stats.commands.get(c, o);
          if (value > 0) out.push({ labels: { command, outcome }, value });
        });
      });
      return out;
    },
  });
  registerBucketHistogram(registry, {
    name: 'workq_lease_wait_seconds',
    help: 'How long a lease that got a job waited for it (0 when one was ready).',
    counts: stats.leaseWaitSeconds,
  });

  registerReadings(registry, { name: 'workq_connections', help: 'Client connections open.', type: 'gauge', read: () => one(stats.connectionsOpen) });
  registerReadings(registry, {
    name: 'workq_connections_accepted_total',
    help: 'Client connections accepted since the start.',
    type: 'counter',
    read: () => one(stats.connectionsAccepted),
  });
  registerReadings(registry, {
    name: 'workq_connections_refused_total',
    help: 'Connections turned away with -SERVER-ERROR Too many clients (limits.maxClients).',
    type: 'counter',
    read: () => one(stats.connectionsRefused),
  });
  registerReadings(registry, {
    name: 'workq_idle_timeouts_total',
    help: 'Connections closed with -SERVER-ERROR Idle timeout (limits.idleTimeoutMs).',
    type: 'counter',
    read: () => one(stats.idleTimeouts),
  });
  registerReadings(registry, {
    name: 'workq_auth_timeouts_total',
    help: 'Connections closed with -SERVER-ERROR Authentication timeout (limits.authTimeoutMs) before they authenticated.',
    type: 'counter',
    read: () => one(stats.authTimeouts),
  });
  registerReadings(registry, {
    name: 'workq_tls_handshake_timeouts_total',
    help: 'TLS handshakes not done within limits.tlsHandshakeTimeoutMs, dropped.',
    type: 'counter',
    read: () => one(stats.tlsHandshakeTimeouts),
  });
  registerReadings(registry, {
    name: 'workq_reply_bytes_held',
    help: 'Reply bytes the connections hold: built and not yet taken by their clients (limits.maxReplyBufferBytes).',
    type: 'gauge',
    read: () => one(stats.replies.held),
  });
  registerReadings(registry, {
    name: 'workq_reply_bytes_limit',
    help: 'limits.maxReplyBufferBytes; 0: no bound for the instance.',
    type: 'gauge',
    read: () => one(stats.replies.limit),
  });
  registerReadings(registry, {
    name: 'workq_reply_waits_total',
    help: 'Times a connection stopped being read because the instance held limits.maxReplyBufferBytes of replies, or had no room under it for a listing the connection asked for.',
    type: 'counter',
    read: () => one(stats.replies.waits),
  });
  registerReadings(registry, {
    name: 'workq_auth_failures_total',
    help: 'Commands refused by authentication: reason="invalid_secret" for an auth whose secret is not held, "required" for any other command before a successful auth.',
    type: 'counter',
    read: () => [
      { labels: { reason: 'invalid_secret' }, value: stats.authInvalidSecret },
      { labels: { reason: 'required' }, value: stats.authRequired },
    ],
  });
  registerReadings(registry, {
    name: 'workq_job_memory_bytes',
    help: 'Bytes held by jobs as the memory budget counts them: payloads, results and a per-job overhead.',
    type: 'gauge',
    read: () => one(engine((e) => e.jobMemoryBytes, 0)),
  });
  registerReadings(registry, {
    name: 'workq_job_memory_budget_bytes',
    help: 'The memory budget of jobs (limits.maxJobMemoryBytes); 0: none.',
    type: 'gauge',
    read: () => one(engine((e) => e.jobMemoryBudget, 0)),
  });
  registerReadings(registry, {
    name: 'workq_memory_refused_total',
    help: 'add, schedule and run refused with -SERVER-ERROR Memory budget exhausted (limits.maxJobMemoryBytes).',
    type: 'counter',
    read: () => one(engine((e) => e.counters.memoryRefused, 0)),
  });
  registerReadings(registry, {
    name: 'workq_waiting_clients',
    help: 'Leases, results and runs waiting.',
    type: 'gauge',
    read: () => one(engine((e) => e.waiterCount, 0)),
  });

  const { log } = stats;
  registerReadings(registry, {
    name: 'workq_cmdlog_written_bytes_total',
    help: 'Bytes of records written to the command log since the start.',
    type: 'counter',
    read: () => one(log.bytesWritten),
  });
  registerReadings(registry, {
    name: 'workq_cmdlog_segments',
    help: 'Segment files of the command log (0 without a log).',
    type: 'gauge',
    read: () => one(stats.commandLog?.segmentCount ?? 0),
  });
  registerReadings(registry, {
    name: 'workq_cmdlog_cleaning_runs_total',
    help: 'Cleaning passes over the closed segments since the start.',
    type: 'counter',
    read: () => one(log.cleaningRuns),
  });
  registerBucketHistogram(registry, { name: 'workq_cmdlog_fsync_seconds', help: 'Duration of the command log fsyncs.', counts: log.fsyncSeconds });
  registerReadings(registry, {
    name: 'workq_read_only',
    help: '1 while the command log cannot be written and mutating commands are refused.',
    type: 'gauge',
    read: () => one(stats.commandLog?.readOnly === true ? 1 : 0),
  });
  registerReadings(registry, {
    name: 'workq_cmdlog_sync_info',
    help: 'The command log fsync policy (interval, always, os; none without a log), as a label of a constant 1.',
    type: 'gauge',
    read: () => [{ labels: { policy: stats.sync }, value: 1 }],
  });

  const { replay } = log;
  registerReadings(registry, {
    name: 'workq_replay_bytes',
    help: 'Size of the command log replayed at the start.',
    type: 'gauge',
    read: () => one(replay.bytesTotal),
  });
  registerReadings(registry, {
    name: 'workq_replay_done_bytes',
    help: 'Bytes of the log replayed so far (equal to workq_replay_bytes once replay is over).',
    type: 'gauge',
    read: () => one(replay.bytesDone),
  });
  registerReadings(registry, { name: 'workq_replay_records', help: 'Records replayed so far at the start.', type: 'gauge', read: () => one(replay.records) });
  registerReadings(registry, {
    name: 'workq_replay_duration_seconds',
    help: 'How long replay took, or has taken so far while it runs.',
    type: 'gauge',
    read: () => one(replay.startedAt === 0 ? 0 : ((replay.endedAt === 0 ? performance.now() : replay.endedAt) - replay.startedAt) / 1000),
  });
  registerReadings(registry, {
    name: 'workq_starting',
    help: '1 while the server replays its log and has not begun to listen.',
    type: 'gauge',
    read: () => one(stats.listeningSince === null ? 1 : 0),
  });
  registerReadings(registry, {
    name: 'workq_start_time_seconds',
    help: 'Unix time since which the server listens (absent while it starts).',
    type: 'gauge',
    read: () => (stats.listeningSince === null ? [] : one(stats.listeningSince / 1000)),
  });

  registerReadings(registry, {
    name: 'workq_process_resident_memory_bytes',
    help: 'Resident memory of the server process.',
    type: 'gauge',
    read: () => one(process.memoryUsage.rss()),
  });
  registerReadings(registry, {
    name: 'workq_process_heap_used_bytes',
    help: 'V8 heap in use by the server process.',
    type: 'gauge',
    read: () => one(process.memoryUsage().heapUsed),
  });
  registerReadings(registry, {
    name: 'workq_event_loop_lag_seconds',
    help: 'Event loop delay since the previous scrape: its 99th percentile and maximum.',
    type: 'gauge',
    read: () => {
      const out = [
        { labels: { quantile: '0.99' }, value: lag.percentile(99) / 1e9 },
        { labels: { quantile: '1' }, value: lag.max / 1e9 },
      ];
      lag.reset();
      return out;
    },
  });
  return registry;
}
