import { randomUUID } from 'node:crypto';
import { ClientError, NotFoundError, ServerStoppingError, TimeoutError, WorkqError } from './errors.js';
import { normalizeAddress, serverFor } from './hashing.js';
import type { ReplyKind, Retried } from './reply-parser.js';
import {
  addCommand,
  deleteCommand,
  finishCommand,
  inspectJobCommand,
  inspectListCommand,
  inspectQueueCommand,
  inspectQueuesCommand,
  inspectServerCommand,
  leaseCommand,
  pauseCommand,
  resultCommand,
  retryCommand,
  retryFailedCommand,
  runCommand,
  scheduleCommand,
  toBuffer,
  touchCommand,
  wireTime,
  type Encoded,
  type ListObject,
} from './requests.js';
import { ServerLink } from './server-link.js';
import type {
  AddOptions,
  ClientOptions,
  JobInfo,
  JobResult,
  LeasedJob,
  ListedState,
  PageOptions,
  Payload,
  QueueInfo,
  RunOptions,
  ServerInfo,
  ServerOption,
  TouchOptions,
} from './types.js';

export const DEFAULT_TTR_MS = 60_000;
export const DEFAULT_TTL_MS = 86_400_000;
export const DEFAULT_RUN_TIMEOUT_MS = 60_000;
const MAX_PAGE = 100;

/**
 * A client of one or several Workq servers. With several, a job lives on the server its
 * ID hashes to (see hashing.ts): add, schedule, run, result, complete, fail, delete and
 * inspectJob go there; lease asks every server; the queue and server inspections are
 * per server when `server` is given and summed or concatenated over all servers when not.
 */
export class WorkqClient {
  /** The normalized `host:port` list, in the order given: never empty. */
  readonly servers: readonly [string, ...string[]];
  private readonly links = new Map<string, ServerLink>();
  /** Jobs a multi-server lease received after it had already returned another one. */
  private stash: Array<{ job: LeasedJob; until: number }> = [];
  private rotation = 0;
  private closing: Promise<void> | null = null;

  constructor(options: ClientOptions) {
    const [first, ...others] = new Set(options.servers.map(normalizeAddress));
    if (first === undefined) throw new RangeError('WorkqClient needs at least one server');
    const servers: [string, ...string[]] = [first, ...others];
    this.servers = servers;
    const connection = {
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      backoffMs: options.backoffMs ?? 50,
      maxBackoffMs: options.maxBackoffMs ?? 2000,
      secret: options.secret ?? null,
      tls: options.tls === undefined || options.tls === false ? null : options.tls === true ? {} : options.tls,
    };
    for (const server of servers) {
      this.links.set(server, new ServerLink(server, connection, options.idleBlockingConnections ?? 4));
    }
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.closing !== null;
  }

  /** Enqueues a background job; resolves to its ID. */
  add(name: string, payload?: Payload, options: AddOptions = {}): Promise<string> {
    const id = options.id ?? randomUUID();
    const command = addCommand(id, name, options.ttrMs ?? DEFAULT_TTR_MS, options.ttlMs ?? DEFAULT_TTL_MS, toBuffer(payload), options);
    return this.send<undefined>(serverFor(this.servers, id), 'ok', command).then(() => id);
  }

  /** Enqueues a job that becomes leasable at `time` (a Date, or the wire's `YYYY-MM-DDTHH:MM:SSZ`); resolves to its ID. */
  schedule(name: string, payload: Payload | undefined, time: Date | string, options: AddOptions = {}): Promise<string> {
    const id = options.id ?? randomUUID();
    const ttr = options.ttrMs ?? DEFAULT_TTR_MS;
    const command = scheduleCommand(id, name, ttr, options.ttlMs ?? DEFAULT_TTL_MS, wireTime(time), toBuffer(payload), options);
    return this.send<undefined>(serverFor(this.servers, id), 'ok', command).then(() => id);
  }

  /** Enqueues a foreground job and waits for a worker to finish it. */
  run(name: string, payload?: Payload, options: RunOptions = {}): Promise<JobResult> {
    const id = options.id ?? randomUUID();
    const timeout = options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
    const command = runCommand(id, name, options.ttrMs ?? DEFAULT_TTR_MS, timeout, toBuffer(payload), options.priority);
    // Not asked again when its server stops (ServerStoppingError): run jobs are not kept across a restart, and a worker may have started it.
    return this.send<JobResult>(serverFor(this.servers, id), 'result', command, timeout > 0);
  }

