#!/usr/bin/env node
import { resolve as resolvePath } from 'node:path';
import { formatUsage, parseFlags } from '../config/flags.js';
import { packageVersion } from '../config/package-root.js';
import { parseListen, SERVER_FLAGS } from '../config/standalone.js';
import type { AdminListener } from '../admin/http.js';
import type { SupervisorStatus } from '../../supervisor/primary.js';

// Each command imports what it runs when it runs (the server, the logger, the supervisor), so
// that `--version`, `--help` and `status` do not load the server: see bench/README.md.

const USAGE = `Usage: workq-server [flags]            run one standalone server
       workq-server supervise [flags]  run every configured instance under a supervisor
       workq-server status [flags]     show the instances of a running supervisor
       workq-server --version          print the version
Flags of the standalone server:
${formatUsage(SERVER_FLAGS)}`;

function exitWith(status: number, text: string): never {
  process.stderr.write(`${text}\n`);
  process.exit(status);
}

async function runStandalone(argv: readonly string[]): Promise<void> {
  const parsed = parseFlags(argv, SERVER_FLAGS);
  if (!parsed.ok) exitWith(parsed.error.help ? 0 : 2, parsed.error.help ? USAGE : `${parsed.error.message}\n${USAGE}`);
  const { values, rest } = parsed.value;
  if (rest.length > 0) exitWith(2, `unexpected argument: ${rest[0]}\n${USAGE}`);
  const [
    { loadConfig },
    { standaloneSettings },
    { checkDirectories },
    { effectiveSettings },
    { createLogger },
    { ServerRun },
    { startServer },
    { ServerStats },
    { startAdmin },
    { StandaloneAdmin },
    { instanceRegistry },
  ] = await Promise.all([
    import('../config/load.js'),
    import('../config/standalone.js'),
    import('../config/directories.js'),
    import('../config/effective.js'),
    import('../server/logger.js'),
    import('../server/run.js'),
    import('../server/server.js'),
    import('../server/stats.js'),
    import('../admin/http.js'),
    import('../admin/standalone.js'),
    import('../metrics/instance-metrics.js'),
  ]);
  const level = values.get('log-level');
  const config = loadConfig({
    files: (values.get('config') as string[] | undefined) ?? [],
    args: typeof level === 'string' ? ['--log-level', level] : [],
  });
  if (!config.ok) exitWith(1, config.error);
  const settings = standaloneSettings(config.value, values, process.cwd());
  if (!settings.ok) exitWith(1, settings.error);
  const directories = checkDirectories([settings.value]);
  if (!directories.ok) exitWith(1, `invalid configuration: ${directories.error}`);
  const adminFlag = values.get('admin-listen');
  const adminAddress = typeof adminFlag === 'string' ? parseListen(adminFlag, 'admin-listen') : null;
  if (adminAddress !== null && !adminAddress.ok) exitWith(2, `${adminAddress.error}\n${USAGE}`);

  const logger = createLogger(config.value.logLevel, { instance: settings.value.name });
  logger.info(effectiveSettings(settings.value), 'starting');
  const stats = new ServerStats();
  const adminSource = new StandaloneAdmin(settings.value, instanceRegistry(stats, { instance: settings.value.name, maxQueues: config.value.admin.maxQueues }));
  let admin: AdminListener | null = null;
  if (adminAddress !== null) {
    try {
      admin = await startAdmin({ ...adminAddress.value, source: adminSource, logger });
    } catch (error) {
      exitWith(1, `workq-server: cannot listen on -admin-listen ${adminFlag as string}: ${(error as Error).message}`);
    }
  }
  const run = new ServerRun(() => startServer({ ...settings.value, logger, stats }), logger, config.value.supervisor.stopTimeoutMs, {
    onReady: (server) => adminSource.serving(server),
    onStartFailed: (error) => exitWith(1, `workq-server: ${error.message}`),
    onStopped: (status) => {
      const closing = admin === null ? Promise.resolve() : admin.close();
      void closing.finally(() => process.exit(status));
    },
  });
  const stop = (signal: string): void => {
    adminSource.stopped();
    run.stop(signal);
  };
  // Before the start: a server still replaying its log stops on a signal too.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A renewed certificate takes effect without a restart; a file that cannot be read or parsed leaves the old one in use.
  process.on('SIGHUP', () => {
    run.current?.reloadTls().catch((error: unknown) => logger.error({ err: error }, 'TLS reload failed: the previous certificate stays in use'));
  });
  run.start();
}

function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
  return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;
}

function formatStatus(status: SupervisorStatus): string {
  const rows = [['NAME', 'PID', 'PORT', 'STATE', 'RESTARTS', 'UPTIME', 'JOBS', 'LAST ERROR']];
  for (const instance of status.instances) {
    rows.push([
      instance.name,
      instance.pid === null ? '-' : String(instance.pid),
      `${instance.host}:${instance.port}`,
      instance.state,
      String(instance.restarts),
      formatDuration(instance.uptimeMs),
      instance.jobs === null ? '-' : String(instance.jobs),
      instance.lastError ?? '',
    ]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  );
  return `supervisor pid ${status.pid}, up ${formatDuration(Date.now() - status.startedAt)}, ${status.state} (control socket ${status.control})\n${lines.join('\n')}`;
}

/** Exit status of `status` when the supervisor answers but not every instance serves. */
const STATUS_NOT_ALL_SERVING = 3;

/**
 * `workq-server status`: 0 when every instance serves, 3 when the supervisor answers but
 * some instance does not (starting, degraded, stopping), 1 when no supervisor answers.
 */
async function runStatus(argv: readonly string[]): Promise<void> {
  const [{ loadSupervisorConfig, parseSupervisorArgs, STATUS_FLAGS, supervisorUsage }, { controlSocketPath }, { requestStatus }] = await Promise.all([
    import('../../supervisor/settings.js'),
    import('../config/control-socket.js'),
    import('../../supervisor/control.js'),
  ]);
  const parsed = parseSupervisorArgs(argv, STATUS_FLAGS);
  if (!parsed.ok) {
    const usage = supervisorUsage('status', STATUS_FLAGS);
    exitWith(parsed.error.help ? 0 : 2, parsed.error.help ? usage : `${parsed.error.message}\n${usage}`);
  }
  let socket: string;
  let source: string;
  if (parsed.value.control !== null) {
    socket = resolvePath(parsed.value.control);
    source = '--control';
  } else {
    const config = loadSupervisorConfig(parsed.value);
    if (!config.ok) exitWith(1, config.error);
    socket = controlSocketPath(config.value);
    source = config.value.supervisor.controlSocket === '' ? 'the default' : 'supervisor.controlSocket';
  }
  const status = await requestStatus(socket);
  if (!status.ok) exitWith(1, `workq-server status: ${status.error} (${source}; name another with --control or WORKQ_CONTROL_SOCKET)`);
  process.stdout.write(parsed.value.json ? `${JSON.stringify(status.value)}\n` : `${formatStatus(status.value)}\n`);
  process.exitCode = status.value.state === 'ready' ? 0 : STATUS_NOT_ALL_SERVING;
}

const [command, ...rest] = process.argv.slice(2);
if (command === '--version' || command === '-version') process.stdout.write(`${packageVersion()}\n`);
else if (command === 'supervise') await (await import('../../supervisor/run.js')).runPrimary(rest);
else if (command === 'status') await runStatus(rest);
else await runStandalone(process.argv.slice(2));
