/**
 * The load generator: raw sockets, N connections each keeping P requests in flight,
 * requests pre-encoded (wire.ts), replies counted by byte scanning (scan.ts). A load is
 * bounded by a target count of units and by a deadline, whichever comes first.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { type Protocol, type ReplySink, scannerFor } from './scan.js';
import type { RequestSource } from './wire.js';

/** Shared progress of one load. A unit is what the workload counts (an add, a cycle). */
export class Tally {
  units = 0;
  errors = 0;
  timeouts = 0;
  stopped = false;
  constructor(readonly target: number) {}

  get reached(): boolean {
    return this.units + this.errors >= this.target;
  }
}

/** One connection's part of a load: it writes through `send` and is fed every reply chunk. */
export interface Conversation {
  readonly protocol: Protocol;
  begin(send: (bytes: Buffer) => void): void;
  sink: ReplySink;
  /** Called after each chunk was scanned, to write what the replies made necessary. */
  flush(): void;
}

/** Grows as needed; one copy per flush, so replies of one chunk cost one write. */
export class Staging {
  private bytes = Buffer.allocUnsafe(16384);
  length = 0;

  put(src: Buffer, from = 0, to = src.length): void {
    const n = to - from;
    if (this.length + n > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.length + n));
      this.bytes.copy(bigger, 0, 0, this.length);
      this.bytes = bigger;
    }
    src.copy(this.bytes, this.length, from, to);
    this.length += n;
  }

  take(): Buffer | null {
    if (this.length === 0) return null;
    const out = Buffer.from(this.bytes.subarray(0, this.length));
    this.length = 0;
    return out;
  }
}

/**
 * Open-loop pipelined sender: keeps `depth` requests of `source` in flight; every
 * success is a unit of `tally`. `setup` is sent first and its `setupReplies` are not
 * counted.
 */
export class Pipeline implements Conversation, ReplySink {
  private sent = 0;
  private inflight = 0;
  private send: (bytes: Buffer) => void = () => undefined;
  readonly sink: ReplySink = this;

  constructor(
    readonly protocol: Protocol,
    private readonly source: RequestSource,
    private readonly depth: number,
    private readonly tally: Tally,
    private readonly setup: Buffer | null = null,
    private setupReplies = 0,
  ) {}

  begin(send: (bytes: Buffer) => void): void {
    this.send = send;
    if (this.setup) send(this.setup);
    this.flush();
  }

  ok(): void {
    if (this.setupReplies > 0) {
      this.setupReplies -= 1;
      return;
    }
    this.inflight -= 1;
    this.tally.units += 1;
  }

  job(): void {
    this.inflight -= 1;
    this.tally.units += 1;
  }

  timeout(): void {
    this.inflight -= 1;
    this.tally.timeouts += 1;
  }

  fail(): void {
    if (this.setupReplies > 0) this.setupReplies -= 1;
    else this.inflight -= 1;
    this.tally.errors += 1;
  }

  flush(): void {
    if (this.tally.stopped) return;
    const n = Math.min(this.depth - this.inflight, this.source.count - this.sent);
    if (n <= 0) return;
    this.send(this.source.slice(this.sent, n));
    this.sent += n;
    this.inflight += n;
  }
}

/** How a worker asks for a job and acknowledges one, in each protocol. */
export interface WorkerWire {
  readonly protocol: Protocol;
  readonly setup: Buffer | null;
  readonly setupReplies: number;
  /** Ask for the next job (lease / reserve-with-timeout). */
  readonly ask: Buffer;
  /** Append the acknowledgement of job `id` (complete / delete). */
  ack(out: Staging, id: Buffer, idLen: number): void;
}

const COMPLETE_HEAD = Buffer.from('complete ');
const COMPLETE_TAIL = Buffer.from(' 0\r\n\r\n');
const DELETE_HEAD = Buffer.from('delete ');
const CRLF = Buffer.from('\r\n');

export function workqWorker(queue: string): WorkerWire {
  return {
    protocol: 'workq',
    setup: null,
    setupReplies: 0,
    ask: Buffer.from(`lease ${queue} 1000\r\n`),
    ack(out, id, idLen) {
      out.put(COMPLETE_HEAD);
      out.put(id, 0, idLen);
      out.put(COMPLETE_TAIL);
    },
  };
}

