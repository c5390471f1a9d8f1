import type { WorkqClient } from './client.js';
import { ClientError, NotFoundError, TimeoutError } from './errors.js';
import type { LeasedJob, Payload } from './types.js';

/**
 * A lease–handle–complete loop. Each server of the client gets its own loop, so a worker
 * takes jobs from all of them; a loop leases only while a slot is free, so at most
 * `concurrency` jobs run (and at most that many leases wait) at any time.
 */

export interface JobContext {
  /**
   * Aborts when the job's lease has ended: the server then hands the job to someone
   * else. With lease extension on (the default), only when an extension failed.
   */
  readonly signal: AbortSignal;
}

export type Handler = (job: LeasedJob, context: JobContext) => Promise<Payload | undefined | void> | Payload | undefined | void;

export interface WorkerOptions {
  /** Jobs handled at once; default 1. */
  concurrency?: number;
  /** Wait-timeout of each lease; close() may wait this long for the leases in flight. Default 1000. */
  leaseTimeoutMs?: number;
  /** Told about errors the worker survives: failed leases, extensions and complete/fail that did not go through. */
  onError?: (error: unknown, job: LeasedJob | null) => void;
  /**
   * Extend the lease (`touch`) while a handler runs: at half its TTR, then at half of
   * each extension. Default true. A server's command log holding a touch can no longer
   * be replayed by the original Workq server (docs/protocol-extensions.md).
   */
  extendLease?: boolean;
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
    const lease = new LeaseKeeper(client, job, controller, options.extendLease ?? true, report);
    let value: Payload | undefined;
    let failure: unknown = null;
    let failed = false;
    try {
      value = asPayload(await handler(job, { signal: controller.signal }));
    } catch (error) {
      failed = true;
      failure = error;
    } finally {
      lease.stop();
    }
    try {
      if (!failed) await client.complete(job.id, value, { server: job.server });
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

/**
 * The result a handler returned, as the job's result. Handlers written in JavaScript may
 * return any value: other bytes are sent as they are, numbers, booleans, objects and arrays
 * as their JSON text (never as "[object Object]"); a value JSON cannot encode throws, which
 * fails the job with the reason.
 */
function asPayload(value: unknown): Payload | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError(`the handler returned a ${typeof value}, which is not a job result (a string, a Buffer or a JSON value)`);
  return json;
}

function failureText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Keeps one leased job's lease alive while its handler runs, and aborts the handler's
 * signal when the lease has ended by this worker's clock. The lease is taken to end one
 * TTR after the lease (or the last successful touch) was sent, never later than the
 * server's own end. A touch the server refuses (the job is no longer leased or gone)
 * aborts at once; a touch that did not get through is tried again halfway to the end.
 */
class LeaseKeeper {
  private endsAt: number;
  private abortTimer: NodeJS.Timeout;
  private extendTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly client: WorkqClient,
    private readonly job: LeasedJob,
    private readonly controller: AbortController,
    extend: boolean,
    private readonly report: (error: unknown, job: LeasedJob | null) => void,
  ) {
    this.endsAt = Date.now() + job.ttrMs;
    this.abortTimer = setTimeout(this.abort, job.ttrMs);
    if (extend) this.extendTimer = setTimeout(this.extend, job.ttrMs / 2);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.abortTimer);
    if (this.extendTimer !== null) clearTimeout(this.extendTimer);
  }

  private readonly abort = (): void => {
    this.stop();
    this.controller.abort(new DOMException('job lease ended', 'TimeoutError'));
  };

  private lost(error: unknown): void {
    this.stop();
    this.controller.abort(new DOMException(`job lease lost: ${error instanceof Error ? error.message : String(error)}`, 'TimeoutError'));
  }

  private readonly extend = (): void => {
    this.extendTimer = null;
    const sentAt = Date.now();
    this.client.touch(this.job.id, { server: this.job.server }).then(
      () => {
        if (this.stopped) return;
        this.endsAt = sentAt + this.job.ttrMs;
        clearTimeout(this.abortTimer);
        this.abortTimer = setTimeout(this.abort, this.endsAt - Date.now());
        this.extendTimer = setTimeout(this.extend, Math.max(0, sentAt + this.job.ttrMs / 2 - Date.now()));
      },
      (error: unknown) => {
        if (this.stopped) return;
        this.report(error, this.job);
        if (error instanceof ClientError || error instanceof NotFoundError) this.lost(error);
        else this.extendTimer = setTimeout(this.extend, Math.max(0, (this.endsAt - Date.now()) / 2));
      },
    );
  };
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