  /** The job's result, waiting up to `timeoutMs` for it to finish. */
  result(id: string, timeoutMs = 0): Promise<JobResult> {
    return this.waitAcrossStops<JobResult>(serverFor(this.servers, id), 'result', timeoutMs, resultCommand(id, timeoutMs), (left) => resultCommand(id, left));
  }

  /**
   * Takes a job from the first of `names` that has one, waiting up to `timeoutMs`. With
   * several servers and no `server` option it asks every server: first each one without
   * waiting, then all at once with the wait; a job that arrives from a second server
   * after the first one won is kept and returned by the next lease for its queue (its
   * TTR runs meanwhile).
   */
  async lease(names: string | readonly string[], timeoutMs: number, options: ServerOption = {}): Promise<LeasedJob> {
    const list = typeof names === 'string' ? [names] : names;
    const command = leaseCommand(list, timeoutMs);
    if (options.server !== undefined || this.servers.length === 1) {
      const server = options.server ?? this.servers[0];
      return this.waitAcrossStops<LeasedJob>(server, 'lease', timeoutMs, command, (left) => leaseCommand(list, left));
    }
    if (command instanceof WorkqError) throw command;
    return this.leaseFromAll(list, timeoutMs, command);
  }

  /** Completes a job; `server` defaults to where the ID lives (pass `job.server` for a leased job). */
  async complete(id: string, result?: Payload, options: ServerOption = {}): Promise<void> {
    await this.send<undefined>(options.server ?? serverFor(this.servers, id), 'ok', finishCommand('complete', id, toBuffer(result)));
  }

  /** Fails a job; it is retried if its max-fails allows. */
  async fail(id: string, result?: Payload, options: ServerOption = {}): Promise<void> {
    await this.send<undefined>(options.server ?? serverFor(this.servers, id), 'ok', finishCommand('fail', id, toBuffer(result)));
  }

  /**
   * Restarts the TTR clock of the job's running lease (`ttrMs` from now, default the
   * job's TTR); rejects with ClientError `Job not leased` when it is not leased. Pass
   * `job.server` for a leased job, as for complete.
   */
  async touch(id: string, options: TouchOptions = {}): Promise<void> {
    await this.send<undefined>(options.server ?? serverFor(this.servers, id), 'ok', touchCommand(id, options.ttrMs));
  }

  /** Stops leases from taking jobs from the queue, on `server` or on every server; adds still go in. */
  pause(name: string, options: ServerOption = {}): Promise<void> {
    return this.onServers(options, pauseCommand('pause', name));
  }

  /** Lets leases take jobs from a paused queue again, on `server` or on every server. */
  resume(name: string, options: ServerOption = {}): Promise<void> {
    return this.onServers(options, pauseCommand('resume', name));
  }

  async delete(id: string): Promise<void> {
    await this.send<undefined>(serverFor(this.servers, id), 'ok', deleteCommand(id));
  }

  async inspectJob(id: string): Promise<JobInfo> {
    const jobs = await this.send<JobInfo[]>(serverFor(this.servers, id), 'jobs', inspectJobCommand(id));
    const job = jobs[0];
    if (job === undefined) throw new NotFoundError();
    return job;
  }

  /** Ready jobs of a queue; over several servers, each server's window in list order. */
  inspectJobs(name: string, options: PageOptions = {}): Promise<JobInfo[]> {
    return this.inspectList('jobs', name, options);
  }

  /** Scheduled jobs of a queue; over several servers, each server's window in list order. */
  inspectScheduledJobs(name: string, options: PageOptions = {}): Promise<JobInfo[]> {
    return this.inspectList('scheduled-jobs', name, options);
  }

  /**
   * A queue's jobs in one state: `ready` and `scheduled` in queue order as above, or the
   * `leased`, `completed` or `failed` ones (an extension); paged and merged the same way.
   */
  inspectJobsByState(name: string, state: ListedState, options: PageOptions = {}): Promise<JobInfo[]> {
    return this.inspectList(state === 'ready' ? 'jobs' : `${state}-jobs`, name, options);
  }

