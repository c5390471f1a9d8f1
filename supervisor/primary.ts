import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { effectiveSettings, type EffectiveSettings } from '../src/config/effective.js';
import type { WorkqConfig } from '../src/config/load.js';
import type { InstanceSettings } from '../src/config/resolve.js';
import { isCmdlogRefusal } from '../src/cmdlog/index.js';
import { heapLimitMiB } from '../src/server/heap-limit.js';
import { DEFAULT_LIMITS } from '../src/server/limits.js';
import type { ServerStatus } from '../src/server/types.js';
import { judgeHealth, judgeSilence, type InstanceState } from './health.js';
import { InstanceSockets } from './instance-sockets.js';
import { isChildMessage, type ChildMessage, type PrimaryMessage } from './messages.js';
import { RestartPolicy } from './restart-policy.js';
import { describeLayout, socketLayout } from './socket-layout.js';

export type { InstanceState };

/**
 * The supervisor as a whole: `ready` when every instance serves, `degraded` when some
 * do not (after every instance had its first start), `starting` before that.
 */
export type SupervisorState = 'starting' | 'ready' | 'degraded' | 'stopping';

export interface InstanceStatus {
  name: string;
  pid: number | null;
  host: string;
  port: number;
  state: InstanceState;
  restarts: number;
  uptimeMs: number | null;
  jobs: number | null;
  connections: number | null;
  lastError: string | null;
  /** The error code of lastError where there is one (EADDRINUSE, ELOCKED, …). */
  lastErrorCode: string | null;
  /** The settings the current (or last) server reported when it became ready; before that, the configured ones. */
  settings: EffectiveSettings;
}

export interface SupervisorStatus {
  pid: number;
  startedAt: number;
  state: SupervisorState;
  control: string;
  instances: InstanceStatus[];
}

/** How long a restarted child that stopped on its own signal waits for the primary's own stop. */
const SELF_STOP_GRACE_MS = 1000;
const STATUS_TIMEOUT_MS = 1000;

/** Start failures that another immediate try would only repeat: the instance is left down at once. */
const ADDRESS_ERRORS = new Set(['EADDRINUSE', 'EADDRNOTAVAIL']);

/** Resolves once the child reports that it stopped and released its log, or once it exited. */
function releasedOrExited(worker: Worker, exited: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown): void => {
      if (isChildMessage(message) && message.type === 'released') done();
    };
    const done = (): void => {
      worker.off('message', onMessage);
      resolve();
    };
    worker.on('message', onMessage);
    void exited.then(done);
  });
}

/** One configured instance and the child currently serving it. */
class Slot {
  worker: Worker | null = null;
  state: InstanceState = 'starting';
  restarts = 0;
  readySince: number | null = null;
  everReady = false;
  /** Set when the exit of the current child is intended (stop, hot restart, self stop). */
  exitExpected = false;
  selfStopped = false;
  /** The current child reported a start failure that retrying at once cannot fix. */
  addressError = false;
  /** The child refused its command log (damaged, or too large for its heap): starting again cannot help. */
  logRefused = false;
  /** The current child is a slow retry of an instance left down. */
  retrying = false;
  lastError: string | null = null;
  lastErrorCode: string | null = null;
  settings: EffectiveSettings | null = null;
  /** When the current child last proved its event loop turns (ready or a pong). */
  lastAnswerAt = 0;
  timer: NodeJS.Timeout | null = null;
  exited: Promise<void> = Promise.resolve();
  ready: Promise<boolean> = Promise.resolve(false);

  constructor(
    readonly index: number,
    readonly configured: InstanceSettings,
    readonly policy: RestartPolicy,
    /** The instance's listening sockets (plain, TLS), held across its servers. */
    readonly sockets: InstanceSockets,
  ) {}

  clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  get serving(): boolean {
    return this.state === 'ready';
  }
}

export interface PrimaryEvents {
  /** Every instance serves (the first time, and again after being degraded). */
  onReady(): void;
  /** Every instance had its first start, or one was lost since: some serve, some do not. */
  onDegraded(down: string[]): void;
  /** Start-up must be abandoned, or no instance can serve: children are stopped, exit non-zero. */
  onFatal(message: string): void;
}

export interface SupervisorOptions {
  /** Wall clock in ms; tests may inject one. */
  now?: () => number;
}

