import { existsSync, lstatSync, mkdirSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { checkDirectories, checkWritableDirectory } from '../src/config/directories.js';
import { checkSocketPath } from '../src/config/formats.js';
import { controlSocketPath, defaultControlSocket } from '../src/config/control-socket.js';
import { startSupervisorAdmin } from './admin.js';
import { serveControl } from './control.js';
import { createLogger } from '../src/server/logger.js';
import { Supervisor } from './primary.js';
import { loadSupervisorConfig, parseSupervisorArgs, SUPERVISOR_FLAGS, supervisorUsage } from './settings.js';

function exitWith(status: number, line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(status);
}

/** The control socket's directory: the default one is made (private to the user); a configured one must exist. */
function prepareControlDirectory(path: string): string | null {
  const dir = dirname(path);
  const problem = checkWritableDirectory(dir);
  if (problem !== null) return `control socket ${path}: ${problem}`;
  if (path !== defaultControlSocket()) return existsSync(dir) ? null : `control socket ${path}: ${dir} does not exist`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // In a shared temp directory someone else could have made it first, to listen in our place.
    const made = lstatSync(dir);
    if (!made.isDirectory() || made.uid !== process.getuid?.() || (made.mode & 0o022) !== 0) {
      return `control socket ${path}: ${dir} is not a directory of this user writable only by it; remove it or set supervisor.controlSocket`;
    }
    return null;
  } catch (error) {
    return `control socket ${path}: cannot create ${dir} (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
}

/**
 * Runs the supervisor's primary until it is stopped: exit 0 after a graceful stop,
 * 1 when it cannot start or no instance can serve, 2 on a usage error.
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
  const socketPath = parsed.value.control === null ? controlSocketPath(config.value) : resolvePath(parsed.value.control);
  const badSocket = checkSocketPath(socketPath);
  if (badSocket !== null) exitWith(2, `invalid -control ${socketPath}: ${badSocket}`);
  const socketProblem = prepareControlDirectory(socketPath);
  if (socketProblem !== null) exitWith(1, `invalid configuration: ${socketProblem}`);

  const logger = createLogger(config.value.logLevel, { role: 'supervisor' });
  let supervisor: Supervisor | null = null;
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
  supervisor = new Supervisor(config.value, argv, socketPath, logger, {
    onReady: () => {
      logger.info({ instances: config.value.instances.length, control: socketPath }, 'supervisor ready');
      // PM2 (wait_ready) shows the app online only from here: every instance serves.
      if (process.send) process.send('ready');
    },
    onDegraded: (down) => logger.error({ down, control: socketPath }, 'supervisor degraded: some instances do not serve'),
    onFatal: (message) => finish(1, message),
  });
  const stop = (signal: string): void => {
    logger.info({ signal }, 'graceful stop');
    void supervisor.stop().then(() => finish(0, null));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => void supervisor.restart());
  logger.info({ files: config.value.files, instances: config.value.instances.map((instance) => instance.name), control: socketPath }, 'supervisor starting');
  admin = await startSupervisorAdmin(config.value, () => supervisor, logger);
  supervisor.start();
}
