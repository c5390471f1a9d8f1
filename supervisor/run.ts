import { checkDirectories } from '../src/config/directories.js';
import { controlSocketPath } from '../src/config/control-socket.js';
import { startSupervisorAdmin } from './admin.js';
import { serveControl } from './control.js';
import { createLogger } from './logger.js';
import { Supervisor } from './primary.js';
import { loadSupervisorConfig, parseSupervisorArgs, SUPERVISOR_FLAGS, supervisorUsage } from './settings.js';

function exitWith(status: number, line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(status);
}

/**
 * Runs the supervisor's primary until it is stopped: exit 0 after a graceful stop,
 * 1 when it cannot start, 2 on a usage error.
 */
export async function runPrimary(argv: readonly string[]): Promise<void> {
  const parsed = parseSupervisorArgs(argv, SUPERVISOR_FLAGS);
  if (!parsed.ok) {
    const usage = supervisorUsage('supervise', SUPERVISOR_FLAGS);
    if (parsed.error.help) exitWith(0, usage);
    exitWith(2, `${parsed.error.message}\n${usage}`);
  }
  const config = loadSupervisorConfig(parsed.value);
  if (!config.ok) exitWith(1, config.error);
  const directories = checkDirectories(config.value.instances);
  if (!directories.ok) exitWith(1, `invalid configuration: ${directories.error}`);

  const logger = createLogger(config.value.logLevel, { role: 'supervisor' });
  let supervisor: Supervisor | null = null;
  const socketPath = controlSocketPath(config.value);
  const control = await serveControl(socketPath, () => (supervisor as Supervisor).status());
  if (!control.ok) exitWith(1, control.error);

  let admin: Awaited<ReturnType<typeof startSupervisorAdmin>> = null;
  const finish = (status: number, line: string | null): void => {
    void admin?.close();
    control.value.close(() => {
      if (line !== null) process.stderr.write(`${line}\n`);
      process.exit(status);
    });
  };
  supervisor = new Supervisor(config.value, argv, logger, {
    onAllStarted: () => {
      logger.info({ instances: config.value.instances.length, control: socketPath }, 'supervisor ready');
      if (process.send) process.send('ready');
    },
    onFatal: (message) => finish(1, message),
  });
  const stop = (signal: string): void => {
    logger.info({ signal }, 'graceful stop');
    void (supervisor as Supervisor).stop().then(() => finish(0, null));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => void (supervisor as Supervisor).restart());
  logger.info({ files: config.value.files, instances: config.value.instances.map((instance) => instance.name) }, 'supervisor starting');
  admin = await startSupervisorAdmin(config.value, () => supervisor as Supervisor, logger);
  supervisor.start();
}
