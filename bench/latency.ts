/**
 * Round-trip latency, one request at a time, with a worker on a second connection.
 * Workq: `run` until its reply (the worker leases and completes in between).
 * beanstalkd: `put` until the worker's `delete` is answered (the worker reserves and
 * deletes in between). Both paths carry two client requests and two server replies.
 */
import { performance } from 'node:perf_hooks';
import { type Conversation, Tally, Worker, beanstalkWorker, runLoad, workqWorker } from './loadgen.js';
import type { Protocol, ReplySink } from './scan.js';
import { BEANSTALK_PUT, IdMint, beanstalkUse, workqRun } from './wire.js';

export interface LatencyResult {
  samples: number;
  p50us: number;
  p99us: number;
  errors: number;
}

/** Keeps one round in flight and times it; the first `warm` rounds are not recorded. */
class Rounds {
  private readonly times: Float64Array;
  private n = 0;
  private t0 = 0;

  constructor(
    private readonly warm: number,
    rounds: number,
    private readonly tally: Tally,
  ) {
    this.times = new Float64Array(rounds);
  }

  start(): void {
    this.t0 = performance.now();
  }

  end(): void {
    const t = performance.now() - this.t0;
    if (this.tally.units >= this.warm) this.times[this.n++] = t;
    this.tally.units += 1;
  }

  percentiles(): { p50us: number; p99us: number } {
    const sorted = this.times.slice(0, this.n).sort();
    const at = (q: number): number => (sorted[Math.min(this.n - 1, Math.floor(q * this.n))] ?? Number.NaN) * 1000;
    return { p50us: at(0.5), p99us: at(0.99) };
  }

  get samples(): number {
    return this.n;
  }
}

/** Sends `run` i, waits for its reply, sends `run` i + 1. */
class RunClient implements Conversation, ReplySink {
  readonly protocol: Protocol = 'workq';
  readonly sink: ReplySink = this;
  private readonly mint = new IdMint(0xfff);
  private i = 0;
  private send: (bytes: Buffer) => void = () => undefined;

  constructor(
    private readonly rounds: Rounds,
    private readonly tally: Tally,
    private readonly queue: string,
  ) {}

  begin(send: (bytes: Buffer) => void): void {
    this.send = send;
    this.next();
  }

  private next(): void {
    const request = workqRun(this.mint, this.i++, this.queue);
    this.rounds.start();
    this.send(request);
  }

  job(): void {
    this.rounds.end();
    if (!this.tally.reached) this.next();
  }

  ok(): void {
    this.fail();
  }

  timeout(): void {
    this.fail();
  }

  fail(): void {
    this.tally.errors += 1;
    if (!this.tally.reached) this.next();
  }

  flush(): void {}
}

/** Sends `put`, and the next one when the worker's `delete` of it is answered. */
class PutClient implements Conversation, ReplySink {
  readonly protocol: Protocol = 'beanstalk';
  readonly sink: ReplySink = this;
  private send: (bytes: Buffer) => void = () => undefined;

  constructor(
    private readonly rounds: Rounds,
    private readonly tally: Tally,
    private readonly tube: string,
  ) {}

  begin(send: (bytes: Buffer) => void): void {
    this.send = send;
    send(beanstalkUse(this.tube));
    this.next();
  }

  private next(): void {
    this.rounds.start();
    this.send(BEANSTALK_PUT);
  }

  /** The worker deleted the job: the round is over. */
  deleted(): void {
    this.rounds.end();
    if (!this.tally.reached) this.next();
  }

  ok(): void {}

  job(): void {
    this.fail();
  }

  timeout(): void {
    this.fail();
  }

  fail(): void {
    this.tally.errors += 1;
  }

  flush(): void {}
}

export async function measureLatency(protocol: Protocol, port: number, rounds: number, seconds: number, queue: string): Promise<LatencyResult> {
  const warm = Math.min(1000, Math.floor(rounds / 10));
  const tally = new Tally(rounds + warm);
  const record = new Rounds(warm, rounds, tally);
  const workerTally = new Tally(Number.POSITIVE_INFINITY);
  let conversations: Conversation[];
  if (protocol === 'workq') {
    const client = new RunClient(record, tally, queue);
    conversations = [client, new Worker(workqWorker(queue), 1, workerTally)];
  } else {
    const client = new PutClient(record, tally, queue);
    conversations = [client, new Worker(beanstalkWorker(queue), 1, workerTally, () => client.deleted())];
  }
  const result = await runLoad(port, conversations, tally, seconds);
  return {
    samples: record.samples,
    ...record.percentiles(),
    errors: result.errors + workerTally.errors,
  };
}
