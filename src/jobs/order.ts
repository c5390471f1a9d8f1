import type { Job } from './job.js';

/**
 * Queue order of docs/protocol.md 7.2, keys 1–3: priority (higher first), scheduled time
 * (none before any, then earlier first), created time (earlier first). Returns < 0
 * when `a` goes first, > 0 when `b` does, 0 when the keys tie. Times are compared as
 * (seconds, nanoseconds) pairs, so instants after 2262 sort correctly (docs/protocol.md Q20).
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
 * TTL-end order: earlier first, then createdBefore. The end, sec * 1000 + floor(nsec / 1e6)
 * + ttl from the scheduled time or else the created time, is compared as a difference
 * built from the jobs' small-integer fields: no ms timestamp is returned from a call,
 * so none is boxed into a heap number on this path, which every add and restore takes.
 */
export function expiresBefore(a: Job, b: Job): boolean {
  const aScheduled = a.scheduled;
  const bScheduled = b.scheduled;
  const aSec = aScheduled ? a.timeSec : a.createdSec;
  const bSec = bScheduled ? b.timeSec : b.createdSec;
  const aMs = Math.floor((aScheduled ? a.timeNsec : a.createdNsec) / 1e6) + a.ttl;
  const bMs = Math.floor((bScheduled ? b.timeNsec : b.createdNsec) / 1e6) + b.ttl;
  const d = (aSec - bSec) * 1000 + (aMs - bMs);
  return d !== 0 ? d < 0 : createdBefore(a, b);
}

/**
 * The full order of docs/protocol.md 7.2, keys 1–4: true when `a` comes before `b` in a queue list.
 * Canonical lowercase IDs compare like their 16 bytes.
 */
export function queueBefore(a: Job, b: Job): boolean {
  const c = compareQueueKeys(a, b);
  return c !== 0 ? c < 0 : a.id < b.id;
}
