/** Job states as numbered on the wire (PROTOCOL.md 7.1). */
export const JobState = {
  New: 0,
  Completed: 1,
  Failed: 2,
  Pending: 3,
  Leased: 4,
} as const;
export type JobState = (typeof JobState)[keyof typeof JobState];

/**
 * One job. A plain class with every field set in the constructor, in one order, so V8
 * gives all jobs one hidden class: the engine holds up to millions of them.
 *
 * Wall-clock instants that the log stores with nanosecond precision (created, the
 * scheduled time) are kept as whole Unix seconds plus nanoseconds, as Go does, so a
 * record written here carries exactly what the wire or the log gave us.
 */
export class Job {
  /** Canonical lowercase 8-4-4-4-12 form; the key of the job table. */
  readonly id: string;
  readonly name: string;
  readonly ttr: number;
  /** 0 for a `run` job, which has no TTL. */
  readonly ttl: number;
  readonly priority: number;
  readonly maxAttempts: number;
  readonly maxFails: number;
  /** latin1: one char per byte. */
  readonly payload: string;
  readonly createdSec: number;
  readonly createdNsec: number;
  /** Scheduled time; both 0 when the job was not scheduled. */
  readonly timeSec: number;
  readonly timeNsec: number;
  /** True for the job of a `run`: not persisted, no TTL, no max-fails. */
  readonly foreground: boolean;

  state: JobState = JobState.New;
  attempts = 0;
  fails = 0;
  /** The final result once COMPLETED/FAILED; before that, the last failure's result (7.5). */
  result: string | null = null;
  /** Wall-clock ms at which the job is evicted (Infinity for run jobs). */
  expiresAt: number;
  /** Wall-clock ms of the pending state deadline: the TTR end while LEASED, the scheduled time while scheduled. */
  deadline = Infinity;
  /** Position in the ready or scheduled list of its queue, -1 when in neither. */
  listIndex = -1;
  /** Position in the engine's deadline heap (TTR/schedule), -1 when not there. */
  deadlineIndex = -1;
  /** Position in the engine's expiry heap, -1 when not there. */
  expiryIndex = -1;
  /** Engine-private: result/run waiters, null while there are none. */
  waiters: unknown = null;

  constructor(
    id: string,
    name: string,
    ttr: number,
    ttl: number,
    priority: number,
    maxAttempts: number,
    maxFails: number,
    payload: string,
    createdSec: number,
    createdNsec: number,
    timeSec: number,
    timeNsec: number,
    foreground: boolean,
  ) {
    this.id = id;
    this.name = name;
    this.ttr = ttr;
    this.ttl = ttl;
    this.priority = priority;
    this.maxAttempts = maxAttempts;
    this.maxFails = maxFails;
    this.payload = payload;
    this.createdSec = createdSec;
    this.createdNsec = createdNsec;
    this.timeSec = timeSec;
    this.timeNsec = timeNsec;
    this.foreground = foreground;
    this.expiresAt = foreground
      ? Infinity
      : (timeSec !== 0 || timeNsec !== 0 ? timeSec * 1000 + Math.floor(timeNsec / 1e6) : createdSec * 1000 + Math.floor(createdNsec / 1e6)) + ttl;
  }

  get scheduled(): boolean {
    return this.timeSec !== 0 || this.timeNsec !== 0;
  }
}
