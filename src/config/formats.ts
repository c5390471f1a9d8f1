import { isIP } from 'node:net';
import convict from 'convict';

export const SYNC_POLICIES = ['interval', 'os', 'always'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Node's timers overflow above this many milliseconds (and then fire after 1 ms). */
export const MAX_TIMER_MS = 2_147_483_647;

/** Instance names appear in log lines, status output and socket names: keep them plain. */
const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const HOSTNAME_PATTERN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const DIGITS = /^[0-9]+$/;

/** Returns why `value` is not a valid setting, or null when it is. */
export type Check = (value: unknown) => string | null;

export const checkHost: Check = (v) => (typeof v === 'string' && (isIP(v) !== 0 || HOSTNAME_PATTERN.test(v)) ? null : 'must be an IP address or a host name');

export const checkPort: Check = (v) => (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535 ? null : 'must be an integer from 0 to 65535');

export const checkName: Check = (v) => (typeof v === 'string' && NAME_PATTERN.test(v) ? null : 'must be 1 to 64 characters of A-Z a-z 0-9 _ . -');

export const checkSync: Check = (v) => ((SYNC_POLICIES as readonly unknown[]).includes(v) ? null : `must be one of ${SYNC_POLICIES.join(', ')}`);

export const checkMs: Check = (v) =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_TIMER_MS ? null : `must be an integer number of milliseconds from 0 to ${MAX_TIMER_MS}`;

/** A retry delay: at most 24 h, like a TTR (docs/protocol-extensions.md). */
export const checkRetryMs: Check = (v) =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 86_400_000 ? null : 'must be an integer number of milliseconds from 0 to 86400000';

export const checkPercent: Check = (v) => (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 100 ? null : 'must be an integer from 0 to 100');

export const checkBytes: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? null : 'must be a non-negative integer number of bytes');

export const checkPath: Check = (v) =>
  v === null || (typeof v === 'string' && v.length > 0 && !v.includes('\0')) ? null : 'must be a directory path, or null for no command log';

/** Shortest shared secret accepted: long enough that guessing over the wire is hopeless. */
export const MIN_SECRET_LENGTH = 16;
/** Printable ASCII without space (a secret is one protocol token) and without comma (the environment variable's separator). */
const SECRET_PATTERN = /^[\x21-\x2b\x2d-\x7e]+$/;

export const checkSecrets: Check = (v) =>
  Array.isArray(v) && v.every((s) => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH && s.length <= 1024 && SECRET_PATTERN.test(s))
    ? null
    : `must be a list of secrets, each ${MIN_SECRET_LENGTH} to 1024 printable ASCII characters without space or comma`;

export const checkBoolean: Check = (v) => (typeof v === 'boolean' ? null : 'must be true or false');

export const checkFile: Check = (v) => (typeof v === 'string' && !v.includes('\0') ? null : 'must be a file path, or empty for none');

export const checkPortOrNull: Check = (v) => (v === null ? null : checkPort(v) === null ? null : 'must be a port from 0 to 65535, or null');

export const checkCount: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= 1 ? null : 'must be a positive integer');

export const checkSocketPath: Check = (v) =>
  v === '' || (typeof v === 'string' && v.startsWith('/') && !v.includes('\0') && Buffer.byteLength(v) <= 107)
    ? null
    : 'must be an absolute path of at most 107 bytes (a unix socket), or empty for the default';

/** A convict validator from a Check: the thrown message is what convict prints after the key. */
function assertWith(check: Check): (value: unknown) => void {
  return (value) => {
    const problem = check(value);
    if (problem !== null) throw new Error(problem);
  };
}

/** Environment values arrive as strings: only plain digits become numbers. */
function toInteger(value: string): number | string {
  return DIGITS.test(value) ? Number(value) : value;
}

function toJson(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/** `a,b,c` from the environment; empty means none. */
function toList(value: string): string[] {
  return value.split(',').filter((s) => s !== '');
}

function toPortOrNull(value: string): number | string | null {
  return value === '' || value === 'null' ? null : toInteger(value);
}

let registered = false;

/** Registers the formats once per process (convict keeps them globally). */
export function registerFormats(checkInstances: (value: unknown) => void): void {
  if (registered) return;
  registered = true;
  convict.addFormat({ name: 'workq-host', validate: assertWith(checkHost) });
  convict.addFormat({ name: 'workq-ms', validate: assertWith(checkMs), coerce: toInteger });
  convict.addFormat({ name: 'workq-retry-ms', validate: assertWith(checkRetryMs), coerce: toInteger });
  convict.addFormat({ name: 'workq-percent', validate: assertWith(checkPercent), coerce: toInteger });
  convict.addFormat({ name: 'workq-bytes', validate: assertWith(checkBytes), coerce: toInteger });
  convict.addFormat({ name: 'workq-socket-path', validate: assertWith(checkSocketPath) });
  convict.addFormat({ name: 'workq-instances', validate: checkInstances, coerce: toJson });
  convict.addFormat({ name: 'workq-secrets', validate: assertWith(checkSecrets), coerce: toList });
  convict.addFormat({ name: 'workq-file', validate: assertWith(checkFile) });
  convict.addFormat({ name: 'workq-port-or-null', validate: assertWith(checkPortOrNull), coerce: toPortOrNull });
  convict.addFormat({ name: 'workq-count', validate: assertWith(checkCount), coerce: toInteger });
}
