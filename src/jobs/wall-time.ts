import type { Job } from './job.js';

/** A (seconds, nanoseconds) instant as whole ms, rounded down (as Job.expiresAt does). */
export function floorMs(sec: number, nsec: number): number {
  return sec * 1000 + Math.floor(nsec / 1e6);
}

/** The first whole ms at which a scheduled job's time has been reached: never early. */
export function readyAt(job: Job): number {
  return job.timeSec * 1000 + Math.ceil(job.timeNsec / 1e6);
}

/** Whether the job has reached an attempt limit (docs/protocol.md 7.4: the hard cap of 255, or max-attempts). */
export function atAttemptLimit(job: Job): boolean {
  return job.attempts >= 255 || (job.maxAttempts > 0 && job.attempts >= job.maxAttempts);
}
