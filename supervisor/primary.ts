import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { WorkqConfig } from '../src/config/load.js';
import type { InstanceSettings } from '../src/config/resolve.js';
import type { ServerStatus } from '../src/server/types.js';
import { isChildMessage, type ChildMessage, type PrimaryMessage } from './messages.js';
import { RestartPolicy } from './restart-policy.js';

export type InstanceState = 'starting' | 'ready' | 'stopping' | 'backoff' | 'failed' | 'stopped';

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
}

export interface SupervisorStatus {
  pid: number;
  startedAt: number;
  instances: InstanceStatus[];
}

/** How long a restarted child that stopped on its own signal waits for the primary's own stop. */
const SELF_STOP_GRACE_MS = 1000;
const STATUS_TIMEOUT_MS = 1000;

/** A lock error at start-up means another live process owns the directory. */
function isLockError(message: ChildMessage & { type: 'failed' }): boolean {
  return message.code === 'ELOCKED' || /\block/i.test(message.message);
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
  lastError: string | null = null;
  timer: NodeJS.Timeout | null = null;
  exited: Promise<void> = Promise.resolve();
  ready: Promise<boolean> = Promise.resolve(false);

  constructor(
    readonly index: number,
    readonly settings: InstanceSettings,
    readonly policy: RestartPolicy,
  ) {}

  clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

export interface PrimaryEvents {
  /** Every instance has had its first start (ready, or left down). */
  onAllStarted(): void;
  /** Start-up must be abandoned (a directory another process holds): stop and exit non-zero. */
  onFatal(message: string): void;
}

/**
 * The node:cluster primary: one child per instance, restarted with backoff when it
 * exits unexpectedly, replaced one at a time on hot restart, stopped gracefully.
 * It holds no jobs and never touches client traffic.
 */
export class Supervisor {
  private readonly slots: Slot[];
  private stopping: Promise<void> | null = null;
  private hotRestart: Promise<void> | null = null;
  private fatal = false;
  private announced = false;
  private readonly startedAt = Date.now();
  private nextRequest = 0;
  private readonly pending = new Map<number, (status: ServerStatus | null) => void>();

  constructor(
    private readonly config: WorkqConfig,
    argv: readonly string[],
    private readonly logger: Logger,
    private readonly events: PrimaryEvents,
  ) {
    const { maxRestarts, restartWindowMs } = config.supervisor;
    this.slots = config.instances.map((settings, index) => new Slot(index, settings, new RestartPolicy(maxRestarts, restartWindowMs)));
    const self = fileURLToPath(import.meta.url);
    cluster.setupPrimary({ exec: self.replace(/primary\.([cm]?[jt]s)$/, 'main.$1'), args: [...argv] });
  }

  start(): void {
    for (const slot of this.slots) this.fork(slot);
  }

  /** Tells once that every instance has had its first start: ready, or left down. */
  private checkAllStarted(): void {
    if (this.announced || this.fatal || this.stopping !== null) return;
    if (!this.slots.every((slot) => slot.everReady || slot.state === 'failed')) return;
    this.announced = true;
    this.events.onAllStarted();
  }

  private fork(slot: Slot): void {
    slot.clearTimer();
    slot.exitExpected = false;
    slot.selfStopped = false;
    slot.state = 'starting';
    slot.readySince = null;
    const worker = cluster.fork({
      WORKQ_INSTANCE_INDEX: String(slot.index),
      WORKQ_INSTANCE_NAME: slot.settings.name,
    });
    slot.worker = worker;
    const log = this.logger.child({ instance: slot.settings.name });
    log.info({ childPid: worker.process.pid }, 'starting server');

    let settleReady: (ready: boolean) => void = () => undefined;
    slot.ready = new Promise((resolve) => (settleReady = resolve));
    const readyTimer = setTimeout(() => {
      log.error({ timeoutMs: this.config.supervisor.readyTimeoutMs }, 'server not ready in time: killing it');
      slot.lastError = 'not ready in time';
      worker.process.kill('SIGKILL');
    }, this.config.supervisor.readyTimeoutMs);

    worker.on('message', (message: unknown) => {
      if (!isChildMessage(message)) return;
      switch (message.type) {
        case 'ready':
          clearTimeout(readyTimer);
          slot.state = slot.exitExpected ? slot.state : 'ready';
          slot.readySince = Date.now();
          slot.everReady = true;
          slot.lastError = null;
          log.info({ host: message.host, port: message.port, childPid: worker.process.pid }, 'server ready');
          settleReady(true);
          this.checkAllStarted();
          break;
        case 'failed':
          slot.lastError = message.message;
          if (!slot.everReady && isLockError(message)) {
            this.abandon(`instance "${slot.settings.name}": ${message.message} (another supervisor or server is using ${slot.settings.cmdlog.path ?? 'this instance'}; refusing to start)`);
          }
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
      }
    });
    slot.exited = new Promise((resolve) =>
      worker.once('exit', (code, signal) => {
        clearTimeout(readyTimer);
        settleReady(false);
        slot.worker = null;
        slot.readySince = null;
        this.onExit(slot, code, signal);
        resolve();
      }),
    );
  }

  private onExit(slot: Slot, code: number | null, signal: string | null): void {
    const log = this.logger.child({ instance: slot.settings.name });
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
    const delay = slot.policy.onCrash(Date.now());
    slot.lastError ??= `exited with ${signal ?? `code ${code}`}`;
    if (delay === null) {
      slot.state = 'failed';
      log.error({ code, signal, lastError: slot.lastError, maxRestarts: this.config.supervisor.maxRestarts, windowMs: this.config.supervisor.restartWindowMs }, 'server keeps crashing: left down, the other instances keep serving');
      this.checkAllStarted();
      return;
    }
    slot.state = 'backoff';
    slot.restarts += 1;
    log.warn({ code, signal, delayMs: delay, lastError: slot.lastError }, 'server exited unexpectedly: restarting');
    slot.timer = setTimeout(() => this.fork(slot), delay);
  }

  private abandon(message: string): void {
    if (this.fatal) return;
    this.fatal = true;
    this.logger.fatal(message);
    void this.stopChildren().then(() => this.events.onFatal(message));
  }

  /** Asks the slot's child to stop and waits for its exit; kills it if it takes too long. */
  private async stopSlot(slot: Slot): Promise<void> {
    slot.clearTimer();
    const worker = slot.worker;
    if (worker === null) {
      if (slot.state !== 'failed') slot.state = 'stopped';
      return;
    }
    slot.exitExpected = true;
    slot.selfStopped = false;
    slot.state = 'stopping';
    const message: PrimaryMessage = { type: 'stop' };
    if (worker.isConnected()) worker.send(message);
    const killer = setTimeout(() => {
      this.logger.error({ instance: slot.settings.name, timeoutMs: this.config.supervisor.stopTimeoutMs }, 'server did not stop in time: killing it');
      worker.process.kill('SIGKILL');
    }, this.config.supervisor.stopTimeoutMs);
    await slot.exited;
    clearTimeout(killer);
  }

  private async stopChildren(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.stopSlot(slot)));
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
   * Hot restart: replaces the children one at a time (the old one flushes and unlocks
   * before the new one replays), so the other instances keep serving throughout.
   * Instances left down get a fresh start.
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
        await this.stopSlot(slot);
        if (this.stopping !== null) return;
        slot.policy.reset();
        slot.lastError = null;
        this.fork(slot);
        const ready = await slot.ready;
        if (!ready) this.logger.error({ instance: slot.settings.name }, 'hot restart: the new server did not come up');
      }
      this.logger.info('hot restart done');
    })().finally(() => (this.hotRestart = null));
    return this.hotRestart;
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
    const now = Date.now();
    const instances = await Promise.all(
      this.slots.map(async (slot): Promise<InstanceStatus> => {
        const server = await this.childStatus(slot);
        return {
          name: slot.settings.name,
          pid: slot.worker?.process.pid ?? null,
          host: slot.settings.host,
          port: server?.port ?? slot.settings.port,
          state: slot.state,
          restarts: slot.restarts,
          uptimeMs: slot.readySince === null ? null : now - slot.readySince,
          jobs: server?.jobs ?? null,
          connections: server?.connections ?? null,
          lastError: slot.lastError,
        };
      }),
    );
    return { pid: process.pid, startedAt: this.startedAt, instances };
  }
}
