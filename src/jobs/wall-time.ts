import type { JobStore } from './job-store.js';

/** A (seconds, nanoseconds) instant as whole ms, rounded down (as JobStore.expiresAtOf does). */
export function floorMs(sec: number, nsec: number): number {
  return sec * 1000 + Math.floor(nsec / 1e6);
}

/** The first whole ms at which a scheduled job's time has been reached: never early. */
export function readyAt(store: JobStore, slot: number): number {
  return store.timeSecOf(slot) * 1000 + Math.ceil(store.timeNsecOf(slot) / 1e6);
}

/** Whether the job has reached an attempt limit (docs/protocol.md 7.4: the hard cap of 255, or max-attempts). */
export function atAttemptLimit(store: JobStore, slot: number): boolean {
  const attempts = store.attemptsOf(slot);
  const max = store.maxAttemptsOf(slot);
  return attempts >= 255 || (max > 0 && attempts >= max);
}
