import { existsSync, readFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import convict from 'convict';
import { packageRoot } from './package-root.js';
import { schema, type RawConfig } from './schema.js';
import { resolveInstances, type InstanceSettings, type Result } from './resolve.js';

export interface LoadOptions {
  /** Configuration files, merged in order over the defaults. */
  files?: readonly string[];
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** convict arguments (`--log-level debug`); never process.argv implicitly. */
  args?: readonly string[];
  /** Base of relative paths; defaults to process.cwd(). */
  cwd?: string;
}

export interface WorkqConfig {
  logLevel: RawConfig['log']['level'];
  /** Shared settings, for a server that is not one of the configured instances. */
  host: string;
  cmdlog: RawConfig['cmdlog'];
  auth: RawConfig['auth'];
  tls: RawConfig['tls'];
  limits: RawConfig['limits'];
  retry: RawConfig['retry'];
  instances: InstanceSettings[];
  supervisor: RawConfig['supervisor'];
  admin: RawConfig['admin'];
  /** Absolute paths of the files that were loaded. */
  files: string[];
}

function readJson(path: string): Result<object> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { ok: false, error: `config file ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return { ok: false, error: `config file ${path}: must hold a JSON object` };
    }
    return { ok: true, value: parsed };
  } catch (error) {
    return { ok: false, error: `config file ${path}: not valid JSON (${(error as Error).message})` };
  }
}

/**
 * Loads and validates the configuration: schema defaults < files (in order) <
 * environment < arguments. Unknown keys and bad values are refused with a message
 * naming the setting; instances inherit the shared settings and must not share a
 * name, a port or a directory.
 */
export function loadConfig(options: LoadOptions = {}): Result<WorkqConfig> {
  const cwd = options.cwd ?? process.cwd();
  const files = (options.files ?? []).map((file) => resolvePath(cwd, file));
  let config: convict.Config<RawConfig>;
  try {
    config = convict(schema, { env: options.env ?? process.env, args: [...(options.args ?? [])] });
    for (const file of files) {
      const content = readJson(file);
      if (!content.ok) return content;
      // convict would merge an object into the array's place without complaint
      if ('instances' in content.value && !Array.isArray(content.value.instances)) {
        return { ok: false, error: `invalid configuration: instances: must be an array of instances (in ${file})` };
      }
      config.load(content.value);
    }
    config.validate({ allowed: 'strict' });
  } catch (error) {
    return { ok: false, error: `invalid configuration: ${(error as Error).message.split('\n').join('; ')}` };
  }
  const raw = config.getProperties();
  const timing = checkSupervisorTiming(raw.supervisor);
  if (timing !== null) return { ok: false, error: `invalid configuration: ${timing}` };
  const instances = resolveInstances(raw, cwd);
  if (!instances.ok) return { ok: false, error: `invalid configuration: ${instances.error}` };
  return {
    ok: true,
    value: {
      logLevel: raw.log.level,
      host: raw.host,
      cmdlog: raw.cmdlog,
      auth: raw.auth,
      tls: raw.tls,
      limits: raw.limits,
      retry: raw.retry,
      instances: instances.value,
      supervisor: raw.supervisor,
      admin: raw.admin,
      files,
    },
  };
}

/** The supervisor's timings that only make sense together. */
function checkSupervisorTiming(supervisor: RawConfig['supervisor']): string | null {
  if (supervisor.pingIntervalMs === 0) return 'supervisor.pingIntervalMs must be greater than 0';
  if (supervisor.unresponsiveAfterMs === 0) return 'supervisor.unresponsiveAfterMs must be greater than 0';
  if (supervisor.replaceUnresponsiveAfterMs < supervisor.unresponsiveAfterMs) {
    return `supervisor.replaceUnresponsiveAfterMs (${supervisor.replaceUnresponsiveAfterMs}) must be at least supervisor.unresponsiveAfterMs (${supervisor.unresponsiveAfterMs})`;
  }
  return null;
}

/** config/default.json of this package (a checkout or an installed copy), or null if it is missing. */
export function defaultConfigFile(): string | null {
  const root = packageRoot();
  if (root === null) return null;
  const file = join(root, 'config', 'default.json');
  return existsSync(file) ? file : null;
}