/**
 * The node:cluster primary: one child per instance, restarted at once after a first
 * crash and with backoff after repeated ones, pinged for liveness and replaced when it
 * hangs, replaced one at a time on hot restart, stopped gracefully. It holds no jobs
 * and never touches client traffic. status() is the one source of instance state.
 */
export class Supervisor {
  private readonly slots: Slot[];
  private stopping: Promise<void> | null = null;
  private hotRestart: Promise<void> | null = null;
  private fatal = false;
  private firstStartDone = false;
  private reportedHealth: 'ready' | 'degraded' | null = null;
  private readonly startedAt: number;
  private nextRequest = 0;
  private readonly pending = new Map<number, (status: ServerStatus | null) => void>();
  private pinger: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(
    private readonly config: WorkqConfig,
    argv: readonly string[],
    private readonly control: string,
    private readonly logger: Logger,
    private readonly events: PrimaryEvents,
    options: SupervisorOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    const { maxRestarts, restartWindowMs } = config.supervisor;
    this.slots = config.instances.map(
      (settings, index) =>
        new Slot(index, settings, new RestartPolicy(maxRestarts, restartWindowMs), new InstanceSockets(settings, logger.child({ instance: settings.name }))),
    );
    const self = fileURLToPath(import.meta.url);
    cluster.setupPrimary({ exec: self.replace(/primary\.([cm]?[jt]s)$/, 'main.$1'), args: [...argv] });
  }

  start(): void {
    for (const slot of this.slots) this.fork(slot);
    this.pinger = setInterval(() => this.checkLiveness(), this.config.supervisor.pingIntervalMs);
  }

  private log(slot: Slot): Logger {
    return this.logger.child({ instance: slot.configured.name });
  }

  state(): SupervisorState {
    if (this.stopping !== null || this.fatal) return 'stopping';
    if (!this.firstStartDone) return 'starting';
    return this.slots.every((slot) => slot.serving) ? 'ready' : 'degraded';
  }

  /**
   * Re-evaluates the whole after any change of an instance's state: tells once when
   * every instance serves (again), once when some stopped serving, and gives up when
   * none serves and none is on its way back.
   */
  private checkHealth(): void {
    if (this.fatal || this.stopping !== null) return;
    if (!this.firstStartDone) {
      if (!this.slots.every((slot) => slot.everReady || slot.state === 'failed')) return;
      this.firstStartDone = true;
    }
    const health = judgeHealth(this.slots.map((slot) => slot.state));
    if (health === 'down') {
      const causes = this.slots.map((slot) => `instance "${slot.configured.name}": ${slot.lastError ?? 'down'}`).join('; ');
      this.abandon(`no instance can serve (${causes}): exiting so that the process manager sees it`);
    } else if (health === 'ready' && this.reportedHealth !== 'ready') {
      this.reportedHealth = 'ready';
      this.events.onReady();
    } else if (health === 'degraded' && this.reportedHealth !== 'degraded') {
      this.reportedHealth = 'degraded';
      this.events.onDegraded(this.slots.filter((slot) => slot.state === 'failed' || slot.state === 'unresponsive').map((slot) => slot.configured.name));
    }
  }

  private forkChild(slot: Slot, standby: boolean): Worker {
    // Settings of setupPrimary apply to the forks after it: each child gets the heap its own budget needs.
    const heapMiB = heapLimitMiB((slot.configured.limits ?? DEFAULT_LIMITS).maxJobMemoryBytes);
    cluster.setupPrimary({
      execArgv:
        heapMiB === null ? process.execArgv : [...process.execArgv.filter((arg) => !arg.startsWith('--max-old-space-size')), `--max-old-space-size=${heapMiB}`],
    });
    const worker = cluster.fork({
      WORKQ_INSTANCE_INDEX: String(slot.index),
      WORKQ_INSTANCE_NAME: slot.configured.name,
      WORKQ_STANDBY: standby ? '1' : '0',
      WORKQ_SOCKETS: describeLayout(socketLayout(slot.configured)),
    });
    // A message to a child that has just died fails (EPIPE) until its channel's end is
    // read; its exit is handled where it is watched. Unheard, this 'error' ended the
    // supervisor and every instance with it: a status request could do that.
    worker.on('error', (error) => this.log(slot).warn({ childPid: worker.process.pid, err: error.message }, 'a message to a server that is gone was not sent'));
    return worker;
  }

