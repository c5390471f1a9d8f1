import net from 'node:net';
import { openCommandLog, type CommandLog } from '../cmdlog/index.js';
import { Engine } from '../jobs/engine.js';
import { systemClock } from '../jobs/types.js';
import { Connection, type ConnectionHost } from './connection.js';
import { ServerStats } from './stats.js';
import { Ticker } from './ticker.js';
import { packageVersion } from '../config/package-root.js';
import type { ServerOptions, ServerStatus, WorkqServer } from './types.js';

/** How long a graceful stop waits for clients to take their last replies before cutting them off. */
const DRAIN_TIMEOUT_MS = 5000;

/**
 * Starts one standalone server: replays the command log (if any) into a fresh engine,
 * lets the deadlines that passed while it was down take effect, then listens.
 */
export async function startServer(options: ServerOptions): Promise<WorkqServer> {
  const clock = options.clock ?? systemClock;
  const { logger } = options;
  const stats = options.stats ?? new ServerStats();
  const engine = new Engine(clock, null, options.retryDelay === undefined ? {} : { retryDelay: options.retryDelay });
  stats.engine = engine;
  let log: CommandLog | null = null;
  if (options.cmdlog.path !== null) {
    stats.sync = options.cmdlog.sync;
    log = await openCommandLog(
      {
        dir: options.cmdlog.path,
        sync: options.cmdlog.sync,
        syncIntervalMs: options.cmdlog.syncIntervalMs,
        segmentSize: options.cmdlog.segmentSize,
        cleanIntervalMs: options.cmdlog.cleanIntervalMs,
        logger,
        now: () => clock.now(),
        stats: stats.log,
        ...(options.cmdlogFs !== undefined ? { fs: options.cmdlogFs } : {}),
      },
      engine,
    );
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
  let onEmpty: (() => void) | null = null;
  const ticker = new Ticker(engine, () => clock.now());
  let startedAt = clock.now();
  const host: ConnectionHost = {
    engine,
    log,
    get startedAt() {
      return startedAt;
    },
    stats,
    version: packageVersion(),
    uptimeSeconds: () => Math.max(0, Math.floor((clock.now() - startedAt) / 1000)),
    activeClients: () => connections.size,
    afterWork: () => ticker.sync(),
    forget: (connection) => {
      if (!connections.delete(connection)) return;
      stats.connectionsOpen = connections.size;
      if (connections.size === 0) onEmpty?.();
    },
  };

  const accept = (socket: net.Socket): void => {
    connections.add(new Connection(socket, host));
    stats.connectionsAccepted++;
    stats.connectionsOpen = connections.size;
  };
  const { sockets } = options;
  let listener: net.Server | null = null;
  let address: { host: string; port: number };
  try {
    if (sockets === undefined) {
      listener = net.createServer({ allowHalfOpen: true, keepAlive: true, noDelay: true }, accept);
      await listen(listener, options.host, options.port);
      const bound = listener.address() as net.AddressInfo;
      address = { host: bound.address, port: bound.port };
    } else {
      address = await sockets.open();
      sockets.attach(accept);
    }
  } catch (error) {
    if (log !== null) await log.close();
    throw error;
  }
  startedAt = clock.now();
  stats.listeningSince = startedAt;
  ticker.sync();
  logger.info({ host: address.host, port: address.port, cmdlog: options.cmdlog.path }, 'listening');

  /** Stops accepting; resolves once every connection has closed. */
  const stopAccepting = (): Promise<void> => {
    if (listener !== null) {
      const server = listener;
      return new Promise<void>((resolve) => server.close(() => resolve()));
    }
    sockets!.detach();
    return new Promise<void>((resolve) => {
      if (connections.size === 0) resolve();
      else onEmpty = resolve;
    });
  };

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const closed = stopAccepting();
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
        await closed;
      }
      logger.info('stopped');
    })();
    return stopping;
  };

  return {
    host: address.host,
    port: address.port,
    stats,
    status: (): ServerStatus => ({
      host: address.host,
      port: address.port,
      jobs: engine.jobCount,
      connections: connections.size,
      readOnly: log !== null && log.readOnly,
      startedAt,
    }),
    stop,
  };
}

function listen(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // exclusive: under node:cluster each child binds its own port instead of sharing the primary's handle
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
