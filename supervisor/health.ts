/** What the supervisor knows of one instance, for judging the whole. */
export type InstanceState = 'starting' | 'ready' | 'unresponsive' | 'stopping' | 'backoff' | 'failed' | 'stopped';

/**
 * The whole, once every instance had its first start: every instance serves (`ready`),
 * some is down or hung (`degraded`; one being restarted or replaced is on its way back
 * and does not count), every one is left down (`down`: nothing can serve), or in
 * between (`changing`: nothing to report yet).
 */
export type Health = 'ready' | 'degraded' | 'down' | 'changing';

export function judgeHealth(states: readonly InstanceState[]): Health {
  if (states.every((state) => state === 'ready')) return 'ready';
  if (states.every((state) => state === 'failed')) return 'down';
  if (states.some((state) => state === 'failed' || state === 'unresponsive')) return 'degraded';
  return 'changing';
}

export interface LivenessLimits {
  unresponsiveAfterMs: number;
  replaceUnresponsiveAfterMs: number;
}

/** What to do with a serving child that last answered `silentMs` ago. */
export function judgeSilence(silentMs: number, limits: LivenessLimits): 'alive' | 'unresponsive' | 'replace' {
  if (silentMs >= limits.replaceUnresponsiveAfterMs) return 'replace';
  if (silentMs >= limits.unresponsiveAfterMs) return 'unresponsive';
  return 'alive';
}