  private fork(slot: Slot): void {
    const worker = this.forkChild(slot, false);
    this.log(slot).info({ childPid: worker.process.pid, retry: slot.retrying }, 'starting server');
    this.adopt(slot, worker);
  }

  /** Makes `worker` the slot's child: its messages, its readiness (within readyTimeoutMs) and its exit. */
  private adopt(slot: Slot, worker: Worker): void {
    slot.clearTimer();
    slot.exitExpected = false;
    slot.selfStopped = false;
    slot.addressError = false;
    slot.logRefused = false;
    slot.state = 'starting';
    slot.readySince = null;
    slot.worker = worker;
    const log = this.log(slot);

    let settleReady: (ready: boolean) => void = () => undefined;
    slot.ready = new Promise((resolve) => (settleReady = resolve));
    const readyTimer = setTimeout(() => {
      log.error({ timeoutMs: this.config.supervisor.readyTimeoutMs }, 'server not ready in time: killing it');
      slot.lastError = 'not ready in time';
      slot.lastErrorCode = null;
      worker.process.kill('SIGKILL');
    }, this.config.supervisor.readyTimeoutMs);

    worker.on('message', (message: unknown) => {
      if (!isChildMessage(message)) return;
      // Read after the exit, a dead child's 'took' still counts: the socket it names was its own, not one for the next child.
      if (message.type === 'took') return slot.sockets.took(message.socket, message.id);
      if (slot.worker === worker)
        this.onMessage(slot, worker, message, () => {
          clearTimeout(readyTimer);
          settleReady(true);
        });
    });
    slot.exited = new Promise((resolve) =>
      worker.once('exit', (code, signal) => {
        clearTimeout(readyTimer);
        settleReady(false);
        // A server that released its log in a hot restart may exit after the next one took the slot.
        if (slot.worker === worker) {
          slot.sockets.deliverTo(null);
          slot.worker = null;
          slot.readySince = null;
          this.onExit(slot, code, signal);
        } else log.info({ code, signal, childPid: worker.process.pid }, 'replaced server exited');
        resolve();
      }),
    );
  }

  private onMessage(slot: Slot, worker: Worker, message: ChildMessage, onReady: () => void): void {
    const log = this.log(slot);
    switch (message.type) {
      case 'ready':
        onReady();
        if (!slot.exitExpected) {
          slot.state = 'ready';
          slot.sockets.deliverTo(worker);
        }
        slot.readySince = this.now();
        slot.lastAnswerAt = slot.readySince;
        slot.everReady = true;
        slot.lastError = null;
        slot.lastErrorCode = null;
        slot.settings = message.settings;
        if (slot.retrying) {
          slot.retrying = false;
          slot.policy.reset();
          log.info('server left down is back after a retry');
        }
        log.info({ host: message.host, port: message.port, childPid: worker.process.pid }, 'server ready');
        this.checkHealth();
        break;
      case 'failed':
        slot.lastError = message.message;
        slot.lastErrorCode = message.code;
        if (message.code !== null && ADDRESS_ERRORS.has(message.code)) slot.addressError = true;
        if (isCmdlogRefusal(message)) slot.logRefused = true;
        if (!slot.everReady && message.code === 'ELOCKED') this.abandon(`instance "${slot.configured.name}": ${message.message}`);
        break;
      case 'stopping':
        slot.exitExpected = true;
        slot.selfStopped = true;
        log.info({ reason: message.reason }, 'server stopping on its own signal');
        break;
      case 'status':
        this.pending.get(message.id)?.(message.status);
        this.pending.delete(message.id);
        break;
      case 'listen':
        slot.sockets.open(message.socket).then(
          (address) => this.tell(worker, { type: 'listening', socket: message.socket, host: address.address, port: address.port }),
          (error: NodeJS.ErrnoException) =>
            this.tell(worker, {
              type: 'listen-failed',
              socket: message.socket,
              code: typeof error.code === 'string' ? error.code : null,
              message: error.message,
            }),
        );
        break;
      case 'standby':
      case 'cleaning-paused':
      case 'released':
        break;
      case 'pong':
        slot.lastAnswerAt = this.now();
        if (slot.state === 'unresponsive') {
          slot.state = 'ready';
          log.warn('server answers again');
          this.checkHealth();
        }
        break;
    }
  }

