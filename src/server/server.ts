import { openCommandLog, preReadCommandLog, type CommandLog, type CommandLogOptions, type LogPreRead } from '../cmdlog/index.js';
import { Engine } from '../jobs/engine.js';
import { systemClock, type Clock } from '../jobs/types.js';
import { secretCheck } from './auth.js';
import { Connection, type ConnectionHost } from './connection.js';
import { DEFAULT_LIMITS, exposureProblem, refuseConnection } from './limits.js';
import { openListeners } from './listeners.js';
import { ServerStats } from './stats.js';
import { ReplyBudget } from './reply-budget.js';
import { Ticker } from './ticker.js';
import { packageVersion } from '../config/package-root.js';
import type { ServerOptions, ServerStatus, WorkqServer } from './types.js';

/** How long a graceful stop waits for clients to take their last replies before cutting them off. */
const DRAIN_TIMEOUT_MS = 5000;

function newEngine(options: ServerOptions, clock: Clock): Engine {
  return new Engine(clock, null, {
    memoryBudget: (options.limits ?? DEFAULT_LIMITS).maxJobMemoryBytes,
    maxQueues: (options.limits ?? DEFAULT_LIMITS).maxQueues,
    ...(options.retryDelay === undefined ? {} : { retryDelay: options.retryDelay }),
  });
}

function logOptions(options: ServerOptions, cmdlog: string, clock: Clock, stats: ServerStats): CommandLogOptions {
  return {
    dir: cmdlog,
    sync: options.cmdlog.sync,
    syncIntervalMs: options.cmdlog.syncIntervalMs,
    segmentSize: options.cmdlog.segmentSize,
    cleanIntervalMs: options.cmdlog.cleanIntervalMs,
    logger: options.logger,
    now: () => clock.now(),
    stats: stats.log,
    ...(options.cmdlogFs !== undefined ? { fs: options.cmdlogFs } : {}),
  };
}

/** A server's engine filled from a log that another server still holds (preReadServer). */
export interface ServerPreRead {
  engine: Engine;
  log: LogPreRead;
}

/**
 * The first part of a hot restart's start (docs/command-log.md 10.5): replays the command
 * log into a fresh engine while the server it replaces still appends to it, without
 * locking it. startServer with `preRead` then replays only what was added since. Null
 * for a server without a log.
 */
export async function preReadServer(options: ServerOptions): Promise<ServerPreRead | null> {
  if (options.cmdlog.path === null) return null;
  const clock = options.clock ?? systemClock;
  const engine = newEngine(options, clock);
  const log = await preReadCommandLog(logOptions(options, options.cmdlog.path, clock, options.stats ?? new ServerStats()), engine);
  return { engine, log };
}

/**
 * Starts one standalone server: replays the command log (if any) into a fresh engine,
 * or only its tail into the engine of `preRead`, lets the deadlines that passed while it
 * was down take effect, then listens.
 */
