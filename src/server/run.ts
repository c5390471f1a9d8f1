import type { Logger } from 'pino';
import type { WorkqServer } from './types.js';

export interface ServerRunEvents {
  /** The server listens. */
  onReady(server: WorkqServer): void;
  /** The start failed; the process should exit. */
  onStartFailed(error: NodeJS.ErrnoException): void;
  /** Stopped (gracefully, or cut short): exit with this status. */
  onStopped(status: number): void;
}

/**
 * One server (src/server/server.ts startServer) from start to stop, for the standalone CLI and the supervisor's child
 * alike. A stop requested while the server is still starting waits for the start to end
 * (so the log is closed and unlocked properly) for at most `startGraceMs`, then gives
 * up on it: a start that never ends (a hung file system) must not make the process
 * unstoppable.
 */
export class ServerRun {
  private server: WorkqServer | null = null;
  private stopRequested = false;
  private finished = false;
  private graceTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly startServer: () => Promise<WorkqServer>,
    private readonly logger: Logger,
    private readonly startGraceMs: number,
    private readonly events: ServerRunEvents,
  ) {}

  start(): void {
    this.startServer().then(
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

  /** Idempotent: the supervisor's request and a signal often both arrive. */
  stop(reason: string): void {
    if (this.stopRequested) return;
    this.stopRequested = true;
    this.logger.info({ reason }, 'stopping');
    if (this.server !== null) {
      this.stopServer(this.server);
      return;
    }
    this.graceTimer = setTimeout(() => {
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
    if (this.graceTimer !== null) clearTimeout(this.graceTimer);
    this.events.onStopped(status);
  }
}
