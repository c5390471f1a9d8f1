import { Engine } from '../../src/jobs/engine.js';
import type { Job } from '../../src/jobs/job.js';
import type { RetryDelay } from '../../src/jobs/retry-delay.js';
import type { Clock, Finished, Journal, NewJob, NewRunJob, NewScheduledJob } from '../../src/jobs/types.js';

/** 2027-01-15T08:00:00Z, a whole second. */
export const T0 = 1_800_000_000_000;

export class FakeClock implements Clock {
  constructor(public t = T0) {}
  now(): number {
    return this.t;
  }
}

/** Records every journal call as one line, in call order. */
export class RecordingJournal implements Journal {
  readonly records: string[] = [];
  add(job: Job): void {
    this.records.push(`add ${job.id}`);
  }
  schedule(job: Job): void {
    this.records.push(`schedule ${job.id}`);
  }
  startAttempt(id: string, at: number): void {
    this.records.push(`start ${id} ${at - T0}`);
  }
  complete(id: string, result: string): void {
    this.records.push(`complete ${id} ${result}`);
  }
  fail(id: string, result: string): void {
    this.records.push(`fail ${id} ${result}`);
  }
  delete(id: string): void {
    this.records.push(`delete ${id}`);
  }
  expire(id: string): void {
    this.records.push(`expire ${id}`);
  }
  timeoutAttempt(id: string): void {
    this.records.push(`timeout ${id}`);
  }
  touch(id: string, ttr: number, at: number): void {
    this.records.push(`touch ${id} ${ttr} ${at - T0}`);
  }
  pause(name: string, paused: boolean): void {
    this.records.push(`${paused ? 'pause' : 'resume'} ${name}`);
  }
  retryDelay(id: string, delay: RetryDelay): void {
    this.records.push(`retry-delay ${id} ${delay.delayMs} ${delay.maxDelayMs} ${delay.jitterPercent}`);
  }
  retryAt(id: string, delayMs: number, at: number): void {
    this.records.push(`retry-at ${id} ${delayMs} ${at - T0}`);
  }
  restartFailed(id: string): void {
    this.records.push(`retry ${id}`);
  }
  take(): string[] {
    return this.records.splice(0);
  }
}

/** A v4 ID whose byte order follows `n`. */
export function id(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** Fields of a new job as the tests give them: the payload as latin1 text. */
export type Fields<T> = Partial<Omit<T, 'payload'>> & { payload?: string };

/** `text`'s bytes, one per char. */
export function bytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

export function newJob(n: number, over: Fields<NewJob> = {}): NewJob {
  const { payload = `p${n}`, ...rest } = over;
  return { id: id(n), name: 'q', ttr: 1000, ttl: 60_000, priority: 0, maxAttempts: 0, maxFails: 0, ...rest, payload: bytes(payload) };
}

/** A schedule at `at` ms (relative to T0, may carry a sub-ms fraction as nanoseconds). */
export function newScheduled(n: number, atMs: number, over: Fields<NewScheduledJob> = {}): NewScheduledJob {
  const abs = T0 + atMs;
  const sec = Math.floor(abs / 1000);
  const { payload = `p${n}`, ...rest } = over;
  return { ...newJob(n, { payload }), timeSec: sec, timeNsec: Math.round((abs - sec * 1000) * 1e6), ...rest };
}

export function newRun(n: number, over: Fields<NewRunJob> = {}): NewRunJob {
  const { payload = `r${n}`, ...rest } = over;
  return { id: id(n), name: 'q', ttr: 1000, timeout: 5000, priority: 0, ...rest, payload: bytes(payload) };
}

/** Outcome of a blocking call as a short string; undefined while still waiting. */
export type Seen = { value: string | undefined };

export function show(o: Finished | Job | string | null): string {
  if (o === null) return 'timeout';
  if (typeof o === 'string') return o;
  if ('success' in o) return `${o.id.slice(-2)} ${o.success ? 1 : 0} ${o.result}`;
  return `job ${o.id.slice(-2)}`;
}

export class Harness {
  readonly clock = new FakeClock();
  readonly journal = new RecordingJournal();
  readonly engine = new Engine(this.clock, this.journal);

  /** Advances the clock by `ms` and fires what is due. */
  advance(ms: number): void {
    this.clock.t += ms;
    this.engine.tick(this.clock.t);
  }

  /** Moves to T0 + `ms` (absolute) and fires what is due. */
  at(ms: number): void {
    this.clock.t = T0 + ms;
    this.engine.tick(this.clock.t);
  }

  lease(names: string[] | string, timeout: number): Seen {
    const seen: Seen = { value: undefined };
    this.engine.lease(typeof names === 'string' ? [names] : names, timeout, (j) => {
      seen.value = show(j);
    });
    return seen;
  }

  result(n: number, timeout: number): Seen {
    const seen: Seen = { value: undefined };
    this.engine.result(id(n), timeout, (o) => {
      seen.value = show(o);
    });
    return seen;
  }

  run(n: number, over: Fields<NewRunJob> = {}): Seen {
    const seen: Seen = { value: undefined };
    this.engine.run(newRun(n, over), (o) => {
      seen.value = show(o);
    });
    return seen;
  }

  state(n: number): number | undefined {
    return this.engine.inspectJob(id(n))?.state;
  }

  readyIds(name = 'q'): string[] {
    return (this.engine.inspectJobs(name, 0, 100) ?? []).map((j) => j.id.slice(-2));
  }

  scheduledIds(name = 'q'): string[] {
    return (this.engine.inspectScheduledJobs(name, 0, 100) ?? []).map((j) => j.id.slice(-2));
  }
}

/** Last two hex digits of id(n), as `show` prints them. */
export function tag(n: number): string {
  return id(n).slice(-2);
}
