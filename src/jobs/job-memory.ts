import type { JobStore } from './job-store.js';

/**
 * What the memory budget counts for a job beyond its payload and result. It is what a job
 * cost in heap when each had an object: the object, its ID string, its entries in the job
 * table, heaps and lists, and the extra record of a finished job. Measured in process
 * (node --expose-gc, 300k jobs with empty payloads, heapUsed after gc): 241 bytes per
 * added job, 302 per completed one, before IDs were kept as words, which took 32 bytes off
 * every job (bench/memory-inproc.ts); rounded up. Since jobs became slots of typed-array
 * columns (bench/README.md, jobs as slots) a queued job costs far less beside its
 * payload: the figure is kept, so that a budget sized before holds no more jobs than it
 * did, and the heap the supervisor sizes from it stays ample.
 */
export const JOB_OVERHEAD_BYTES = 320;

/** What the job in `slot` holds, as the memory budget counts it: one-byte strings cost a byte per character. */
export function jobBytes(store: JobStore, slot: number): number {
  const result = store.resultOf(slot);
  return JOB_OVERHEAD_BYTES + store.payloadLength(slot) + (result === null ? 0 : result.length);
}

/** What a new job with a payload of `payloadLength` bytes will hold once added. */
export function newJobBytes(payloadLength: number): number {
  return JOB_OVERHEAD_BYTES + payloadLength;
}
