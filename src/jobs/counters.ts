/**
 * What the engine counts as it works, for the metrics: plain integer fields it
 * increments in place, read when a scrape asks. Counted since the process started (a
 * replayed log counts nothing here).
 */
export class EngineCounters {
  /** Jobs created by add, schedule and run. */
  added = 0;
  /** Attempts started: leases handed out. */
  leased = 0;
  completed = 0;
  /** Jobs failed for good (by fail, or at an attempt limit). */
  failed = 0;
  /** Leases whose TTR ran out. */
  ttrTimeouts = 0;
  /** A fail put the job back: it had fails left (max-fails). */
  retriesMaxFails = 0;
  /** A TTR timeout put the job back: it had attempts left (max-attempts). */
  retriesMaxAttempts = 0;
  /** A fail ended the job: it had no fails left. */
  exhaustedMaxFails = 0;
  /** The job reached its attempt limit and failed. */
  exhaustedMaxAttempts = 0;
  /** add, schedule and run refused because the memory budget was spent. */
  memoryRefused = 0;
  /** add, schedule, run and pause refused because they would have created a queue past maxQueues. */
  queuesRefused = 0;
  /** Empty queues freed to make room for a new name at maxQueues. */
  queuesReclaimed = 0;
}
