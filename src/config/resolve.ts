import { resolve as resolvePath } from 'node:path';
import { exposureProblem } from '../server/limits.js';
import type { RetryDelay } from '../jobs/retry-delay.js';
import type { AuthSettings, LimitSettings, ListenSettings, SyncPolicy, TlsSettings } from '../server/types.js';
import type { InstanceEntry } from './instances.js';
import { DEFAULT_SEGMENT_SIZE, type RawConfig } from './schema.js';

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

/** Everything one standalone server needs, except its logger, under the instance's name. */
export interface InstanceSettings extends ListenSettings {
  name: string;
  /** The shared `retry` settings, when they set a delay (docs/protocol-extensions.md). */
  retryDelay?: RetryDelay;
}

/** The configured default retry delay, or nothing when it is 0 (no delay). */
export function defaultRetryDelay(retry: RawConfig['retry']): { retryDelay?: RetryDelay } {
  return retry.delayMs > 0 ? { retryDelay: { ...retry } } : {};
}

/** The shared settings of authentication, TLS and limits, as the configuration holds them. */
export type SafetyConfig = Pick<RawConfig, 'auth' | 'tls' | 'limits'>;

/** An instance's auth, TLS and limits: its own keys over the shared ones; TLS file paths resolve against cwd. */
export function inheritSafety(
  shared: SafetyConfig,
  entry: Pick<InstanceEntry, 'auth' | 'tls' | 'limits'>,
  cwd: string,
): { auth: AuthSettings; tls: TlsSettings | null; limits: LimitSettings } {
  const tls = { ...shared.tls, ...entry.tls };
  return {
    auth: { ...shared.auth, ...entry.auth },
    tls:
      tls.cert === '' && tls.key === ''
        ? null
        : { cert: tls.cert === '' ? '' : resolvePath(cwd, tls.cert), key: tls.key === '' ? '' : resolvePath(cwd, tls.key), port: tls.port },
    limits: { ...shared.limits, ...entry.limits },
  };
}

/** Fills an entry's missing settings from the shared ones; relative paths resolve against cwd. */
export function inherit(raw: RawConfig, entry: InstanceEntry, cwd: string): InstanceSettings {
  const own = entry.cmdlog ?? {};
  const path = own.path ?? null;
  const segmentSize = own.segmentSize ?? raw.cmdlog.segmentSize;
  return {
    name: entry.name ?? String(entry.port),
    host: entry.host ?? raw.host,
    port: entry.port,
    cmdlog: {
      path: path === null ? null : resolvePath(cwd, path),
      sync: (own.sync ?? raw.cmdlog.sync) as SyncPolicy,
      syncIntervalMs: own.syncIntervalMs ?? raw.cmdlog.syncIntervalMs,
      segmentSize: segmentSize === 0 ? DEFAULT_SEGMENT_SIZE : segmentSize,
      cleanIntervalMs: own.cleanIntervalMs ?? raw.cmdlog.cleanIntervalMs,
    },
    ...inheritSafety(raw, entry, cwd),
    ...defaultRetryDelay(raw.retry),
  };
}

/**
 * Checks an instance's settings that only make sense together. `where` names the
 * setting's owner in the message (e.g. `instances[1] ("9923")`, or a flag).
 */
export function checkInstance(settings: InstanceSettings, where: string): string | null {
  const { cmdlog } = settings;
  if (cmdlog.sync === 'interval' && cmdlog.syncIntervalMs === 0) {
    return `${where}: cmdlog.syncIntervalMs (-cmdlog-sync-int) must be greater than 0 with sync "interval" (sync "os" and "always" need no interval)`;
  }
  if (cmdlog.cleanIntervalMs === 0) {
    return `${where}: cmdlog.cleanIntervalMs (-cmdlog-clean-int) must be greater than 0`;
  }
  const { tls } = settings;
  if (tls != null && (tls.cert === '' || tls.key === '')) {
    return `${where}: tls.cert and tls.key must be set together (PEM files of the certificate and its private key)`;
  }
  if (tls != null && tls.port !== null && tls.port !== 0 && tls.port === settings.port) {
    return `${where}: tls.port ${tls.port} is the instance's plain TCP port; set tls.port to null to serve TLS only on it`;
  }
  const exposure = exposureProblem(settings.host, settings.auth);
  return exposure === null ? null : `${where}: ${exposure}`;
}

function describe(index: number, settings: InstanceSettings): string {
  return `instances[${index}] ("${settings.name}")`;
}

/** Applies inheritance to every instance and refuses conflicts between them. */
export function resolveInstances(raw: RawConfig, cwd: string): Result<InstanceSettings[]> {
  const all = raw.instances.map((entry) => inherit(raw, entry, cwd));
  const names = new Map<string, number>();
  const ports = new Map<number, number>();
  const paths = new Map<string, number>();
  for (const [index, settings] of all.entries()) {
    const where = describe(index, settings);
    const problem = checkInstance(settings, where);
    if (problem !== null) return { ok: false, error: problem };
    const clash =
      firstUse(names, settings.name, index, 'name', `"${settings.name}"`) ??
      (settings.port === 0 ? null : firstUse(ports, settings.port, index, 'port', String(settings.port))) ??
      (settings.cmdlog.path === null ? null : firstUse(paths, settings.cmdlog.path, index, 'cmdlog.path', settings.cmdlog.path));
    if (clash !== null) return { ok: false, error: `${where}: ${clash}` };
  }
  return { ok: true, value: all };

  function firstUse<K>(seen: Map<K, number>, key: K, index: number, setting: string, shown: string): string | null {
    const earlier = seen.get(key);
    if (earlier === undefined) {
      seen.set(key, index);
      return null;
    }
    return `${setting} ${shown} is already used by ${describe(earlier, all[earlier] as InstanceSettings)}`;
  }
}