  /**
   * One pass of the liveness check: a ping to every serving child; one that has not
   * answered for unresponsiveAfterMs is shown as unresponsive, and one silent for
   * replaceUnresponsiveAfterMs is killed, which the exit handling takes as a crash.
   */
  private checkLiveness(): void {
    if (this.stopping !== null || this.fatal) return;
    const now = this.now();
    for (const slot of this.slots) {
      const worker = slot.worker;
      if (worker === null || (slot.state !== 'ready' && slot.state !== 'unresponsive') || slot.exitExpected) continue;
      const silentMs = now - slot.lastAnswerAt;
      const verdict = judgeSilence(silentMs, this.config.supervisor);
      if (verdict === 'replace') {
        this.log(slot).error({ silentMs, childPid: worker.process.pid }, 'server unresponsive too long: killing it to replace it');
        slot.lastError = `unresponsive for ${silentMs} ms: killed and replaced`;
        slot.lastErrorCode = 'EUNRESPONSIVE';
        slot.state = 'stopping';
        worker.process.kill('SIGKILL');
        continue;
      }
      if (verdict === 'unresponsive' && slot.state === 'ready') {
        slot.state = 'unresponsive';
        this.log(slot).error({ silentMs, childPid: worker.process.pid }, 'server does not answer pings: unresponsive');
        this.checkHealth();
      }
      if (worker.isConnected()) {
        const ping: PrimaryMessage = { type: 'ping', id: (this.nextRequest += 1) };
        worker.send(ping);
      }
    }
  }

  private onExit(slot: Slot, code: number | null, signal: string | null): void {
    const log = this.log(slot);
    if (this.stopping !== null || this.fatal || (slot.exitExpected && !slot.selfStopped)) {
      slot.state = 'stopped';
      log.info({ code, signal }, 'server exited');
      return;
    }
    if (slot.selfStopped && code === 0) {
      // The signal that stopped the child is usually on its way to this process too
      // (PM2 and terminals signal the whole tree); if not, bring the instance back.
      slot.state = 'backoff';
      log.info('server stopped by a signal of its own: restarting it unless the supervisor stops too');
      slot.timer = setTimeout(() => this.fork(slot), SELF_STOP_GRACE_MS);
      return;
    }
    slot.lastError ??= `exited with ${signal ?? `code ${code}`}`;
    if (slot.addressError) {
      log.error({ lastError: slot.lastError, code: slot.lastErrorCode }, 'address not available (port already in use?): left down, not retried as a crash');
      this.leaveDown(slot);
      return;
    }
    if (slot.logRefused) {
      log.error(
        { lastError: slot.lastError, code: slot.lastErrorCode },
        'server refused its command log (damaged, or too large for its heap): left down, not retried as a crash',
      );
      this.leaveDown(slot);
      return;
    }
    if (slot.retrying) {
      log.error({ code, signal, lastError: slot.lastError }, 'retry of a server left down failed: left down');
      this.leaveDown(slot);
      return;
    }
    const delay = slot.policy.onCrash(this.now());
    if (delay === null) {
      log.error(
        { code, signal, lastError: slot.lastError, maxRestarts: this.config.supervisor.maxRestarts, windowMs: this.config.supervisor.restartWindowMs },
        'server keeps crashing: left down, the other instances keep serving',
      );
      this.leaveDown(slot);
      return;
    }
    slot.restarts += 1;
    log.warn({ code, signal, delayMs: delay, lastError: slot.lastError }, 'server exited unexpectedly: restarting');
    if (delay === 0) {
      this.fork(slot);
    } else {
      slot.state = 'backoff';
      slot.timer = setTimeout(() => this.fork(slot), delay);
    }
    this.checkHealth();
  }

  private tell(worker: Worker, message: PrimaryMessage): void {
    if (worker.isConnected()) worker.send(message);
  }

