import type { InstanceSettings } from './resolve.js';

/** What a power cut may cost under the instance's sync policy (a kill -9 costs nothing acknowledged). */
export function powerCutMayLose(settings: InstanceSettings): string {
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

/** An instance's effective settings as its server logs them at start and `status --json` shows them. */
export interface EffectiveSettings {
  listen: string;
  cmdlog: string | null;
  sync: InstanceSettings['cmdlog']['sync'];
  syncIntervalMs?: number;
  segmentSize: number;
  cleanIntervalMs: number;
  powerCutMayLose: string;
}

export function effectiveSettings(settings: InstanceSettings): EffectiveSettings {
  const { cmdlog } = settings;
  return {
    listen: `${settings.host}:${settings.port}`,
    cmdlog: cmdlog.path,
    sync: cmdlog.sync,
    ...(cmdlog.sync === 'interval' ? { syncIntervalMs: cmdlog.syncIntervalMs } : {}),
    segmentSize: cmdlog.segmentSize,
    cleanIntervalMs: cmdlog.cleanIntervalMs,
    powerCutMayLose: powerCutMayLose(settings),
  };
}
