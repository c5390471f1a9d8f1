/**
 * The memory budget of jobs (limits.maxJobMemoryBytes) and the V8 heap it needs.
 *
 * The budget counts payloads, results and a measured per-job overhead (src/jobs/job-memory.ts);
 * the heap also holds replay's buffers, the connections' buffers and the garbage a
 * compacting GC needs room for. A supervised child gets twice the budget plus a fixed
 * base for the rest of the process, so that a log whose jobs filled the budget replays.
 */
export const DEFAULT_JOB_MEMORY_BYTES = 1024 * 1024 * 1024;

const MIB = 1024 * 1024;
/**
 * Heap per byte of budget: the live jobs plus as much again for GC and replay. Measured
 * on 200k jobs of 1 KiB (211 MB of log): the live heap after replay was 0.98 times the
 * counted bytes, and replay's peak (sampled every 5 ms) 1.05 times the live heap.
 */
const HEAP_PER_BUDGET_BYTE = 2;
/** Heap for everything but jobs: code, connections, metrics, a replay's segment buffers. */
const BASE_HEAP_MIB = 256;

/** --max-old-space-size (MiB) for a server child with this budget; null without a budget (Node's default). */
export function heapLimitMiB(maxJobMemoryBytes: number): number | null {
  if (maxJobMemoryBytes === 0) return null;
  return Math.ceil((maxJobMemoryBytes * HEAP_PER_BUDGET_BYTE) / MIB) + BASE_HEAP_MIB;
}