  /**
   * State `failed`; tried again after failedRetryMs (0: only a hot restart brings it back).
   * Its socket closes meanwhile: clients are refused rather than held for nobody.
   */
  private leaveDown(slot: Slot): void {
    slot.sockets.close();
    slot.state = 'failed';
    slot.retrying = false;
    const { failedRetryMs } = this.config.supervisor;
    if (failedRetryMs > 0) {
      slot.timer = setTimeout(() => {
        slot.retrying = true;
        this.fork(slot);
      }, failedRetryMs);
    }
    this.checkHealth();
  }

  private abandon(message: string): void {
    if (this.fatal) return;
    this.fatal = true;
    this.logger.fatal(message);
    void this.stopChildren().then(() => this.events.onFatal(message));
  }

  /**
   * Asks the slot's child to stop and waits for its exit; kills it if it takes too long.
   * With `handover` (a hot restart), waits only until it released its log: it then waits
   * for 'exit' (or exits by itself after stopTimeoutMs).
   */
  private async stopSlot(slot: Slot, handover = false): Promise<void> {
    slot.clearTimer();
    const worker = slot.worker;
    if (worker === null) {
      if (slot.state !== 'failed') slot.state = 'stopped';
      return;
    }
    slot.exitExpected = true;
    slot.selfStopped = false;
    slot.state = 'stopping';
    // Connections from now on wait for the next child (or are closed with the socket on a stop).
    slot.sockets.deliverTo(null);
    const message: PrimaryMessage = { type: 'stop', linger: handover };
    if (worker.isConnected()) worker.send(message);
    const killer = setTimeout(() => {
      this.logger.error({ instance: slot.configured.name, timeoutMs: this.config.supervisor.stopTimeoutMs }, 'server did not stop in time: killing it');
      worker.process.kill('SIGKILL');
    }, this.config.supervisor.stopTimeoutMs);
    await (handover ? releasedOrExited(worker, slot.exited) : slot.exited);
    clearTimeout(killer);
  }

  private async stopChildren(): Promise<void> {
    if (this.pinger !== null) clearInterval(this.pinger);
    await Promise.all(this.slots.map((slot) => this.stopSlot(slot)));
    for (const slot of this.slots) slot.sockets.close();
  }

  /** Graceful stop of every child; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info('stopping every server');
      await this.hotRestart?.catch(() => undefined);
      await this.stopChildren();
      this.logger.info('every server stopped');
    })();
    return this.stopping;
  }

  /**
   * Hot restart: replaces the children one at a time, so the other instances keep serving
   * throughout. The old child of a serving instance pauses its log cleaning, and the new
   * one starts on standby: it loads its configuration and pre-reads the log while the old
   * one serves. Only then does the old one stop (answering what is in flight, flushing and
   * unlocking the log) and the new one lock the log, replay what was added since its
   * pre-read, and serve. A new child that fails on standby is dropped and the old one keeps
   * serving, cleaning again. Connections made meanwhile wait in
   * the primary's socket (supervisor/acceptor.ts). Instances left down get a fresh start.
   */
  restart(): Promise<void> {
    if (this.hotRestart !== null || this.stopping !== null) {
      this.logger.warn('hot restart already in progress or stopping: ignored');
      return this.hotRestart ?? Promise.resolve();
    }
    this.hotRestart = (async () => {
      this.logger.info('hot restart: replacing servers one at a time');
      for (const slot of this.slots) {
        if (this.stopping !== null) return;
        const old = slot.worker;
        let next: Worker | null = null;
        if (old !== null && slot.everReady && (slot.state === 'ready' || slot.state === 'unresponsive')) {
          await this.pauseCleaning(slot, old);
          next = await this.startStandby(slot);
          if (next === null) {
            this.tell(old, { type: 'resume-cleaning' });
            continue;
          }
        }
        await this.stopSlot(slot, next !== null);
        if (this.stopping !== null) {
          next?.process.kill('SIGTERM');
          if (old !== null && next !== null) this.tell(old, { type: 'exit' });
          return;
        }
        slot.policy.reset();
        slot.retrying = false;
        slot.lastError = null;
        slot.lastErrorCode = null;
        if (next === null) this.fork(slot);
        else {
          this.adopt(slot, next);
          this.tell(next, { type: 'go' });
          this.log(slot).info({ childPid: next.process.pid, oldPid: old?.process.pid }, 'hot restart: old server stopped, the new one takes over');
        }
        const ready = await slot.ready;
        if (old !== null && next !== null) this.tell(old, { type: 'exit' });
        if (!ready) this.logger.error({ instance: slot.configured.name }, 'hot restart: the new server did not come up');
      }
      this.logger.info('hot restart done');
    })().finally(() => (this.hotRestart = null));
    return this.hotRestart;
  }

