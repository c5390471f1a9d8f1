import type { Job } from './job.js';

/**
 * Queue order of PROTOCOL.md 7.2, keys 1–3: priority (higher first), scheduled time
 * (none before any, then earlier first), created time (earlier first). Returns < 0
 * when `a` goes first, > 0 when `b` does, 0 when the keys tie. Times are compared as
 * (seconds, nanoseconds) pairs, so instants after 2262 sort correctly (Q20).
 */
export function compareQueueKeys(a: Job, b: Job): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  const aScheduled = a.timeSec !== 0 || a.timeNsec !== 0;
  const bScheduled = b.timeSec !== 0 || b.timeNsec !== 0;
  if (aScheduled !== bScheduled) return aScheduled ? 1 : -1;
  if (a.timeSec !== b.timeSec) return a.timeSec - b.timeSec;
  if (a.timeNsec !== b.timeNsec) return a.timeNsec - b.timeNsec;
  if (a.createdSec !== b.createdSec) return a.createdSec - b.createdSec;
  return a.createdNsec - b.createdNsec;
}

/** Created time, then the ID: a strict order among jobs with distinct IDs, to break deadline ties. */
export function createdBefore(a: Job, b: Job): boolean {
  if (a.createdSec !== b.createdSec) return a.createdSec < b.createdSec;
  if (a.createdNsec !== b.createdNsec) return a.createdNsec < b.createdNsec;
  return a.id < b.id;
}

/**
 * The full 7.2 order, keys 1–4: true when `a` comes before `b` in a queue list.
 * Canonical lowercase IDs compare like their 16 bytes.
 */
export function queueBefore(a: Job, b: Job): boolean {
  const c = compareQueueKeys(a, b);
  return c !== 0 ? c < 0 : a.id < b.id;
}
