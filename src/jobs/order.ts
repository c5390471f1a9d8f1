import type { JobStore } from './job-store.js';

/**
 * Queue order of docs/protocol.md 7.2, keys 1–3, of the jobs in slots `a` and `b`: priority
 * (higher first), scheduled time (none before any, then earlier first), created time
 * (earlier first). Returns < 0 when `a` goes first, > 0 when `b` does, 0 when the keys
 * tie. Times are compared as (seconds, nanoseconds) pairs, so instants after 2262 sort
 * correctly (docs/protocol.md Q20).
 */
export function compareQueueKeys(store: JobStore, a: number, b: number): number {
  const aPriority = store.priorityOf(a);
  const bPriority = store.priorityOf(b);
  if (aPriority !== bPriority) return bPriority - aPriority;
  const aScheduled = store.scheduledOf(a);
  const bScheduled = store.scheduledOf(b);
  if (aScheduled !== bScheduled) return aScheduled ? 1 : -1;
  if (aScheduled) {
    const aSec = store.timeSecOf(a);
    const bSec = store.timeSecOf(b);
    if (aSec !== bSec) return aSec - bSec;
    const aNsec = store.timeNsecOf(a);
    const bNsec = store.timeNsecOf(b);
    if (aNsec !== bNsec) return aNsec - bNsec;
  }
  const aCreated = store.createdSecOf(a);
  const bCreated = store.createdSecOf(b);
  if (aCreated !== bCreated) return aCreated - bCreated;
  return store.createdNsecOf(a) - store.createdNsecOf(b);
}

/** Created time, then the ID: a strict order among jobs with distinct IDs, to break deadline ties. */
export function createdBefore(store: JobStore, a: number, b: number): boolean {
  const aSec = store.createdSecOf(a);
  const bSec = store.createdSecOf(b);
  if (aSec !== bSec) return aSec < bSec;
  const aNsec = store.createdNsecOf(a);
  const bNsec = store.createdNsecOf(b);
  if (aNsec !== bNsec) return aNsec < bNsec;
  return store.idBefore(a, b);
}

/**
 * TTL-end order: earlier first, then createdBefore. The end, sec * 1000 + floor(nsec / 1e6)
 * + ttl from the scheduled time or else the created time, is compared as a difference
 * built from the jobs' small-integer fields: no ms timestamp is returned from a call,
 * so none is boxed into a heap number on this path, which every add and restore takes.
 */
export function expiresBefore(store: JobStore, a: number, b: number): boolean {
  const aScheduled = store.scheduledOf(a);
  const bScheduled = store.scheduledOf(b);
  const aSec = aScheduled ? store.timeSecOf(a) : store.createdSecOf(a);
  const bSec = bScheduled ? store.timeSecOf(b) : store.createdSecOf(b);
  const aMs = Math.floor((aScheduled ? store.timeNsecOf(a) : store.createdNsecOf(a)) / 1e6) + store.ttlOf(a);
  const bMs = Math.floor((bScheduled ? store.timeNsecOf(b) : store.createdNsecOf(b)) / 1e6) + store.ttlOf(b);
  const d = (aSec - bSec) * 1000 + (aMs - bMs);
  return d !== 0 ? d < 0 : createdBefore(store, a, b);
}

/** The full order of docs/protocol.md 7.2, keys 1–4: true when job `a` comes before job `b` in a queue list; IDs compare as their bytes, the order of their canonical text. */
export function queueBefore(store: JobStore, a: number, b: number): boolean {
  const c = compareQueueKeys(store, a, b);
  return c !== 0 ? c < 0 : store.idBefore(a, b);
}