export function beanstalkWorker(tube: string): WorkerWire {
  return {
    protocol: 'beanstalk',
    setup: Buffer.from(`watch ${tube}\r\nignore default\r\n`),
    setupReplies: 2,
    ask: Buffer.from('reserve-with-timeout 1\r\n'),
    ack(out, id, idLen) {
      out.put(DELETE_HEAD);
      out.put(id, 0, idLen);
      out.put(CRLF);
    },
  };
}

/**
 * A worker keeping `depth` job requests outstanding: each job received is acknowledged
 * and asked for again in the same write; each acknowledgement is a unit of `tally`.
 */
export class Worker implements Conversation, ReplySink {
  readonly protocol: Protocol;
  readonly sink: ReplySink = this;
  private readonly out = new Staging();
  private setupReplies: number;
  private send: (bytes: Buffer) => void = () => undefined;

  constructor(
    private readonly wire: WorkerWire,
    private readonly depth: number,
    private readonly tally: Tally,
    private readonly onAck: (() => void) | null = null,
  ) {
    this.protocol = wire.protocol;
    this.setupReplies = wire.setupReplies;
  }

  begin(send: (bytes: Buffer) => void): void {
    this.send = send;
    if (this.wire.setup) this.out.put(this.wire.setup);
    for (let i = 0; i < this.depth; i++) this.out.put(this.wire.ask);
    this.flush();
  }

  ok(): void {
    if (this.setupReplies > 0) {
      this.setupReplies -= 1;
      return;
    }
    this.tally.units += 1;
    if (this.onAck) this.onAck();
  }

  job(id: Buffer, idLen: number): void {
    this.wire.ack(this.out, id, idLen);
    if (!this.tally.stopped) this.out.put(this.wire.ask);
  }

  timeout(): void {
    this.tally.timeouts += 1;
    if (!this.tally.stopped) this.out.put(this.wire.ask);
  }

  fail(): void {
    if (this.setupReplies > 0) this.setupReplies -= 1;
    this.tally.errors += 1;
  }

  flush(): void {
    const bytes = this.out.take();
    if (bytes) this.send(bytes);
  }
}

export interface LoadResult {
  units: number;
  errors: number;
  timeouts: number;
  seconds: number;
  perSecond: number;
  /** The server closed a connection before the load ended. */
  closedEarly: boolean;
}

/** Opens one load connection to `port`, resolving once it can carry requests. */
export type Dial = (port: number) => Promise<net.Socket>;

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * Runs conversations against the server on `port` until `tally` reaches its target or
 * `seconds` pass. Connections are opened before the clock starts; the clock stops at
 * the reply that reaches the target.
 */
export async function runLoad(port: number, conversations: Conversation[], tally: Tally, seconds: number, dial: Dial = connect): Promise<LoadResult> {
  const sockets = await Promise.all(conversations.map(() => dial(port)));
  return new Promise((resolve, reject) => {
    let started = 0;
    let settled = false;
    let closedEarly = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      const elapsed = (performance.now() - started) / 1000;
      tally.stopped = true;
      clearTimeout(timer);
      for (const s of sockets) s.destroy();
      resolve({
        units: tally.units,
        errors: tally.errors,
        timeouts: tally.timeouts,
        seconds: elapsed,
        perSecond: tally.units / elapsed,
        closedEarly,
      });
    };
    const timer = setTimeout(finish, seconds * 1000);
    conversations.forEach((conv, i) => {
      const socket = sockets[i]!;
      const scanner = scannerFor(conv.protocol, conv.sink);
      socket.on('data', (chunk: Buffer) => {
        scanner.feed(chunk);
        if (tally.reached) finish();
        else conv.flush();
      });
      socket.on('error', (err) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          for (const s of sockets) s.destroy();
          reject(err);
        }
      });
      socket.on('close', () => {
        if (settled) return;
        closedEarly = true;
        finish();
      });
    });
    started = performance.now();
    conversations.forEach((conv, i) => {
      const socket = sockets[i]!;
      conv.begin((bytes) => socket.write(bytes));
    });
  });
}
