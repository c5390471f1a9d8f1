import { getHeapStatistics } from 'node:v8';
import { checkDirectories } from '../src/config/directories.js';
import { effectiveSettings } from '../src/config/effective.js';
import { instanceRegistry } from '../src/metrics/instance-metrics.js';
import { ServerRun } from '../src/server/run.js';
import { preReadServer, startServer, type ServerPreRead } from '../src/server/server.js';
import { ServerStats } from '../src/server/stats.js';
import { createLogger } from '../src/server/logger.js';
import { isPrimaryMessage, type ChildMessage } from './messages.js';
import { answerMetricsRequests } from './metrics-ipc.js';
import { PrimarySockets } from './primary-sockets.js';
import { loadSupervisorConfig, parseSupervisorArgs, SUPERVISOR_FLAGS } from './settings.js';
import { describeLayout, socketLayout } from './socket-layout.js';

/** Exit status of a child whose server could not start (the primary also gets a 'failed' message). */
export const START_FAILED = 3;

function send(message: ChildMessage): void {
  if (process.send && process.connected) process.send(message);
}

function fail(code: string | null, message: string): never {
  send({ type: 'failed', code, message });
  process.stderr.write(`${message}\n`);
  process.exit(START_FAILED);
}

/**
 * A server child: loads the same configuration as its primary, runs the instance the
 * primary chose (WORKQ_INSTANCE_INDEX), takes its connections from the primary, which
 * holds the listening sockets (WORKQ_SOCKETS names them), reports 'ready' once it
 * serves, answers pings, and stops gracefully on the primary's request or on a signal
 * of its own. Started for a hot restart (WORKQ_STANDBY), it loads its configuration and
 * replays its log while the old server still appends to it (docs/command-log.md 10.5),
 * reports 'standby' and waits for 'go' (the old server has let go of the log) before it
 * locks the log and replays what was added since: a child that cannot start fails while
 * the old one still serves.
 */
export function runChild(argv: readonly string[]): void {
  // Without its primary nobody restarts or stops this child: leave at once. Only
  // synchronous exit handlers run here (the directory lock's own release is one).
  process.on('disconnect', () => process.exit(1));
  // A terminal hang-up reaches the whole process group; only the primary acts on it.
  process.on('SIGHUP', () => undefined);

  const parsed = parseSupervisorArgs(argv, SUPERVISOR_FLAGS);
  if (!parsed.ok) fail(null, parsed.error.message);
  const config = loadSupervisorConfig(parsed.value);
  if (!config.ok) fail(null, config.error);
  const index = Number(process.env['WORKQ_INSTANCE_INDEX']);
  const settings = config.value.instances[index];
  if (settings === undefined || settings.name !== process.env['WORKQ_INSTANCE_NAME']) {
    fail(
      null,
      `instance ${process.env['WORKQ_INSTANCE_NAME'] ?? '?'} is no longer at position ${index} of the configuration: restart the supervisor to change the list of instances`,
    );
  }
  const directories = checkDirectories([settings]);
  if (!directories.ok) fail(null, `invalid configuration: ${directories.error}`);
  // The primary holds the sockets it opened for the configuration it started with: a
  // server configured otherwise since would ask for a socket that is not there, after the
  // old server let go (hot restart). Refused here, on standby, the old one keeps serving.
  const layout = socketLayout(settings);
  const held = process.env['WORKQ_SOCKETS'];
  if (held !== undefined && held !== describeLayout(layout)) {
    fail(
      null,
      `instance ${settings.name} is configured to listen on ${describeLayout(layout)}, but the supervisor holds ${held}: restart the supervisor to change an instance's host, ports or TLS`,
    );
  }

  const logger = createLogger(config.value.logLevel, { instance: settings.name });
  logger.info({ ...effectiveSettings(settings), heapLimitBytes: getHeapStatistics().heap_size_limit }, 'starting');
  const stats = new ServerStats();
  // The primary holds every listening socket (plain and TLS) across restarts.
  const sources = layout.map((socket) => new PrimarySockets(send, socket.kind));
  const sockets = Object.fromEntries(sources.map((source) => [source.kind, source]));
  const options = { ...settings, logger, stats, sockets };
  let preRead: ServerPreRead | null = null;
  const run = new ServerRun(() => startServer({ ...options, ...(preRead === null ? {} : { preRead }) }), logger, config.value.supervisor.stopTimeoutMs, {
    onReady: (server) => send({ type: 'ready', host: server.host, port: server.port, settings: effectiveSettings({ ...settings, port: server.port }) }),
    onStartFailed: (error) => fail(typeof error.code === 'string' ? error.code : null, error.message ?? String(error)),
    onStopped: (status) => {
      if (status !== 0 || !linger) process.exit(status);
      // Stopped for a hot restart: the new server may take the log now; this process waits
      // for the primary's 'exit' (or at most stopTimeoutMs) so as not to compete with its
      // replay for the CPU while exiting.
      released = true;
      send({ type: 'released' });
      setTimeout(() => process.exit(0), config.value.supervisor.stopTimeoutMs);
    },
  });
  // Metrics are answered from the start of the server, so that a scrape follows the
  // replay; not on standby, where the old server still answers for the instance.
  const start = (): void => {
    answerMetricsRequests(instanceRegistry(stats, { instance: settings.name, maxQueues: config.value.admin.maxQueues }));
    run.start();
  };
  let standby = process.env['WORKQ_STANDBY'] === '1';
  let linger = false;
  let released = false;
  const stop = (reason: string): void => {
    if (reason !== 'request') send({ type: 'stopping', reason });
    // On standby nothing is open yet: no log, no connection.
    if (standby) process.exit(0);
    run.stop(reason);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('message', (message: unknown, handle: unknown) => {
    if (!isPrimaryMessage(message)) return;
    if (message.type === 'stop') {
      // Asked again while lingering: the supervisor stops, nothing waits for this process.
      if (released) process.exit(0);
      linger = message.linger === true;
      stop('request');
    } else if (message.type === 'exit') process.exit(0);
    else if (message.type === 'ping') send({ type: 'pong', id: message.id });
    else if (message.type === 'status-request') {
      if (run.current !== null) send({ type: 'status', id: message.id, status: run.current.status() });
    } else if (message.type === 'go') {
      if (!standby) return;
      standby = false;
      start();
    } else if (message.type === 'pause-cleaning') {
      const paused = run.current === null ? Promise.resolve() : run.current.pauseCleaning();
      void paused.catch((err: unknown) => logger.error({ err }, 'pausing the cleaning failed')).then(() => send({ type: 'cleaning-paused', id: message.id }));
    } else if (message.type === 'resume-cleaning') run.current?.resumeCleaning();
    else for (const source of sources) source.onMessage(message, handle);
  });
  if (!standby) start();
  else {
    preReadServer(options).then(
      (done) => {
        preRead = done;
        send({ type: 'standby' });
      },
      (error: NodeJS.ErrnoException) => {
        logger.error({ err: error }, 'pre-read of the command log failed');
        fail(typeof error.code === 'string' ? error.code : null, error.message ?? String(error));
      },
    );
  }
}
