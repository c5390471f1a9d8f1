import type { WorkqClient } from './client.js';
import { TimeoutError } from './errors.js';
import type { LeasedJob, Payload } from './types.js';

/**
 * A lease–handle–complete loop. Each server of the client gets its own loop, so a worker
 * takes jobs from all of them; a loop leases only while a slot is free, so at most
 * `concurrency` jobs run (and at most that many leases wait) at any time.
 */

export interface JobContext {
  /** Aborts when the job's TTR runs out: the server then hands the job to someone else. */
  readonly signal: AbortSignal;
}

export type Handler = (job: LeasedJob, context: JobContext) => Promise<Payload | undefined | void> | Payload | undefined | void;

export interface WorkerOptions {
  /** Jobs handled at once; default 1. */
  concurrency?: number;
  /** Wait-timeout of each lease; close() may wait this long for the leases in flight. Default 1000. */
  leaseTimeoutMs?: number;
  /** Told about errors the worker survives: failed leases, complete/fail that did not go through. */
  onError?: (error: unknown, job: LeasedJob | null) => void;
}

export interface Worker {
  /** Jobs whose handler is running. */
  readonly running: number;
  /** Idempotent: stops leasing, waits for the leases in flight and for every running job to be reported. */
  close(): Promise<void>;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2000;

export function worker(client: WorkqClient, names: string | readonly string[], handler: Handler, options: WorkerOptions = {}): Worker {
  const queues = typeof names === 'string' ? [names] : [...names];
  const leaseTimeoutMs = options.leaseTimeoutMs ?? 1000;
  const slots = new Slots(Math.max(1, options.concurrency ?? 1));
  const report = options.onError ?? (() => undefined);
  const jobs = new Set<Promise<void>>();
  let stopping = false;
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    wake = resolve;
  });

  async function execute(job: LeasedJob): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('job TTR ran out', 'TimeoutError')), job.ttrMs);
    let value: unknown;
    let failure: unknown = null;
    let failed = false;
    try {
      value = await handler(job, { signal: controller.signal });
    } catch (error) {
      failed = true;
      failure = error;
    } finally {
      clearTimeout(timer);
    }
    try {
      if (!failed) await client.complete(job.id, asPayload(value), { server: job.server });
      // After the TTR the server has already requeued or failed the job; a late failure would only disturb that.
      else if (!controller.signal.aborted) await client.fail(job.id, failureText(failure), { server: job.server });
    } catch (error) {
      report(error, job);
    }
  }

  function start(job: LeasedJob): void {
    const done = execute(job).finally(() => {
      jobs.delete(done);
      slots.release();
    });
    jobs.add(done);
  }

  async function loop(server: string): Promise<void> {
    let backoff = 0;
    while (!stopping && !client.closed) {
      await slots.acquire();
      if (stopping || client.closed) {
        slots.release();
        return;
      }
      let job: LeasedJob;
      try {
        job = await client.lease(queues, leaseTimeoutMs, { server });
      } catch (error) {
        slots.release();
        if (error instanceof TimeoutError) {
          backoff = 0;
          continue;
        }
        if (stopping || client.closed) return;
        report(error, null);
        backoff = Math.min(Math.max(MIN_BACKOFF_MS, backoff * 2), MAX_BACKOFF_MS);
        await Promise.race([sleep(backoff), stopped]);
        continue;
      }
      backoff = 0;
      start(job);
    }
  }

  const loops = Promise.all(client.servers.map(loop));
  let closing: Promise<void> | null = null;

  return {
    get running() {
      return jobs.size;
    },
    close() {
      if (closing === null) {
        stopping = true;
        wake();
        slots.cancelWaiters();
        closing = loops.then(async () => {
          while (jobs.size > 0) await Promise.all(jobs);
        });
      }
      return closing;
    },
  };
}

function asPayload(value: unknown): Payload | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || Buffer.isBuffer(value)) return value;
  return String(value);
}

function failureText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** A counting semaphore handing free slots out in request order. */
class Slots {
  private readonly waiters: Array<() => void> = [];

  constructor(private free: number) {}

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next !== undefined) next();
    else this.free += 1;
  }

  /** Lets every waiter through; they see the worker stopping and give their slot back. */
  cancelWaiters(): void {
    for (const waiter of this.waiters.splice(0)) {
      this.free -= 1;
      waiter();
    }
  }
}
