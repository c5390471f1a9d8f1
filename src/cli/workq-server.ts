#!/usr/bin/env node
import { pino } from 'pino';
import { checkDirectories } from '../config/directories.js';
import { controlSocketPath } from '../config/control-socket.js';
import { formatUsage, parseFlags } from '../config/flags.js';
import { loadConfig } from '../config/load.js';
import type { InstanceSettings } from '../config/resolve.js';
import { SERVER_FLAGS, standaloneSettings } from '../config/standalone.js';
import { startServer } from '../server/server.js';
import { requestStatus } from '../../supervisor/control.js';
import type { SupervisorStatus } from '../../supervisor/primary.js';
import { runPrimary } from '../../supervisor/run.js';
import { loadSupervisorConfig, parseSupervisorArgs, STATUS_FLAGS, supervisorUsage } from '../../supervisor/settings.js';

const USAGE = `Usage: workq-server [flags]            run one standalone server
       workq-server supervise [flags]  run every configured instance under a supervisor
       workq-server status [flags]     show the instances of a running supervisor
Flags of the standalone server:
${formatUsage(SERVER_FLAGS)}`;

function exitWith(status: number, text: string): never {
  process.stderr.write(`${text}\n`);
  process.exit(status);
}

/** What a power cut may cost under the instance's sync policy (a kill -9 costs nothing acknowledged). */
function lossWindow(settings: InstanceSettings): string {
  if (settings.cmdlog.path === null) return 'everything: no command log';
  switch (settings.cmdlog.sync) {
    case 'always':
      return 'nothing acknowledged';
    case 'interval':
      return `up to ${settings.cmdlog.syncIntervalMs} ms of acknowledged commands`;
    case 'os':
      return 'whatever the OS has not written back yet';
  }
}

async function runStandalone(argv: readonly string[]): Promise<void> {
  const parsed = parseFlags(argv, SERVER_FLAGS);
  if (!parsed.ok) exitWith(parsed.error.help ? 0 : 2, parsed.error.help ? USAGE : `${parsed.error.message}\n${USAGE}`);
  const { values, rest } = parsed.value;
  if (rest.length > 0) exitWith(2, `unexpected argument: ${rest[0]}\n${USAGE}`);
  const level = values.get('log-level');
  const config = loadConfig({
    files: (values.get('config') as string[] | undefined) ?? [],
    args: typeof level === 'string' ? ['--log-level', level] : [],
  });
  if (!config.ok) exitWith(1, config.error);
  const settings = standaloneSettings(config.value, values, process.cwd());
  if (!settings.ok) exitWith(1, settings.error);
  const directories = checkDirectories([settings.value]);
  if (!directories.ok) exitWith(1, directories.error);

  const logger = pino({ level: config.value.logLevel, base: { pid: process.pid, instance: settings.value.name } });
  const { cmdlog } = settings.value;
  logger.info(
    {
      listen: `${settings.value.host}:${settings.value.port}`,
      cmdlog: cmdlog.path,
      sync: cmdlog.sync,
      ...(cmdlog.sync === 'interval' ? { syncIntervalMs: cmdlog.syncIntervalMs } : {}),
      powerCutMayLose: lossWindow(settings.value),
    },
    'starting',
  );
  let server;
  try {
    server = await startServer({ ...settings.value, logger });
  } catch (error) {
    logger.error({ err: error }, 'start failed');
    exitWith(1, `workq-server: ${(error as Error).message}`);
  }
  const running = server;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A renewed certificate takes effect without a restart; a file that cannot be read or parsed leaves the old one in use.
  process.on('SIGHUP', () => {
    running.reloadTls().catch((error: unknown) => logger.error({ err: error }, 'TLS reload failed: the previous certificate stays in use'));
  });
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
  const lines = rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
  return `supervisor pid ${status.pid}, up ${formatDuration(Date.now() - status.startedAt)}\n${lines.join('\n')}`;
}

async function runStatus(argv: readonly string[]): Promise<void> {
  const parsed = parseSupervisorArgs(argv, STATUS_FLAGS);
  if (!parsed.ok) {
    const usage = supervisorUsage('status', STATUS_FLAGS);
    exitWith(parsed.error.help ? 0 : 2, parsed.error.help ? usage : `${parsed.error.message}\n${usage}`);
  }
  const config = loadSupervisorConfig(parsed.value);
  if (!config.ok) exitWith(1, config.error);
  const status = await requestStatus(controlSocketPath(config.value));
  if (!status.ok) exitWith(1, status.error);
  process.stdout.write(parsed.value.json ? `${JSON.stringify(status.value)}\n` : `${formatStatus(status.value)}\n`);
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'supervise') await runPrimary(rest);
else if (command === 'status') await runStatus(rest);
else await runStandalone(process.argv.slice(2));