  /**
   * Asks the serving child to leave its log's segments alone while the next one pre-reads
   * them (docs/command-log.md 10.5), and waits for its answer: a cleaning pass in progress
   * ends first. One that does not answer in stopTimeoutMs is not waited for: the new
   * server then finds the segments changed, if they did, and replays the whole log.
   */
  private pauseCleaning(slot: Slot, worker: Worker): Promise<void> {
    const id = (this.nextRequest += 1);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.log(slot).warn({ timeoutMs: this.config.supervisor.stopTimeoutMs }, 'hot restart: the old server did not pause its log cleaning in time');
        settle();
      }, this.config.supervisor.stopTimeoutMs);
      const onMessage = (message: unknown): void => {
        if (isChildMessage(message) && message.type === 'cleaning-paused' && message.id === id) settle();
      };
      const settle = (): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', settle);
        resolve();
      };
      worker.on('message', onMessage);
      worker.once('exit', settle);
      this.tell(worker, { type: 'pause-cleaning', id });
    });
  }

  /**
   * Starts the slot's next child on standby; resolves with it once it waits for 'go', or
   * with null when it failed first (killed after readyTimeoutMs), which is logged and
   * shown as the instance's lastError while the old child keeps serving.
   */
  private startStandby(slot: Slot): Promise<Worker | null> {
    const log = this.log(slot);
    const worker = this.forkChild(slot, true);
    log.info({ childPid: worker.process.pid }, 'hot restart: new server starting on standby');
    return new Promise((resolve) => {
      let failure: { message: string; code: string | null } | null = null;
      const timer = setTimeout(() => {
        failure = { message: 'not on standby in time', code: null };
        worker.process.kill('SIGKILL');
      }, this.config.supervisor.readyTimeoutMs);
      const onMessage = (message: unknown): void => {
        if (!isChildMessage(message)) return;
        if (message.type === 'failed') failure = { message: message.message, code: message.code };
        if (message.type !== 'standby') return;
        settle();
        resolve(worker);
      };
      const onExit = (code: number | null, signal: string | null): void => {
        settle();
        const cause = failure ?? { message: `exited with ${signal ?? `code ${code}`} before taking over`, code: null };
        slot.lastError = `hot restart failed, the old server keeps serving: ${cause.message}`;
        slot.lastErrorCode = cause.code;
        log.error(
          { lastError: cause.message, code: cause.code, childPid: worker.process.pid },
          'hot restart: the new server failed on standby: the old one keeps serving',
        );
        resolve(null);
      };
      const settle = (): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.once('exit', onExit);
    });
  }

  private childStatus(slot: Slot): Promise<ServerStatus | null> {
    const worker = slot.worker;
    if (worker === null || slot.state !== 'ready' || !worker.isConnected()) return Promise.resolve(null);
    const id = (this.nextRequest += 1);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(null);
      }, STATUS_TIMEOUT_MS);
      this.pending.set(id, (status) => {
        clearTimeout(timer);
        resolve(status);
      });
      const message: PrimaryMessage = { type: 'status-request', id };
      worker.send(message);
    });
  }

  async status(): Promise<SupervisorStatus> {
    const instances = await Promise.all(
      this.slots.map(async (slot): Promise<InstanceStatus> => {
        const server = await this.childStatus(slot);
        return {
          name: slot.configured.name,
          pid: slot.worker?.process.pid ?? null,
          host: slot.configured.host,
          port: server?.port ?? slot.configured.port,
          state: slot.state,
          restarts: slot.restarts,
          uptimeMs: slot.readySince === null ? null : this.now() - slot.readySince,
          jobs: server?.jobs ?? null,
          connections: server?.connections ?? null,
          lastError: slot.lastError,
          lastErrorCode: slot.lastErrorCode,
          settings: slot.settings ?? effectiveSettings(slot.configured),
        };
      }),
    );
    return { pid: process.pid, startedAt: this.startedAt, state: this.state(), control: this.control, instances };
  }
}
