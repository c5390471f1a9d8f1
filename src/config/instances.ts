import {
  checkBoolean,
  checkBytes,
  checkCount,
  checkFile,
  checkHost,
  checkMs,
  checkName,
  checkPath,
  checkPort,
  checkPortOrNull,
  checkSecrets,
  checkSync,
  type Check,
} from './formats.js';

/** One element of `instances` as written in a file; omitted settings inherit the shared ones. */
export interface InstanceEntry {
  name?: string;
  host?: string;
  port: number;
  cmdlog?: {
    path?: string | null;
    sync?: string;
    syncIntervalMs?: number;
    segmentSize?: number;
    cleanIntervalMs?: number;
  };
  auth?: { secrets?: string[]; allowUnauthenticated?: boolean };
  tls?: { cert?: string; key?: string; port?: number | null };
  limits?: {
    maxClients?: number;
    idleTimeoutMs?: number;
    backlog?: number;
    maxJobMemoryBytes?: number;
    maxReplyBufferBytes?: number;
    maxQueues?: number;
    authTimeoutMs?: number;
    tlsHandshakeTimeoutMs?: number;
  };
}

const ENTRY_KEYS: Record<string, Check> = { name: checkName, host: checkHost, port: checkPort };
const CMDLOG_KEYS: Record<string, Check> = {
  path: checkPath,
  sync: checkSync,
  syncIntervalMs: checkMs,
  segmentSize: checkBytes,
  cleanIntervalMs: checkMs,
};
/** Sections an instance may override key by key. */
const SECTIONS: Record<string, Record<string, Check>> = {
  cmdlog: CMDLOG_KEYS,
  auth: { secrets: checkSecrets, allowUnauthenticated: checkBoolean },
  tls: { cert: checkFile, key: checkFile, port: checkPortOrNull },
  limits: {
    maxClients: checkCount,
    idleTimeoutMs: checkMs,
    backlog: checkCount,
    maxJobMemoryBytes: checkBytes,
    maxReplyBufferBytes: checkBytes,
    maxQueues: checkCount,
    authTimeoutMs: checkMs,
    tlsHandshakeTimeoutMs: checkCount,
  },
};

/**
 * A validation failure that names the exact setting. convict assigns `fullName` and
 * `value` on every error a format throws (the whole array here); accessors that ignore
 * those writes keep the element's own key and value in convict's message.
 */
export class SettingError extends Error {
  constructor(setting: string, problem: string, value?: unknown) {
    super(problem);
    this.name = 'SettingError';
    Object.defineProperty(this, 'fullName', { get: () => setting, set: () => undefined });
    Object.defineProperty(this, 'value', { get: () => value, set: () => undefined });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(where: string, raw: Record<string, unknown>, known: Record<string, Check>): void {
  for (const [key, value] of Object.entries(raw)) {
    const check = known[key];
    if (check === undefined) throw new SettingError(`${where}.${key}`, 'not declared in the schema');
    const problem = check(value);
    if (problem !== null) throw new SettingError(`${where}.${key}`, problem, value);
  }
}

/** convict format of `instances`: an array of entries, each checked key by key. */
export function assertInstances(value: unknown): asserts value is InstanceEntry[] {
  if (!Array.isArray(value)) throw new SettingError('instances', 'must be an array of instances', value);
  value.forEach((entry: unknown, index) => {
    const where = `instances[${index}]`;
    if (!isRecord(entry)) throw new SettingError(where, 'must be an object', entry);
    if (entry['port'] === undefined) {
      // A misspelt `port` would otherwise be reported only as a missing one.
      const unknown = Object.keys(entry).filter((key) => !(key in SECTIONS) && !(key in ENTRY_KEYS));
      const also = unknown.length === 0 ? '' : ` (and ${unknown.map((key) => `${where}.${key}`).join(', ')}: not declared in the schema)`;
      throw new SettingError(`${where}.port`, `is required${also}`);
    }
    const plain = Object.fromEntries(Object.entries(entry).filter(([key]) => !(key in SECTIONS)));
    checkKeys(where, plain, ENTRY_KEYS);
    for (const [section, keys] of Object.entries(SECTIONS)) {
      const value = entry[section];
      if (value === undefined) continue;
      if (!isRecord(value)) throw new SettingError(`${where}.${section}`, 'must be an object', value);
      checkKeys(`${where}.${section}`, value, keys);
    }
  });
}
