import type { Socket } from 'node:net';
import type { Job } from '../jobs/job.js';
import type { Cancel, CommandTarget, EngineError, RunOutcome } from '../jobs/types.js';
import { formatUtcSeconds } from '../protocol/calendar.js';
import { decode } from '../protocol/decode.js';
import { AUTH } from '../protocol/commands.js';
import { JOB_REPLY_OVERHEAD, jobsReplyBound, queuesReplyBound, ReplyWriter } from '../protocol/replies.js';
import { MAX_BLOCK_SIZE, Parser } from '../protocol/parser.js';
import type { Frame } from '../protocol/frame.js';
import type { ClientError, ParserSink, Request } from '../protocol/types.js';
import { SERVER_ERROR_TEXT, SERVER_KEY } from '../protocol/vocabulary.js';
import type { SecretCheck } from './auth.js';
import { lingeringClose } from './linger.js';
import { readChunks } from './socket-reads.js';
import type { ReplyBudget, ReplyWaiter } from './reply-budget.js';
import { writeEngineError, writeFinished } from './outcomes.js';
import { commandIndex, NO_COMMAND, Outcome, type ServerStats } from './stats.js';

/** What a connection needs of the server around it. */
export interface ConnectionHost {
  readonly engine: CommandTarget;
  /** Null when the server keeps everything in memory only. */
  readonly log: DurableLog | null;
  readonly startedAt: number;
  /** Null: no secret, every connection may run every command (docs/protocol.md 12.5). */
  readonly auth: SecretCheck | null;
  /** 0: connections are never closed for being idle. */
  readonly idleTimeoutMs: number;
  /** With a secret, how long a connection may stay unauthenticated; 0 for ever. */
  readonly authTimeoutMs: number;
  /** Reply bytes held by all the connections, against the server-wide bound. */
  readonly replies: ReplyBudget;
  readonly stats: ServerStats;
  readonly version: string;
  uptimeSeconds(): number;
  activeClients(): number;
  /** Called after every batch of work, so the deadline timer follows new deadlines. */
  afterWork(): void;
  forget(connection: Connection): void;
}

/** The part of the command log a connection uses to hold replies until their records are written. */
export interface DurableLog {
  readonly lastSeq: number;
  readonly readOnly: boolean;
  whenDurable(seq: number, cb: () => void): void;
}

/** An item that arrived behind a waiting command: a frame, a framing error, or the end of the framing. */
type Backlogged = Frame | ClientError | typeof CLOSE;
/** The commands that may wait. */
type WaitRequest = Extract<Request, { kind: 'lease' | 'result' | 'run' }>;
const CLOSE = Symbol('close');

/**
 * Bounds on what one client can make the server hold (docs/protocol.md 2: never unbounded
 * memory for one connection). Commands queued behind a waiting one are counted in
 * number and in block bytes; replies in bytes, from the moment they are built until the
 * socket has sent them. Past a bound the connection stops reading, and past the reply
 * bound it also stops executing until the client takes its replies. The server bounds the
 * reply bytes of all its connections together too (ReplyBudget): while it is at that bound,
 * a connection that holds replies neither reads nor executes until its socket took them all,
 * and a reply that may be large (a listing, a job's payload or result) is built only when it
 * fits under the bound (or nothing is held anywhere); until then its connection neither
 * reads nor executes.
 */
const BACKLOG_MAX_COMMANDS = 1024;
const BACKLOG_MAX_BYTES = 2 * 1_058_576;
const REPLIES_MAX_BYTES = 4 * 1024 * 1024;
/** The largest reply one job makes in a lease or result: a payload or result is a block. */
const MAX_JOB_REPLY = MAX_BLOCK_SIZE + JOB_REPLY_OVERHEAD;

/**
 * One client connection: feeds the push parser, executes commands strictly one after
 * another (a waiting lease/run/result holds back the rest, so replies leave in request order), and sends all
 * replies produced by one read in one write — once the log records they depend on are
 * written (the durability contract).
 */