  /** Starts a FAILED job over: NEW, counters 0, result dropped (ClientError `Job not failed` otherwise). */
  async retry(id: string): Promise<void> {
    await this.send<undefined>(serverFor(this.servers, id), 'ok', retryCommand(id));
  }

  /** Starts every failed job of a queue over, on `server` or on every server that has the queue; resolves to how many. */
  async retryFailed(name: string, options: ServerOption = {}): Promise<number> {
    const command = retryFailedCommand(name);
    const found = await this.eachServer(options, (server) => this.send<Retried>(server, 'retried', command));
    return found.reduce((sum, r) => sum + r.retried, 0);
  }

  /** One queue; over several servers, the lengths summed (NotFound only if no server has it). */
  async inspectQueue(name: string, options: ServerOption = {}): Promise<QueueInfo> {
    const command = inspectQueueCommand(name);
    const found = await this.eachServer(options, (server) => this.send<QueueInfo[]>(server, 'queues', command));
    return mergeQueues(found.flat())[0] as QueueInfo;
  }

  /**
   * Queues sorted by name. Over several servers every server's full list is read, queues
   * of the same name are summed, and the offset/limit window is applied to the merged list.
   */
  async inspectQueues(options: PageOptions = {}): Promise<QueueInfo[]> {
    const offset = options.offset ?? 0;
    const limit = options.limit ?? MAX_PAGE;
    if (options.server !== undefined || this.servers.length === 1) {
      const server = options.server ?? this.servers[0];
      return this.send<QueueInfo[]>(server, 'queues', inspectQueuesCommand(offset, limit));
    }
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new ClientError('Invalid limit');
    if (!Number.isInteger(offset) || offset < 0) throw new ClientError('Invalid cursor offset');
    const lists = await Promise.all(this.servers.map((server) => this.allQueues(server)));
    return mergeQueues(lists.flat()).slice(offset, offset + limit);
  }

  /** `inspect server` of one server: `server`, or the first of the list. */
  inspectServer(options: ServerOption = {}): Promise<ServerInfo> {
    return this.send<ServerInfo>(options.server ?? this.servers[0], 'server', inspectServerCommand());
  }

  /** `inspect server` of every server, in list order. */
  inspectServers(): Promise<ServerInfo[]> {
    return Promise.all(this.servers.map((server) => this.send<ServerInfo>(server, 'server', inspectServerCommand())));
  }

  /**
   * Idempotent. New calls reject at once; calls that answer at once get their replies
   * first; blocking calls in flight (lease, run, result) reject with ConnectionError.
   */
  close(): Promise<void> {
    this.closing ??= Promise.all([...this.links.values()].map((link) => link.close())).then(() => undefined);
    return this.closing;
  }

  private async send<T>(server: string, kind: ReplyKind, command: Encoded, blocking = false): Promise<T> {
    if (command instanceof WorkqError) throw command;
    const link = this.links.get(server) ?? this.links.get(normalizeAddress(server));
    if (link === undefined) throw new ClientError(`Unknown server ${server}`);
    const value = blocking ? await link.callBlocking(kind, command) : await link.call(kind, command);
    return value as T;
  }

  /**
   * A blocking call its server answered `Server stopping` (a restart, docs/protocol.md
   * 12.8) is asked again with `again`, for what is left of its wait, on a new connection:
   * during a hot restart the supervisor holds that connection until the next server serves.
   */
  private async waitAcrossStops<T>(server: string, kind: ReplyKind, timeoutMs: number, first: Encoded, again: (leftMs: number) => Encoded): Promise<T> {
    const until = Date.now() + timeoutMs;
    let command = first;
    for (;;) {
      try {
        return await this.send<T>(server, kind, command, timeoutMs > 0);
      } catch (error) {
        if (!(error instanceof ServerStoppingError)) throw error;
        const left = until - Date.now();
        if (left <= 0) throw new TimeoutError();
        command = again(left);
      }
    }
  }

  private async onServers(options: ServerOption, command: Encoded): Promise<void> {
    const servers = options.server !== undefined ? [options.server] : this.servers;
    await Promise.all(servers.map((server) => this.send<undefined>(server, 'ok', command)));
  }

  private async inspectList(what: ListObject, name: string, options: PageOptions): Promise<JobInfo[]> {
    const command = inspectListCommand(what, name, options.offset ?? 0, options.limit ?? MAX_PAGE);
    const found = await this.eachServer(options, (server) => this.send<JobInfo[]>(server, 'jobs', command));
    return found.flat();
  }