export async function startServer(options: ServerOptions & { preRead?: ServerPreRead }): Promise<WorkqServer> {
  const clock = options.clock ?? systemClock;
  const { logger } = options;
  const limits = options.limits ?? DEFAULT_LIMITS;
  const exposure = exposureProblem(options.host, options.auth);
  if (exposure !== null) throw new Error(exposure);
  const stats = options.stats ?? new ServerStats();
  let engine = options.preRead?.engine ?? newEngine(options, clock);
  stats.engine = engine;
  stats.replies = new ReplyBudget(limits.maxReplyBufferBytes);
  let log: CommandLog | null = null;
  if (options.cmdlog.path !== null) {
    stats.sync = options.cmdlog.sync;
    const resume =
      options.preRead === undefined
        ? null
        : {
            preRead: options.preRead.log,
            startOver: () => {
              engine = newEngine(options, clock);
              stats.engine = engine;
              return engine;
            },
          };
    log = await openCommandLog(logOptions(options, options.cmdlog.path, clock, stats), engine, resume);
    engine.setJournal(log);
    stats.commandLog = log;
    log.onReadOnlyChange = (readOnly) => {
      engine.holdJobDeadlines(readOnly);
      if (readOnly) logger.error('command log write failed: read-only until it can be written again');
      else {
        logger.warn('command log writable again: read-only mode over');
        ticker.sync();
      }
    };
  }
  engine.tick(clock.now());

  const connections = new Set<Connection>();
  const ticker = new Ticker(engine, () => clock.now());
  let startedAt = clock.now();
  const host: ConnectionHost = {
    engine,
    log,
    get startedAt() {
      return startedAt;
    },
    auth: secretCheck(options.auth?.secrets),
    idleTimeoutMs: limits.idleTimeoutMs,
    authTimeoutMs: limits.authTimeoutMs,
    replies: stats.replies,
    stats,
    version: packageVersion(),
    uptimeSeconds: () => Math.max(0, Math.floor((clock.now() - startedAt) / 1000)),
    activeClients: () => connections.size,
    afterWork: () => ticker.sync(),
    forget: (connection) => {
      if (connections.delete(connection)) stats.connectionsOpen = connections.size;
    },
  };

  let refused = 0;
  let refusedLoggedAt = -Infinity;
  let listener;
  try {
    listener = await openListeners(
      {
        host: options.host,
        port: options.port,
        tls: options.tls ?? null,
        backlog: limits.backlog,
        handshakeTimeoutMs: limits.tlsHandshakeTimeoutMs,
        onHandshakeTimeout: () => stats.tlsHandshakeTimeouts++,
        logger,
        sockets: options.sockets,
      },
      (socket) => {
        if (connections.size >= limits.maxClients) {
          refused += 1;
          stats.connectionsRefused++;
          // One line per second at most: a flood of connections must not become a flood of log lines.
          if (clock.now() - refusedLoggedAt >= 1000) {
            logger.warn({ maxClients: limits.maxClients, refused, remote: socket.remoteAddress }, 'too many clients: connections refused');
            refusedLoggedAt = clock.now();
            refused = 0;
          }
          refuseConnection(socket);
          return;
        }
        connections.add(new Connection(socket, host));
        stats.connectionsAccepted++;
        stats.connectionsOpen = connections.size;
      },
    );
  } catch (error) {
    if (log !== null) await log.close();
    throw error;
  }
  startedAt = clock.now();
  stats.listeningSince = startedAt;
  ticker.sync();
  const address = { address: listener.address, port: listener.plainPort ?? listener.tlsPort! };
  const tlsPort = listener.tlsPort;
  logger.info({ host: address.address, port: listener.plainPort, tlsPort, auth: host.auth !== null, cmdlog: options.cmdlog.path }, 'listening');

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const closed = listener.close();
      for (const connection of connections) connection.shutdown();
      ticker.stop();
      if (log !== null) {
        try {
          await log.close();
        } catch (error) {
          logger.error({ err: error }, 'command log close failed');
        }
      }
      const drained = await Promise.race([closed.then(() => true), delay(DRAIN_TIMEOUT_MS).then(() => false)]);
      if (!drained) {
        logger.warn({ connections: connections.size }, 'clients did not close in time: cut off');
        for (const connection of connections) connection.destroy();
        listener.destroyAll();
        await closed;
      }
      logger.info('stopped');
    })();
    return stopping;
  };

  return {
    host: address.address,
    port: address.port,
    tlsPort,
    reloadTls: () => listener.reloadTls(),
    pauseCleaning: () => (log === null ? Promise.resolve() : log.pauseCleaning()),
    resumeCleaning: () => log?.resumeCleaning(),
    stats,
    status: (): ServerStatus => ({
      host: address.address,
      port: address.port,
      tlsPort,
      jobs: engine.jobCount,
      connections: connections.size,
      readOnly: log !== null && log.readOnly,
      startedAt,
    }),
    stop,
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