export class Connection implements ParserSink, ReplyWaiter {
  private readonly parser = new Parser(this);
  private readonly out = new ReplyWriter();
  private readonly backlog: Backlogged[] = [];
  /** The cancel function of the command this connection waits on, or WAITING before the engine returned it. */
  private waiting: Cancel | typeof WAITING | null = null;
  /** True while inside an engine call, so a callback knows it was called synchronously. */
  private calling = false;
  /** Log sequence number the replies taken so far depend on. */
  private needSeq = 0;
  /** The command this connection waits on is a lease. */
  private leasing = false;
  private closing = false;
  private ended = false;
  private paused = false;
  private backlogBytes = 0;
  /** Replies taken from the writer and not yet handed to the socket (waiting for the log), oldest first, and their bytes. */
  private readonly held: Buffer[] = [];
  private heldBytes = 0;
  /** This connection's share of the server's ReplyBudget.held. */
  private replyShare = 0;
  /** Waiting in the ReplyBudget for room for the reply of the command at the head of the backlog. */
  private awaitingRoom = false;
  /** Bytes that reply may take. */
  replyNeed = 0;
  /** A resume is scheduled with setImmediate. */
  private resumeQueued = false;
  private authenticated: boolean;
  /** Row in the command counts of the command being answered. */
  private commandRow = NO_COMMAND;
  /** performance.now() when a lease began to wait, 0 while it has not. */
  private leaseWaitFrom = 0;
  /** Closes the connection if it has not authenticated in time; null once it has (or without a secret). */
  private authTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly host: ConnectionHost,
  ) {
    readChunks(socket, this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
    socket.on('drain', this.onDrain);
    this.authenticated = host.auth === null;
    // One timer per connection, not per command: an unauthenticated socket must not hold a client slot for ever.
    if (!this.authenticated && host.authTimeoutMs > 0) this.authTimer = setTimeout(this.onAuthTimeout, host.authTimeoutMs).unref();
    if (host.idleTimeoutMs > 0) {
      socket.setTimeout(host.idleTimeoutMs);
      socket.on('timeout', this.onIdle);
    }
  }

  /**
   * Graceful stop: no more reading, no more waiting; replies already owed are sent, then
   * the socket ends. A lease, run or result still waiting is answered `-SERVER-ERROR
   * Server stopping` (docs/protocol.md 12.8): a lease took no job and a result can be
   * asked for again on the next server. Commands queued behind it are not run.
   */
  shutdown(): void {
    if (this.closing) return;
    this.closing = true;
    if (this.waiting !== null) {
      this.cancelWait();
      this.leasing = false;
      this.out.stopping();
    }
    this.backlog.length = 0;
    this.finish();
  }

  /** Cuts the connection off at once (a client that does not take its last replies). */
  destroy(): void {
    this.socket.destroy();
  }

  // ParserSink

  command(frame: Frame): void {
    if (this.mustDefer()) this.defer(frame.keep());
    else this.execute(frame);
  }

  error(error: ClientError): void {
    this.host.stats.commands.count(NO_COMMAND, Outcome.ClientError);
    if (this.mustDefer()) this.defer(error);
    else this.out.clientError(error);
  }

  close(error: ClientError | null): void {
    if (error !== null) this.host.stats.commands.count(NO_COMMAND, Outcome.ClientError);
    if (this.mustDefer()) {
      if (error !== null) this.defer(error);
      this.defer(CLOSE);
      return;
    }
    if (error !== null) this.out.clientError(error);
    this.closeAfterReplies();
  }

  // socket events

  private readonly onData = (chunk: Buffer): void => {
    if (this.closing) return;
    this.parser.feed(chunk);
    this.flush();
    this.continueLater();
    this.host.afterWork();
  };

  private readonly onEnd = (): void => {
    if (this.closing) return;
    this.ended = true;
    // A worker killed while its lease waits only sends FIN: hand it no job it can never
    // complete (it would stay leased for a whole TTR). The lease answers -TIMEOUT, as if
    // its wait had run out, and whatever the client sent before leaving still runs.
    if (this.leasing) {
      this.cancelWait();
      this.onLeased(null);
    }
    this.parser.end();
    if (this.waiting === null && this.backlog.length === 0) this.closeAfterReplies();
    this.flush();
    this.host.afterWork();
  };

  private readonly onClose = (): void => {
    this.closing = true;
    this.cancelWait();
    this.backlog.length = 0;
    this.shareReplies();
    if (this.awaitingRoom) this.host.replies.leave(this);
    this.stopAuthTimer();
    this.host.forget(this);
  };

  private readonly onError = (): void => {
    this.socket.destroy();
  };

  private readonly onDrain = (): void => {
    this.resume();
  };

  replyRoom(): void {
    this.awaitingRoom = false;
    this.resume();
  }

  /** A write reached the kernel: this connection holds less, and may go on if it was held back only by that. */
  private readonly onWritten = (): void => {
    this.shareReplies();
    if ((!this.paused && this.backlog.length === 0) || this.closing || this.awaitingRoom || this.outputFull()) return;
    if (this.backlog.length > 0) this.continueLater();
    else this.resumeReading();
  };

  /** Socket activity (a read or a finished write) re-arms the timer, so a waiting command's reply does too. */
  private readonly onIdle = (): void => {
    if (this.closing || this.waiting !== null) return;
    this.out.serverError(SERVER_ERROR_TEXT.idleTimeout);
    this.host.stats.idleTimeouts++;
    this.closeAfterReplies();
  };

  private readonly onAuthTimeout = (): void => {
    this.authTimer = null;
    if (this.closing || this.authenticated) return;
    this.backlog.length = 0;
    this.out.serverError(SERVER_ERROR_TEXT.authTimeout);
    this.host.stats.authTimeouts++;
    this.closeAfterReplies();
  };

  private stopAuthTimer(): void {
    if (this.authTimer === null) return;
    clearTimeout(this.authTimer);
    this.authTimer = null;
  }

  // execution

  /** Order: nothing overtakes what is queued; a waiting command or too many unsent replies hold the rest back. */
  private mustDefer(): boolean {
    return this.waiting !== null || this.backlog.length > 0 || this.awaitingRoom || this.outputFull();
  }

  private replyBytes(): number {
    return this.out.length + this.heldBytes + this.socket.writableLength;
  }

  /** Too many reply bytes not yet taken: this connection's own bound, or the server's while this connection holds some. */
  private outputFull(): boolean {
    const mine = this.replyBytes();
    return mine >= REPLIES_MAX_BYTES || this.host.replies.mustWait(mine, this.replyShare);
  }

  /** Brings this connection's share of the server's held reply bytes up to date; a closed socket holds none. */
  private shareReplies(): void {
    const mine = this.socket.destroyed ? 0 : this.replyBytes();
    this.host.replies.share(mine, this.replyShare);
    this.replyShare = mine;
    // It may have stopped on replies it had just built, which its socket then took at once: `held` never went down.
    if (this.awaitingRoom) this.host.replies.recheck();
  }

  private defer(item: Backlogged): void {
    this.backlog.push(item);
    if (typeof item === 'object' && item.block !== null) this.backlogBytes += item.blockLength;
    if (this.paused) return;
    if (this.backlog.length >= BACKLOG_MAX_COMMANDS || this.backlogBytes >= BACKLOG_MAX_BYTES) this.pauseReading();
    else if (this.host.replies.mustWait(this.replyBytes(), this.replyShare)) {
      this.host.replies.waits++;
      this.pauseReading();
    }
  }

  /**
   * Whether this connection may build a reply of up to `size` bytes now (ReplyBudget.fits).
   * If not, it stops reading and waits for room; the caller puts its command back.
   */
  private roomFor(size: number): boolean {
    if (this.host.replies.fits(size, this.replyBytes(), this.replyShare)) return true;
    this.awaitingRoom = true;
    this.replyNeed = size;
    this.host.replies.wait(this);
    this.pauseReading();
    return false;
  }

  /**
   * Room for the reply a lease or result gets now, if any. Any job fits far from the bound
   * (one comparison); near it, the engine says which payload or result would be sent. A
   * reply that comes later, once the command waited, needs no room: the job is handed over.
   */
  private roomForJob(request: Extract<Request, { kind: 'lease' | 'result' }>): boolean {
    const { engine, replies } = this.host;
    if (replies.fits(MAX_JOB_REPLY, this.replyBytes(), this.replyShare)) return true;
    const bytes = request.kind === 'lease' ? engine.readyPayloadLength(request.names) : (engine.inspectJob(request.id)?.result?.length ?? 0);
    return this.roomFor(bytes + JOB_REPLY_OVERHEAD);
  }

  private execute(frame: Frame): void {
    const command = commandIndex(frame.spec);
    if (!this.authenticated && frame.spec !== AUTH) {
      this.out.clientError('authentication-required');
      this.host.stats.commands.count(command, Outcome.ClientError);
      this.host.stats.authRequired++;
      return;
    }
    const log = this.host.log;
    if (frame.spec.mutating && log !== null && log.readOnly) {
      this.out.readOnly();
      this.host.stats.commands.count(command, Outcome.ReadOnly);
      return;
    }
    const request = decode(frame);
    if (request.kind === 'error') {
      this.out.clientError(request.error);
      this.host.stats.commands.count(command, Outcome.ClientError);
    } else {
      this.commandRow = command;
      if (!this.dispatch(request)) {
        // Put off for reply room before it did anything, so there is no record to wait for.
        this.backlog.unshift(frame.keep());
        if (frame.block !== null) this.backlogBytes += frame.blockLength;
        return;
      }
    }
    if (frame.spec.mutating && log !== null) this.needSeq = log.lastSeq;
  }

  /** Runs one decoded command; false when a reply that may be large found no room and the command must wait (roomFor). */
  private dispatch(request: Request): boolean {
    const { engine } = this.host;
    const out = this.out;
    switch (request.kind) {
      case 'add':
        this.replyOk(engine.add(request));
        return true;
      case 'schedule':
        this.replyOk(engine.schedule(request));
        return true;
      case 'complete':
        this.replyOk(engine.complete(request.id, request.result));
        return true;
      case 'fail':
        this.replyOk(engine.fail(request.id, request.result));
        return true;
      case 'delete':
        this.replyOk(request.valid ? engine.delete(request.id) : null);
        return true;
      case 'touch':
        this.replyOk(engine.touch(request.id, request.ttr));
        return true;
      case 'pause':
        this.replyOk(engine.pause(request.name, request.paused));
        return true;
      case 'retry':
        this.replyOk(engine.retryFailed(request.id));
        return true;
      case 'retry-failed': {
        const count = engine.retryAllFailed(request.name);
        if (count === null) this.notFound();
        else {
          out.retried(request.name, count);
          this.counted(Outcome.Ok);
        }
        return true;
      }
      case 'lease':
      case 'result':
        if (!this.roomForJob(request)) return false;
        this.waitOn(request);
        return true;
      case 'run':
        // Answered at once only with a short error; its result comes when a worker sends it.
        this.waitOn(request);
        return true;
      case 'inspect-job': {
        const job = engine.inspectJob(request.id);
        if (job === null) this.notFound();
        else {
          const list = [job];
          if (!this.roomFor(jobsReplyBound(list))) return false;
          out.jobs(list);
          this.counted(Outcome.Ok);
        }
        return true;
      }
      case 'inspect-jobs':
      case 'inspect-scheduled-jobs': {
        const jobs =
          request.kind === 'inspect-jobs'
            ? engine.inspectJobs(request.name, request.offset, request.limit)
            : engine.inspectScheduledJobs(request.name, request.offset, request.limit);
        if (jobs === null) this.notFound();
        else {
          if (!this.roomFor(jobsReplyBound(jobs))) return false;
          out.jobs(jobs);
          this.counted(Outcome.Ok);
        }
        return true;
      }
      case 'inspect-state-jobs': {
        const jobs = engine.inspectStateJobs(request.name, request.state, request.offset, request.limit);
        if (jobs === null) this.notFound();
        else {
          if (!this.roomFor(jobsReplyBound(jobs))) return false;
          out.jobs(jobs);
          this.counted(Outcome.Ok);
        }
        return true;
      }
      case 'inspect-queue': {
        const queue = engine.inspectQueue(request.name);
        if (queue === null) this.notFound();
        else {
          out.queues([queue]);
          this.counted(Outcome.Ok);
        }
        return true;
      }
      case 'inspect-queues': {
        const queues = engine.inspectQueues(request.offset, request.limit);
        if (!this.roomFor(queuesReplyBound(queues))) return false;
        out.queues(queues);
        this.counted(Outcome.Ok);
        return true;
      }
      case 'auth':
        if (this.host.auth === null || this.host.auth.accepts(request.secret)) {
          this.authenticated = true;
          this.stopAuthTimer();
          out.ok();
          this.counted(Outcome.Ok);
        } else {
          out.clientError('invalid-secret');
          this.counted(Outcome.ClientError);
          this.host.stats.authInvalidSecret++;
        }
        return true;
      case 'inspect-server':
        out.server([
          [SERVER_KEY.activeClients, this.host.activeClients()],
          [SERVER_KEY.evictedJobs, engine.evictedJobs],
          [SERVER_KEY.started, formatUtcSeconds(Math.floor(this.host.startedAt / 1000))],
          ['jobs', engine.jobCount],
          ['read-only', this.host.log !== null && this.host.log.readOnly ? 1 : 0],
          ['uptime', this.host.uptimeSeconds()],
          ['version', this.host.version],
        ]);
        this.counted(Outcome.Ok);
        return true;
    }
  }

  private counted(outcome: number): void {
    this.host.stats.commands.count(this.commandRow, outcome);
  }

  private notFound(): void {
    this.out.notFound();
    this.counted(Outcome.NotFound);
  }

  private replyOk(error: EngineError | null): void {
    if (error === null) {
      this.out.ok();
      this.counted(Outcome.Ok);
      return;
    }
    writeEngineError(this.out, error);
    this.counted(error === 'not-found' ? Outcome.NotFound : error === 'memory-full' || error === 'too-many-queues' ? Outcome.Refused : Outcome.ClientError);
  }

  /**
   * Starts a blocking command. The engine may answer before it returns (a ready job, a
   * finished result); otherwise the connection holds back what follows until it does.
   */
  private waitOn(request: WaitRequest): void {
    const { engine } = this.host;
    this.waiting = WAITING;
    this.calling = true;
    let cancel: Cancel | null = null;
    try {
      if (request.kind === 'lease') {
        this.leasing = true;
        cancel = engine.lease(request.names, request.timeout, this.onLeased);
      } else if (request.kind === 'result') {
        cancel = engine.result(request.id, request.timeout, this.onFinished);
      } else {
        engine.run(request, this.onFinished);
      }
    } finally {
      this.calling = false;
    }
    if (this.waiting === WAITING) this.waiting = cancel ?? WAITING;
    if (this.leasing && this.waiting !== null) this.leaseWaitFrom = performance.now();
  }

  // A woken lease or run writes its reply first and counts it after: the write is what
  // its client is blocked on, and the count and the clock read need not go before it.
  private readonly onLeased = (job: Job | null): void => {
    const row = this.commandRow;
    const waitedFrom = this.leaseWaitFrom;
    if (job === null) this.out.timeout();
    else {
      const id = job.id;
      this.out.leased(id, job.name, job.ttr, job);
      this.parser.expectId(id);
      if (this.host.log !== null) this.needSeq = this.host.log.lastSeq;
    }
    this.waitOver();
    const { stats } = this.host;
    if (job === null) {
      stats.commands.count(row, Outcome.Timeout);
      return;
    }
    stats.commands.count(row, Outcome.Ok);
    stats.leaseWaitSeconds.observe(waitedFrom === 0 ? 0 : (performance.now() - waitedFrom) / 1000);
  };

  private readonly onFinished = (outcome: RunOutcome | 'not-found'): void => {
    const row = this.commandRow;
    writeFinished(this.out, outcome);
    // Woken by a complete/fail that is being applied right now: the result is shown once
    // that record is written, so no client sees a state a crash could take back. (A
    // result that was already there is answered like any read.)
    if (!this.calling && typeof outcome === 'object' && this.host.log !== null) this.needSeq = this.host.log.lastSeq;
    this.waitOver();
    this.host.stats.commands.count(row, finishedOutcome(outcome));
  };

  private waitOver(): void {
    this.waiting = null;
    this.leasing = false;
    this.leaseWaitFrom = 0;
    if (this.calling || this.closing) return;
    // Woken from inside another connection's command or a deadline. A reply with nothing
    // queued behind it leaves at once: its client is blocked on it, and it should not wait
    // behind the write of the waker's own reply (one loopback write is ~10 µs). Anything
    // else carries on later, not inside the engine call that is still running.
    if (this.backlog.length === 0 && !this.ended) this.flush();
    else queueMicrotask(this.resume);
  }

  /** Runs what is queued as far as the bounds allow; called after a wait, a drain, or a durable write. */
  private readonly resume = (): void => {
    if (this.closing) return;
    while (this.waiting === null && !this.awaitingRoom && this.backlog.length > 0 && !this.outputFull()) {
      const item = this.backlog.shift()!;
      if (typeof item === 'object' && item.block !== null) this.backlogBytes -= item.blockLength;
      if (item === CLOSE) {
        this.closeAfterReplies();
        break;
      }
      if (typeof item === 'string') this.out.clientError(item);
      else this.execute(item);
    }
    if (this.waiting === null && this.backlog.length === 0 && this.ended) this.closeAfterReplies();
    this.flush();
    this.continueLater();
    this.resumeReading();
    this.host.afterWork();
  };

  /**
   * Commands held back only by the size of the replies before them go on in a later
   * turn once the socket took those replies; when it could not take them all, 'drain',
   * the write's callback or the durable write resumes instead.
   */
  private continueLater(): void {
    if (this.resumeQueued || this.closing || this.waiting !== null || this.awaitingRoom || this.backlog.length === 0) return;
    if (this.heldBytes === 0 && !this.socket.writableNeedDrain && !this.outputFull()) {
      this.resumeQueued = true;
      setImmediate(this.resumeLater);
    }
  }

  private readonly resumeLater = (): void => {
    this.resumeQueued = false;
    this.resume();
  };

  private cancelWait(): void {
    const waiting = this.waiting;
    this.waiting = null;
    if (typeof waiting === 'function') waiting();
  }

  // output

  /** Sends what the replies so far hold, once the records they depend on are written. */
  private flush(): void {
    if (this.out.length === 0) return;
    const chunk = this.out.take();
    const log = this.host.log;
    if (log === null) {
      this.write(chunk);
      return;
    }
    this.heldBytes += chunk.length;
    this.held.push(chunk);
    this.shareReplies();
    log.whenDurable(this.needSeq, this.onDurable);
  }

  /** The records the oldest held replies depend on are written: the log calls back once per whenDurable, in sequence order. */
  private readonly onDurable = (): void => {
    const chunk = this.held.shift()!;
    this.heldBytes -= chunk.length;
    this.write(chunk);
    if (this.backlog.length > 0 && this.waiting === null) queueMicrotask(this.resume);
  };

  private write(chunk: Buffer): void {
    if (!this.socket.destroyed && !this.socket.write(chunk, this.onWritten)) this.pauseReading();
    this.shareReplies();
  }

  private closeAfterReplies(): void {
    this.closing = true;
    this.finish();
  }

  private finish(): void {
    this.flush();
    const log = this.host.log;
    if (log === null) lingeringClose(this.socket);
    else log.whenDurable(this.needSeq, () => lingeringClose(this.socket));
  }

  private pauseReading(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  private resumeReading(): void {
    if (!this.paused || this.closing || this.awaitingRoom || this.socket.writableNeedDrain) return;
    if (this.backlog.length >= BACKLOG_MAX_COMMANDS || this.backlogBytes >= BACKLOG_MAX_BYTES) return;
    if (this.outputFull()) return;
    this.paused = false;
    this.socket.resume();
  }
}

const WAITING = Symbol('waiting');

function finishedOutcome(outcome: RunOutcome | 'not-found'): number {
  if (outcome === 'timeout') return Outcome.Timeout;
  if (outcome === 'not-found') return Outcome.NotFound;
  if (outcome === 'duplicate-job') return Outcome.ClientError;
  if (outcome === 'memory-full' || outcome === 'too-many-queues') return Outcome.Refused;
  return Outcome.Ok;
}