  /** Runs `ask` on `options.server`, or on every server keeping the answers of those that know the thing asked for. */
  private async eachServer<T>(options: ServerOption, ask: (server: string) => Promise<T>): Promise<T[]> {
    if (options.server !== undefined) return [await ask(options.server)];
    const settled = await Promise.allSettled(this.servers.map(ask));
    const found: T[] = [];
    for (const outcome of settled) {
      if (outcome.status === 'fulfilled') found.push(outcome.value);
      else if (!(outcome.reason instanceof NotFoundError)) throw outcome.reason;
    }
    if (found.length === 0) throw new NotFoundError();
    return found;
  }

  private async allQueues(server: string): Promise<QueueInfo[]> {
    const all: QueueInfo[] = [];
    for (;;) {
      const page = await this.send<QueueInfo[]>(server, 'queues', inspectQueuesCommand(all.length, MAX_PAGE));
      all.push(...page);
      if (page.length < MAX_PAGE) return all;
    }
  }

  private async leaseFromAll(names: readonly string[], timeoutMs: number, waitCommand: Buffer[]): Promise<LeasedJob> {
    const kept = this.takeStashed(names);
    if (kept !== null) return kept;
    const started = Date.now();
    const order = this.rotated();
    const poll = leaseCommand(names, 0) as Buffer[];
    const errors: unknown[] = [];
    for (const server of order) {
      try {
        return await this.send<LeasedJob>(server, 'lease', poll);
      } catch (error) {
        errors.push(error);
      }
    }
    const remaining = Math.max(0, timeoutMs - (Date.now() - started));
    if (remaining === 0) throw leaseFailure(errors);
    const command = remaining === timeoutMs ? waitCommand : (leaseCommand(names, remaining) as Buffer[]);
    return new Promise((resolve, reject) => {
      let won = false;
      let left = order.length;
      const waitErrors: unknown[] = [];
      for (const server of order) {
        this.send<LeasedJob>(server, 'lease', command, true).then(
          (job) => {
            left -= 1;
            if (won) this.stash.push({ job, until: Date.now() + job.ttrMs });
            else {
              won = true;
              resolve(job);
            }
          },
          (error: unknown) => {
            left -= 1;
            waitErrors.push(error);
            if (left === 0 && !won) reject(leaseFailure(waitErrors));
          },
        );
      }
    });
  }

  private takeStashed(names: readonly string[]): LeasedJob | null {
    const now = Date.now();
    this.stash = this.stash.filter((entry) => entry.until > now);
    const index = this.stash.findIndex((entry) => names.includes(entry.job.name));
    if (index < 0) return null;
    const [entry] = this.stash.splice(index, 1);
    return (entry as { job: LeasedJob }).job;
  }

  /** The servers starting one further along each time, so no server is always asked first. */
  private rotated(): string[] {
    const start = this.rotation++ % this.servers.length;
    return [...this.servers.slice(start), ...this.servers.slice(0, start)];
  }
}

/** A timeout if any server simply had nothing; otherwise the first real error. */
function leaseFailure(errors: readonly unknown[]): Error {
  if (errors.some((error) => error instanceof TimeoutError)) return new TimeoutError();
  const first = errors[0];
  // Connections reject with Errors only; anything else would not say more than the timeout.
  return first instanceof Error ? first : new TimeoutError();
}

function mergeQueues(queues: readonly QueueInfo[]): QueueInfo[] {
  const byName = new Map<string, { name: string; readyLen: number; scheduledLen: number; paused: boolean }>();
  for (const queue of queues) {
    const seen = byName.get(queue.name);
    if (seen === undefined) byName.set(queue.name, { ...queue });
    else {
      seen.readyLen += queue.readyLen;
      seen.scheduledLen += queue.scheduledLen;
      seen.paused ||= queue.paused;
    }
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A client of `servers`: one address, a comma-separated list, or an array. */
export function connect(servers: string | readonly string[], options: Omit<ClientOptions, 'servers'> = {}): WorkqClient {
  const list = typeof servers === 'string' ? servers.split(',').filter((s) => s.trim() !== '') : servers;
  return new WorkqClient({ ...options, servers: list });
}
