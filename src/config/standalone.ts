import { resolve as resolvePath } from 'node:path';
import type { FlagTable, FlagValue } from './flags.js';
import { checkHost, checkMs, checkPercent, checkPort, checkRetryMs, checkSync } from './formats.js';
import type { WorkqConfig } from './load.js';
import { checkInstance, defaultRetryDelay, inheritSafety, type InstanceSettings, type Result } from './resolve.js';
import { DEFAULT_SEGMENT_SIZE } from './schema.js';
import type { SyncPolicy } from '../server/types.js';

export const DEFAULT_PORT = 9922;

/** The original workq-server's flags, plus this project's --config, --instance and --log-level. */
export const SERVER_FLAGS: FlagTable = {
  listen: { kind: 'string', metavar: 'HOST:PORT', usage: 'address to listen on', defaultText: `"127.0.0.1:${DEFAULT_PORT}"` },
  'cmdlog-path': { kind: 'string', metavar: 'DIR', usage: 'command log directory (created if missing); empty keeps jobs in memory only' },
  'cmdlog-sync': { kind: 'string', metavar: 'POLICY', usage: 'fsync policy: interval, os or always', defaultText: '"interval"' },
  'cmdlog-sync-int': { kind: 'uint', metavar: 'MS', usage: 'fsync interval in ms with -cmdlog-sync interval', defaultText: '1000' },
  'cmdlog-clean-int': { kind: 'uint', metavar: 'MS', usage: 'cleaning interval in ms', defaultText: '300000' },
  'cmdlog-seg-size': { kind: 'uint', metavar: 'BYTES', usage: 'segment size in bytes, 0 for the default', defaultText: String(DEFAULT_SEGMENT_SIZE) },
  config: { kind: 'string', repeatable: true, metavar: 'FILE', usage: 'JSON configuration file (repeatable; later files win)' },
  instance: { kind: 'string', metavar: 'NAME', usage: 'which instance of the configuration to run' },
  'retry-delay': { kind: 'uint', metavar: 'MS', usage: 'retry delay of jobs without their own -retry-delay (extension)', defaultText: '0' },
  'retry-max-delay': { kind: 'uint', metavar: 'MS', usage: 'above 0: that retry delay doubles per retry up to MS', defaultText: '0' },
  'retry-jitter': { kind: 'uint', metavar: 'PCT', usage: 'that retry delay shortened by a random share of up to PCT%', defaultText: '0' },
  'log-level': { kind: 'string', metavar: 'LEVEL', usage: 'fatal, error, warn, info, debug, trace or silent', defaultText: '"info"' },
  'admin-listen': {
    kind: 'string',
    metavar: 'HOST:PORT',
    usage: 'serve /metrics, /healthz, /readyz, /status and the status page over HTTP here (off unless given)',
  },
};

/** `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces), as Go's net.SplitHostPort reads it. */
export function parseListen(text: string, flag = 'listen'): Result<{ host: string; port: number }> {
  const bad = { ok: false as const, error: `invalid -${flag} "${text}": expected HOST:PORT` };
  const colon = text.lastIndexOf(':');
  if (colon === -1) return bad;
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  else if (host.includes(':')) return bad;
  if (host === '') host = '0.0.0.0';
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (checkHost(host) !== null) return { ok: false, error: `invalid -${flag} "${text}": host ${checkHost(host)}` };
  if (checkPort(port) !== null) return { ok: false, error: `invalid -${flag} "${text}": port ${checkPort(port)}` };
  return { ok: true, value: { host, port } };
}

function baseInstance(config: WorkqConfig, chosen: FlagValue | undefined, cwd: string): Result<InstanceSettings> {
  if (typeof chosen === 'string') {
    const found = config.instances.find((instance) => instance.name === chosen);
    return found === undefined ? { ok: false, error: `no instance named "${chosen}" in the configuration` } : { ok: true, value: structuredClone(found) };
  }
  const [only, ...others] = config.instances;
  if (only !== undefined && others.length === 0) return { ok: true, value: structuredClone(only) };
  if (only !== undefined) {
    const names = config.instances.map((instance) => instance.name).join(', ');
    return {
      ok: false,
      error: `the configuration has ${config.instances.length} instances (${names}): choose one with --instance NAME, or run them all with "workq-server supervise"`,
    };
  }
  const { segmentSize, ...cmdlog } = config.cmdlog;
  return {
    ok: true,
    value: {
      name: String(DEFAULT_PORT),
      host: config.host,
      port: DEFAULT_PORT,
      cmdlog: { ...cmdlog, path: null, segmentSize: segmentSize === 0 ? DEFAULT_SEGMENT_SIZE : segmentSize },
      ...inheritSafety(config, {}, cwd),
      ...defaultRetryDelay(config.retry),
    },
  };
}

/**
 * The settings of one standalone server: the configured instance (or, with none, the
 * original's defaults: 127.0.0.1:9922, memory only), overridden by the original flags.
 */
export function standaloneSettings(config: WorkqConfig, flags: ReadonlyMap<string, FlagValue>, cwd: string): Result<InstanceSettings> {
  const base = baseInstance(config, flags.get('instance'), cwd);
  if (!base.ok) return base;
  const settings = base.value;
  const listen = flags.get('listen');
  if (typeof listen === 'string') {
    const address = parseListen(listen);
    if (!address.ok) return address;
    settings.host = address.value.host;
    settings.port = address.value.port;
    if (flags.get('instance') === undefined && config.instances.length === 0) settings.name = String(address.value.port);
  }
  const path = flags.get('cmdlog-path');
  if (typeof path === 'string') settings.cmdlog.path = path === '' ? null : resolvePath(cwd, path);
  const sync = flags.get('cmdlog-sync');
  if (typeof sync === 'string') {
    if (checkSync(sync) !== null) return { ok: false, error: `Invalid cmdlog-sync policy: ${sync} (expected interval, os or always)` };
    settings.cmdlog.sync = sync as SyncPolicy;
  }
  for (const [flag, key] of [
    ['cmdlog-sync-int', 'syncIntervalMs'],
    ['cmdlog-clean-int', 'cleanIntervalMs'],
  ] as const) {
    const value = flags.get(flag);
    if (typeof value !== 'number') continue;
    const problem = checkMs(value);
    if (problem !== null) return { ok: false, error: `invalid -${flag} ${value}: ${problem}` };
    settings.cmdlog[key] = value;
  }
  const retry = { ...(settings.retryDelay ?? { delayMs: 0, maxDelayMs: 0, jitterPercent: 0 }) };
  for (const [flag, key, check] of [
    ['retry-delay', 'delayMs', checkRetryMs],
    ['retry-max-delay', 'maxDelayMs', checkRetryMs],
    ['retry-jitter', 'jitterPercent', checkPercent],
  ] as const) {
    const value = flags.get(flag);
    if (typeof value !== 'number') continue;
    const problem = check(value);
    if (problem !== null) return { ok: false, error: `invalid -${flag} ${value}: ${problem}` };
    retry[key] = value;
  }
  if (retry.delayMs > 0) settings.retryDelay = retry;
  else delete settings.retryDelay;
  const segmentSize = flags.get('cmdlog-seg-size');
  if (typeof segmentSize === 'number') settings.cmdlog.segmentSize = segmentSize === 0 ? DEFAULT_SEGMENT_SIZE : segmentSize;
  const problem = checkInstance(settings, `instance "${settings.name}"`);
  return problem === null ? { ok: true, value: settings } : { ok: false, error: problem };
}
