import { resolve as resolvePath } from 'node:path';
import type { RetryDelay } from '../jobs/retry-delay.js';
import type { ListenSettings, SyncPolicy } from '../server/types.js';
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
  return null;
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
      (settings.cmdlog.path === null
        ? null
        : firstUse(paths, settings.cmdlog.path, index, 'cmdlog.path', settings.cmdlog.path));
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
