import { formatUsage, parseFlags, type FlagTable } from '../src/config/flags.js';
import { defaultConfigFile, loadConfig, type WorkqConfig } from '../src/config/load.js';
import type { Result } from '../src/config/resolve.js';

export const SUPERVISOR_FLAGS: FlagTable = {
  config: { kind: 'string', repeatable: true, metavar: 'FILE', usage: 'JSON configuration file over config/default.json (repeatable; later files win)' },
  'log-level': { kind: 'string', metavar: 'LEVEL', usage: 'fatal, error, warn, info, debug, trace or silent', defaultText: '"info"' },
  control: {
    kind: 'string',
    metavar: 'SOCKET',
    usage: 'unix socket of the status service, over supervisor.controlSocket',
    defaultText: '"$TMPDIR/workq-<uid>/control.sock"',
  },
};

export const STATUS_FLAGS: FlagTable = {
  config: SUPERVISOR_FLAGS['config']!,
  control: {
    kind: 'string',
    metavar: 'SOCKET',
    usage: 'unix socket of the supervisor to ask (the configuration is then not read)',
    defaultText: 'supervisor.controlSocket, else "$TMPDIR/workq-<uid>/control.sock"',
  },
  json: { kind: 'bool', usage: 'print the status as JSON' },
};

export interface SupervisorArgs {
  files: string[];
  /** convict arguments. */
  args: string[];
  json: boolean;
  /** --control: the control socket, over the configuration's. */
  control: string | null;
}

/** A usage error (exit 2) or help (exit 0), as opposed to a configuration error (exit 1). */
export interface UsageProblem {
  usage: true;
  help: boolean;
  message: string;
}

export function parseSupervisorArgs(argv: readonly string[], table: FlagTable): { ok: true; value: SupervisorArgs } | { ok: false; error: UsageProblem } {
  const parsed = parseFlags(argv, table);
  if (!parsed.ok) return { ok: false, error: { usage: true, help: parsed.error.help, message: parsed.error.message } };
  const { values, rest } = parsed.value;
  if (rest.length > 0) return { ok: false, error: { usage: true, help: false, message: `unexpected argument: ${rest[0]}` } };
  const level = values.get('log-level');
  return {
    ok: true,
    value: {
      files: (values.get('config') as string[] | undefined) ?? [],
      args: typeof level === 'string' ? ['--log-level', level] : [],
      json: values.get('json') === true,
      control: typeof values.get('control') === 'string' ? (values.get('control') as string) : null,
    },
  };
}

export function supervisorUsage(command: string, table: FlagTable): string {
  return `Usage: workq-server ${command} [flags]\n${formatUsage(table)}`;
}

/**
 * The supervisor's configuration: config/default.json, then the --config files,
 * environment and arguments. The primary, each child and `status` load it the same way.
 */
export function loadSupervisorConfig(parsed: SupervisorArgs, env: NodeJS.ProcessEnv = process.env): Result<WorkqConfig> {
  const base = defaultConfigFile();
  const loaded = loadConfig({ files: [...(base === null ? [] : [base]), ...parsed.files], env, args: parsed.args });
  if (loaded.ok && loaded.value.instances.length === 0) {
    return { ok: false, error: 'invalid configuration: instances is empty: the supervisor needs at least one instance' };
  }
  return loaded;
}
