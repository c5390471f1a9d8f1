import type { Job } from './job.js';

/**
 * Heap a job costs beyond its payload and result: the Job object, its ID string, its
 * slots in the job table, its heaps and lists, and the extra record of a finished job.
 * Measured in process (node --expose-gc, 300k jobs with empty payloads, heapUsed after
 * gc): 241 bytes per added job, 302 per completed one, before IDs were kept as words,
 * which took 32 bytes off every job (bench/memory-inproc.ts); rounded up. Since payloads
 * went to a slab and the job's numbers to columns (bench/README.md, the slot layout) a
 * queued job costs about 230 bytes beside its payload: the figure is kept, so that a
 * budget sized before holds no more jobs than it did, and the heap the supervisor sizes
 * from it stays ample.
 */
export const JOB_OVERHEAD_BYTES = 320;

/** What a job holds in the heap, as the memory budget counts it: one-byte strings cost a byte per character. */
export function jobBytes(job: Job): number {
  const result = job.result;
  return JOB_OVERHEAD_BYTES + job.payloadLength + (result === null ? 0 : result.length);
}

/** What a new job with this payload will hold once added. */
export function newJobBytes(payload: string): number {
  return JOB_OVERHEAD_BYTES + payload.length;
}
