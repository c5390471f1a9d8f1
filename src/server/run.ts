import type { Logger } from 'pino';
import { startServer } from './server.js';
import type { ServerOptions, WorkqServer } from './types.js';

export interface ServerRunEvents {
  /** The server listens. */
  onReady(server: WorkqServer): void;
  /** The start failed; the process should exit. */
  onStartFailed(error: NodeJS.ErrnoException): void;
  /** Stopped (gracefully, or cut short): exit with this status. */
  onStopped(status: number): void;
}

/**
 * One server from start to stop, for the standalone CLI and the supervisor's child
 * alike. A stop requested while the server is still starting waits for the start to end
 * (so the log is closed and unlocked properly) for at most `startGraceMs`, then gives
 * up on it: a start that never ends (a hung file system) must not make the process
 * unstoppable. A second stop request ends the process at once.
 */
export class ServerRun {
  private server: WorkqServer | null = null;
  private stopRequested = false;
  private finished = false;

  constructor(
    private readonly options: ServerOptions,
    private readonly startGraceMs: number,
    private readonly events: ServerRunEvents,
  ) {}

  private get logger(): Logger {
    return this.options.logger;
  }

  start(): void {
    startServer(this.options).then(
      (server) => {
        this.server = server;
        if (this.stopRequested) this.stopServer(server);
        else this.events.onReady(server);
      },
      (error: NodeJS.ErrnoException) => {
        if (this.stopRequested) return this.finish(1);
        this.logger.error({ err: error }, 'start failed');
        this.events.onStartFailed(error);
      },
    );
  }

  get current(): WorkqServer | null {
    return this.server;
  }

  /** Idempotent; a second request while still starting exits at once. */
  stop(reason: string): void {
    if (this.stopRequested) {
      if (this.server === null) {
        this.logger.warn({ reason }, 'stop requested again while still starting: exiting now');
        this.finish(1);
      }
      return;
    }
    this.stopRequested = true;
    this.logger.info({ reason }, 'stopping');
    if (this.server !== null) {
      this.stopServer(this.server);
      return;
    }
    setTimeout(() => {
      if (this.server !== null || this.finished) return;
      this.logger.error({ graceMs: this.startGraceMs }, 'still starting after the grace time: exiting without finishing the start');
      this.finish(1);
    }, this.startGraceMs);
  }

  private stopServer(server: WorkqServer): void {
    server.stop().then(
      () => this.finish(0),
      (error: unknown) => {
        this.logger.error({ err: error }, 'stop failed');
        this.finish(1);
      },
    );
  }

  private finish(status: number): void {
    if (this.finished) return;
    this.finished = true;
    this.events.onStopped(status);
  }
}
